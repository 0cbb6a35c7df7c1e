// Package app is the MitID app as an authenticator: activation of a device key
// with a one-time code, authentication of the app's requests by that key, and
// blocking from the app. What the app approves is internal/approval's.
package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
)

// ActivationCode is a one-time code that lets one app register its key for an identity.
type ActivationCode struct {
	Hash      []byte
	Identity  string
	Level     nsis.Level // the level the app will have
	Purpose   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store keeps devices and activation codes (internal/store).
type Store interface {
	authenticator.Store
	InsertActivationCode(ctx context.Context, c ActivationCode) error
	// UseActivationCode marks the code used if it is unused and unexpired, and
	// returns it; otherwise ErrInvalidCode.
	UseActivationCode(ctx context.Context, hash []byte, now time.Time) (ActivationCode, error)
	// DeviceAndIdentity returns an authenticator and its identity in one read
	// (the identity's CPR left sealed).
	DeviceAndIdentity(ctx context.Context, id string) (*authenticator.Authenticator, *identity.Identity, error)
	CountInWindow(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	// LockIdentity holds the identity's row until the transaction ends, so
	// that two apps added at once cannot both pass the count of apps.
	LockIdentity(ctx context.Context, identityUUID string) error
}

// Identities is what the app service needs of internal/identity.
type Identities interface {
	ByUUID(ctx context.Context, identityUUID string) (*identity.Identity, error)
	Transition(ctx context.Context, identityUUID string, to identity.State, actor, reason string) (*identity.Identity, error)
}

var (
	ErrInvalidCode       = errors.New("app: the activation code is unknown, used or expired")
	ErrTooManyApps       = fmt.Errorf("app: the identity has %d apps already", authenticator.MaxApps)
	ErrBadKey            = errors.New("app: the public key is not a P-256 key")
	ErrBadProof          = errors.New("app: the proof does not verify with the public key")
	ErrIdentityNotActive = errors.New("app: the identity is not active")
	ErrBadSignature      = errors.New("app: the request's device signature is missing or does not verify")
	ErrDeviceBlocked     = errors.New("app: the device or its identity is blocked")
	ErrNotUsableYet      = errors.New("app: the device is in its waiting period")
	ErrRateLimited       = errors.New("app: too many activation attempts; wait a while")
)

// Limits.
const (
	ActivationTTL     = 14 * 24 * time.Hour
	MaxClockSkew      = 120 * time.Second
	activationWindow  = time.Hour
	maxActivationsPer = 20 // activation attempts per client address per hour
	codeAlphabet      = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	codeLength        = 16
)

// Config holds what [NewService] needs.
type Config struct {
	Store      Store
	Identities Identities
	Approvals  *approval.Service
	Log        audit.Log
	Now        func() time.Time
	Rand       io.Reader
	// Copies keeps copy sessions (the Store, when it does and this is nil).
	Copies CopyStore
	// Notifier tells the person of a copied app; without one, copying is off.
	Notifier Notifier
	// CopyWait is how long a copied app waits before it may be used
	// ([DefaultCopyWait] when zero).
	CopyWait time.Duration
}

// Service activates and authenticates apps.
type Service struct {
	store      Store
	identities Identities
	approvals  *approval.Service
	log        audit.Log
	now        func() time.Time
	rand       io.Reader
	copies     CopyStore
	notifier   Notifier
	copyWait   time.Duration
}

// NewService returns a Service.
func NewService(c Config) (*Service, error) {
	if c.Store == nil || c.Identities == nil || c.Approvals == nil || c.Log == nil {
		return nil, errors.New("app: NewService needs a store, identities, approvals and an audit log")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Copies == nil {
		c.Copies, _ = c.Store.(CopyStore)
	}
	if c.CopyWait == 0 {
		c.CopyWait = DefaultCopyWait
	}
	if c.CopyWait < 0 {
		return nil, errors.New("app: the copy waiting period must not be negative")
	}
	return &Service{store: c.Store, identities: c.Identities, approvals: c.Approvals, log: c.Log, now: c.Now, rand: c.Rand,
		copies: c.Copies, notifier: c.Notifier, copyWait: c.CopyWait}, nil
}

// NormalizeCode returns an activation code as it is hashed: upper case, without
// spaces and dashes.
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
}

func codeHash(code string) []byte {
	// Codes carry 80 random bits, so a plain hash suffices: nobody can guess
	// one from its hash, and the table alone activates nothing.
	sum := sha256.Sum256([]byte("openmitid activation code\x00" + NormalizeCode(code)))
	return sum[:]
}

// NewActivationCode makes a one-time code with which one app can be activated
// for the identity at level, valid for [ActivationTTL]. The code is shown once;
// only its hash is kept.
func (s *Service) NewActivationCode(ctx context.Context, identityUUID string, level nsis.Level, actor string) (string, error) {
	raw := make([]byte, codeLength)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, v := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[int(v)%len(codeAlphabet)]) // 256 is a multiple of 32: uniform
	}
	code := b.String()
	now := s.now().UTC()
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertActivationCode(ctx, ActivationCode{Hash: codeHash(code), Identity: identityUUID,
			Level: level, Purpose: "activate", CreatedAt: now, ExpiresAt: now.Add(ActivationTTL)}); err != nil {
			return err
		}
		return s.log.Record(ctx, audit.Event{Actor: actor, Action: "app.activation_code_issued", Identity: identityUUID,
			Details: map[string]string{"level": level.String(), "expires_at": now.Add(ActivationTTL).Format(time.RFC3339)}})
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// ActivationProofMessage is what the new key signs at activation.
func ActivationProofMessage(code, publicKeyB64 string) []byte {
	return []byte("OMIDACT1\n" + NormalizeCode(code) + "\n" + publicKeyB64)
}

// Activate registers a device key with an activation code. publicKey is the
// base64 SubjectPublicKeyInfo as sent; proof the key's signature over
// [ActivationProofMessage]. The code is spent only when everything else holds;
// the identity may then have at most [authenticator.MaxApps] apps
// ([ErrTooManyApps]), however many codes are redeemed at once.
func (s *Service) Activate(ctx context.Context, code, publicKey, name string, proof []byte, clientIP string) (*authenticator.Authenticator, *identity.Identity, error) {
	now := s.now().UTC()
	if n, err := s.store.CountInWindow(ctx, "activate:"+clientIP, activationWindow, now); err != nil {
		return nil, nil, err
	} else if n > maxActivationsPer {
		return nil, nil, ErrRateLimited
	}
	der, err := base64.StdEncoding.DecodeString(publicKey)
	if err != nil {
		return nil, nil, ErrBadKey
	}
	key, err := ParseDeviceKey(der)
	if err != nil {
		return nil, nil, err
	}
	digest := sha256.Sum256(ActivationProofMessage(code, publicKey))
	if !ecdsa.VerifyASN1(key, digest[:], proof) {
		return nil, nil, ErrBadProof
	}
	name = DeviceName(name)
	var (
		dev *authenticator.Authenticator
		id  *identity.Identity
	)
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		ac, err := s.store.UseActivationCode(ctx, codeHash(code), now)
		if err != nil {
			return err
		}
		// Under the identity's lock, so that codes redeemed at once cannot
		// all pass the count of apps.
		if err := s.store.LockIdentity(ctx, ac.Identity); err != nil {
			return err
		}
		if id, err = s.identities.ByUUID(ctx, ac.Identity); err != nil {
			return err
		}
		if id.State != identity.Active && id.State != identity.Pending {
			return ErrIdentityNotActive
		}
		if err := s.countApps(ctx, id.UUID); err != nil {
			return err
		}
		dev = &authenticator.Authenticator{ID: uuid.NewString(), Identity: id.UUID, Kind: authenticator.App,
			State: authenticator.Active, Name: name, Level: ac.Level, PublicKey: der, UsableFrom: now,
			CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertAuthenticator(ctx, dev); err != nil {
			return err
		}
		return s.log.Record(ctx, audit.Event{Actor: audit.ActorIdentity(id.UUID), Action: "app.activated", Identity: id.UUID,
			Details: map[string]string{"device": dev.ID, "name": name, "level": ac.Level.String()}})
	})
	if err != nil {
		return nil, nil, err
	}
	return dev, id, nil
}

// ParseDeviceKey reads a device's public key: PKIX, P-256 only.
func ParseDeviceKey(der []byte) (*ecdsa.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, ErrBadKey
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, ErrBadKey
	}
	return k, nil
}

// Device is an authenticated app.
type Device struct {
	Authenticator *authenticator.Authenticator
	Identity      *identity.Identity
	Key           *ecdsa.PublicKey
}

// ForApproval returns the device as the approval service takes it.
func (d *Device) ForApproval() approval.Device {
	return approval.Device{ID: d.Authenticator.ID, Identity: d.Identity.UUID, Key: d.Key}
}

// AuthScheme is the Authorization scheme of the app's requests.
const AuthScheme = "OpenMitID-Device"

// RequestSigningString returns the bytes a device signs for a request
// (docs/app-api.md).
func RequestSigningString(method, pathAndQuery string, ts int64, body []byte) []byte {
	sum := sha256.Sum256(body)
	return []byte("OMIDREQ1\n" + method + "\n" + pathAndQuery + "\n" + strconv.FormatInt(ts, 10) + "\n" + hex.EncodeToString(sum[:]))
}

// ParseAuthorization reads `OpenMitID-Device id="…", ts="…", sig="…"`.
func ParseAuthorization(h string) (id string, ts int64, sig []byte, err error) {
	rest, ok := strings.CutPrefix(h, AuthScheme+" ")
	if !ok || len(h) > 1024 {
		return "", 0, nil, ErrBadSignature
	}
	vals := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return "", 0, nil, ErrBadSignature
		}
		if _, dup := vals[k]; dup {
			return "", 0, nil, ErrBadSignature
		}
		vals[k] = v[1 : len(v)-1]
	}
	if len(vals) != 3 || vals["id"] == "" {
		return "", 0, nil, ErrBadSignature
	}
	if ts, err = strconv.ParseInt(vals["ts"], 10, 64); err != nil {
		return "", 0, nil, ErrBadSignature
	}
	if sig, err = base64.RawURLEncoding.DecodeString(vals["sig"]); err != nil {
		return "", 0, nil, ErrBadSignature
	}
	return vals["id"], ts, sig, nil
}

// Authenticate checks a request's device signature and returns the device. It
// refuses a missing or bad signature, a time more than [MaxClockSkew] off, and
// an unknown device with [ErrBadSignature]; a blocked or revoked device or
// identity with [ErrDeviceBlocked] (unless allowBlocked, for reading the
// device's own state); a device in its waiting period with [ErrNotUsableYet].
func (s *Service) Authenticate(ctx context.Context, r *http.Request, body []byte, allowBlocked bool) (*Device, error) {
	return s.authenticate(ctx, r, body, allowBlocked, true)
}

// Identify finds the device a request names and checks its state like
// [Service.Authenticate], but leaves the request signature unchecked. Use it
// only where the body carries its own signature by the device key over
// everything that matters, checked by the caller: an approval's answer, whose
// signature covers the request, the decision and the binding, and which is
// single-use. Checking the request signature too would cost a second P-256
// verification for nothing.
func (s *Service) Identify(ctx context.Context, r *http.Request, allowBlocked bool) (*Device, error) {
	return s.authenticate(ctx, r, nil, allowBlocked, false)
}

func (s *Service) authenticate(ctx context.Context, r *http.Request, body []byte, allowBlocked, verify bool) (*Device, error) {
	id, ts, sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	now := s.now()
	if d := now.Sub(time.Unix(ts, 0)); verify && (d > MaxClockSkew || d < -MaxClockSkew) {
		return nil, ErrBadSignature
	}
	a, ident, err := s.store.DeviceAndIdentity(ctx, id)
	if errors.Is(err, authenticator.ErrNotFound) || (err == nil && a.Kind != authenticator.App) {
		return nil, ErrBadSignature
	}
	if err != nil {
		return nil, err
	}
	key, err := ParseDeviceKey(a.PublicKey)
	if err != nil {
		return nil, err
	}
	if verify {
		digest := sha256.Sum256(RequestSigningString(r.Method, r.URL.RequestURI(), ts, body))
		if !ecdsa.VerifyASN1(key, digest[:], sig) {
			return nil, ErrBadSignature
		}
	}
	dev := &Device{Authenticator: a, Identity: ident, Key: key}
	if !allowBlocked {
		if a.State != authenticator.Active || ident.State != identity.Active {
			return dev, ErrDeviceBlocked
		}
		if now.Before(a.UsableFrom) {
			return dev, ErrNotUsableYet
		}
	}
	return dev, nil
}

// Block blocks the device's identity from the app (a lost phone, a misuse):
// logins fail until the person is proofed again, and its open request is
// cancelled. Blocking a blocked identity is not an error.
func (s *Service) Block(ctx context.Context, d *Device) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.identities.ByUUID(ctx, d.Identity.UUID)
		if err != nil {
			return err
		}
		if cur.State == identity.Blocked {
			return nil
		}
		if _, err := s.identities.Transition(ctx, cur.UUID, identity.Blocked, audit.ActorIdentity(cur.UUID),
			"blocked from the app "+d.Authenticator.ID); err != nil {
			return err
		}
		return s.approvals.CancelOpen(ctx, cur.UUID, "the identity was blocked")
	})
}

// DeviceName is the name an app is kept under: trimmed, without control
// characters, at most 64 bytes cut on a character boundary, and "MitID app"
// when nothing is left.
func DeviceName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if len(name) > 64 {
		name = strings.ToValidUTF8(name[:64], "")
	}
	if name == "" {
		name = "MitID app"
	}
	return name
}
