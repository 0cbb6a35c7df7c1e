package proofing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/notify"
)

// Reactivation: a person whose MitID has no authenticator that works (every
// one revoked or blocked, or the MitID blocked after a phone was lost)
// scans the passport again in the app. The case runs the checks of an
// enrolment (chip, passive and active authentication, register, face), but
// where an enrolment refuses a person who has a MitID, a reactivation
// requires one, and completes on it instead of making a new one: the MitID
// keeps its UUID and user ID, becomes active if it was blocked (unblocking
// needs proofing again, and this is that proofing), every authenticator it
// still had is revoked (the person says they are lost: a lost phone must not
// work again once the MitID is unblocked), the new app is registered, and the
// password is replaced when the person chooses a new one (they may have
// forgotten it along with the phone). The person is told on their other
// channels (the notifications outbox) in the same transaction.

// ReactivationStore marks the cases that reactivate (internal/store).
type ReactivationStore interface {
	InsertReactivation(ctx context.Context, caseID string, now time.Time) error
	// Reactivation reports whether the case reactivates, and the identity
	// its checks found ("" before them).
	Reactivation(ctx context.Context, caseID string) (identityUUID string, ok bool, err error)
	SetReactivationIdentity(ctx context.Context, caseID, identityUUID string) error
	UpdateAuthenticator(ctx context.Context, a *authenticator.Authenticator) error
	// CancelActivationCodes makes the identity's unused activation codes
	// expire now and returns how many there were.
	CancelActivationCodes(ctx context.Context, identityUUID string, now time.Time) (int, error)
}

// Notifier writes a message to the person's other channels in the
// transaction in ctx (internal/notify).
type Notifier interface {
	Enqueue(ctx context.Context, identityUUID string, t notify.Template, params map[string]string) ([]notify.Channel, error)
	// SetEmail sets the identity's contact address, in the transaction in ctx.
	SetEmail(ctx context.Context, identityUUID, email, actor string) error
}

// Refusals of a reactivation.
var (
	RefuseNotEnrolled = &Refusal{code: "not_enrolled",
		en: "You have no MitID to reactivate. Get MitID with the app instead.",
		da: "Du har ikke noget MitID at genaktivere. Bestil MitID med appen i stedet."}
	RefuseStillUsable = &Refusal{code: "has_authenticator",
		en: "Your MitID still has an app, code display or chip that works. Use it, or copy your app to this phone. If you have lost it, block your MitID first.",
		da: "Dit MitID har stadig en app, kodeviser eller chip, der virker. Brug den, eller kopiér din app til denne telefon. Har du mistet den, så spær dit MitID først."}
)

// ErrReactivationUnavailable: the server has no outbox to tell the person.
var ErrReactivationUnavailable = errors.New("proofing: reactivation is not configured on this server")

// StartReactivation opens a case that reactivates the MitID of the person
// whose passport the app will send, as [Service.Start] opens an enrolment.
func (s *Service) StartReactivation(ctx context.Context, clientIP string) (*Opened, error) {
	if s.reactivations == nil || s.notifier == nil {
		return nil, ErrReactivationUnavailable
	}
	return s.start(ctx, clientIP, true)
}

// IsReactivation reports whether the case reactivates an identity.
func (s *Service) IsReactivation(ctx context.Context, caseID string) (bool, error) {
	if s.reactivations == nil {
		return false, nil
	}
	_, ok, err := s.reactivations.Reactivation(ctx, caseID)
	return ok, err
}

// reactivationTarget is the checks' step 6 for a reactivation: the person
// must have a MitID that is not revoked, and it must have no authenticator
// that can be used (or be blocked).
func (s *Service) reactivationTarget(ctx context.Context, v *verdict, document Document) *verdict {
	var (
		id  *identity.Identity
		err error
	)
	if !v.person.CPR.IsZero() {
		id, err = s.identities.ByCPR(ctx, v.person.CPR)
	} else {
		var holder string
		if holder, err = s.store.PCodeHolder(ctx, document.IssuingState, document.Number); err == nil {
			if holder == "" {
				err = identity.ErrNotFound
			} else {
				id, err = s.identities.ByUUID(ctx, holder)
			}
		}
	}
	if errors.Is(err, identity.ErrNotFound) || err == nil && id.State == identity.Revoked {
		return v.fail("reactivation", RefuseNotEnrolled, "the person has no identity that is not revoked")
	}
	if err != nil {
		v.err = fmt.Errorf("%w: %w", FailInternal, err)
		return v
	}
	if id.State == identity.Active {
		if usable, err := s.usableAuthenticator(ctx, id.UUID); err != nil {
			v.err = fmt.Errorf("%w: %w", FailInternal, err)
			return v
		} else if usable != "" {
			return v.fail("reactivation", RefuseStillUsable, "identity %s has usable authenticator %s", id.UUID, usable)
		}
	}
	if id.State != identity.Active && id.State != identity.Blocked {
		return v.fail("reactivation", RefuseNotEnrolled, "identity %s is %s", id.UUID, id.State)
	}
	v.identity = id.UUID
	v.check("reactivation", true, "identity %s (%s) has no authenticator that can be used", id.UUID, id.State)
	return nil
}

// usableAuthenticator returns the id of an authenticator of the identity that
// can be used now, or "".
func (s *Service) usableAuthenticator(ctx context.Context, identityUUID string) (string, error) {
	auths, err := s.store.AuthenticatorsOf(ctx, identityUUID)
	if err != nil {
		return "", err
	}
	for _, a := range auths {
		if a.State == authenticator.Active {
			return a.ID, nil // one in its waiting period works soon: not lost
		}
	}
	return "", nil
}

// completeReactivation is [Service.Complete] for a reactivation case: in
// is the new app's key and, optionally, a new password (UserID must be
// empty: the MitID keeps its user ID).
func (s *Service) completeReactivation(ctx context.Context, c *Case, in Completion) (*Enrolled, error) {
	if s.notifier == nil {
		return nil, ErrReactivationUnavailable
	}
	if strings.TrimSpace(in.UserID) != "" {
		return nil, ErrUserIDGiven
	}
	if err := s.checkEmail(in.Email); err != nil {
		return nil, err
	}
	target, _, err := s.reactivations.Reactivation(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if target == "" {
		return nil, ErrWrongState // a case is ready only once its checks found the identity
	}
	der, err := checkKeyProof(c.ID, in.PublicKey, in.Proof)
	if err != nil {
		return nil, err
	}
	id, err := s.identities.ByUUID(ctx, target)
	if err != nil {
		return nil, err
	}
	hash := ""
	if in.Password != "" {
		if hash, err = s.identities.HashPassword(in.Password, id.UserID); err != nil {
			return nil, err
		}
	}
	name := app.DeviceName(in.DeviceName)
	var out *Enrolled
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.EnrolmentCase(ctx, c.ID)
		if err != nil {
			return err
		}
		if cur.State != Ready {
			return ErrWrongState
		}
		now := s.now().UTC()
		actor := audit.ActorIdentity(target)
		// Under the identity's lock, so that an app activated meanwhile is
		// among those revoked below, not left beside the new one.
		if err := s.store.LockIdentity(ctx, target); err != nil {
			return err
		}
		// The person is the case's: the identity must still be theirs and
		// still need reactivating.
		id, err := s.identities.ByUUID(ctx, target)
		if err != nil {
			return err
		}
		if cur.CPRSealed != nil {
			digits, err := s.keys.Open(cur.CPRSealed, cprContext(cur.ID))
			if err != nil {
				return err
			}
			n, err := cpr.Parse(string(digits))
			if err != nil || id.CPR != n {
				return fmt.Errorf("proofing: case %s: the identity to reactivate is not the passport holder's", cur.ID)
			}
		}
		if id.State == identity.Revoked {
			return refuse(RefuseNotEnrolled, "identity %s was revoked while the case was ready", id.UUID)
		}
		if id.State == identity.Active {
			if usable, err := s.usableAuthenticator(ctx, id.UUID); err != nil {
				return err
			} else if usable != "" {
				return refuse(RefuseStillUsable, "identity %s got authenticator %s while the case was ready", id.UUID, usable)
			}
		}
		auths, err := s.store.AuthenticatorsOf(ctx, id.UUID)
		if err != nil {
			return err
		}
		var revoked []string
		for _, a := range auths {
			a.State, a.UpdatedAt = authenticator.Revoked, now
			if err := s.reactivations.UpdateAuthenticator(ctx, a); err != nil {
				return err
			}
			revoked = append(revoked, a.ID)
		}
		if len(revoked) > 0 {
			if err := s.log.Record(ctx, audit.Event{Actor: actor, Action: "authenticator.revoked", Identity: id.UUID,
				Details: map[string]string{"authenticators": strings.Join(revoked, ","), "reason": "reactivation " + cur.ID}}); err != nil {
				return err
			}
		}
		// Activation codes issued before (a letter, a caseworker's) could be
		// in the wrong hands as much as the lost phone: they end too.
		if n, err := s.reactivations.CancelActivationCodes(ctx, id.UUID, now); err != nil {
			return err
		} else if n > 0 {
			if err := s.log.Record(ctx, audit.Event{Actor: actor, Action: "activation_codes.cancelled", Identity: id.UUID,
				Details: map[string]string{"count": strconv.Itoa(n), "reason": "reactivation " + cur.ID}}); err != nil {
				return err
			}
		}
		if id, err = s.identities.Reactivate(ctx, id.UUID, hash, actor, "reactivated with a passport, case "+cur.ID); err != nil {
			return err
		}
		if in.Email != "" {
			if err := s.notifier.SetEmail(ctx, id.UUID, in.Email, actor); err != nil {
				return err
			}
		}
		level := min(s.ial, id.IAL)
		dev := &authenticator.Authenticator{ID: uuid.NewString(), Identity: id.UUID, Kind: authenticator.App,
			State: authenticator.Active, Name: name, Level: level, PublicKey: der, UsableFrom: now, CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertAuthenticator(ctx, dev); err != nil {
			return err
		}
		if err := s.log.Record(ctx, audit.Event{Actor: actor, Action: "app.registered", Identity: id.UUID,
			Details: map[string]string{"device": dev.ID, "name": name, "level": level.String(), "by": "reactivation " + cur.ID}}); err != nil {
			return err
		}
		channels, err := s.notifier.Enqueue(ctx, id.UUID, notify.Reactivated, map[string]string{"device_name": name,
			"added_at": now.In(copenhagen).Format("02-01-2006 15:04 MST")})
		if err != nil {
			return err
		}
		cur.IdentityUUID, cur.State = id.UUID, Completed
		cur.check("identity", true, fmt.Sprintf("identity %s reactivated with app %s; %d authenticators revoked", id.UUID, dev.ID, len(revoked)))
		notified := "none"
		if len(channels) > 0 {
			notified = string(channels[0])
		}
		if err := s.update(ctx, cur, audit.Event{Actor: actor, Action: "enrolment.completed", Identity: id.UUID,
			Details: map[string]string{"purpose": "reactivation", "device": dev.ID, "password_reset": fmt.Sprint(hash != ""),
				"notified": notified}}); err != nil {
			return err
		}
		out = &Enrolled{Identity: id, Device: dev, Case: cur}
		return nil
	})
	if ref := RefusalOf(err); ref != nil {
		refusal := err
		if eerr := s.store.InTx(ctx, func(ctx context.Context) error {
			cur, err := s.store.EnrolmentCase(ctx, c.ID)
			if err != nil || cur.State != Ready {
				return err
			}
			cur.check("reactivation", false, refusal.Error())
			return s.end(ctx, cur, Refused, refusal, audit.Event{})
		}); eerr != nil {
			return nil, eerr
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ErrUserIDGiven: a reactivation keeps the user ID; the app sent one.
var ErrUserIDGiven = errors.New("proofing: a reactivated MitID keeps its user ID; send none")
