// Package codedisplay is the code display and the audio code reader as
// authenticators: hardware OATH TOTP tokens (RFC 6238, 6 digits, 30 s) whose
// seeds a vendor delivers in a PSKC file (RFC 6030). Seeds are sealed under the
// KEK; a token is assigned to one identity by its serial; each time step is
// usable once. Counting wrong codes and locking is the login engine's job.
package codedisplay

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/pki"
)

// Token is a hardware token in the inventory.
type Token struct {
	Serial       string
	Kind         authenticator.Kind // CodeDisplay or AudioCodeReader
	SealedSecret []byte
	Algorithm    otp.Algorithm
	Digits       int
	Period       time.Duration
	Manufacturer string
	Model        string
	ImportedAt   time.Time
	AssignedTo   string // the authenticator holding it, "" while in stock
}

// Store keeps tokens (internal/store).
type Store interface {
	authenticator.Store
	// InsertOTPToken adds a token; ErrDuplicate for a serial in stock already.
	InsertOTPToken(ctx context.Context, t Token) error
	OTPToken(ctx context.Context, serial string) (Token, error)
	// AssignOTPToken records that authenticatorID holds the token; ErrAssigned if another does.
	AssignOTPToken(ctx context.Context, serial, authenticatorID string) error
}

var (
	ErrUnknownSerial = errors.New("codedisplay: no token with that serial")
	ErrAssigned      = errors.New("codedisplay: the token is assigned to someone already")
	ErrDuplicate     = errors.New("codedisplay: a token with that serial is in stock already")
	ErrNotTOTP       = errors.New("codedisplay: the token is not a TOTP token")
)

// Window is how many time steps either side of now a code may come from: one,
// for tokens whose clocks drift and people who type slowly.
const Window = 1

// Service keeps the token inventory and checks codes.
type Service struct {
	store Store
	keys  *pki.Keyring
	log   audit.Log
	now   func() time.Time
	rand  io.Reader
}

// NewService returns a Service. now and r may be nil.
func NewService(st Store, keys *pki.Keyring, log audit.Log, now func() time.Time, r io.Reader) *Service {
	if now == nil {
		now = time.Now
	}
	if r == nil {
		r = rand.Reader
	}
	return &Service{store: st, keys: keys, log: log, now: now, rand: r}
}

func seedContext(serial string) string { return "otp-seed/" + serial }

// SealSeed encrypts a token's seed for storage as [Service.Import] does, for
// the bulk loader, which writes tokens without the service.
func (s *Service) SealSeed(serial string, secret []byte) ([]byte, error) {
	return s.keys.Seal(secret, seedContext(serial))
}

// Import adds the tokens of a vendor's PSKC file to the stock as kind, all or
// none: a file with a serial already in stock, or a token that is not TOTP,
// adds nothing.
func (s *Service) Import(ctx context.Context, tokens []otp.Token, kind authenticator.Kind, actor string) (int, error) {
	if kind != authenticator.CodeDisplay && kind != authenticator.AudioCodeReader {
		return 0, fmt.Errorf("codedisplay: cannot import tokens as %q", kind)
	}
	now := s.now().UTC()
	rows := make([]Token, 0, len(tokens))
	for _, t := range tokens {
		tot, err := t.TOTP()
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrNotTOTP, err)
		}
		sealed, err := s.keys.Seal(t.Secret, seedContext(t.Serial))
		if err != nil {
			return 0, err
		}
		rows = append(rows, Token{Serial: t.Serial, Kind: kind, SealedSecret: sealed, Algorithm: tot.Algorithm,
			Digits: max(tot.Digits, 6), Period: cmpOr(tot.Period, 30*time.Second), Manufacturer: t.Manufacturer,
			Model: t.Model, ImportedAt: now})
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		for _, r := range rows {
			if err := s.store.InsertOTPToken(ctx, r); err != nil {
				if errors.Is(err, ErrDuplicate) {
					return fmt.Errorf("%w: %s", ErrDuplicate, r.Serial)
				}
				return err
			}
		}
		return s.log.Record(ctx, audit.Event{Actor: actor, Action: "otp_tokens.imported",
			Details: map[string]string{"count": fmt.Sprint(len(rows)), "kind": string(kind)}})
	})
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Assign hands the token with serial to the identity as an authenticator at level.
func (s *Service) Assign(ctx context.Context, serial, identityUUID string, level nsis.Level, actor string) (*authenticator.Authenticator, error) {
	var a *authenticator.Authenticator
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		t, err := s.store.OTPToken(ctx, serial)
		if err != nil {
			return err
		}
		if t.AssignedTo != "" {
			return ErrAssigned
		}
		now := s.now().UTC()
		a = &authenticator.Authenticator{ID: uuid.NewString(), Identity: identityUUID, Kind: t.Kind, State: authenticator.Active,
			Name: t.Model, Level: level, Serial: serial, UsableFrom: now, CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertAuthenticator(ctx, a); err != nil {
			return err
		}
		if err := s.store.AssignOTPToken(ctx, serial, a.ID); err != nil {
			return err
		}
		return s.log.Record(ctx, audit.Event{Actor: actor, Action: "otp_token.assigned", Identity: identityUUID,
			Details: map[string]string{"serial": serial, "kind": string(t.Kind), "authenticator": a.ID}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// NewSoftToken makes a token with a fresh random seed, puts it in stock and
// assigns it to the identity, returning the seed: the test tool's code
// display, which any TOTP library can drive.
func (s *Service) NewSoftToken(ctx context.Context, identityUUID string, kind authenticator.Kind, level nsis.Level, actor string) (*authenticator.Authenticator, []byte, error) {
	secret, err := otp.NewSecret(s.rand)
	if err != nil {
		return nil, nil, err
	}
	var sb [5]byte
	if _, err := io.ReadFull(s.rand, sb[:]); err != nil {
		return nil, nil, err
	}
	serial := fmt.Sprintf("TEST%010d", (uint64(sb[0])<<32|uint64(sb[1])<<24|uint64(sb[2])<<16|uint64(sb[3])<<8|uint64(sb[4]))%1e10)
	n, err := s.Import(ctx, []otp.Token{{Serial: serial, Kind: otp.KindTOTP, Secret: secret, Digits: 6,
		Period: 30 * time.Second, Manufacturer: "OpenMitID", Model: "test token"}}, kind, actor)
	if err != nil || n != 1 {
		return nil, nil, err
	}
	a, err := s.Assign(ctx, serial, identityUUID, level, actor)
	if err != nil {
		return nil, nil, err
	}
	return a, secret, nil
}

// Verify checks a code from the authenticator's token: a code of a time step
// within [Window] of now that is newer than the last one used. The step is
// recorded as used in the same statement that checks it is newer, so a code
// works once, however many requests carry it.
func (s *Service) Verify(ctx context.Context, a *authenticator.Authenticator, code string) (bool, error) {
	t, err := s.store.OTPToken(ctx, a.Serial)
	if err != nil {
		return false, err
	}
	secret, err := s.keys.Open(t.SealedSecret, seedContext(t.Serial))
	if err != nil {
		return false, fmt.Errorf("codedisplay: token %s: %w", t.Serial, err)
	}
	defer clear(secret)
	tot := otp.TOTP{Secret: secret, Digits: t.Digits, Period: t.Period, Algorithm: t.Algorithm}
	now := s.now()
	step, ok := tot.Verify(code, now, Window, a.OTPLastStep)
	if !ok {
		return false, nil
	}
	return s.store.AdvanceOTPStep(ctx, a.ID, step, now)
}
