package proofing

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/notify"
)

// Completion is what the person chooses once proofed, and the app's key.
type Completion struct {
	UserID     string
	Password   string
	PublicKey  string // the device key: base64 (standard) of its P-256 SubjectPublicKeyInfo, as sent
	DeviceName string
	// Proof is the device key's ASN.1 DER ECDSA signature over
	// [EnrolmentProofMessage] of the case and PublicKey.
	Proof []byte
	// Email is the contact address for notifications (optional; with a
	// reactivation, it replaces the one the MitID had).
	Email string
}

// EnrolmentProofMessage is what the new device key signs to prove that the
// app holds it: "OMIDENR1\n<case id>\n<public key as sent>". The case id
// ties the proof to this enrolment, as the activation code ties an
// activation's proof (app.ActivationProofMessage).
func EnrolmentProofMessage(caseID, publicKey string) []byte {
	return []byte("OMIDENR1\n" + caseID + "\n" + publicKey)
}

// Enrolled is the result of a completed enrolment.
type Enrolled struct {
	Identity *identity.Identity // active, at the service's IAL; PCode set for a person without CPR
	Device   *authenticator.Authenticator
	Case     *Case
}

// pcodeAttempts bounds the transactions tried when a fresh P-code meets one
// taken in between by another enrolment.
const pcodeAttempts = 5

// Complete makes the identity of a ready case: the user ID and password the
// person chose ([identity.Service.Prepare]'s rules), an active state, the
// service's IAL, the case's restrictions, and, for a person without CPR, a
// new random 8-digit P-code; and registers the app's device key at that
// level. The identity, the app, the case's decision and their audit events
// are one transaction: a user ID that is taken ([identity.ErrUserIDTaken]),
// a password the policy refuses, a bad key ([ErrBadKey]) or proof
// ([ErrBadProof]) change nothing, and the person may try again while the
// case is ready. A person who has meanwhile got an identity by another case
// is refused ([RefuseAlreadyEnrolled]).
func (s *Service) Complete(ctx context.Context, id, token string, in Completion) (*Enrolled, error) {
	c, err := s.open(ctx, id, token)
	if err != nil {
		return nil, err
	}
	if c.State != Ready {
		return nil, ErrWrongState
	}
	if !s.now().Before(c.ExpiresAt) {
		if err := s.expire(ctx, c.ID); err != nil && !errors.Is(err, ErrConflict) {
			return nil, err
		}
		return nil, refuse(RefuseExpired, "the case was ready until %s", c.ExpiresAt)
	}
	if re, err := s.IsReactivation(ctx, c.ID); err != nil {
		return nil, err
	} else if re {
		return s.completeReactivation(ctx, c, in)
	}
	der, err := checkKeyProof(c.ID, in.PublicKey, in.Proof)
	if err != nil {
		return nil, err
	}

	if err := s.checkEmail(in.Email); err != nil {
		return nil, err
	}
	n := identity.New{UserID: in.UserID, Password: in.Password, IAL: s.ial, State: identity.Active, Restrictions: c.Restrictions}
	if c.CPRSealed != nil {
		digits, err := s.keys.Open(c.CPRSealed, cprContext(c.ID))
		if err != nil {
			return nil, err
		}
		if n.CPR, err = cpr.Parse(string(digits)); err != nil {
			return nil, fmt.Errorf("proofing: case %s: stored CPR number: %w", c.ID, err)
		}
	} else if n.PCode, err = s.newPCode(); err != nil {
		return nil, err
	}
	draft, err := s.identities.Prepare(n)
	if err != nil {
		return nil, err
	}
	name := app.DeviceName(in.DeviceName)

	var out *Enrolled
	for attempt := 1; ; attempt++ {
		out, err = s.complete(ctx, c, draft, der, name, in.Email)
		if !errors.Is(err, identity.ErrPCodeTaken) || draft.PCode == "" || attempt == pcodeAttempts {
			break
		}
		if draft.PCode, err = s.newPCode(); err != nil {
			return nil, err
		}
	}
	if errors.Is(err, identity.ErrAlreadyEnrolled) {
		return nil, s.refuseEnrolledMeanwhile(ctx, c.ID, "")
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) complete(ctx context.Context, c *Case, draft *identity.Identity, der []byte, name, email string) (*Enrolled, error) {
	var out *Enrolled
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.EnrolmentCase(ctx, c.ID)
		if err != nil {
			return err
		}
		if cur.State != Ready {
			return ErrWrongState
		}
		now := s.now().UTC()
		actor := audit.ActorIdentity(draft.UUID)
		if draft.PCode != "" {
			// A P-code drawn at random may be in use: draw again here, in the
			// transaction, rather than spend the insert (on PostgreSQL a
			// unique violation aborts the transaction).
			for range pcodeAttempts {
				_, err := s.identities.ByPCode(ctx, draft.PCode)
				if errors.Is(err, identity.ErrNotFound) {
					break
				}
				if err != nil {
					return err
				}
				if draft.PCode, err = s.newPCode(); err != nil {
					return err
				}
			}
		}
		if err := s.identities.Insert(ctx, draft, actor); err != nil {
			return err
		}
		if draft.PCode != "" {
			// One live identity per passport, as the CPR index keeps one per
			// CPR number.
			if err := s.store.ClaimPCodeDocument(ctx, cur.Document.IssuingState, cur.Document.Number, draft.UUID, now); err != nil {
				return err
			}
		}
		if email != "" {
			if err := s.notifier.SetEmail(ctx, draft.UUID, email, actor); err != nil {
				return err
			}
		}
		dev := &authenticator.Authenticator{ID: uuid.NewString(), Identity: draft.UUID, Kind: authenticator.App,
			State: authenticator.Active, Name: name, Level: s.ial, PublicKey: der, UsableFrom: now, CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertAuthenticator(ctx, dev); err != nil {
			return err
		}
		if err := s.log.Record(ctx, audit.Event{Actor: actor, Action: "app.registered", Identity: draft.UUID,
			Details: map[string]string{"device": dev.ID, "name": name, "level": s.ial.String(), "by": "enrolment " + cur.ID}}); err != nil {
			return err
		}
		cur.IdentityUUID, cur.State = draft.UUID, Completed
		cur.check("identity", true, fmt.Sprintf("identity %s at IAL %s with app %s", draft.UUID, s.ial, dev.ID))
		if err := s.update(ctx, cur, audit.Event{Actor: actor, Action: "enrolment.completed", Identity: draft.UUID,
			Details: map[string]string{"ial": s.ial.String(), "restrictions": fmt.Sprint(uint8(draft.Restrictions)), "device": dev.ID}}); err != nil {
			return err
		}
		out = &Enrolled{Identity: draft, Device: dev, Case: cur}
		return nil
	})
	return out, err
}

// newPCode draws an 8-digit P-code uniformly at random.
func (s *Service) newPCode() (string, error) {
	// Rejection sampling: 4,200,000,000 is the largest multiple of 10^8
	// below 2^32, so every code is equally likely.
	for {
		b, err := s.random(4)
		if err != nil {
			return "", err
		}
		if v := binary.BigEndian.Uint32(b); v < 4_200_000_000 {
			return fmt.Sprintf("%08d", v%100_000_000), nil
		}
	}
}

// ErrBadEmail: the contact address given at completion is not one.
var ErrBadEmail = errors.New("proofing: the e-mail address is not valid")

// checkEmail refuses an address that is not one, and any address where there
// is no outbox to keep it.
func (s *Service) checkEmail(email string) error {
	if email == "" {
		return nil
	}
	if s.notifier == nil {
		return fmt.Errorf("%w: this server keeps no contact addresses", ErrBadEmail)
	}
	if _, err := notify.NormalizeEmail(email); err != nil {
		return ErrBadEmail
	}
	return nil
}

// checkKeyProof decodes the new app's public key (base64 DER) and checks that
// proof is its signature of [EnrolmentProofMessage] for the case: the app
// holds the key it registers. It returns the key's DER.
func checkKeyProof(caseID, publicKey string, proof []byte) ([]byte, error) {
	der, err := base64.StdEncoding.DecodeString(publicKey)
	if err != nil {
		return nil, ErrBadKey
	}
	key, err := app.ParseDeviceKey(der)
	if err != nil {
		return nil, ErrBadKey
	}
	digest := sha256.Sum256(EnrolmentProofMessage(caseID, publicKey))
	if !ecdsa.VerifyASN1(key, digest[:], proof) {
		return nil, ErrBadProof
	}
	return der, nil
}

// refuseEnrolledMeanwhile ends a ready case whose person got an identity
// while it waited (another case completed first) and returns the refusal, or
// the error that kept it from being recorded. actor is the caseworker, or ""
// for the person's own app.
func (s *Service) refuseEnrolledMeanwhile(ctx context.Context, caseID, actor string) error {
	refusal := refuse(RefuseAlreadyEnrolled, "the person got an identity while this case was ready")
	if err := s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.EnrolmentCase(ctx, caseID)
		if err != nil || cur.State != Ready {
			return err
		}
		cur.check("already_enrolled", false, "an identity was made for the person meanwhile")
		return s.end(ctx, cur, Refused, refusal, audit.Event{Actor: actor})
	}); err != nil {
		return err
	}
	return refusal
}
