package proofing

import (
	"context"
	"errors"
	"fmt"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
)

// guardian is a guardian who can be asked: in the register as the minor's
// custodian, with an active identity and an app that can approve now.
type guardian struct {
	identity string
	given    string
	child    string // the minor's given name, shown in the request
}

// guardians returns the minor's guardians who can be asked, in the
// register's order.
func (s *Service) guardians(ctx context.Context, minor cpr.Person) ([]guardian, error) {
	if minor.CPR.IsZero() {
		return nil, nil // the register records custody by CPR number only
	}
	people, err := s.register.Guardians(ctx, minor.CPR)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []guardian
	for _, g := range people {
		if g.CPR.IsZero() || g.AgeOn(today(now)) < 18 {
			continue
		}
		id, err := s.identities.ByCPR(ctx, g.CPR)
		if errors.Is(err, identity.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if id.State != identity.Active {
			continue
		}
		auths, err := s.store.AuthenticatorsOf(ctx, id.UUID)
		if err != nil {
			return nil, err
		}
		for _, a := range auths {
			if a.Kind == authenticator.App && a.Usable(now) {
				out = append(out, guardian{identity: id.UUID, given: g.GivenName, child: minor.GivenName})
				break
			}
		}
	}
	return out, nil
}

// AskGuardian asks a guardian again to consent to the case's enrolment,
// after an earlier request lapsed (expired unanswered, or failed binding).
// which picks among the guardians who can be asked (0 for the first); a
// number past the last asks the last. It returns [ErrConsentPending] while
// a request is open and [ErrWrongState] for a case not waiting for consent.
func (s *Service) AskGuardian(ctx context.Context, id, token string, which int) (*Status, error) {
	c, err := s.open(ctx, id, token)
	if err != nil {
		return nil, err
	}
	if c.State != GuardianConsent {
		return nil, ErrWrongState
	}
	gs, err := s.guardiansOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 {
		err := s.store.InTx(ctx, func(ctx context.Context) error {
			cur, err := s.store.EnrolmentCase(ctx, c.ID)
			if err != nil {
				return err
			}
			if cur.State != GuardianConsent {
				return ErrWrongState
			}
			cur.check("guardian_consent", false, "no guardian can be asked any longer")
			return s.end(ctx, cur, Refused, refuse(RefuseGuardianUnavailable, "no guardian with an active identity and an app"), audit.Event{})
		})
		if err != nil {
			return nil, err
		}
		return nil, refuse(RefuseGuardianUnavailable, "no guardian can be asked")
	}
	which = max(0, min(which, len(gs)-1))
	if err := s.askGuardian(ctx, c.ID, &gs[which]); err != nil {
		return nil, err
	}
	return s.Status(ctx, id, token)
}

// guardiansOf returns the guardians who can be asked for the case's person.
func (s *Service) guardiansOf(ctx context.Context, c *Case) ([]guardian, error) {
	if c.CPRSealed == nil {
		return nil, nil
	}
	digits, err := s.keys.Open(c.CPRSealed, cprContext(c.ID))
	if err != nil {
		return nil, err
	}
	n, err := cpr.Parse(string(digits))
	if err != nil {
		return nil, fmt.Errorf("proofing: case %s: stored CPR number: %w", c.ID, err)
	}
	person, err := s.register.Person(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", FailRegisterUnavailable, err)
	}
	gs, err := s.guardians(ctx, person)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", FailRegisterUnavailable, err)
	}
	return gs, nil
}

// askGuardian makes a consent request to g and ties it to the case, in one
// transaction.
func (s *Service) askGuardian(ctx context.Context, caseID string, g *guardian) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.EnrolmentCase(ctx, caseID)
		if err != nil {
			return err
		}
		if c.State != GuardianConsent {
			return ErrWrongState
		}
		if c.ConsentApproval != "" {
			if a, err := s.approvals.Get(ctx, c.ConsentApproval); err == nil && a.State.Open() && s.now().Before(a.ExpiresAt) {
				return ErrConsentPending
			}
		}
		a, err := s.approvals.Create(ctx, approval.New{Identity: g.identity, RateKey: "consent:" + g.identity,
			Kind: approval.KindConsent, ClientName: "MitID",
			ReferenceText: g.child + " beder om MitID. Godkend kun, hvis I er sammen. / " + g.child + " asks for MitID. Approve only if you are together.",
			ActionText:    "APPROVE", Title: "Samtykke til MitID / Consent to MitID: " + g.child})
		if err != nil {
			return err
		}
		c.GuardianIdentity, c.GuardianName, c.ConsentApproval = g.identity, g.given, a.ID
		return s.update(ctx, c, audit.Event{Action: "enrolment.consent_asked", Identity: g.identity,
			Details: map[string]string{"approval": a.ID}})
	})
}

// Resolved implements [approval.Resolver] for consent requests: inside the
// transaction that settles the request, an approval by the guardian asked
// makes the case ready, a rejection (or "I did not start this") refuses it,
// and a request that lapsed leaves the case waiting for another.
func (s *Service) Resolved(ctx context.Context, a *approval.Approval) error {
	if a.Kind != approval.KindConsent {
		return nil
	}
	c, err := s.store.EnrolmentCaseByApproval(ctx, a.ID)
	if errors.Is(err, ErrCaseNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.State != GuardianConsent || c.ConsentApproval != a.ID {
		return nil
	}
	ev := audit.Event{Actor: audit.ActorIdentity(a.Identity), Identity: a.Identity,
		Details: map[string]string{"approval": a.ID, "answer": string(a.State)}}
	switch a.State {
	case approval.StateApproved:
		if a.Identity != c.GuardianIdentity {
			return fmt.Errorf("proofing: consent request %s answered by identity %s, not the guardian asked", a.ID, a.Identity)
		}
		c.check("guardian_consent", true, fmt.Sprintf("approved by identity %s in approval %s", a.Identity, a.ID))
		c.State, c.ExpiresAt = Ready, s.now().UTC().Add(ReadyTTL)
		ev.Action = "enrolment.consent_given"
		return s.update(ctx, c, ev)
	case approval.StateRejected, approval.StateFraud:
		c.check("guardian_consent", false, fmt.Sprintf("%s by identity %s in approval %s", a.State, a.Identity, a.ID))
		ev.Action = "enrolment.consent_refused"
		return s.end(ctx, c, Refused, refuse(RefuseGuardianRejected, "the guardian answered %s", a.State), ev)
	default:
		c.ConsentApproval = ""
		ev.Actor, ev.Action = audit.ActorSystem, "enrolment.consent_lapsed"
		return s.update(ctx, c, ev)
	}
}

var _ approval.Resolver = (*Service)(nil)
