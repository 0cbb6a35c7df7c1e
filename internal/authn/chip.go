package authn

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
)

// Chips runs the WebAuthn ceremonies of FIDO2 security keys
// (internal/authenticator/fido).
type Chips interface {
	// BeginLogin returns the options for navigator.credentials.get and the
	// session to keep until the answer, for the identity's chips.
	BeginLogin(identityUUID, userID string, chips []*authenticator.Authenticator) (options, session []byte, err error)
	// DecoyOptions returns options that look like a real person's, for a user
	// ID that does not exist (the same every time for the same key).
	DecoyOptions(userKey string) (options, session []byte, err error)
	// FinishLogin checks the browser's answer and returns the chip that signed
	// and its credential as it must now be stored (with the new sign count).
	// When the chip's counter shows it may have been copied, it returns that
	// chip with an error for which IsCloned is true.
	FinishLogin(identityUUID, userID string, chips []*authenticator.Authenticator, session, response []byte) (chip *authenticator.Authenticator, credential []byte, signCount uint32, err error)
	// IsCloned reports whether an error from FinishLogin says the chip was copied.
	IsCloned(err error) bool
}

func (e *Engine) chipsOf(ctx context.Context, identityUUID string) ([]*authenticator.Authenticator, error) {
	auths, err := e.store.AuthenticatorsOf(ctx, identityUUID)
	if err != nil {
		return nil, err
	}
	var out []*authenticator.Authenticator
	for _, a := range auths {
		if a.Kind == authenticator.Chip && a.Usable(e.now()) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (e *Engine) beginChip(ctx context.Context, f *Flow) error {
	if e.chips == nil {
		return errorf(http.StatusBadRequest, "method_not_available", "Chips cannot be used here.")
	}
	var options, session []byte
	var err error
	if f.Identity == "" {
		options, session, err = e.chips.DecoyOptions(f.UserKey)
	} else {
		var chips []*authenticator.Authenticator
		if chips, err = e.chipsOf(ctx, f.Identity); err != nil {
			return err
		}
		options, session, err = e.chips.BeginLogin(f.Identity, f.UserKey, chips)
	}
	if err != nil {
		return err
	}
	f.State, f.Challenge, f.WebAuthn = StateChip, session, string(options)
	return nil
}

func (e *Engine) chip(ctx context.Context, f *Flow, response json.RawMessage) error {
	if f.State != StateChip {
		return ErrStepOutOfTurn
	}
	if len(response) == 0 {
		return errorf(http.StatusBadRequest, "webauthn_required", "Touch your chip when the browser asks.")
	}
	if len(response) > 64<<10 {
		return errorf(http.StatusRequestEntityTooLarge, "webauthn_too_large", "The chip's answer is too large.")
	}
	if err := e.ipRefused(ctx, f); err != nil {
		return err
	}
	session := f.Challenge
	var (
		chip      *authenticator.Authenticator
		cred      []byte
		signCount uint32
		err       error
	)
	if f.Identity != "" {
		var chips []*authenticator.Authenticator
		if chips, err = e.chipsOf(ctx, f.Identity); err != nil {
			return err
		}
		chip, cred, signCount, err = e.chips.FinishLogin(f.Identity, f.UserKey, chips, session, response)
	} else {
		err = errors.New("no such user")
	}
	if err != nil {
		if chip != nil && e.chips.IsCloned(err) {
			// Its counter went back: a copy is in use. Block the chip so
			// that neither the copy nor the original works until support
			// has looked at it.
			berr := e.store.InTx(ctx, func(ctx context.Context) error {
				chip.State, chip.UpdatedAt = authenticator.Blocked, e.now().UTC()
				if err := e.store.UpdateAuthenticator(ctx, chip); err != nil {
					return err
				}
				return e.log.Record(ctx, audit.Event{Actor: audit.ActorSystem, Action: "chip.blocked_as_cloned",
					Identity: f.Identity, Details: map[string]string{"authenticator": chip.ID, "flow": f.ID}})
			})
			if berr != nil {
				return berr
			}
			if cerr := e.countIPFailure(ctx, f); cerr != nil {
				return cerr
			}
			if uerr := e.update(ctx, f, func(ctx context.Context, f *Flow) error { return e.fail(ctx, f, "chip_blocked") }); uerr != nil {
				return uerr
			}
			return errorf(http.StatusForbidden, "chip_blocked", "%s", Message("chip_blocked"))
		}
		if cerr := e.countIPFailure(ctx, f); cerr != nil {
			return cerr
		}
		// The challenge is single-use: a failed answer spends it, and the
		// browser is given a fresh one.
		uerr := e.update(ctx, f, func(ctx context.Context, f *Flow) error {
			if err := e.log.Record(ctx, audit.Event{Actor: actorOf(f), Action: "login.chip_failed", Identity: f.Identity,
				Details: map[string]string{"flow": f.ID, "reason": err.Error()}}); err != nil {
				return err
			}
			if err := e.beginChip(ctx, f); err != nil {
				return err
			}
			f.Error = "chip_failed"
			return nil
		})
		if uerr != nil {
			return uerr
		}
		return errorf(http.StatusUnauthorized, "chip_failed", "The chip could not be verified. Try again.")
	}
	return e.update(ctx, f, func(ctx context.Context, f *Flow) error {
		if f.State != StateChip || string(f.Challenge) != string(session) {
			return ErrFlowChanged // another answer used this challenge first
		}
		chip.Credential, chip.SignCount = cred, signCount
		chip.LastUsedAt, chip.UpdatedAt = e.now().UTC(), e.now().UTC()
		if err := e.store.UpdateAuthenticator(ctx, chip); err != nil {
			return err
		}
		return e.advance(ctx, f, FactorUse{Factor: FactorChip, Authenticator: chip.ID})
	})
}
