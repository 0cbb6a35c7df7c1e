package password_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/password"
)

func newHasher(t testing.TB, p password.Params, opts ...password.Option) *password.Hasher {
	t.Helper()
	h, err := password.NewHasher(p, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// wrong returns a password of the same length that differs from pw.
func wrong(pw string) string {
	if pw == "" {
		return "x"
	}
	if pw[0] == 'x' {
		return "y" + pw[1:]
	}
	return "x" + pw[1:]
}

func TestHashRoundTrip(t *testing.T) {
	h := newHasher(t, cheap)
	for _, pw := range []string{"correct horse battery staple", "rødgrød med fløde", "", strings.Repeat("x", password.MaxPasswordBytes)} {
		encoded, err := h.Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(encoded) {
			t.Fatalf("Hash = %q, not a PHC string with a 16-byte salt and a 32-byte hash", encoded)
		}
		ok, needsRehash, err := h.Verify(pw, encoded)
		if !ok || needsRehash || err != nil {
			t.Fatalf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, needsRehash, err)
		}
		ok, needsRehash, err = h.Verify(wrong(pw), encoded)
		if ok || needsRehash || err != nil {
			t.Fatalf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, needsRehash, err)
		}
		if again, _ := h.Hash(pw); again == encoded {
			t.Fatal("two hashes of one password are equal: the salt is not fresh")
		}
	}
}

// TestHashOWASPFormat checks the production parameters' string, at their real cost.
func TestHashOWASPFormat(t *testing.T) {
	h := newHasher(t, password.OWASP)
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("Hash = %q", encoded)
	}
	if p, err := password.Decode(encoded); err != nil || p != password.OWASP {
		t.Fatalf("Decode = %v, %v; want OWASP", p, err)
	}
}

func TestHashUsesTheRandomReader(t *testing.T) {
	h, err := password.NewHasher(cheap, bytes.NewReader(bytes.Repeat([]byte{0x42}, 16)))
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(encoded, "$QkJCQkJCQkJCQkJCQkJCQg$") {
		t.Fatalf("Hash = %q, salt not from the reader", encoded)
	}
	if _, err := h.Hash("pw"); err == nil {
		t.Fatal("Hash with an exhausted reader succeeded")
	}
}

// TestRehashWhenParamsChange is the rehash-on-login path: a hash made at old parameters verifies,
// asks for a rehash, and the new hash does not.
func TestRehashWhenParamsChange(t *testing.T) {
	old := newHasher(t, cheap)
	changes := map[string]func(*password.Params){
		"memory":  func(p *password.Params) { p.Memory *= 2 },
		"time":    func(p *password.Params) { p.Time++ },
		"threads": func(p *password.Params) { p.Threads++ },
		"salt":    func(p *password.Params) { p.SaltLen = 32 },
		"key":     func(p *password.Params) { p.KeyLen = 64 },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			p := cheap
			change(&p)
			current := newHasher(t, p)
			stored, err := old.Hash("sommerfugl i maven")
			if err != nil {
				t.Fatal(err)
			}
			ok, needsRehash, err := current.Verify("sommerfugl i maven", stored)
			if !ok || !needsRehash || err != nil {
				t.Fatalf("Verify(old hash) = %v, %v, %v; want true, true, nil", ok, needsRehash, err)
			}
			if ok, needsRehash, _ := current.Verify("wrong", stored); ok || needsRehash {
				t.Fatal("a wrong password asked for a rehash")
			}
			rehashed, err := current.Hash("sommerfugl i maven")
			if err != nil {
				t.Fatal(err)
			}
			if ok, needsRehash, err := current.Verify("sommerfugl i maven", rehashed); !ok || needsRehash || err != nil {
				t.Fatalf("Verify(new hash) = %v, %v, %v; want true, false, nil", ok, needsRehash, err)
			}
		})
	}
}

func TestNewHasherRefusesBadParams(t *testing.T) {
	for _, p := range []password.Params{
		{},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
		{Memory: 2 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 101, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
	} {
		if h, err := password.NewHasher(p, nil); err == nil || h != nil {
			t.Errorf("NewHasher(%v) = %v, %v; want an error", p, h, err)
		}
	}
}

func TestTooLongPasswordRefusedBeforeHashing(t *testing.T) {
	// OWASP parameters: if the refusal came after hashing, the test would show it in its time.
	h := newHasher(t, password.OWASP)
	long := strings.Repeat("a", password.MaxPasswordBytes+1)
	if s, err := h.Hash(long); !errors.Is(err, password.ErrTooLong) || s != "" {
		t.Fatalf("Hash(long) = %q, %v; want ErrTooLong", s, err)
	}
	stored := "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	ok, needsRehash, err := h.Verify(long, stored)
	if ok || needsRehash || !errors.Is(err, password.ErrTooLong) {
		t.Fatalf("Verify(long) = %v, %v, %v; want ErrTooLong", ok, needsRehash, err)
	}
	if !strings.Contains(err.Error(), "1025 bytes") {
		t.Errorf("error %q does not say how long", err)
	}
	start := time.Now()
	h.VerifyDummy(long)
	if d := time.Since(start); d > 5*time.Millisecond {
		t.Errorf("VerifyDummy(long) took %v: it hashed", d)
	}
}

func TestVerifyBadStoredHash(t *testing.T) {
	h := newHasher(t, cheap)
	for _, encoded := range []string{"", "plaintext", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
		"$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"} {
		ok, needsRehash, err := h.Verify("password", encoded)
		if ok || needsRehash || err == nil {
			t.Errorf("Verify(%q) = %v, %v, %v; want an error", encoded, ok, needsRehash, err)
		}
	}
}

// TestVerifyDummyDoesTheSameWork checks that VerifyDummy runs argon2id with exactly the
// parameters and input sizes of a Verify of a hash made by the same Hasher, which is what makes
// their costs equal (TestVerifyDummyCostsTheSame measures it).
func TestVerifyDummyDoesTheSameWork(t *testing.T) {
	h := newHasher(t, cheap)
	stored, err := h.Hash("the real password")
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	password.SetIDKey(h, func(pw, salt []byte, time_, memory uint32, threads uint8, keyLen uint32) []byte {
		calls = append(calls, fmt.Sprintf("pw=%d salt=%d t=%d m=%d p=%d key=%d", len(pw), len(salt), time_, memory, threads, keyLen))
		return make([]byte, keyLen)
	})
	h.Verify("a guess!", stored)
	h.VerifyDummy("a guess!")
	if len(calls) != 2 || calls[0] != calls[1] {
		t.Fatalf("argon2id calls: %q", calls)
	}
}

// TestConcurrencyBound checks that no more than the configured number of argon2 computations run
// at once, however many verifications are asked for.
func TestConcurrencyBound(t *testing.T) {
	for _, bound := range []int{1, 3} {
		h := newHasher(t, cheap, password.WithConcurrency(bound))
		stored, err := h.Hash("x")
		if err != nil {
			t.Fatal(err)
		}
		var inFlight, peak atomic.Int32
		password.SetIDKey(h, func(pw, salt []byte, time_, memory uint32, threads uint8, keyLen uint32) []byte {
			n := inFlight.Add(1)
			for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			inFlight.Add(-1)
			return make([]byte, keyLen)
		})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { h.Verify("x", stored) })
			wg.Go(func() { h.VerifyDummy("x") })
		}
		wg.Wait()
		if got := peak.Load(); got != int32(bound) {
			t.Errorf("bound %d: peak of %d computations at once", bound, got)
		}
	}
}

func TestThroughput(t *testing.T) {
	rate := password.Throughput(context.Background(), cheap, 200*time.Millisecond)
	if rate <= 0 {
		t.Fatalf("Throughput = %v", rate)
	}
	if got := password.Throughput(context.Background(), password.Params{}, time.Second); got != 0 {
		t.Fatalf("Throughput(invalid params) = %v, want 0", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	password.Throughput(ctx, cheap, time.Hour)
	if time.Since(start) > time.Second {
		t.Fatal("Throughput ignored a cancelled context")
	}
}
