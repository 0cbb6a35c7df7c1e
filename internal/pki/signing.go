package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
)

// Token-signing algorithms (RFC 7518, Section 3.1).
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// SigningAlgs are the algorithms the platform keeps keys for.
var SigningAlgs = []string{RS256, ES256}

// A SigningKey is a token-signing key. It is published (in the JWKS) from
// CreatedAt, signs from ActivateAt until a newer key of its algorithm
// activates, and is unpublished at ExpiresAt (zero while it is current).
type SigningKey struct {
	KID        string
	Alg        string
	Public     crypto.PublicKey
	Private    crypto.Signer
	CreatedAt  time.Time
	ActivateAt time.Time
	ExpiresAt  time.Time
}

// StoredSigningKey is a signing key as kept: the private key sealed.
type StoredSigningKey struct {
	KID        string
	Alg        string
	PublicDER  []byte // PKIX SubjectPublicKeyInfo
	SealedKey  []byte // PKCS #8, sealed under the KEK with context "signing-key/"+KID
	CreatedAt  time.Time
	ActivateAt time.Time
	ExpiresAt  time.Time
}

// SigningKeyStore keeps signing keys (internal/store).
type SigningKeyStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// LockSigningKeys serialises rotations of all nodes for the rest of the transaction.
	LockSigningKeys(ctx context.Context) error
	SigningKeys(ctx context.Context) ([]StoredSigningKey, error)
	InsertSigningKey(ctx context.Context, k StoredSigningKey) error
	SetSigningKeyExpiry(ctx context.Context, kid string, expires time.Time) error
	DeleteSigningKey(ctx context.Context, kid string) error
}

// RotationPolicy says when keys change.
type RotationPolicy struct {
	// Period is how long a key signs before its successor takes over.
	Period time.Duration
	// Lead is how long a successor is published before it signs; it must
	// exceed how long relying parties cache the JWKS, so that none meets a
	// token signed by a key it has not seen.
	Lead time.Duration
	// Retain is how long a key stays published after it stops signing; it must
	// exceed the longest lifetime of a token it signed.
	Retain time.Duration
}

// DefaultRotation rotates monthly, publishing a day ahead and keeping old keys
// two days (tokens live at most an hour; a day of slack for clocks and caches).
var DefaultRotation = RotationPolicy{Period: 30 * 24 * time.Hour, Lead: 24 * time.Hour, Retain: 48 * time.Hour}

// KeySet hands out the current signing key per algorithm and the published
// keys, and rotates them. Nodes cache keys; because a successor is published
// Lead before it signs and each node picks the signer by the clock, nodes
// agree on the signer without coordination.
type KeySet struct {
	store  SigningKeyStore
	keys   *Keyring
	policy RotationPolicy
	log    audit.Log
	now    func() time.Time
	rand   io.Reader

	mu      sync.Mutex
	cache   []SigningKey
	fetched time.Time
}

// cacheFor is how long a node trusts its copy of the keys; far below Lead.
const cacheFor = time.Minute

// KeySetConfig holds what [NewKeySet] needs.
type KeySetConfig struct {
	Store  SigningKeyStore
	Keys   *Keyring
	Policy RotationPolicy
	// Log records each key made and retired.
	Log  audit.Log
	Now  func() time.Time // time.Now when nil
	Rand io.Reader        // crypto/rand when nil
}

// NewKeySet returns a KeySet.
func NewKeySet(c KeySetConfig) (*KeySet, error) {
	p := c.Policy
	if p.Period <= p.Lead || p.Lead <= 0 || p.Retain <= 0 {
		return nil, fmt.Errorf("pki: rotation policy %+v: need 0 < Lead < Period and Retain > 0", p)
	}
	if c.Store == nil || c.Keys == nil || c.Log == nil {
		return nil, errors.New("pki: NewKeySet needs a store, a keyring and an audit log")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return &KeySet{store: c.Store, keys: c.Keys, policy: p, log: c.Log, now: c.Now, rand: c.Rand}, nil
}

// Rotate does what is due: makes the first key of each algorithm, publishes a
// successor Lead before the current key's period ends, schedules the end of
// publication of keys that stopped signing, and deletes keys past it. Run it
// at start and then periodically (hourly is plenty); nodes may run it at once.
func (ks *KeySet) Rotate(ctx context.Context) error {
	now := ks.now()
	// Make candidate keys before the transaction: RSA generation is slow.
	fresh := map[string]*SigningKey{}
	err := ks.store.InTx(ctx, func(ctx context.Context) error {
		if err := ks.store.LockSigningKeys(ctx); err != nil {
			return err
		}
		stored, err := ks.store.SigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, alg := range SigningAlgs {
			if err := ks.rotateAlg(ctx, alg, stored, now, fresh); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	ks.invalidate()
	return nil
}

func (ks *KeySet) rotateAlg(ctx context.Context, alg string, stored []StoredSigningKey, now time.Time, fresh map[string]*SigningKey) error {
	var mine []StoredSigningKey
	for _, k := range stored {
		if k.Alg != alg {
			continue
		}
		if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
			if err := ks.store.DeleteSigningKey(ctx, k.KID); err != nil {
				return err
			}
			if err := ks.log.Record(ctx, audit.Event{Actor: audit.ActorSystem, Action: "signing_key.deleted",
				Details: map[string]string{"kid": k.KID, "alg": k.Alg}}); err != nil {
				return err
			}
			continue
		}
		mine = append(mine, k)
	}
	slices.SortFunc(mine, func(a, b StoredSigningKey) int { return a.ActivateAt.Compare(b.ActivateAt) })
	// Schedule the end of every key that a newer active key has replaced.
	var current *StoredSigningKey
	for i := range mine {
		k := &mine[i]
		if k.ActivateAt.After(now) {
			break
		}
		if current != nil && current.ExpiresAt.IsZero() {
			current.ExpiresAt = k.ActivateAt.Add(ks.policy.Retain)
			if err := ks.store.SetSigningKeyExpiry(ctx, current.KID, current.ExpiresAt); err != nil {
				return err
			}
		}
		current = k
	}
	hasNext := len(mine) > 0 && mine[len(mine)-1].ActivateAt.After(now)
	switch {
	case current == nil && !hasNext:
		// The very first key signs at once: nobody can have cached a JWKS
		// without it.
		return ks.insert(ctx, alg, now, now, fresh)
	case current != nil && !hasNext && !now.Before(current.ActivateAt.Add(ks.policy.Period-ks.policy.Lead)):
		activate := current.ActivateAt.Add(ks.policy.Period)
		if earliest := now.Add(ks.policy.Lead); activate.Before(earliest) {
			activate = earliest // late (the service was down): keep the full lead
		}
		return ks.insert(ctx, alg, now, activate, fresh)
	}
	return nil
}

func (ks *KeySet) insert(ctx context.Context, alg string, created, activate time.Time, fresh map[string]*SigningKey) error {
	k, ok := fresh[alg]
	if !ok {
		var err error
		if k, err = generateSigningKey(alg, ks.rand); err != nil {
			return err
		}
		fresh[alg] = k // a retried transaction reuses the key it made
	}
	pub, err := x509.MarshalPKIXPublicKey(k.Public)
	if err != nil {
		return fmt.Errorf("pki: encoding %s public key: %w", alg, err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return fmt.Errorf("pki: encoding %s private key: %w", alg, err)
	}
	sealed, err := ks.keys.Seal(priv, "signing-key/"+k.KID)
	clear(priv)
	if err != nil {
		return err
	}
	if err := ks.store.InsertSigningKey(ctx, StoredSigningKey{KID: k.KID, Alg: alg, PublicDER: pub, SealedKey: sealed,
		CreatedAt: created, ActivateAt: activate}); err != nil {
		return err
	}
	return ks.log.Record(ctx, audit.Event{Actor: audit.ActorSystem, Action: "signing_key.created",
		Details: map[string]string{"kid": k.KID, "alg": alg, "activate_at": activate.UTC().Format(time.RFC3339)}})
}

func generateSigningKey(alg string, r io.Reader) (*SigningKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(r, 2048)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), r)
	default:
		return nil, fmt.Errorf("pki: unknown signing algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: generating %s key: %w", alg, err)
	}
	spki, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(spki)
	return &SigningKey{KID: base64.RawURLEncoding.EncodeToString(sum[:12]), Alg: alg, Public: priv.Public(), Private: priv}, nil
}

func (ks *KeySet) invalidate() {
	ks.mu.Lock()
	ks.fetched = time.Time{}
	ks.mu.Unlock()
}

// all returns the keys, from the cache while it is fresh.
func (ks *KeySet) all(ctx context.Context) ([]SigningKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := ks.now()
	if !ks.fetched.IsZero() && now.Sub(ks.fetched) < cacheFor && now.After(ks.fetched) {
		return ks.cache, nil
	}
	stored, err := ks.store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]SigningKey, 0, len(stored))
	for _, s := range stored {
		k, err := ks.open(s)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	ks.cache, ks.fetched = keys, now
	return keys, nil
}

func (ks *KeySet) open(s StoredSigningKey) (SigningKey, error) {
	pub, err := x509.ParsePKIXPublicKey(s.PublicDER)
	if err != nil {
		return SigningKey{}, fmt.Errorf("pki: signing key %s: public key: %w", s.KID, err)
	}
	der, err := ks.keys.Open(s.SealedKey, "signing-key/"+s.KID)
	if err != nil {
		return SigningKey{}, fmt.Errorf("pki: signing key %s: %w", s.KID, err)
	}
	defer clear(der)
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return SigningKey{}, fmt.Errorf("pki: signing key %s: private key: %w", s.KID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return SigningKey{}, fmt.Errorf("pki: signing key %s is not a signer", s.KID)
	}
	return SigningKey{KID: s.KID, Alg: s.Alg, Public: pub, Private: signer,
		CreatedAt: s.CreatedAt, ActivateAt: s.ActivateAt, ExpiresAt: s.ExpiresAt}, nil
}

// ErrNoSigningKey is returned when no key of an algorithm signs now (before the
// first [KeySet.Rotate]).
var ErrNoSigningKey = errors.New("pki: no signing key is active")

// Signer returns the key that signs with alg now: of the keys whose activation
// has come, the newest.
func (ks *KeySet) Signer(ctx context.Context, alg string) (SigningKey, error) {
	keys, err := ks.all(ctx)
	if err != nil {
		return SigningKey{}, err
	}
	now := ks.now()
	var best *SigningKey
	for i := range keys {
		k := &keys[i]
		if k.Alg == alg && !k.ActivateAt.After(now) && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt)) &&
			(best == nil || k.ActivateAt.After(best.ActivateAt)) {
			best = k
		}
	}
	if best == nil {
		return SigningKey{}, fmt.Errorf("%w for %s", ErrNoSigningKey, alg)
	}
	return *best, nil
}

// Published returns the keys to publish in the JWKS now: every key that exists
// and has not reached its end of publication, including successors that do
// not sign yet.
func (ks *KeySet) Published(ctx context.Context) ([]SigningKey, error) {
	keys, err := ks.all(ctx)
	if err != nil {
		return nil, err
	}
	now := ks.now()
	var out []SigningKey
	for _, k := range keys {
		if !k.CreatedAt.After(now) && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt)) {
			k.Private = nil
			out = append(out, k)
		}
	}
	return out, nil
}
