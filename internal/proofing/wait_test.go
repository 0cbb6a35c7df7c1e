package proofing_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/face"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// TestMinorNeedsGuardian: a 13-year-old is enrolled only after a guardian
// approves in their own app, and is refused when the guardian rejects.
func TestMinorNeedsGuardian(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		mum := e.person(t, "Mette", "Mor", date(1985, 4, 4))
		dad := e.person(t, "Frank", "Far", date(1983, 3, 3))
		mumApp := e.guardianWithApp(t, mum, "mette.mor")
		// Dad has no app: only Mum can be asked.
		kid := e.person(t, "Ida", "Barn", t0.AddDate(-13, 0, 0), dad.CPR, mum.CPR)
		o, c, err := e.submit(t, passport(t, kid, testchip.Options{}), kid.CPR)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != proofing.GuardianConsent || c.Restrictions != identity.Minor || c.GuardianIdentity != mumApp.dev.Identity ||
			c.GuardianName != "Mette" || c.ConsentApproval == "" {
			t.Fatalf("case %+v", c)
		}
		// The minor's app shows the code the guardian binds with.
		st, err := e.svc.Status(ctx, c.ID, o.Token)
		if err != nil || st.Consent == nil || len(st.Consent.BindingCode) != 4 || st.Consent.Guardian != "Mette" {
			t.Fatalf("Status = %+v, %v", st, err)
		}
		// Not ready before the guardian answers.
		comp, _ := completion(t, c.ID, "ida.barn", "correct horse battery")
		if _, err := e.svc.Complete(ctx, c.ID, o.Token, comp); !errors.Is(err, proofing.ErrWrongState) {
			t.Fatalf("Complete before consent: %v", err)
		}
		// The guardian's app sees a consent request naming the child.
		a, err := e.approvals.Next(ctx, mumApp.dev.Identity)
		if err != nil || a.Kind != approval.KindConsent || a.ID != st.Consent.ApprovalID {
			t.Fatalf("Next = %+v, %v", a, err)
		}
		req, _ := a.Decoded()
		if !bytes.Contains([]byte(req.ReferenceText), []byte("Ida")) {
			t.Errorf("the request does not name the child: %q", req.ReferenceText)
		}
		if err := e.answer(t, mumApp, a.ID, st.Consent.BindingCode, approval.Approve); err != nil {
			t.Fatal(err)
		}
		if c, _ = e.svc.Case(ctx, c.ID); c.State != proofing.Ready {
			t.Fatalf("after consent: %+v", c)
		}
		if i := slices.IndexFunc(c.Checks, func(ch proofing.Check) bool { return ch.Name == "guardian_consent" }); i < 0 || !c.Checks[i].Passed {
			t.Errorf("the consent is not recorded: %+v", c.Checks)
		}
		done, err := e.svc.Complete(ctx, c.ID, o.Token, comp)
		if err != nil {
			t.Fatal(err)
		}
		if done.Identity.Restrictions != identity.Minor || !done.Identity.IsMinor(t0) {
			t.Errorf("identity %+v", done.Identity)
		}
		// The guardian's approval is in the guardian's audit history.
		if acts := auditActions(t, e, mumApp.dev.Identity); !slices.Contains(acts, "enrolment.consent_given") || !slices.Contains(acts, "approval.approved") {
			t.Errorf("guardian's audit: %v", acts)
		}

		// Another child; the guardian rejects.
		kid2 := e.person(t, "Bo", "Barn", t0.AddDate(-14, -6, 0), mum.CPR)
		o2, c2, err := e.submit(t, passport(t, kid2, testchip.Options{}), kid2.CPR)
		if err != nil || c2.State != proofing.GuardianConsent {
			t.Fatalf("second child: %+v, %v", c2, err)
		}
		st2, _ := e.svc.Status(ctx, c2.ID, o2.Token)
		if err := e.answer(t, mumApp, c2.ConsentApproval, st2.Consent.BindingCode, approval.Reject); err != nil {
			t.Fatal(err)
		}
		c2, _ = e.svc.Case(ctx, c2.ID)
		if c2.State != proofing.Refused || c2.Reason != "guardian_rejected" {
			t.Fatalf("after rejection: %+v", c2)
		}
		if _, err := e.identities.ByCPR(ctx, kid2.CPR); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("an identity was made: %v", err)
		}

		// A third; the request lapses and the app asks again.
		kid3 := e.person(t, "Alf", "Barn", t0.AddDate(-13, -1, 0), mum.CPR)
		o3, c3, err := e.submit(t, passport(t, kid3, testchip.Options{}), kid3.CPR)
		if err != nil || c3.State != proofing.GuardianConsent {
			t.Fatalf("third child: %+v, %v", c3, err)
		}
		if _, err := e.svc.AskGuardian(ctx, c3.ID, o3.Token, 0); !errors.Is(err, proofing.ErrConsentPending) {
			t.Fatalf("asking while a request is open: %v", err)
		}
		first := c3.ConsentApproval
		e.clock.Add(approval.TTL)
		st3, err := e.svc.Status(ctx, c3.ID, o3.Token)
		if err != nil || st3.Consent != nil || st3.Case.ConsentApproval != "" || st3.Case.State != proofing.GuardianConsent {
			t.Fatalf("after the request lapsed: %+v, %v", st3, err)
		}
		st3, err = e.svc.AskGuardian(ctx, c3.ID, o3.Token, 5)
		if err != nil || st3.Consent == nil || st3.Consent.ApprovalID == first {
			t.Fatalf("AskGuardian = %+v, %v", st3, err)
		}
		if err := e.answer(t, mumApp, st3.Consent.ApprovalID, st3.Consent.BindingCode, approval.Approve); err != nil {
			t.Fatal(err)
		}
		if c3, _ = e.svc.Case(ctx, c3.ID); c3.State != proofing.Ready {
			t.Fatalf("after the second request: %+v", c3)
		}
	})
}

// TestFaceReview: with the review verifier the case waits for a caseworker,
// keeping the images sealed until the decision, then deleting them.
func TestFaceReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		e.faces.set(face.Result{Outcome: face.Review, Verifier: "review"}, nil)
		p := e.person(t, "Rie", "Review", date(1979, 9, 9))
		pp := passport(t, p, testchip.Options{})
		o, c, err := e.submit(t, pp, p.CPR)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != proofing.FaceReview || !c.ExpiresAt.Equal(t0.Add(proofing.DefaultReviewTTL)) {
			t.Fatalf("case %+v", c)
		}
		sealed, err := e.DB.EnrolmentImages(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed.Selfie, pp.Face[:64]) || bytes.Contains(sealed.Portrait, pp.Face[:64]) {
			t.Error("the images are stored in the clear")
		}
		im, err := e.svc.ReviewImages(ctx, c.ID)
		if err != nil || !bytes.Equal(im.Portrait, pp.Face) || !bytes.Equal(im.Selfie, pp.Face) || im.PortraitType != "image/jpeg" || im.SelfieType != "image/jpeg" {
			t.Fatalf("ReviewImages: %v", err)
		}
		queue, err := e.svc.PendingReviews(ctx, 10)
		if err != nil || len(queue) != 1 || queue[0].ID != c.ID {
			t.Fatalf("PendingReviews = %v, %v", queue, err)
		}
		st, _ := e.svc.Status(ctx, c.ID, o.Token)
		if st.Case.State != proofing.FaceReview || st.Refusal != nil {
			t.Fatalf("the app sees %+v", st)
		}
		if _, err := e.svc.DecideReview(ctx, c.ID, true, ""); err == nil {
			t.Error("a decision without an operator was taken")
		}
		c, err = e.svc.DecideReview(ctx, c.ID, true, "cw-17")
		if err != nil || c.State != proofing.Ready || c.Operator != "cw-17" {
			t.Fatalf("approved: %+v, %v", c, err)
		}
		if _, err := e.svc.ReviewImages(ctx, c.ID); !errors.Is(err, proofing.ErrNoImages) {
			t.Errorf("images kept after the decision: %v", err)
		}
		if _, err := e.svc.DecideReview(ctx, c.ID, false, "cw-18"); !errors.Is(err, proofing.ErrWrongState) {
			t.Errorf("a second decision: %v", err)
		}
		comp, _ := completion(t, c.ID, "rie.review", "correct horse battery")
		if _, err := e.svc.Complete(ctx, c.ID, o.Token, comp); err != nil {
			t.Fatal(err)
		}

		// Rejected.
		q := e.person(t, "Ulf", "Afvist", date(1977, 7, 7))
		_, c2, err := e.submit(t, passport(t, q, testchip.Options{}), q.CPR)
		if err != nil {
			t.Fatal(err)
		}
		c2, err = e.svc.DecideReview(ctx, c2.ID, false, "cw-17")
		if err != nil || c2.State != proofing.Refused || c2.Reason != "face_rejected" {
			t.Fatalf("rejected: %+v, %v", c2, err)
		}
		if _, err := e.DB.EnrolmentImages(ctx, c2.ID); !errors.Is(err, proofing.ErrNoImages) {
			t.Errorf("images kept after rejection: %v", err)
		}
		// Never decided: the case expires and its images go.
		r := e.person(t, "Glemt", "Sag", date(1976, 6, 6))
		_, c3, err := e.submit(t, passport(t, r, testchip.Options{}), r.CPR)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(proofing.DefaultReviewTTL)
		if _, err := e.svc.DecideReview(ctx, c3.ID, true, "cw-17"); !errors.Is(err, proofing.ErrWrongState) {
			t.Errorf("deciding an expired review: %v", err)
		}
		if _, err := e.svc.ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
		if c3, _ = e.svc.Case(ctx, c3.ID); c3.State != proofing.Expired {
			t.Errorf("undecided review: %+v", c3)
		}
		if _, err := e.DB.EnrolmentImages(ctx, c3.ID); !errors.Is(err, proofing.ErrNoImages) {
			t.Errorf("images kept after expiry: %v", err)
		}
	})
}

// TestFaceReviewThenConsent: a minor's case reviewed by a caseworker goes on
// to the guardian.
func TestFaceReviewThenConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		e.faces.set(face.Result{Outcome: face.Review, Verifier: "review"}, nil)
		dad := e.person(t, "Far", "Til", date(1980, 1, 2))
		dadApp := e.guardianWithApp(t, dad, "far.til")
		kid := e.person(t, "Sol", "Til", t0.AddDate(-14, 0, -3), dad.CPR)
		o, c, err := e.submit(t, passport(t, kid, testchip.Options{}), kid.CPR)
		if err != nil || c.State != proofing.FaceReview {
			t.Fatalf("%+v, %v", c, err)
		}
		if c, err = e.svc.DecideReview(ctx, c.ID, true, "cw-1"); err != nil || c.State != proofing.GuardianConsent || c.ConsentApproval == "" {
			t.Fatalf("after review: %+v, %v", c, err)
		}
		st, _ := e.svc.Status(ctx, c.ID, o.Token)
		if err := e.answer(t, dadApp, c.ConsentApproval, st.Consent.BindingCode, approval.Approve); err != nil {
			t.Fatal(err)
		}
		if c, _ = e.svc.Case(ctx, c.ID); c.State != proofing.Ready {
			t.Fatalf("%+v", c)
		}
	})
}

// TestPCode: a person without CPR, known to the register by passport, gets
// an identity with an 8-digit P-code.
func TestPCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		foreigners := e.register.Find(func(p cpr.Person) bool { return p.CPR.IsZero() && p.DocumentNumber != "" })
		if len(foreigners) < 2 {
			t.Fatal("the synthetic register has no people without CPR")
		}
		p := foreigners[0]
		pp := passport(t, p, testchip.Options{DocumentNumber: p.DocumentNumber, Nationality: p.Nationality})
		o, c, err := e.submit(t, pp, cpr.Number{})
		if err != nil {
			t.Fatal(err)
		}
		if c.State != proofing.Ready || c.Restrictions != identity.PCodeOnly || c.CPRSealed != nil {
			t.Fatalf("case %+v", c)
		}
		// The first P-code drawn is taken: the service draws again.
		if _, err := e.identities.Create(ctx, identity.New{UserID: "p.taken", PCode: "04200042", IAL: nsis.Substantial,
			State: identity.Active, Restrictions: identity.PCodeOnly}, "test"); err != nil {
			t.Fatal(err)
		}
		e.rand.push([]byte{0x00, 0x40, 0x16, 0x2A}) // 4200042
		comp, _ := completion(t, c.ID, "gaest.1", "correct horse battery")
		done, err := e.svc.Complete(ctx, c.ID, o.Token, comp)
		if err != nil {
			t.Fatal(err)
		}
		id := done.Identity
		if len(id.PCode) != 8 || id.PCode == "04200042" || !id.CPR.IsZero() || id.Restrictions != identity.PCodeOnly ||
			id.IAL != nsis.Substantial || id.State != identity.Active {
			t.Fatalf("identity %+v", id)
		}
		for _, r := range id.PCode {
			if r < '0' || r > '9' {
				t.Fatalf("P-code %q is not 8 digits", id.PCode)
			}
		}
		if got, err := e.identities.ByPCode(ctx, id.PCode); err != nil || got.UUID != id.UUID {
			t.Fatalf("ByPCode: %v", err)
		}
		// The same passport again: already enrolled.
		_, _, err = e.submit(t, pp, cpr.Number{})
		if proofing.RefusalOf(err) != proofing.RefuseAlreadyEnrolled {
			t.Fatalf("second enrolment: %v", err)
		}
		// Once that identity is revoked, the passport enrols again.
		if _, err := e.identities.Transition(ctx, id.UUID, identity.Revoked, "test", "test"); err != nil {
			t.Fatal(err)
		}
		o3, c3, err := e.submit(t, pp, cpr.Number{})
		if err != nil {
			t.Fatal(err)
		}
		comp3, _ := completion(t, c3.ID, "gaest.2", "correct horse battery")
		if done3, err := e.svc.Complete(ctx, c3.ID, o3.Token, comp3); err != nil || done3.Identity.PCode == id.PCode {
			t.Fatalf("after revocation: %+v, %v", done3, err)
		}
	})
}

func TestStartRateLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		var err error
		for i := 0; i < 40 && err == nil; i++ {
			_, err = e.svc.Start(ctx, "203.0.113.9")
		}
		if !errors.Is(err, proofing.ErrRateLimited) {
			t.Fatalf("40 starts from one address: %v", err)
		}
		if _, err := e.svc.Start(ctx, "203.0.113.10"); err != nil {
			t.Fatalf("another address: %v", err)
		}
		e.clock.Add(time.Hour)
		if _, err := e.svc.Start(ctx, "203.0.113.9"); err != nil {
			t.Fatalf("an hour later: %v", err)
		}
	})
}
