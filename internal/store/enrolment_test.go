package store_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func newCase(id string) *proofing.Case {
	return &proofing.Case{ID: id, TokenHash: bytes.Repeat([]byte{7}, 32), Channel: proofing.ChannelAppPassport,
		State: proofing.Started, Challenge: []byte{1, 2, 3, 4, 5, 6, 7, 8}, ChallengeExpiresAt: t0.Add(5 * time.Minute),
		OriginIP: "192.0.2.7", CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
}

func TestEnrolmentCaseRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		c := newCase("case-1")
		if err := db.InsertEnrolmentCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := db.EnrolmentCase(ctx, "case-1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("read back\n%+v\nwant\n%+v", got, c)
		}

		// Every column an update writes comes back.
		c.State, c.Challenge, c.ChallengeExpiresAt = proofing.GuardianConsent, nil, time.Time{}
		c.Document = proofing.Document{Type: "P", Number: "X1234567", IssuingState: "DNK", Nationality: "DNK",
			Expiry: time.Date(2035, 6, 30, 0, 0, 0, 0, time.UTC)}
		c.Checks = []proofing.Check{{Name: "passive_authentication", Passed: true, Detail: "DS rsa"}, {Name: "age", Passed: true}}
		c.Face = proofing.FaceResult{Outcome: "match", Score: 0.93, Liveness: true, Verifier: "faces.example"}
		c.Reason, c.ReasonDetail = "x", "y"
		c.CPRIndex, c.CPRSealed, c.CPRMasked = []byte{9}, []byte{8}, "010190-XXXX"
		c.Restrictions = identity.Minor
		c.GuardianIdentity, c.GuardianName, c.ConsentApproval = "guardian-uuid", "Anna", "approval-1"
		c.Operator, c.OriginIP = "op-1", "198.51.100.1"
		c.Verification, c.WitnessIdentity, c.WitnessApproval = "witness", "witness-uuid", "approval-w"
		c.UpdatedAt, c.ExpiresAt, c.DecidedAt = t0.Add(time.Minute), t0.Add(time.Hour), t0.Add(2*time.Minute)
		if err := db.UpdateEnrolmentCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.Version != 2 {
			t.Errorf("version %d after one update", c.Version)
		}
		got, err = db.EnrolmentCase(ctx, "case-1")
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("after update\n%+v, %v\nwant\n%+v", got, err, c)
		}
		if byApproval, err := db.EnrolmentCaseByApproval(ctx, "approval-1"); err != nil || byApproval.ID != "case-1" {
			t.Fatalf("by approval: %+v, %v", byApproval, err)
		}
		if byWitness, err := db.EnrolmentCaseByWitnessApproval(ctx, "approval-w"); err != nil || byWitness.ID != "case-1" {
			t.Fatalf("by witness approval: %+v, %v", byWitness, err)
		}
		if _, err := db.EnrolmentCaseByWitnessApproval(ctx, "approval-1"); !errors.Is(err, proofing.ErrCaseNotFound) {
			t.Fatalf("by a consent approval as a witness's: %v", err)
		}

		// A stale copy does not overwrite.
		stale := *got
		stale.Version = 1
		if err := db.UpdateEnrolmentCase(ctx, &stale); !errors.Is(err, proofing.ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		for _, id := range []string{"nope"} {
			if _, err := db.EnrolmentCase(ctx, id); !errors.Is(err, proofing.ErrCaseNotFound) {
				t.Errorf("EnrolmentCase(%q): %v", id, err)
			}
		}
		if _, err := db.EnrolmentCaseByApproval(ctx, "approval-2"); !errors.Is(err, proofing.ErrCaseNotFound) {
			t.Errorf("by unknown approval: %v", err)
		}
	})
}

func TestEnrolmentCasesDueAndInState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		for i, tc := range []struct {
			state   proofing.State
			expires time.Duration
		}{
			{proofing.Started, -time.Minute},
			{proofing.FaceReview, -time.Second},
			{proofing.FaceReview, time.Hour},
			{proofing.Ready, 0},
			{proofing.Refused, -time.Hour}, // final: never due
			{proofing.Expired, -time.Hour},
		} {
			c := newCase(string(rune('a' + i)))
			c.State, c.ExpiresAt, c.CreatedAt = tc.state, t0.Add(tc.expires), t0.Add(time.Duration(i)*time.Second)
			if err := db.InsertEnrolmentCase(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		due, err := db.DueEnrolmentCases(ctx, t0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := caseIDs(due); !reflect.DeepEqual(ids, []string{"a", "b", "d"}) {
			t.Errorf("due: %v", ids)
		}
		review, err := db.EnrolmentCasesInState(ctx, proofing.FaceReview, 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := caseIDs(review); !reflect.DeepEqual(ids, []string{"b", "c"}) {
			t.Errorf("in review: %v", ids)
		}
		if one, _ := db.EnrolmentCasesInState(ctx, proofing.FaceReview, 1); len(one) != 1 {
			t.Errorf("limit 1 gave %d", len(one))
		}
	})
}

func caseIDs(cs []*proofing.Case) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestEnrolmentImages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		if err := db.InsertEnrolmentCase(ctx, newCase("c")); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnrolmentImages(ctx, "c"); !errors.Is(err, proofing.ErrNoImages) {
			t.Fatalf("before: %v", err)
		}
		im := proofing.Images{Portrait: []byte("portrait"), PortraitType: "image/jpeg", Selfie: []byte("selfie"), SelfieType: "image/png"}
		if err := db.PutEnrolmentImages(ctx, "c", im); err != nil {
			t.Fatal(err)
		}
		if got, err := db.EnrolmentImages(ctx, "c"); err != nil || !reflect.DeepEqual(got, im) {
			t.Fatalf("read %+v, %v", got, err)
		}
		// Deleted with the decision's transaction: a rollback keeps them.
		errRollback := errors.New("rollback")
		err := db.InTx(ctx, func(ctx context.Context) error {
			if err := db.DeleteEnrolmentImages(ctx, "c"); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if _, err := db.EnrolmentImages(ctx, "c"); err != nil {
			t.Fatalf("after a rollback: %v", err)
		}
		if err := db.DeleteEnrolmentImages(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnrolmentImages(ctx, "c"); !errors.Is(err, proofing.ErrNoImages) {
			t.Fatalf("after delete: %v", err)
		}
		if err := db.DeleteEnrolmentImages(ctx, "c"); err != nil {
			t.Fatalf("deleting none: %v", err)
		}
	})
}

func TestPCodeDocuments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		mk := func(uuid, pcode string, state identity.State) {
			t.Helper()
			id := &identity.Identity{UUID: uuid, UserID: uuid, State: state, IAL: nsis.Substantial, PCode: pcode,
				Restrictions: identity.PCodeOnly, CreatedAt: t0, UpdatedAt: t0}
			if err := db.InsertIdentity(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		mk("id-1", "11111111", identity.Active)
		if h, err := db.PCodeHolder(ctx, "DEU", "C01X00T47"); err != nil || h != "" {
			t.Fatalf("holder before: %q, %v", h, err)
		}
		if err := db.ClaimPCodeDocument(ctx, "DEU", "C01X00T47", "id-1", t0); err != nil {
			t.Fatal(err)
		}
		if h, err := db.PCodeHolder(ctx, "DEU", "C01X00T47"); err != nil || h != "id-1" {
			t.Fatalf("holder: %q, %v", h, err)
		}
		mk("id-2", "22222222", identity.Active)
		if err := db.ClaimPCodeDocument(ctx, "DEU", "C01X00T47", "id-2", t0); !errors.Is(err, identity.ErrAlreadyEnrolled) {
			t.Fatalf("second claim: %v", err)
		}
		// Another state's passport with the same number is another passport.
		if err := db.ClaimPCodeDocument(ctx, "POL", "C01X00T47", "id-2", t0); err != nil {
			t.Fatal(err)
		}
		// Once the holder is revoked the passport may enrol again.
		if _, err := rawDB(t, env).ExecContext(ctx, "UPDATE identities SET state = 'revoked' WHERE uuid = 'id-1'"); err != nil {
			t.Fatal(err)
		}
		if h, _ := db.PCodeHolder(ctx, "DEU", "C01X00T47"); h != "" {
			t.Fatalf("a revoked identity still holds the passport: %q", h)
		}
		mk("id-3", "33333333", identity.Active)
		if err := db.ClaimPCodeDocument(ctx, "DEU", "C01X00T47", "id-3", t0); err != nil {
			t.Fatal(err)
		}
		if h, _ := db.PCodeHolder(ctx, "DEU", "C01X00T47"); h != "id-3" {
			t.Fatalf("holder after takeover: %q", h)
		}
	})
}

// TestPCodeDocumentRace: two enrolments of one passport at once; one wins.
func TestPCodeDocumentRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		for i, u := range []string{"r-1", "r-2", "r-3", "r-4"} {
			id := &identity.Identity{UUID: u, UserID: u, State: identity.Active, IAL: nsis.Substantial,
				PCode: string(rune('1'+i)) + "0000000", Restrictions: identity.PCodeOnly, CreatedAt: t0, UpdatedAt: t0}
			if err := db.InsertIdentity(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for _, u := range []string{"r-1", "r-2", "r-3", "r-4"} {
			wg.Go(func() { errs <- db.ClaimPCodeDocument(ctx, "UKR", "FE123456", u, t0) })
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, identity.ErrAlreadyEnrolled):
				t.Errorf("claim: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d claims won", won)
		}
	})
}

func TestCSCAs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		a := proofing.CSCA{Fingerprint: "aa", DER: []byte{1}, Subject: "C=DK, CN=A", KeyID: "01", NotBefore: t0,
			NotAfter: t0.AddDate(10, 0, 0), Source: "a.pem", ImportedAt: t0}
		b := a
		b.Fingerprint, b.Subject, b.KeyID, b.ImportedAt = "bb", "C=SE, CN=B", "", t0.Add(time.Second)
		for _, c := range []proofing.CSCA{a, b} {
			if ok, err := db.InsertCSCA(ctx, c); err != nil || !ok {
				t.Fatalf("insert %s: %v, %v", c.Fingerprint, ok, err)
			}
		}
		again := a
		again.Source = "other.pem"
		if ok, err := db.InsertCSCA(ctx, again); err != nil || ok {
			t.Fatalf("duplicate: %v, %v", ok, err)
		}
		got, err := db.CSCAs(ctx)
		if err != nil || !reflect.DeepEqual(got, []proofing.CSCA{a, b}) {
			t.Fatalf("CSCAs = %+v, %v", got, err)
		}
	})
}
