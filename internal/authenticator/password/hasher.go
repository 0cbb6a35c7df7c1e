package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// MaxPasswordBytes is the longest password, in bytes of UTF-8, that [Hasher.Hash] and
// [Hasher.Verify] accept. Argon2 first hashes the password with BLAKE2b, so length costs little
// there, but a request body of megabytes should be refused before any work is done; 1024 bytes
// holds any password the policy allows (256 characters of at most 4 bytes each).
const MaxPasswordBytes = 1024

// Hasher hashes and verifies passwords with argon2id at one set of [Params]. Its methods are safe
// for concurrent use. At most a fixed number of hashes are computed at once (see
// [WithConcurrency]): each takes Params.Memory of memory, so unbounded concurrency under load, or
// under a password-guessing attack, would exhaust memory; callers beyond the bound wait.
type Hasher struct {
	params Params
	rand   io.Reader
	sem    chan struct{}

	// dummySalt and dummyKey stand in for a stored hash in VerifyDummy.
	dummySalt, dummyKey []byte

	// idKey is argon2.IDKey; tests replace it to watch the concurrency bound.
	idKey func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// An Option configures a [Hasher].
type Option func(*Hasher)

// WithConcurrency bounds the number of argon2id computations a Hasher runs at once to n (at least 1).
// The default is GOMAXPROCS: more than one per core only adds memory, not throughput. Peak memory
// is about n × Params.Memory.
func WithConcurrency(n int) Option {
	return func(h *Hasher) {
		h.sem = make(chan struct{}, max(n, 1))
	}
}

// NewHasher returns a Hasher that makes new hashes at p, drawing salts from random (crypto/rand's
// Reader if random is nil; tests pass a fixed reader, which must be safe for concurrent use if Hash
// is called concurrently). It refuses p outside the bounds of [Params.Validate]; production uses
// [OWASP].
func NewHasher(p Params, random io.Reader, opts ...Option) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	h := &Hasher{params: p, rand: random, idKey: argon2.IDKey}
	WithConcurrency(runtime.GOMAXPROCS(0))(h)
	for _, opt := range opts {
		opt(h)
	}
	// The dummy comes from crypto/rand, not from random: a fixed test reader must not make the
	// dummy hash predictable, and its salt must not shift the salts that Hash draws.
	h.dummySalt = make([]byte, p.SaltLen)
	h.dummyKey = make([]byte, p.KeyLen)
	rand.Read(h.dummySalt)
	rand.Read(h.dummyKey)
	return h, nil
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the argon2id hash of pw with a fresh random salt as a PHC string,
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" (B64 without padding). It refuses a password
// longer than [MaxPasswordBytes] with an error wrapping [ErrTooLong]. It does not check the policy:
// call [CheckPolicy] when a person chooses a password.
func (h *Hasher) Hash(pw string) (string, error) {
	if err := checkLength(pw); err != nil {
		return "", err
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("password: reading a salt: %w", err)
	}
	return encode(h.params, salt, h.compute(pw, salt, h.params)), nil
}

// Verify reports whether pw matches encoded, a PHC string made by [Hasher.Hash] (possibly at
// other parameters). The comparison is constant-time. needsRehash is true when pw matched and
// encoded was made with parameters other than h's: the caller should then store a new
// [Hasher.Hash] of pw, so that stored hashes move to the current cost at the next login.
//
// A wrong password is ok == false with a nil error. An error means the stored string cannot be
// used at all: it wraps [ErrMalformedHash] or [ErrUnsupportedHash] and names what is wrong
// (another variant, version 16, a missing field, bad base64, parameters out of the bounds of
// [Params.Validate], which are checked before any memory is spent), or wraps [ErrTooLong] for a
// password longer than [MaxPasswordBytes].
func (h *Hasher) Verify(pw, encoded string) (ok, needsRehash bool, err error) {
	if err := checkLength(pw); err != nil {
		return false, false, err
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got := h.compute(pw, salt, p)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// VerifyDummy spends the time and memory of a [Hasher.Verify] of a hash made at h's parameters, and
// tells nothing. The login engine calls it when the user ID is unknown (or has no password), so
// that a response's timing does not tell whether a user ID exists. A stored hash at older
// parameters still costs its own parameters in Verify; rehash-on-login makes that rare.
func (h *Hasher) VerifyDummy(pw string) {
	if checkLength(pw) != nil {
		return // as Verify would: refused before hashing
	}
	got := h.compute(pw, h.dummySalt, h.params)
	subtle.ConstantTimeCompare(got, h.dummyKey)
}

// compute runs argon2id within the concurrency bound. p has passed Params.Validate, so
// argon2.IDKey's own panics (t < 1, p < 1) cannot happen.
func (h *Hasher) compute(pw string, salt []byte, p Params) []byte {
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	return h.idKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

func checkLength(pw string) error {
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("%w: %d bytes, the limit for hashing is %d", ErrTooLong, len(pw), MaxPasswordBytes)
	}
	return nil
}

// Throughput computes argon2id hashes at p on GOMAXPROCS goroutines for d (or until ctx ends) and
// returns the hashes per second completed, for `openmitid bench --hash` and capacity planning
// (each login with a password costs one). It returns 0 if p is invalid or d ≤ 0.
func Throughput(ctx context.Context, p Params, d time.Duration) float64 {
	if p.Validate() != nil || d <= 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			salt := make([]byte, p.SaltLen)
			rand.Read(salt)
			pw := []byte("correct horse battery staple")
			for ctx.Err() == nil {
				argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}
