package proofing_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/face"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func auditActions(t *testing.T, e *env, identityUUID string) []string {
	t.Helper()
	evs, err := e.DB.AuditEvents(context.Background(), identityUUID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

func TestEnrolAdult(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		p := e.person(t, "Søren Åge", "Ærø-Østergård", date(1990, 5, 17))
		pp := passport(t, p, testchip.Options{})
		o, c, err := e.submit(t, pp, p.CPR)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != proofing.Ready || c.Reason != "" || c.Challenge != nil {
			t.Fatalf("after the passport: %+v", c)
		}
		if c.Document.Type != "P" || c.Document.Nationality != "DNK" || c.Document.Number != pp.MRZ.DocumentNumber ||
			!c.Document.Expiry.Equal(date(2035, 6, 30)) || c.CPRMasked != p.CPR.Masked() || c.Face.Outcome != "match" || c.Face.Score != 0.91 {
			t.Errorf("the case records %+v", c)
		}
		var names []string
		for _, ch := range c.Checks {
			if !ch.Passed {
				t.Errorf("check %s failed: %s", ch.Name, ch.Detail)
			}
			names = append(names, ch.Name)
		}
		want := []string{"passive_authentication", "active_authentication", "mrz", "document_expiry", "register", "age", "already_enrolled", "face"}
		if !slices.Equal(names, want) {
			t.Errorf("checks %v, want %v", names, want)
		}
		if _, err := e.DB.EnrolmentImages(ctx, c.ID); !errors.Is(err, proofing.ErrNoImages) {
			t.Errorf("images kept for a case a service decided: %v", err)
		}

		comp, _ := completion(t, c.ID, "soeren.oe", "correct horse battery")
		done, err := e.svc.Complete(ctx, c.ID, o.Token, comp)
		if err != nil {
			t.Fatal(err)
		}
		id := done.Identity
		if id.State != identity.Active || id.IAL != nsis.Substantial || id.Restrictions != 0 || id.CPR != p.CPR || id.PCode != "" {
			t.Fatalf("identity %+v", id)
		}
		if done.Device.Kind != authenticator.App || done.Device.Level != nsis.Substantial || done.Device.State != authenticator.Active ||
			done.Device.Name != "test phone" {
			t.Fatalf("device %+v", done.Device)
		}
		got, err := e.identities.ByUserID(ctx, "SOEREN.OE")
		if err != nil || got.UUID != id.UUID {
			t.Fatalf("ByUserID: %+v, %v", got, err)
		}
		if ok, err := e.identities.CheckPassword(ctx, got, "correct horse battery"); !ok || err != nil {
			t.Errorf("password: %v, %v", ok, err)
		}
		c, _ = e.svc.Case(ctx, c.ID)
		if c.State != proofing.Completed || c.IdentityUUID != id.UUID || c.DecidedAt.IsZero() {
			t.Errorf("case after completion: %+v", c)
		}
		acts := auditActions(t, e, id.UUID)
		for _, a := range []string{"identity.created", "app.registered", "enrolment.completed"} {
			if !slices.Contains(acts, a) {
				t.Errorf("audit for the identity lacks %s: %v", a, acts)
			}
		}
		// Completed once: the token opens no second identity.
		comp2, _ := completion(t, c.ID, "soeren.two", "correct horse battery")
		if _, err := e.svc.Complete(ctx, c.ID, o.Token, comp2); !errors.Is(err, proofing.ErrWrongState) {
			t.Errorf("second completion: %v", err)
		}
	})
}

// TestRefusals: every way a passport or a person can be refused, each with
// its reason recorded in the case and no identity left behind.
func TestRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		adult := func(t *testing.T) cpr.Person {
			return e.person(t, "Karen Marie", "Testesen", date(1984, 3, 17))
		}
		expiredDS, err := testchip.GeneratePKI(testchip.PKIOptions{Seed: "expired ds", Country: "DK", Organization: "Expired",
			CSCAAlgorithm: testchip.ECDSAP256, DSAlgorithms: []testchip.Algorithm{testchip.RSA}, NotBefore: date(2015, 1, 1),
			CSCANotAfter: date(2040, 1, 1), DSNotAfter: date(2025, 12, 31)})
		if err != nil {
			t.Fatal(err)
		}
		expiredCSCA, err := testchip.GeneratePKI(testchip.PKIOptions{Seed: "expired csca", Country: "DK", Organization: "Old",
			CSCAAlgorithm: testchip.ECDSAP256, DSAlgorithms: []testchip.Algorithm{testchip.RSA}, NotBefore: date(2015, 1, 1),
			CSCANotAfter: date(2026, 1, 1), DSNotAfter: date(2030, 1, 1)})
		if err != nil {
			t.Fatal(err)
		}
		demo := e.trust.tl

		for _, tt := range []struct {
			name string
			code string
			// make returns the passport, the person's CPR number as typed,
			// and may change the submission.
			make   func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission))
			before func(t *testing.T) // changes the world before the submission
		}{
			{name: "tampered DG1", code: "document_tampered", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{}), p.CPR, func(s *proofing.Submission) {
					dg1 := slices.Clone(s.Files[1])
					dg1[len(dg1)-3] ^= 0x01 // a changed check digit region
					s.Files[1] = dg1
				}
			}},
			{name: "tampered DG2 (a swapped photo)", code: "document_tampered", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				other := passport(t, e.person(t, "Other", "Person", date(1970, 1, 1)), testchip.Options{})
				return passport(t, p, testchip.Options{}), p.CPR, func(s *proofing.Submission) { s.Files[2] = other.Dump.Files["DG2"] }
			}},
			{name: "broken SOD signature", code: "document_signature_invalid", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{}), p.CPR, func(s *proofing.Submission) {
					s.SOD = slices.Clone(s.SOD)
					s.SOD[len(s.SOD)-1] ^= 0xFF
				}
			}},
			{name: "SOD cut short", code: "document_signature_invalid", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{}), p.CPR, func(s *proofing.Submission) { s.SOD = s.SOD[:len(s.SOD)/2] }
			}},
			{name: "rogue CSCA", code: "document_signer_unknown", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{RogueCSCA: true}), p.CPR, nil
			}},
			{name: "demo passport without --demo", code: "document_signer_unknown",
				before: func(t *testing.T) {
					// The server's trust list when not in demo mode: the
					// imported CSCAs (none) and not the demo CSCA.
					tl, err := proofing.NewAnchors(se.DB, false, e.clock.Now).TrustList(ctx)
					if err != nil {
						t.Fatal(err)
					}
					e.trust.tl = tl
				},
				make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
					p := adult(t)
					return passport(t, p, testchip.Options{}), p.CPR, nil
				}},
			{name: "expired document signer", code: "document_signer_expired",
				before: func(t *testing.T) { e.trust.tl = expiredDS.TrustList() },
				make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
					p := adult(t)
					return passport(t, p, testchip.Options{PKI: expiredDS}), p.CPR, nil
				}},
			{name: "expired CSCA", code: "document_signer_expired",
				before: func(t *testing.T) { e.trust.tl = expiredCSCA.TrustList() },
				make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
					p := adult(t)
					return passport(t, p, testchip.Options{PKI: expiredCSCA}), p.CPR, nil
				}},
			{name: "cloned chip", code: "chip_authentication_failed", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{CloneChip: true}), p.CPR, nil
			}},
			{name: "cloned ECDSA chip", code: "chip_authentication_failed", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{CloneChip: true, AAAlgorithm: testchip.ECDSAP256}), p.CPR, nil
			}},
			{name: "answer to another challenge (a replay)", code: "chip_authentication_failed", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				pp := passport(t, p, testchip.Options{})
				replay := submission(t, pp, [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, p.CPR).ActiveAuthentication
				return pp, p.CPR, func(s *proofing.Submission) { s.ActiveAuthentication = replay }
			}},
			{name: "DG15 listed but not sent", code: "chip_incomplete", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				pp := passport(t, p, testchip.Options{})
				return pp, p.CPR, func(s *proofing.Submission) { delete(s.Files, 15) }
			}},
			{name: "a chip without active authentication", code: "chip_cannot_prove_genuine", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				pp := passport(t, p, testchip.Options{})
				// Signed afresh by the demo document signer, without DG14 and DG15.
				files := pp.Dump.DataGroups()
				delete(files, 14)
				delete(files, 15)
				ds := pp.PKI.DS[testchip.RSA]
				sod, err := emrtd.BuildSOD(crypto.SHA256, files, ds.Cert, ds.Signer(), true)
				if err != nil {
					t.Fatal(err)
				}
				return pp, p.CPR, func(s *proofing.Submission) { s.Files, s.SOD = files, sod }
			}},
			{name: "DG2 not sent", code: "chip_incomplete", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{}), p.CPR, func(s *proofing.Submission) { delete(s.Files, 2) }
			}},
			{name: "scanned MRZ of another passport", code: "mrz_mismatch", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				other := passport(t, p, testchip.Options{DocumentNumber: "X0000001"})
				return passport(t, p, testchip.Options{}), p.CPR, func(s *proofing.Submission) { s.MRZ = other.Dump.MRZ }
			}},
			{name: "unreadable MRZ", code: "mrz_unreadable", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{}), p.CPR, func(s *proofing.Submission) {
					// The composite check digit, last, made wrong.
					last := s.MRZ[len(s.MRZ)-1]
					s.MRZ = s.MRZ[:len(s.MRZ)-1] + string('0'+(last-'0'+1)%10)
				}
			}},
			{name: "expired passport", code: "document_expired", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{Expiry: date(2026, 11, 23)}), p.CPR, nil
			}},
			{name: "an identity card, not a passport", code: "document_not_accepted", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := e.person(t, "Ib", "Bo", date(1984, 3, 17))
				return passport(t, p, testchip.Options{Format: emrtd.TD1}), p.CPR, nil
			}},
			{name: "CPR number not in the register", code: "person_not_found", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				n, _ := e.register.NewCPR(p.Birthdate, cpr.Male)
				return passport(t, p, testchip.Options{}), n, nil
			}},
			{name: "another person's CPR number", code: "person_mismatch", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p, q := adult(t), e.person(t, "Jens", "Jensen", date(1984, 3, 17))
				return passport(t, p, testchip.Options{}), q.CPR, nil
			}},
			{name: "same name, other birthdate", code: "person_mismatch", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				twin := p
				twin.Birthdate = date(1984, 3, 18)
				return passport(t, twin, testchip.Options{}), p.CPR, nil
			}},
			{name: "a child of 12", code: "too_young", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := e.person(t, "Lille", "Barn", t0.AddDate(-13, 0, 1))
				return passport(t, p, testchip.Options{}), p.CPR, nil
			}},
			{name: "14 with no guardian who has the app", code: "guardian_unavailable", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				mum := e.person(t, "Mor", "Uden", date(1980, 1, 1))
				p := e.person(t, "Teen", "Uden", t0.AddDate(-14, 0, 0), mum.CPR)
				return passport(t, p, testchip.Options{}), p.CPR, nil
			}},
			{name: "faces differ", code: "face_mismatch",
				before: func(t *testing.T) { e.faces.set(face0(false, true), nil) },
				make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
					p := adult(t)
					return passport(t, p, testchip.Options{}), p.CPR, nil
				}},
			{name: "selfie not live", code: "face_no_liveness",
				before: func(t *testing.T) { e.faces.set(face0(true, false), nil) },
				make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
					p := adult(t)
					return passport(t, p, testchip.Options{}), p.CPR, nil
				}},
			{name: "face service down", code: "face_verification_unavailable",
				before: func(t *testing.T) { e.faces.set(face0(true, true), errFaceDown) },
				make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
					p := adult(t)
					return passport(t, p, testchip.Options{}), p.CPR, nil
				}},
			{name: "no CPR given, passport unknown", code: "document_not_registered", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				p := adult(t)
				return passport(t, p, testchip.Options{}), cpr.Number{}, nil
			}},
			{name: "no CPR given for a CPR holder's passport", code: "cpr_required", make: func(t *testing.T) (*testchip.Passport, cpr.Number, func(*proofing.Submission)) {
				n, _ := e.register.NewCPR(date(1975, 2, 2), cpr.Male)
				p := cpr.Person{CPR: n, GivenName: "Ole", FamilyName: "Dokument", Birthdate: date(1975, 2, 2), Sex: n.Sex(),
					Nationality: "DNK", DocumentNumber: "DK7654321"}
				if err := e.register.Add(p); err != nil {
					t.Fatal(err)
				}
				return passport(t, p, testchip.Options{DocumentNumber: "DK7654321"}), cpr.Number{}, nil
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e.trust.tl = demo
				e.faces.set(face0(true, true), nil)
				if tt.before != nil {
					tt.before(t)
				}
				pp, n, change := tt.make(t)
				o := e.start(t)
				sub := submission(t, pp, o.Challenge, n)
				if change != nil {
					change(sub)
				}
				c, err := e.svc.SubmitPassport(ctx, o.Case.ID, o.Token, sub)
				r := proofing.RefusalOf(err)
				if r == nil || r.Code() != tt.code {
					t.Fatalf("SubmitPassport = %v; want the refusal %s", err, tt.code)
				}
				if r.Message("en") == "" || r.Message("da") == "" || r.Message("da") == r.Message("en") {
					t.Errorf("refusal %s lacks a message in both languages", tt.code)
				}
				stored, err := e.svc.Case(ctx, o.Case.ID)
				if err != nil {
					t.Fatal(err)
				}
				wantState := proofing.Refused
				if r.Failure() {
					wantState = proofing.Failed
				}
				if stored.State != wantState || stored.Reason != tt.code || stored.ReasonDetail == "" || stored.DecidedAt.IsZero() ||
					stored.Challenge != nil || c == nil || c.State != wantState {
					t.Errorf("case %+v", stored)
				}
				if len(stored.Checks) == 0 || stored.Checks[len(stored.Checks)-1].Passed {
					t.Errorf("the failed check is not recorded: %+v", stored.Checks)
				}
				if _, err := e.DB.EnrolmentImages(ctx, o.Case.ID); !errors.Is(err, proofing.ErrNoImages) {
					t.Errorf("images kept: %v", err)
				}
				if !n.IsZero() {
					if id, err := e.identities.ByCPR(ctx, n); !errors.Is(err, identity.ErrNotFound) {
						t.Errorf("an identity was left behind: %+v, %v", id, err)
					}
				}
				// A refused case completes nothing.
				comp, _ := completion(t, o.Case.ID, "refused.person", "correct horse battery")
				if _, err := e.svc.Complete(ctx, o.Case.ID, o.Token, comp); !errors.Is(err, proofing.ErrWrongState) {
					t.Errorf("Complete after refusal: %v", err)
				}
				st, err := e.svc.Status(ctx, o.Case.ID, o.Token)
				if err != nil || st.Refusal == nil || st.Refusal.Code() != tt.code {
					t.Errorf("Status = %+v, %v", st, err)
				}
			})
		}
	})
}

func TestSecondEnrolmentRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		p := e.person(t, "Anna", "Dobbelt", date(1991, 7, 7))
		o, c, err := e.submit(t, passport(t, p, testchip.Options{}), p.CPR)
		if err != nil {
			t.Fatal(err)
		}
		// A second case made ready at the same time.
		o2, c2, err := e.submit(t, passport(t, p, testchip.Options{DocumentNumber: "NEW123456"}), p.CPR)
		if err != nil || c2.State != proofing.Ready {
			t.Fatalf("second case: %+v, %v", c2, err)
		}
		comp, _ := completion(t, c.ID, "anna.dobbelt", "correct horse battery")
		if _, err := e.svc.Complete(ctx, c.ID, o.Token, comp); err != nil {
			t.Fatal(err)
		}
		// The race lost at completion: refused and recorded.
		comp2, _ := completion(t, c2.ID, "anna.dobbelt2", "correct horse battery")
		if _, err := e.svc.Complete(ctx, c2.ID, o2.Token, comp2); proofing.RefusalOf(err) != proofing.RefuseAlreadyEnrolled {
			t.Fatalf("second completion: %v", err)
		}
		if c2, _ = e.svc.Case(ctx, c2.ID); c2.State != proofing.Refused || c2.Reason != "already_enrolled" {
			t.Errorf("second case %+v", c2)
		}
		if _, err := e.identities.ByUserID(ctx, "anna.dobbelt2"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("the losing completion left an identity: %v", err)
		}
		// And a third, after the identity exists, is refused at the checks.
		_, _, err = e.submit(t, passport(t, p, testchip.Options{}), p.CPR)
		if proofing.RefusalOf(err) != proofing.RefuseAlreadyEnrolled {
			t.Fatalf("third: %v", err)
		}
	})
}

func TestChallengeSingleUseAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		p := e.person(t, "Per", "Engang", date(1988, 8, 8))
		pp := passport(t, p, testchip.Options{CloneChip: true})
		o := e.start(t)
		sub := submission(t, pp, o.Challenge, p.CPR)
		if _, err := e.svc.SubmitPassport(ctx, o.Case.ID, o.Token, sub); proofing.RefusalOf(err) != proofing.RefuseChipAuthentication {
			t.Fatal(err)
		}
		// The challenge answered once, even wrongly: no second try on it.
		good := submission(t, passport(t, p, testchip.Options{}), o.Challenge, p.CPR)
		if _, err := e.svc.SubmitPassport(ctx, o.Case.ID, o.Token, good); !errors.Is(err, proofing.ErrAlreadySubmitted) {
			t.Fatalf("second submission: %v", err)
		}
		// A wrong token is an unknown case.
		if _, err := e.svc.SubmitPassport(ctx, o.Case.ID, o.Token+"x", good); !errors.Is(err, proofing.ErrCaseNotFound) {
			t.Fatalf("wrong token: %v", err)
		}
		if _, err := e.svc.Status(ctx, o.Case.ID, "nope"); !errors.Is(err, proofing.ErrCaseNotFound) {
			t.Fatalf("wrong token: %v", err)
		}

		// Too late.
		o2 := e.start(t)
		e.clock.Add(proofing.ChallengeTTL)
		_, err := e.svc.SubmitPassport(ctx, o2.Case.ID, o2.Token, submission(t, passport(t, p, testchip.Options{}), o2.Challenge, p.CPR))
		if proofing.RefusalOf(err) != proofing.RefuseChallengeExpired {
			t.Fatalf("late: %v", err)
		}
		if c, _ := e.svc.Case(ctx, o2.Case.ID); c.State != proofing.Expired || c.Reason != "challenge_expired" {
			t.Fatalf("late case %+v", c)
		}
		// An abandoned case is swept.
		o3 := e.start(t)
		e.clock.Add(proofing.ChallengeTTL + time.Second)
		if n, err := e.svc.ExpireDue(ctx); err != nil || n != 1 {
			t.Fatalf("ExpireDue = %d, %v", n, err)
		}
		if c, _ := e.svc.Case(ctx, o3.Case.ID); c.State != proofing.Expired {
			t.Fatalf("abandoned case %+v", c)
		}
	})
}

func TestCompleteRefusesAndRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		taken := e.person(t, "Har", "Allerede", date(1970, 1, 1))
		if _, err := e.identities.Create(ctx, identity.New{UserID: "taken.id", CPR: taken.CPR, IAL: nsis.High, State: identity.Active}, "test"); err != nil {
			t.Fatal(err)
		}
		p := e.person(t, "Ny", "Person", date(1992, 2, 2))
		o, c, err := e.submit(t, passport(t, p, testchip.Options{}), p.CPR)
		if err != nil {
			t.Fatal(err)
		}
		good, _ := completion(t, c.ID, "ny.person", "correct horse battery")
		otherCase, _ := completion(t, "another-case", "ny.person", "correct horse battery")
		badKey := good
		badKey.PublicKey = "bm90IGEga2V5"
		for _, tt := range []struct {
			name string
			in   proofing.Completion
			want func(error) bool
		}{
			{"user ID taken", func() proofing.Completion { x := good; x.UserID = "TAKEN.id"; return x }(),
				func(err error) bool { return errors.Is(err, identity.ErrUserIDTaken) }},
			{"user ID too short", func() proofing.Completion { x := good; x.UserID = "ab"; return x }(),
				func(err error) bool { return errors.Is(err, identity.ErrUserIDLength) }},
			{"common password", func() proofing.Completion { x := good; x.Password = "password123"; return x }(),
				func(err error) bool { return password.Code(err) != "" }},
			{"bad key", badKey, func(err error) bool { return errors.Is(err, proofing.ErrBadKey) }},
			{"proof for another case", func() proofing.Completion {
				x := good
				x.Proof = otherCase.Proof
				x.PublicKey = otherCase.PublicKey
				return x
			}(),
				func(err error) bool { return errors.Is(err, proofing.ErrBadProof) }},
		} {
			if _, err := e.svc.Complete(ctx, c.ID, o.Token, tt.in); !tt.want(err) {
				t.Errorf("%s: %v", tt.name, err)
			}
			if _, err := e.identities.ByCPR(ctx, p.CPR); !errors.Is(err, identity.ErrNotFound) {
				t.Fatalf("%s left an identity: %v", tt.name, err)
			}
		}
		if _, err := e.svc.Complete(ctx, c.ID, "wrong", good); !errors.Is(err, proofing.ErrCaseNotFound) {
			t.Errorf("wrong token: %v", err)
		}
		// Still ready: the person tries again and succeeds.
		if _, err := e.svc.Complete(ctx, c.ID, o.Token, good); err != nil {
			t.Fatal(err)
		}
		// A ready case not completed in time expires.
		q := e.person(t, "Sen", "Person", date(1993, 3, 3))
		o2, c2, err := e.submit(t, passport(t, q, testchip.Options{}), q.CPR)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(proofing.ReadyTTL)
		late, _ := completion(t, c2.ID, "sen.person", "correct horse battery")
		if _, err := e.svc.Complete(ctx, c2.ID, o2.Token, late); proofing.RefusalOf(err) != proofing.RefuseExpired {
			t.Fatalf("late completion: %v", err)
		}
	})
}

var errFaceDown = fmt.Errorf("%w: faces.test: connection refused", face.ErrUnavailable)

// face0 is a face service's answer.
func face0(match, live bool) face.Result {
	r := face.Result{Outcome: face.NoMatch, Score: 0.2, Liveness: live, Verifier: "faces.test"}
	switch {
	case !live:
		r.Outcome = face.NoLiveness
	case match:
		r.Outcome, r.Score = face.Match, 0.91
	}
	return r
}
