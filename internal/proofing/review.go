package proofing

import (
	"context"
	"errors"
	"fmt"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/identity"
)

// PendingReviews returns the cases waiting for a caseworker to compare the
// faces, oldest first: the operator console's queue.
func (s *Service) PendingReviews(ctx context.Context, limit int) ([]*Case, error) {
	return s.store.EnrolmentCasesInState(ctx, FaceReview, limit)
}

// ReviewImages returns the chip's portrait and the selfie of a case waiting
// for review, opened, for the operator console to show side by side.
// [ErrNoImages] once the case is decided (they are deleted then).
func (s *Service) ReviewImages(ctx context.Context, caseID string) (*Images, error) {
	sealed, err := s.store.EnrolmentImages(ctx, caseID)
	if err != nil {
		return nil, err
	}
	p, err := s.keys.Open(sealed.Portrait, imageContext(caseID, "portrait"))
	if err != nil {
		return nil, err
	}
	q, err := s.keys.Open(sealed.Selfie, imageContext(caseID, "selfie"))
	if err != nil {
		return nil, err
	}
	return &Images{Portrait: p, PortraitType: sealed.PortraitType, Selfie: q, SelfieType: sealed.SelfieType}, nil
}

// DecideReview records a caseworker's decision on a case waiting for a face
// review: approve when the selfie shows the person in the chip's portrait.
// The images are deleted in the same transaction. Approved, the case goes on
// to a guardian's consent (13 and 14) or becomes ready; rejected, it is
// refused ([RefuseFaceRejected]). It returns [ErrWrongState] for a case not
// waiting for review (decided already, or expired). operator names the
// caseworker, as the operator console knows them.
func (s *Service) DecideReview(ctx context.Context, caseID string, approve bool, operator string) (*Case, error) {
	if operator == "" {
		return nil, errors.New("proofing: a review decision needs the operator who made it")
	}
	var out *Case
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.EnrolmentCase(ctx, caseID)
		if err != nil {
			return err
		}
		if c.State != FaceReview || !s.now().Before(c.ExpiresAt) {
			return ErrWrongState
		}
		c.Operator = operator
		ev := audit.Event{Actor: audit.ActorOperator(operator), Action: "enrolment.face_reviewed",
			Details: map[string]string{"approved": fmt.Sprint(approve)}}
		if !approve {
			c.check("face_review", false, "rejected by caseworker "+operator)
			out = c
			return s.end(ctx, c, Refused, refuse(RefuseFaceRejected, "caseworker %s found the faces differ", operator), ev)
		}
		c.check("face_review", true, "approved by caseworker "+operator)
		if err := s.store.DeleteEnrolmentImages(ctx, c.ID); err != nil {
			return err
		}
		now := s.now().UTC()
		if c.Restrictions&identity.Minor != 0 {
			c.State, c.ExpiresAt = GuardianConsent, now.Add(ConsentTTL)
		} else {
			c.State, c.ExpiresAt = Ready, now.Add(ReadyTTL)
		}
		out = c
		return s.update(ctx, c, ev)
	})
	if err != nil {
		return nil, err
	}
	if out.State == GuardianConsent {
		// If no guardian can be asked now, the case waits: the app asks
		// again (AskGuardian), which refuses it if still none can.
		gs, err := s.guardiansOf(ctx, out)
		if err != nil || len(gs) == 0 {
			return out, nil
		}
		if err := s.askGuardian(ctx, out.ID, &gs[0]); err != nil {
			return out, nil
		}
		return s.store.EnrolmentCase(ctx, out.ID)
	}
	return out, nil
}
