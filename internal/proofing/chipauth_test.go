package proofing_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// submitCA starts a case and submits pp as an app does for a chip without
// DG15: it asks for chip authentication with DG14, lets the chip answer,
// and sends the answer (unless answer is false).
func (e *env) submitCA(t *testing.T, pp *testchip.Passport, n cpr.Number, answer bool, edit ...func(*proofing.Submission)) (*proofing.Opened, *proofing.Case, error) {
	t.Helper()
	ctx := context.Background()
	o := e.start(t)
	req, err := e.svc.StartChipAuthentication(ctx, o.Case.ID, o.Token, pp.Dump.Files["DG14"])
	if err != nil {
		t.Fatal(err)
	}
	sub := submission(t, pp, o.Challenge, n)
	if answer {
		if sub.ChipAuthentication, err = pp.AnswerChipAuthentication(req.MSE, req.GeneralAuthenticate, req.Command); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range edit {
		f(sub)
	}
	c, err := e.svc.SubmitPassport(ctx, o.Case.ID, o.Token, sub)
	return o, c, err
}

func TestChipAuthentication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		for _, tc := range []struct {
			name   string
			opts   testchip.Options
			answer bool
			edit   func(*proofing.Submission)
			want   *proofing.Refusal // nil: ready
			checks []string
		}{
			{"3DES on brainpoolP256r1", testchip.Options{ChipAuthentication: testchip.CA3DES, NoActiveAuthentication: true}, true, nil, nil,
				[]string{"passive_authentication", "chip_authentication", "mrz"}},
			{"AES-128 on P-256", testchip.Options{ChipAuthentication: testchip.CAAES128, CACurve: testchip.ECDSAP256, NoActiveAuthentication: true}, true, nil, nil,
				[]string{"passive_authentication", "chip_authentication", "mrz"}},
			{"a cloned chip", testchip.Options{ChipAuthentication: testchip.CAAES128, NoActiveAuthentication: true, CloneChip: true}, true, nil,
				proofing.RefuseChipAuthentication, []string{"passive_authentication", "chip_authentication"}},
			{"no answer", testchip.Options{ChipAuthentication: testchip.CAAES128, NoActiveAuthentication: true}, false, nil,
				proofing.RefuseNoActiveAuthentication, []string{"passive_authentication"}},
			{"DG14 not sent", testchip.Options{ChipAuthentication: testchip.CAAES128, NoActiveAuthentication: true}, true,
				func(s *proofing.Submission) { delete(s.Files, emrtd.DG14) }, proofing.RefuseChipIncomplete, []string{"passive_authentication"}},
			{"an answer that is not the chip's", testchip.Options{ChipAuthentication: testchip.CA3DES, NoActiveAuthentication: true}, true,
				func(s *proofing.Submission) { s.ChipAuthentication[len(s.ChipAuthentication)-3] ^= 1 },
				proofing.RefuseChipAuthentication, []string{"passive_authentication", "chip_authentication"}},
			{"an active authentication passport", testchip.Options{}, false, nil, nil,
				[]string{"passive_authentication", "active_authentication", "mrz"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := e.person(t, "Karen", "Holm", date(1985, 3, 2))
				pp := passport(t, p, tc.opts)
				var o *proofing.Opened
				var c *proofing.Case
				var err error
				if tc.opts.NoActiveAuthentication {
					var edit []func(*proofing.Submission)
					if tc.edit != nil {
						edit = append(edit, tc.edit)
					}
					o, c, err = e.submitCA(t, pp, p.CPR, tc.answer, edit...)
				} else {
					o, c, err = e.submit(t, pp, p.CPR)
				}
				var names []string
				for _, ch := range c.Checks {
					names = append(names, ch.Name)
				}
				if len(names) > len(tc.checks) {
					names = names[:len(tc.checks)]
				}
				if !slices.Equal(names, tc.checks) {
					t.Errorf("checks %v, want them to start %v", names, tc.checks)
				}
				if tc.want == nil {
					if err != nil || c.State != proofing.Ready {
						t.Fatalf("SubmitPassport = %v, %v; want ready", c.State, err)
					}
					comp, _ := completion(t, c.ID, "karen."+o.Case.ID[:6], "correct horse battery")
					if _, err := e.svc.Complete(ctx, c.ID, o.Token, comp); err != nil {
						t.Fatalf("Complete: %v", err)
					}
					return
				}
				if proofing.RefusalOf(err) != tc.want || c.State != proofing.Refused || c.Reason != tc.want.Code() {
					t.Errorf("SubmitPassport = %v (%s, %q); want %s", err, c.State, c.Reason, tc.want.Code())
				}
				if _, err := e.identities.ByCPR(ctx, p.CPR); !errors.Is(err, identity.ErrNotFound) {
					t.Errorf("an identity after a refusal: %v", err)
				}
			})
		}
	})
}

// TestChipAuthenticationStart: the request for a run is refused where a
// case cannot take a passport, and an answer for another case fails.
func TestChipAuthenticationStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		p := e.person(t, "Ole", "Holm", date(1980, 1, 2))
		pp := passport(t, p, testchip.Options{ChipAuthentication: testchip.CAAES128, NoActiveAuthentication: true})
		dg14 := pp.Dump.Files["DG14"]

		o := e.start(t)
		if _, err := e.svc.StartChipAuthentication(ctx, o.Case.ID, "wrong token", dg14); !errors.Is(err, proofing.ErrCaseNotFound) {
			t.Errorf("with a wrong token: %v", err)
		}
		if _, err := e.svc.StartChipAuthentication(ctx, o.Case.ID, o.Token, []byte{0x6E, 0x02, 0x31, 0x00}); !errors.Is(err, proofing.ErrNoChipAuthentication) {
			t.Errorf("with a DG14 without chip authentication: %v", err)
		}
		a, err := e.svc.StartChipAuthentication(ctx, o.Case.ID, o.Token, dg14)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.svc.StartChipAuthentication(ctx, o.Case.ID, o.Token, dg14)
		if err != nil || string(a.Command) != string(b.Command) || string(a.TerminalPublicKey) != string(b.TerminalPublicKey) {
			t.Errorf("asking twice gave another run (%v)", err)
		}

		// Another chip key, as an app may make up in DG14, meets another
		// terminal key.
		other14, err := testchip.NewPassport(testchip.Options{Surname: "Other", ChipAuthentication: testchip.CAAES128, NoActiveAuthentication: true})
		if err != nil {
			t.Fatal(err)
		}
		if c, err := e.svc.StartChipAuthentication(ctx, o.Case.ID, o.Token, other14.Dump.Files["DG14"]); err != nil || string(c.TerminalPublicKey) == string(a.TerminalPublicKey) {
			t.Errorf("another chip key met the same terminal key (%v)", err)
		}

		// The answer to another case's run does not open this one.
		other := e.start(t)
		req, err := e.svc.StartChipAuthentication(ctx, other.Case.ID, other.Token, dg14)
		if err != nil {
			t.Fatal(err)
		}
		if string(req.TerminalPublicKey) == string(a.TerminalPublicKey) {
			t.Error("two cases share a terminal key")
		}
		sub := submission(t, pp, o.Challenge, p.CPR)
		if sub.ChipAuthentication, err = pp.AnswerChipAuthentication(req.MSE, req.GeneralAuthenticate, req.Command); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SubmitPassport(ctx, o.Case.ID, o.Token, sub); proofing.RefusalOf(err) != proofing.RefuseChipAuthentication {
			t.Errorf("another case's answer: %v", err)
		}
		if _, err := e.svc.StartChipAuthentication(ctx, o.Case.ID, o.Token, dg14); !errors.Is(err, proofing.ErrAlreadySubmitted) {
			t.Errorf("after the submission: %v", err)
		}

		late := e.start(t)
		e.clock.Add(proofing.ChallengeTTL + time.Second)
		if _, err := e.svc.StartChipAuthentication(ctx, late.Case.ID, late.Token, dg14); proofing.RefusalOf(err) != proofing.RefuseChallengeExpired {
			t.Errorf("after the challenge expired: %v", err)
		}
	})
}

// TestReactivateByChipAuthentication: reactivation shares the checks, so
// a passport without DG15 reactivates a blocked MitID by chip
// authentication, and its clone does not.
func TestReactivateByChipAuthentication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e, _ := reactEnv(t, se)
		ctx := context.Background()
		p := e.person(t, "Jens", "Lund", date(1975, 8, 9))
		pp := passport(t, p, testchip.Options{ChipAuthentication: testchip.CA3DES, NoActiveAuthentication: true})
		o, c, err := e.submitCA(t, pp, p.CPR, true)
		if err != nil {
			t.Fatal(err)
		}
		comp, _ := completion(t, c.ID, "jens.lund", "correct horse battery")
		first, err := e.svc.Complete(ctx, c.ID, o.Token, comp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.identities.Transition(ctx, first.Identity.UUID, identity.Blocked, audit.ActorIdentity(first.Identity.UUID), "lost phone"); err != nil {
			t.Fatal(err)
		}
		reactivate := func(pp *testchip.Passport) (*proofing.Case, error) {
			o, err := e.svc.StartReactivation(ctx, "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			req, err := e.svc.StartChipAuthentication(ctx, o.Case.ID, o.Token, pp.Dump.Files["DG14"])
			if err != nil {
				t.Fatal(err)
			}
			sub := submission(t, pp, o.Challenge, p.CPR)
			if sub.ChipAuthentication, err = pp.AnswerChipAuthentication(req.MSE, req.GeneralAuthenticate, req.Command); err != nil {
				t.Fatal(err)
			}
			return e.svc.SubmitPassport(ctx, o.Case.ID, o.Token, sub)
		}
		clone := passport(t, p, testchip.Options{ChipAuthentication: testchip.CA3DES, NoActiveAuthentication: true, CloneChip: true})
		if _, err := reactivate(clone); proofing.RefusalOf(err) != proofing.RefuseChipAuthentication {
			t.Errorf("a cloned chip reactivates: %v", err)
		}
		c, err = reactivate(pp)
		if err != nil || c.State != proofing.Ready || !slices.ContainsFunc(c.Checks, func(ch proofing.Check) bool { return ch.Name == "chip_authentication" && ch.Passed }) {
			t.Fatalf("reactivation: %+v, %v", c, err)
		}
	})
}
