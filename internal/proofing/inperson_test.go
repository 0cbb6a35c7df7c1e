package proofing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

type inPersonEnv struct {
	*env
	ip    *proofing.InPerson
	codes *codedisplay.Service
	op    string // the caseworker's identity UUID
}

func newInPerson(t *testing.T, se storetest.Env) *inPersonEnv {
	t.Helper()
	e := newEnv(t, se)
	apps, err := app.NewService(app.Config{Store: se.DB, Identities: e.identities, Approvals: e.approvals, Log: se.DB, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	codes := codedisplay.NewService(se.DB, se.Keys, se.DB, e.clock.Now, nil)
	ip, err := proofing.NewInPerson(e.svc, se.DB, e.identities, apps, codes)
	if err != nil {
		t.Fatal(err)
	}
	e.approvals.Handle(approval.KindWitness, ip)
	op := e.person(t, "Sagsbehandler", "Jensen", time.Date(1975, 3, 3, 0, 0, 0, 0, time.UTC))
	opApp := e.guardianWithApp(t, op, "sagsbehandler")
	return &inPersonEnv{env: e, ip: ip, codes: codes, op: opApp.dev.Identity}
}

var validDoc = proofing.InspectedDocument{Kind: proofing.DocPassport, Number: "AB1234567", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}

func (e *inPersonEnv) auditActions(t *testing.T, identityUUID string) map[string]int {
	t.Helper()
	evs, err := e.DB.FindAuditEvents(context.Background(), "", identityUUID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, ev := range evs {
		out[ev.Action]++
	}
	return out
}

func TestInPersonOpenRefuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newInPerson(t, se)
		ctx := context.Background()
		adult := e.person(t, "Ida", "Holm", time.Date(1988, 5, 5, 0, 0, 0, 0, time.UTC))
		enrolled := e.person(t, "Ole", "Lund", time.Date(1960, 2, 2, 0, 0, 0, 0, time.UTC))
		e.guardianWithApp(t, enrolled, "ole-lund")
		child := e.person(t, "Lille", "Holm", time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC))
		minor := e.person(t, "Teen", "Holm", time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC))
		unknown, err := cpr.NewSynthetic(cpr.DemoSeed+1, t0).NewCPR(time.Date(1999, 9, 9, 0, 0, 0, 0, time.UTC), cpr.Male)
		if err != nil {
			t.Fatal(err)
		}
		expired := validDoc
		expired.Expiry = t0.AddDate(0, 0, -1)
		for _, c := range []struct {
			name string
			n    cpr.Number
			doc  proofing.InspectedDocument
			want error
		}{
			{"unknown CPR", unknown, validDoc, proofing.RefusePersonNotFound},
			{"no CPR", cpr.Number{}, validDoc, proofing.RefusePersonNotFound},
			{"has an identity", enrolled.CPR, validDoc, proofing.RefuseAlreadyEnrolled},
			{"child", child.CPR, validDoc, proofing.RefuseTooYoung},
			{"14 years old", minor.CPR, validDoc, proofing.RefuseMinorInPerson},
			{"expired document", adult.CPR, expired, proofing.RefuseDocumentExpired},
			{"unknown document kind", adult.CPR, proofing.InspectedDocument{Kind: "library_card", Number: "AB12345", Expiry: validDoc.Expiry}, proofing.ErrBadDocument},
			{"short number", adult.CPR, proofing.InspectedDocument{Kind: proofing.DocDrivingLicence, Number: "A1", Expiry: validDoc.Expiry}, proofing.ErrBadDocument},
			{"odd number", adult.CPR, proofing.InspectedDocument{Kind: proofing.DocNationalID, Number: "AB 12;345", Expiry: validDoc.Expiry}, proofing.ErrBadDocument},
			{"no expiry", adult.CPR, proofing.InspectedDocument{Kind: proofing.DocPassport, Number: "AB12345"}, proofing.ErrBadDocument},
		} {
			got, err := e.ip.Open(ctx, e.op, c.n, c.doc)
			if !errors.Is(err, c.want) || got != nil {
				t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
			}
		}
		if cases, err := e.ip.Cases(ctx, e.op, 10); err != nil || len(cases) != 0 {
			t.Fatalf("refusals made cases: %v, %v", cases, err)
		}
		evs, err := e.DB.FindAuditEvents(ctx, "enrolment.in_person_refused", "", 100)
		if err != nil || len(evs) != 6 {
			t.Fatalf("refusals audited: %d, %v", len(evs), err)
		}

		// The document expiring today is still valid; the person found
		// shows age and no identity.
		f, err := e.ip.FindPerson(ctx, adult.CPR)
		if err != nil || f.Enrolled || f.Rule != proofing.Adult || f.Age != 38 {
			t.Fatalf("find: %+v, %v", f, err)
		}
		if f, err := e.ip.FindPerson(ctx, enrolled.CPR); err != nil || !f.Enrolled {
			t.Fatalf("find enrolled: %+v, %v", f, err)
		}
		today := validDoc
		today.Expiry = t0
		c, err := e.ip.Open(ctx, e.op, adult.CPR, today)
		if err != nil || c.State != proofing.Checking || c.Channel != proofing.ChannelInPerson || c.Operator != e.op {
			t.Fatalf("open: %+v, %v", c, err)
		}
		// A passport enrolment's case is not an in-person one.
		o := e.start(t)
		if _, err := e.ip.Case(ctx, o.Case.ID); !errors.Is(err, proofing.ErrNotInPerson) {
			t.Fatalf("passport case as in person: %v", err)
		}
	})
}

func TestInPersonWitness(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newInPerson(t, se)
		ctx := context.Background()
		person := e.person(t, "Sofie", "Dahl", time.Date(1990, 7, 14, 0, 0, 0, 0, time.UTC))
		witnessP := e.person(t, "Vera", "Vidne", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC))
		witness := e.guardianWithApp(t, witnessP, "vera-vidne")
		young := e.guardianWithApp(t, e.person(t, "Unge", "Vidne", time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)), "unge-vidne")
		_ = young
		noApp := e.person(t, "Uden", "App", time.Date(1970, 2, 2, 0, 0, 0, 0, time.UTC))
		if _, err := e.identities.Create(ctx, identity.New{UserID: "uden-app", CPR: noApp.CPR, IAL: nsis.High, State: identity.Active}, "test"); err != nil {
			t.Fatal(err)
		}

		c, err := e.ip.Open(ctx, e.op, person.CPR, validDoc)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []struct {
			user string
			want error
		}{
			{"nobody-at-all", proofing.ErrWitnessUnknown},
			{"unge-vidne", proofing.ErrWitnessNotAdult},
			{"uden-app", proofing.ErrWitnessNoApp},
			{"sagsbehandler", proofing.ErrWitnessIsOperator},
		} {
			if a, err := e.ip.AskWitness(ctx, c.ID, e.op, w.user); !errors.Is(err, w.want) || a != nil {
				t.Errorf("witness %s: %v, %v; want %v", w.user, a, err, w.want)
			}
		}

		// A request that lapses leaves the case waiting for another.
		a, err := e.ip.AskWitness(ctx, c.ID, e.op, "vera-vidne")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ip.AskWitness(ctx, c.ID, e.op, "vera-vidne"); !errors.Is(err, proofing.ErrWitnessPending) {
			t.Fatalf("asking twice: %v", err)
		}
		req, err := a.Decoded()
		if err != nil || req.Kind != approval.KindWitness || !strings.Contains(req.Title, "Sofie Dahl, født 14-07-1990") ||
			!strings.Contains(req.Title, "I declare that I know Sofie Dahl, born 14-07-1990") {
			t.Fatalf("the request: %+v, %v", req, err)
		}
		e.clock.Add(approval.TTL + time.Second)
		c, _ = e.ip.Case(ctx, c.ID)
		if w, err := e.ip.Witness(ctx, c); err != nil || w == nil || w.State != approval.StateExpired {
			t.Fatalf("lapsed request: %+v, %v", w, err)
		}
		if c, _ = e.ip.Case(ctx, c.ID); c.WitnessApproval != "" || c.State != proofing.Checking || c.Checks[len(c.Checks)-1].Name != proofing.CheckWitnessLapsed {
			t.Fatalf("after the lapse: %+v", c)
		}

		// Approved: ready, with the witness and the approval recorded and audited.
		a, err = e.ip.AskWitness(ctx, c.ID, e.op, "vera-vidne")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.answer(t, witness, a.ID, a.BindingCode, approval.Approve); err != nil {
			t.Fatal(err)
		}
		c, _ = e.ip.Case(ctx, c.ID)
		if c.State != proofing.Ready || c.Verification != proofing.VerifiedByWitness || c.WitnessIdentity != witness.dev.Identity || c.WitnessApproval != a.ID {
			t.Fatalf("after approval: %+v", c)
		}
		evs, err := e.DB.FindAuditEvents(ctx, "enrolment.witness_approved", witness.dev.Identity, 10)
		if err != nil || len(evs) != 1 || evs[0].Details["approval"] != a.ID || evs[0].Details["case"] != c.ID {
			t.Fatalf("witness approval audited: %+v, %v", evs, err)
		}
		if _, err := e.ip.RecordAnswers(ctx, c.ID, e.op, map[string]bool{}); !errors.Is(err, proofing.ErrWrongState) {
			t.Fatalf("answers after the witness: %v", err)
		}

		// Completing: nothing to issue, an unknown serial and a taken user ID
		// leave no identity behind.
		if _, err := e.ip.Complete(ctx, c.ID, e.op, proofing.Issue{UserID: "sofie-dahl"}); !errors.Is(err, proofing.ErrNothingToIssue) {
			t.Fatalf("nothing to issue: %v", err)
		}
		if _, err := e.ip.Complete(ctx, c.ID, e.op, proofing.Issue{UserID: "sofie-dahl", App: true, Serial: "NOPE123"}); !errors.Is(err, codedisplay.ErrUnknownSerial) {
			t.Fatalf("unknown serial: %v", err)
		}
		if _, err := e.ip.Complete(ctx, c.ID, e.op, proofing.Issue{UserID: "vera-vidne", App: true}); !errors.Is(err, identity.ErrUserIDTaken) {
			t.Fatalf("taken user ID: %v", err)
		}
		if _, err := e.identities.ByCPR(ctx, person.CPR); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("a failed completion left an identity: %v", err)
		}
		res, err := e.ip.Complete(ctx, c.ID, e.op, proofing.Issue{App: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Identity.IAL != nsis.High || res.Identity.State != identity.Active || !strings.HasPrefix(res.Identity.UserID, "mitid-") ||
			len(res.ActivationCode) < 16 || res.Case.State != proofing.Completed || res.Case.IdentityUUID != res.Identity.UUID {
			t.Fatalf("completed: %+v %+v", res.Identity, res.Case)
		}
		if _, err := e.ip.Complete(ctx, c.ID, e.op, proofing.Issue{App: true}); !errors.Is(err, proofing.ErrWrongState) {
			t.Fatalf("completing twice: %v", err)
		}
		if got := e.auditActions(t, res.Identity.UUID); got["identity.created"] != 1 || got["enrolment.completed"] != 1 || got["app.activation_code_issued"] != 1 {
			t.Fatalf("audit of the identity: %v", got)
		}

		// A witness who rejects refuses the case.
		other := e.person(t, "Anden", "Person", time.Date(1991, 1, 1, 0, 0, 0, 0, time.UTC))
		c2, err := e.ip.Open(ctx, e.op, other.CPR, validDoc)
		if err != nil {
			t.Fatal(err)
		}
		a, err = e.ip.AskWitness(ctx, c2.ID, e.op, "vera-vidne")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.answer(t, witness, a.ID, a.BindingCode, approval.Reject); err != nil {
			t.Fatal(err)
		}
		if c2, _ = e.ip.Case(ctx, c2.ID); c2.State != proofing.Refused || c2.Reason != "witness_rejected" {
			t.Fatalf("after rejection: %+v", c2)
		}
		if _, err := e.ip.Complete(ctx, c2.ID, e.op, proofing.Issue{App: true}); !errors.Is(err, proofing.ErrWrongState) {
			t.Fatalf("completing a refused case: %v", err)
		}

		// A case that expires with the witness's request open cancels it.
		third := e.person(t, "Tredje", "Person", time.Date(1992, 1, 1, 0, 0, 0, 0, time.UTC))
		c3, err := e.ip.Open(ctx, e.op, third.CPR, validDoc)
		if err != nil {
			t.Fatal(err)
		}
		a, err = e.ip.AskWitness(ctx, c3.ID, e.op, "vera-vidne")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(proofing.InPersonTTL)
		if _, err := e.svc.ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
		if c3, _ = e.ip.Case(ctx, c3.ID); c3.State != proofing.Expired {
			t.Fatalf("after expiry: %+v", c3)
		}
		if got, _ := e.approvals.Get(ctx, a.ID); got.State.Open() {
			t.Fatalf("the witness's request is still open: %+v", got)
		}
		if rep, err := e.DB.VerifyAudit(ctx, e.Sealer); err != nil || !rep.OK() {
			t.Fatalf("audit chain: %+v, %v", rep, err)
		}
	})
}

func TestInPersonQuestions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newInPerson(t, se)
		ctx := context.Background()
		if _, err := e.codes.Import(ctx, []otp.Token{{Serial: "CD9000001", Kind: otp.KindTOTP, Digits: 6, Period: 30 * time.Second,
			Secret: []byte("12345678901234567890"), Model: "Code display"}}, authenticator.CodeDisplay, "admin"); err != nil {
			t.Fatal(err)
		}
		p := e.person(t, "Karl Johan", "Berg", time.Date(1985, 12, 1, 0, 0, 0, 0, time.UTC))
		c, err := e.ip.Open(ctx, e.op, p.CPR, validDoc)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := e.ip.Questions(ctx, c)
		if err != nil || len(qs) < proofing.MinQuestions {
			t.Fatalf("questions: %+v, %v", qs, err)
		}
		want := map[string]string{"birthdate": "1 December 1985", "cpr_last4": p.CPR.Digits()[6:], "given_names": "Karl Johan"}
		for _, q := range qs {
			if w, ok := want[q.ID]; ok && q.Expected != w {
				t.Errorf("question %s expects %q, want %q", q.ID, q.Expected, w)
			}
			if q.Text("da") == "" || q.Text("en") == "" {
				t.Errorf("question %s has no text", q.ID)
			}
		}
		all := map[string]bool{}
		for _, q := range qs {
			all[q.ID] = true
		}
		partial := map[string]bool{qs[0].ID: true}
		if _, err := e.ip.RecordAnswers(ctx, c.ID, e.op, partial); !errors.Is(err, proofing.ErrIncompleteAnswers) {
			t.Fatalf("incomplete answers: %v", err)
		}
		got, err := e.ip.RecordAnswers(ctx, c.ID, e.op, all)
		if err != nil || got.State != proofing.Ready || got.Verification != proofing.VerifiedByQuestions {
			t.Fatalf("all right: %+v, %v", got, err)
		}
		res, err := e.ip.Complete(ctx, c.ID, e.op, proofing.Issue{UserID: "karl-berg", Password: "a long enough passphrase 42", Serial: "CD9000001"})
		if err != nil {
			t.Fatal(err)
		}
		if res.ActivationCode != "" || res.CodeDisplay == nil || res.CodeDisplay.Serial != "CD9000001" || res.CodeDisplay.Level != nsis.High ||
			res.Identity.PasswordHash == "" {
			t.Fatalf("with a code display: %+v %+v", res.CodeDisplay, res.Identity)
		}

		// One wrong answer refuses.
		q := e.person(t, "Eva Maria", "Skov", time.Date(1979, 4, 4, 0, 0, 0, 0, time.UTC))
		c2, err := e.ip.Open(ctx, e.op, q.CPR, validDoc)
		if err != nil {
			t.Fatal(err)
		}
		qs, _ = e.ip.Questions(ctx, c2)
		answers := map[string]bool{}
		for i, x := range qs {
			answers[x.ID] = i != 1
		}
		got, err = e.ip.RecordAnswers(ctx, c2.ID, e.op, answers)
		if err != nil || got.State != proofing.Refused || got.Reason != "questions_failed" {
			t.Fatalf("one wrong: %+v, %v", got, err)
		}
		if evs, _ := e.DB.FindAuditEvents(ctx, "enrolment.questions_failed", "", 10); len(evs) != 1 {
			t.Fatalf("failure audited: %d", len(evs))
		}
	})
}

// TestInPersonTwoCases: two caseworkers enrol the same person at once; the
// second completion is refused and ends its case, leaving one identity.
func TestInPersonTwoCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newInPerson(t, se)
		ctx := context.Background()
		p := e.person(t, "Dobbelt Maria", "Sag", time.Date(1982, 2, 2, 0, 0, 0, 0, time.UTC))
		if f, err := e.ip.LookUp(ctx, e.op, p.CPR); err != nil || f.Person.Name() != "Dobbelt Maria Sag" {
			t.Fatalf("look-up: %+v, %v", f, err)
		}
		unknown, _ := cpr.NewSynthetic(cpr.DemoSeed+2, t0).NewCPR(time.Date(1950, 5, 5, 0, 0, 0, 0, time.UTC), cpr.Male)
		if _, err := e.ip.LookUp(ctx, e.op, unknown); !errors.Is(err, proofing.RefusePersonNotFound) {
			t.Fatalf("look-up of an unknown number: %v", err)
		}
		evs, err := e.DB.FindAuditEvents(ctx, "enrolment.person_looked_up", "", 10)
		if err != nil || len(evs) != 2 || evs[0].Actor != "operator:"+e.op || evs[0].Details["cpr"] == "" {
			t.Fatalf("look-ups audited: %+v, %v", evs, err)
		}
		var ids []string
		for range 2 {
			c, err := e.ip.Open(ctx, e.op, p.CPR, validDoc)
			if err != nil {
				t.Fatal(err)
			}
			qs, _ := e.ip.Questions(ctx, c)
			all := map[string]bool{}
			for _, q := range qs {
				all[q.ID] = true
			}
			if _, err := e.ip.RecordAnswers(ctx, c.ID, e.op, all); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		if _, err := e.ip.Complete(ctx, ids[0], e.op, proofing.Issue{App: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ip.Complete(ctx, ids[1], e.op, proofing.Issue{App: true}); !errors.Is(err, proofing.RefuseAlreadyEnrolled) {
			t.Fatalf("the second completion: %v", err)
		}
		if c, _ := e.ip.Case(ctx, ids[1]); c.State != proofing.Refused || c.Reason != "already_enrolled" {
			t.Fatalf("the second case: %+v", c)
		}
	})
}
