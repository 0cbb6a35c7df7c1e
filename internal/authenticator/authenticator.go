// Package authenticator holds what the authenticators of every kind share: the
// record each identity's authenticators are kept in, their kinds and states,
// and the store interface. Each kind's rules live in its own package: app
// (the MitID app's device keys), codedisplay (OATH tokens: code display and
// audio code reader), fido (chips), password.
package authenticator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openmitid/openmitid/internal/nsis"
)

// Kind is the kind of an authenticator.
type Kind string

const (
	App             Kind = "app"
	CodeDisplay     Kind = "code_display"
	AudioCodeReader Kind = "audio_code_reader"
	Chip            Kind = "chip"
)

// ParseKind reads a kind name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case App, CodeDisplay, AudioCodeReader, Chip:
		return k, nil
	}
	return "", fmt.Errorf("authenticator: unknown kind %q (want app, code_display, audio_code_reader or chip)", s)
}

// State is where an authenticator is in its life: active, blocked (may be
// unblocked by support after proofing) or revoked (final).
type State string

const (
	Active  State = "active"
	Blocked State = "blocked"
	Revoked State = "revoked"
)

// MaxApps is how many apps one identity may have at once (the real scheme's limit).
const MaxApps = 3

// Authenticator is one authenticator of an identity. Fields that do not apply
// to its kind are zero.
type Authenticator struct {
	ID       string
	Identity string
	Kind     Kind
	State    State
	Name     string     // the device's name, the token's model, the chip's nickname
	Level    nsis.Level // the highest level it may contribute: an app copied from another keeps that one's level

	PublicKey    []byte // app: the device key (PKIX DER)
	Serial       string // code display / audio code reader: the token's serial
	CredentialID []byte // chip: the WebAuthn credential id
	Credential   []byte // chip: the stored WebAuthn credential
	SignCount    uint32 // chip: the last signature counter
	OTPLastStep  int64  // code display / audio code reader: the newest time step used

	UsableFrom time.Time // a copied app works only after a waiting period
	CreatedAt  time.Time
	UpdatedAt  time.Time
	LastUsedAt time.Time
	Version    int64
}

// Usable reports whether the authenticator may be used at now.
func (a *Authenticator) Usable(now time.Time) bool {
	return a.State == Active && !now.Before(a.UsableFrom)
}

var (
	// ErrNotFound is returned when no authenticator matches.
	ErrNotFound = errors.New("authenticator: not found")
	// ErrConflict is returned when a stale copy is written.
	ErrConflict = errors.New("authenticator: changed meanwhile")
	// ErrDuplicate is returned for a serial or credential that is already registered.
	ErrDuplicate = errors.New("authenticator: already registered")
)

// Store keeps authenticators (internal/store).
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	InsertAuthenticator(ctx context.Context, a *Authenticator) error
	// UpdateAuthenticator writes a if its Version is the stored one and bumps it.
	UpdateAuthenticator(ctx context.Context, a *Authenticator) error
	Authenticator(ctx context.Context, id string) (*Authenticator, error)
	// AuthenticatorsOf returns the identity's authenticators that are not revoked.
	AuthenticatorsOf(ctx context.Context, identityUUID string) ([]*Authenticator, error)
	// AdvanceOTPStep records step as used if it is newer than the one stored;
	// it reports false if another request used it or a newer one first.
	AdvanceOTPStep(ctx context.Context, id string, step int64, now time.Time) (bool, error)
}
