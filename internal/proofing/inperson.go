package proofing

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
)

// Enrolment in person (DESIGN.md, flow 5): a caseworker at a citizen
// service centre finds the person in the register by CPR number, records the
// identity document they inspected, and verifies the person by questions
// generated from the register's record or by a witness who approves a
// declaration in their own app; then the identity is made at IAL high and
// the person gets an app activation code and/or a code display.
//
//	checking → ready → completed      (verified: questions passed, or the witness approved)
//	         → refused                (questions failed, the witness rejected)
//	any state before completed → expired (InPersonTTL)
//
// Minors are not enrolled in person: under 13 nobody is, and 13 and 14 year
// olds enrol with the app and their guardian's consent ([RefuseMinorInPerson]),
// which this channel would otherwise have to duplicate at the desk.

// InPersonTTL is how long a caseworker has to finish an enrolment in person.
const InPersonTTL = time.Hour

// InPersonIAL is the level identities proofed in person get: a caseworker
// saw the person and their document, and the register or a witness
// confirmed who they are (DESIGN.md, "Assurance levels").
const InPersonIAL = nsis.High

// CheckWitnessLapsed is the check a witness's request that ended
// unanswered leaves in the case; the caseworker may ask again.
const CheckWitnessLapsed = "witness_lapsed"

// Verification methods of an enrolment in person.
const (
	VerifiedByQuestions = "questions"
	VerifiedByWitness   = "witness"
)

// DocumentKind is an identity document a caseworker may inspect.
type DocumentKind string

const (
	DocPassport       DocumentKind = "passport"
	DocDrivingLicence DocumentKind = "driving_licence"
	DocNationalID     DocumentKind = "national_id"
)

// DocumentKinds are the documents accepted in person.
var DocumentKinds = []DocumentKind{DocPassport, DocDrivingLicence, DocNationalID}

// InspectedDocument is what the caseworker records of the document they saw.
type InspectedDocument struct {
	Kind   DocumentKind
	Number string
	Expiry time.Time // the date of expiry (any time of that day)
}

var docNumber = regexp.MustCompile(`^[A-Z0-9]{5,20}$`)

// Errors of enrolment in person that do not end a case.
var (
	// ErrBadDocument: the document's kind, number or expiry is missing or malformed.
	ErrBadDocument = errors.New("proofing: the document's kind, number (5 to 20 letters and digits) or expiry is missing or malformed")
	// ErrNotInPerson: the case is not an enrolment in person.
	ErrNotInPerson = errors.New("proofing: the case is not an enrolment in person")
	// ErrWitnessPending: the witness has an open request.
	ErrWitnessPending = errors.New("proofing: the witness has been asked and has not answered yet")
	// ErrIncompleteAnswers: not every question has a recorded answer.
	ErrIncompleteAnswers = errors.New("proofing: record an answer to every question")
	// ErrNothingToIssue: neither an app activation code nor a code display was asked for.
	ErrNothingToIssue = errors.New("proofing: issue an app activation code, a code display, or both")
)

// WitnessError is why a witness cannot vouch; the case goes on, and the
// caseworker may ask someone else.
type WitnessError struct{ Reason, en, da string }

func (e *WitnessError) Error() string { return "proofing: the witness cannot vouch: " + e.Reason }

// Message returns the sentence for the caseworker in lang ("da" or other: English).
func (e *WitnessError) Message(lang string) string {
	if lang == "da" {
		return e.da
	}
	return e.en
}

var (
	ErrWitnessUnknown = &WitnessError{"unknown", "No active MitID has this user ID.",
		"Intet aktivt MitID har dette bruger-id."}
	ErrWitnessNotAdult = &WitnessError{"not_adult", "A witness must be at least 18 years old.",
		"Et vidne skal være mindst 18 år."}
	ErrWitnessNoApp = &WitnessError{"no_app", "The witness has no MitID app that can approve now.",
		"Vidnet har ingen MitID app, der kan godkende nu."}
	ErrWitnessIsOperator = &WitnessError{"operator", "The caseworker cannot be the witness.",
		"Sagsbehandleren kan ikke være vidne."}
)

// Refusals of enrolment in person.
var (
	RefuseMinorInPerson = &Refusal{code: "minor_in_person",
		en: "People under 15 get MitID with the app and a parent's consent, not in person.",
		da: "Personer under 15 år får MitID med appen og en forælders samtykke, ikke personligt."}
	RefuseQuestionsFailed = &Refusal{code: "questions_failed",
		en: "Not every question about the register's record was answered correctly.",
		da: "Ikke alle spørgsmål om oplysningerne i CPR blev besvaret korrekt."}
	RefuseWitnessRejected = &Refusal{code: "witness_rejected",
		en: "The witness did not approve the declaration.",
		da: "Vidnet godkendte ikke erklæringen."}
)

// InPersonStore is what enrolment in person needs of internal/store beyond [Store].
type InPersonStore interface {
	Store
	// EnrolmentCaseByWitnessApproval returns the case whose witness request
	// is approvalID; ErrCaseNotFound if none.
	EnrolmentCaseByWitnessApproval(ctx context.Context, approvalID string) (*Case, error)
	// EnrolmentCasesOfOperator returns the operator's in-person cases, newest first.
	EnrolmentCasesOfOperator(ctx context.Context, operator string, limit int) ([]*Case, error)
}

// PeopleDirectory is what enrolment in person needs of internal/identity
// beyond [Identities]: the witness is named by user ID.
type PeopleDirectory interface {
	ByUserID(ctx context.Context, userID string) (*identity.Identity, error)
}

// ActivationCodes issues app activation codes (internal/authenticator/app).
type ActivationCodes interface {
	NewActivationCode(ctx context.Context, identityUUID string, level nsis.Level, actor string) (string, error)
}

// CodeDisplays hands a code display in stock to an identity
// (internal/authenticator/codedisplay).
type CodeDisplays interface {
	Assign(ctx context.Context, serial, identityUUID string, level nsis.Level, actor string) (*authenticator.Authenticator, error)
}

// InPerson runs enrolments in person, for the operator console.
type InPerson struct {
	s      *Service
	store  InPersonStore
	people PeopleDirectory
	apps   ActivationCodes
	codes  CodeDisplays
}

// NewInPerson returns the in-person channel of s. Register it as the
// approval service's resolver of witness requests:
// approvals.Handle(approval.KindWitness, ip).
func NewInPerson(s *Service, st InPersonStore, people PeopleDirectory, apps ActivationCodes, codes CodeDisplays) (*InPerson, error) {
	if s == nil || st == nil || people == nil || apps == nil || codes == nil {
		return nil, errors.New("proofing: NewInPerson needs the service, a store, the identities, activation codes and code displays")
	}
	return &InPerson{s: s, store: st, people: people, apps: apps, codes: codes}, nil
}

// Found is a person looked up by a caseworker.
type Found struct {
	Person   cpr.Person
	Age      int
	Rule     AgeRule
	Enrolled bool // the person has an identity that is not revoked
}

// FindPerson looks the person up in the register: [RefusePersonNotFound]
// for a number it does not know.
func (ip *InPerson) FindPerson(ctx context.Context, n cpr.Number) (*Found, error) {
	if n.IsZero() {
		return nil, refuse(RefusePersonNotFound, "no CPR number")
	}
	p, err := ip.s.register.Person(ctx, n)
	if errors.Is(err, cpr.ErrNotFound) {
		return nil, refuse(RefusePersonNotFound, "CPR %s is not in the register", n.Masked())
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", FailRegisterUnavailable, err)
	}
	f := &Found{Person: p}
	f.Rule, f.Age = AgeRuleFor(p.Birthdate, ip.s.now())
	_, err = ip.s.identities.ByCPR(ctx, n)
	switch {
	case err == nil:
		f.Enrolled = true
	case !errors.Is(err, identity.ErrNotFound):
		return nil, err
	}
	return f, nil
}

// LookUp is [InPerson.FindPerson] for a caseworker: the look-up itself is
// audited (enrolment.person_looked_up, with the masked number and whether
// the register knows it), since a register of everyone is not for browsing.
func (ip *InPerson) LookUp(ctx context.Context, operator string, n cpr.Number) (*Found, error) {
	f, err := ip.FindPerson(ctx, n)
	if err != nil && RefusalOf(err) != RefusePersonNotFound {
		return nil, err
	}
	lerr := ip.store.InTx(ctx, func(ctx context.Context) error {
		return ip.s.log.Record(ctx, audit.Event{Actor: audit.ActorOperator(operator), Action: "enrolment.person_looked_up",
			Details: map[string]string{"cpr": n.Masked(), "found": fmt.Sprint(err == nil)}})
	})
	if lerr != nil {
		return nil, lerr
	}
	return f, err
}

// Open starts an enrolment in person by the operator (an identity's UUID)
// for the person with CPR number n, who showed doc. It refuses, making no
// case, an unknown person, a person under 15 ([RefuseTooYoung],
// [RefuseMinorInPerson]), a person who has an identity
// ([RefuseAlreadyEnrolled]) and an expired document ([RefuseDocumentExpired]);
// the refusal is audited. A malformed document is [ErrBadDocument].
func (ip *InPerson) Open(ctx context.Context, operator string, n cpr.Number, doc InspectedDocument) (*Case, error) {
	if operator == "" {
		return nil, errors.New("proofing: an enrolment in person needs its caseworker")
	}
	doc.Number = strings.ToUpper(strings.TrimSpace(doc.Number))
	known := false
	for _, k := range DocumentKinds {
		known = known || doc.Kind == k
	}
	if !known || !docNumber.MatchString(doc.Number) || doc.Expiry.IsZero() {
		return nil, ErrBadDocument
	}
	refused := func(err error) (*Case, error) {
		r := RefusalOf(err)
		if r == nil || r.Failure() {
			return nil, err
		}
		lerr := ip.store.InTx(ctx, func(ctx context.Context) error {
			return ip.s.log.Record(ctx, audit.Event{Actor: audit.ActorOperator(operator), Action: "enrolment.in_person_refused",
				Details: map[string]string{"reason": r.Code(), "cpr": n.Masked(), "document": string(doc.Kind)}})
		})
		if lerr != nil {
			return nil, lerr
		}
		return nil, err
	}
	f, err := ip.FindPerson(ctx, n)
	if err != nil {
		return refused(err)
	}
	switch f.Rule {
	case TooYoung:
		return refused(refuse(RefuseTooYoung, "%d years old", f.Age))
	case NeedsConsent:
		return refused(refuse(RefuseMinorInPerson, "%d years old", f.Age))
	}
	if f.Enrolled {
		return refused(refuse(RefuseAlreadyEnrolled, "the person has an identity"))
	}
	now := ip.s.now().UTC()
	y, m, d := doc.Expiry.Date()
	if time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Before(today(now)) {
		return refused(refuse(RefuseDocumentExpired, "the %s expired on %s", doc.Kind, doc.Expiry.Format(time.DateOnly)))
	}

	idb, err := ip.s.random(idBytes)
	if err != nil {
		return nil, err
	}
	tok, err := ip.s.random(tokenBytes) // no app holds it: the console opens the case by the operator's session
	if err != nil {
		return nil, err
	}
	c := &Case{ID: base64.RawURLEncoding.EncodeToString(idb), TokenHash: tokenHash(base64.RawURLEncoding.EncodeToString(tok)),
		Channel: ChannelInPerson, State: Checking, Operator: operator,
		Document:  Document{Type: string(doc.Kind), Number: doc.Number, Expiry: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)},
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(InPersonTTL)}
	c.CPRIndex, c.CPRMasked = ip.s.identities.CPRIndex(n), n.Masked()
	if c.CPRSealed, err = ip.s.keys.Seal([]byte(n.Digits()), cprContext(c.ID)); err != nil {
		return nil, err
	}
	c.check("register", true, "found in the register by the caseworker")
	c.check("age", true, fmt.Sprintf("%d years old", f.Age))
	c.check("no_identity", true, "the person has no identity")
	c.check("document", true, fmt.Sprintf("%s %s, valid until %s, inspected by caseworker %s", doc.Kind, doc.Number,
		c.Document.Expiry.Format(time.DateOnly), operator))
	err = ip.store.InTx(ctx, func(ctx context.Context) error {
		if err := ip.store.InsertEnrolmentCase(ctx, c); err != nil {
			return err
		}
		return ip.s.log.Record(ctx, audit.Event{Actor: audit.ActorOperator(operator), Action: "enrolment.started",
			Details: map[string]string{"case": c.ID, "channel": string(c.Channel), "cpr": c.CPRMasked,
				"document": string(doc.Kind)}})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Case returns an in-person case; [ErrNotInPerson] for another channel's.
func (ip *InPerson) Case(ctx context.Context, id string) (*Case, error) {
	c, err := ip.store.EnrolmentCase(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Channel != ChannelInPerson {
		return nil, ErrNotInPerson
	}
	return c, nil
}

// Cases returns the operator's in-person cases, newest first.
func (ip *InPerson) Cases(ctx context.Context, operator string, limit int) ([]*Case, error) {
	return ip.store.EnrolmentCasesOfOperator(ctx, operator, limit)
}

// Person returns the register's record of the case's person.
func (ip *InPerson) Person(ctx context.Context, c *Case) (cpr.Person, error) {
	n, err := ip.cprOf(c)
	if err != nil {
		return cpr.Person{}, err
	}
	p, err := ip.s.register.Person(ctx, n)
	if err != nil {
		return cpr.Person{}, fmt.Errorf("%w: %w", FailRegisterUnavailable, err)
	}
	return p, nil
}

func (ip *InPerson) cprOf(c *Case) (cpr.Number, error) {
	if c.CPRSealed == nil {
		return cpr.Number{}, fmt.Errorf("proofing: case %s has no CPR number", c.ID)
	}
	digits, err := ip.s.keys.Open(c.CPRSealed, cprContext(c.ID))
	if err != nil {
		return cpr.Number{}, err
	}
	return cpr.Parse(string(digits))
}

// Question is one question about the register's record, with the answer
// the caseworker compares what the person says with.
type Question struct {
	ID       string
	En, Da   string // the question, as the caseworker asks it
	Expected string
}

// Text returns the question in lang.
func (q Question) Text(lang string) string {
	if lang == "da" {
		return q.Da
	}
	return q.En
}

// MinQuestions is how many questions the record must give for the
// questions to prove anything; every question must be answered right.
const MinQuestions = 3

// Questions returns the questions for the case's person, from what the
// register records: the date of birth, the last four digits of the CPR
// number (which the person knows and the document does not show), all
// given names, the citizenship and the names of the parents with custody.
// Fewer than [MinQuestions] cannot pass: verify by a witness then.
func (ip *InPerson) Questions(ctx context.Context, c *Case) ([]Question, error) {
	n, err := ip.cprOf(c)
	if err != nil {
		return nil, err
	}
	p, err := ip.s.register.Person(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", FailRegisterUnavailable, err)
	}
	qs := []Question{
		{ID: "birthdate", En: "What is your date of birth?", Da: "Hvad er din fødselsdato?", Expected: p.Birthdate.Format("2 January 2006")},
		{ID: "cpr_last4", En: "What are the last four digits of your CPR number?", Da: "Hvad er de sidste fire cifre i dit CPR-nummer?",
			Expected: n.Digits()[6:]},
	}
	if strings.Contains(strings.TrimSpace(p.GivenName), " ") {
		qs = append(qs, Question{ID: "given_names", En: "What are all your given and middle names?",
			Da: "Hvad er alle dine fornavne og mellemnavne?", Expected: p.GivenName})
	}
	if p.Nationality != "" {
		qs = append(qs, Question{ID: "nationality", En: "What is your citizenship?", Da: "Hvilket statsborgerskab har du?",
			Expected: p.Nationality})
	}
	for i, g := range p.Guardians {
		gp, err := ip.s.register.Person(ctx, g)
		if err != nil {
			continue
		}
		qs = append(qs, Question{ID: fmt.Sprintf("guardian_%d", i+1), En: "What is the name of a parent who had custody of you?",
			Da: "Hvad hedder en forælder, der havde forældremyndigheden over dig?", Expected: gp.Name()})
	}
	return qs, nil
}

// RecordAnswers records which questions the person answered right. Every
// question of [InPerson.Questions] needs an answer ([ErrIncompleteAnswers]).
// The pass rule: at least [MinQuestions] questions, all answered right; then
// the case is ready. Otherwise it is refused ([RefuseQuestionsFailed]).
func (ip *InPerson) RecordAnswers(ctx context.Context, caseID, operator string, right map[string]bool) (*Case, error) {
	c, err := ip.Case(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if c.State != Checking {
		return nil, ErrWrongState
	}
	qs, err := ip.Questions(ctx, c)
	if err != nil {
		return nil, err
	}
	passed, wrong := len(qs) >= MinQuestions, []string{}
	for _, q := range qs {
		ok, answered := right[q.ID]
		if !answered {
			return nil, ErrIncompleteAnswers
		}
		if !ok {
			passed = false
			wrong = append(wrong, q.ID)
		}
	}
	var out *Case
	err = ip.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := ip.open(ctx, caseID)
		if err != nil {
			return err
		}
		if cur.WitnessApproval != "" {
			return ErrWitnessPending
		}
		cur.Verification = VerifiedByQuestions
		detail := fmt.Sprintf("%d questions, wrong: %s; recorded by caseworker %s", len(qs), strings.Join(wrong, ","), operator)
		ev := audit.Event{Actor: audit.ActorOperator(operator), Details: map[string]string{"questions": fmt.Sprint(len(qs)),
			"wrong": strings.Join(wrong, ",")}}
		out = cur
		if !passed {
			cur.check("questions", false, detail)
			ev.Action = "enrolment.questions_failed"
			return ip.s.end(ctx, cur, Refused, refuse(RefuseQuestionsFailed, "%s", detail), ev)
		}
		cur.check("questions", true, detail)
		cur.State, cur.ExpiresAt = Ready, ip.s.now().UTC().Add(InPersonTTL)
		ev.Action = "enrolment.questions_passed"
		return ip.s.update(ctx, cur, ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// open loads an in-person case in the transaction, checking it still waits
// for verification and has time left.
func (ip *InPerson) open(ctx context.Context, caseID string) (*Case, error) {
	c, err := ip.store.EnrolmentCase(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if c.Channel != ChannelInPerson {
		return nil, ErrNotInPerson
	}
	if c.State != Checking || !ip.s.now().Before(c.ExpiresAt) {
		return nil, ErrWrongState
	}
	return c, nil
}

// Declaration is what the witness approves, in Danish and English.
func Declaration(p cpr.Person) string {
	born := p.Birthdate.Format("02-01-2006")
	return fmt.Sprintf("Jeg erklærer, at jeg kender %s, født %s, og at det er denne person, der får MitID hos Borgerservice nu. / "+
		"I declare that I know %s, born %s, and that this is the person getting MitID at the citizen service centre now.",
		p.Name(), born, p.Name(), born)
}

// AskWitness asks the witness (by user ID) to approve, in their own app, the
// [Declaration] that they know the case's person. The witness must be an
// adult (18 or over, by their CPR number) with an active identity and an app
// that can approve now, and not the caseworker; otherwise a [*WitnessError]
// says why, and the caseworker may ask someone else. The request's binding
// code is for the caseworker to give the witness.
func (ip *InPerson) AskWitness(ctx context.Context, caseID, operator, witnessUserID string) (*approval.Approval, error) {
	c, err := ip.Case(ctx, caseID)
	if err != nil {
		return nil, err
	}
	person, err := ip.Person(ctx, c)
	if err != nil {
		return nil, err
	}
	w, err := ip.people.ByUserID(ctx, strings.TrimSpace(witnessUserID))
	if errors.Is(err, identity.ErrNotFound) || err == nil && w.State != identity.Active {
		return nil, ErrWitnessUnknown
	}
	if err != nil {
		return nil, err
	}
	if w.UUID == operator {
		return nil, ErrWitnessIsOperator
	}
	now := ip.s.now()
	if w.CPR.IsZero() || w.CPR.AgeOn(today(now)) < 18 {
		return nil, ErrWitnessNotAdult
	}
	auths, err := ip.s.store.AuthenticatorsOf(ctx, w.UUID)
	if err != nil {
		return nil, err
	}
	hasApp := false
	for _, a := range auths {
		hasApp = hasApp || a.Kind == authenticator.App && a.Usable(now)
	}
	if !hasApp {
		return nil, ErrWitnessNoApp
	}
	var out *approval.Approval
	err = ip.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := ip.open(ctx, caseID)
		if err != nil {
			return err
		}
		if cur.WitnessApproval != "" {
			if a, err := ip.s.approvals.Get(ctx, cur.WitnessApproval); err == nil && a.State.Open() && now.Before(a.ExpiresAt) {
				return ErrWitnessPending
			}
		}
		a, err := ip.s.approvals.Create(ctx, approval.New{Identity: w.UUID, RateKey: "witness:" + w.UUID,
			Kind: approval.KindWitness, ClientName: "MitID Borgerservice",
			ReferenceText: "Vidne til MitID / Witness to MitID: " + person.GivenName, ActionText: "CONFIRM",
			Title: Declaration(person)})
		if err != nil {
			return err
		}
		cur.WitnessIdentity, cur.WitnessApproval = w.UUID, a.ID
		out = a
		return ip.s.update(ctx, cur, audit.Event{Actor: audit.ActorOperator(operator), Action: "enrolment.witness_asked",
			Identity: w.UUID, Details: map[string]string{"approval": a.ID, "witness": w.UUID}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Witness returns the case's witness request, settling it first if its
// time ran out (whose resolver clears it from the case); nil if none.
func (ip *InPerson) Witness(ctx context.Context, c *Case) (*approval.Approval, error) {
	if c.WitnessApproval == "" {
		return nil, nil
	}
	if _, err := ip.s.approvals.ExpireIfDue(ctx, c.WitnessApproval); err != nil && !errors.Is(err, approval.ErrConflict) {
		return nil, err
	}
	a, err := ip.s.approvals.Get(ctx, c.WitnessApproval)
	if errors.Is(err, approval.ErrNotFound) {
		return nil, nil
	}
	return a, err
}

// Resolved implements [approval.Resolver] for witness requests: inside the
// transaction that settles the request, the witness's approval makes the
// case ready (audited as enrolment.witness_approved with the approval's
// id), a rejection or "I did not start this" refuses it, and a request that
// lapsed leaves the case waiting for another witness.
func (ip *InPerson) Resolved(ctx context.Context, a *approval.Approval) error {
	if a.Kind != approval.KindWitness {
		return nil
	}
	c, err := ip.store.EnrolmentCaseByWitnessApproval(ctx, a.ID)
	if errors.Is(err, ErrCaseNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.State != Checking || c.WitnessApproval != a.ID {
		return nil
	}
	ev := audit.Event{Actor: audit.ActorIdentity(a.Identity), Identity: a.Identity,
		Details: map[string]string{"approval": a.ID, "answer": string(a.State), "witness": a.Identity}}
	switch a.State {
	case approval.StateApproved:
		if a.Identity != c.WitnessIdentity {
			return fmt.Errorf("proofing: witness request %s answered by identity %s, not the witness asked", a.ID, a.Identity)
		}
		c.Verification = VerifiedByWitness
		c.check("witness", true, fmt.Sprintf("declaration approved by identity %s in approval %s", a.Identity, a.ID))
		c.State, c.ExpiresAt = Ready, ip.s.now().UTC().Add(InPersonTTL)
		ev.Action = "enrolment.witness_approved"
		return ip.s.update(ctx, c, ev)
	case approval.StateRejected, approval.StateFraud:
		c.Verification = VerifiedByWitness
		c.check("witness", false, fmt.Sprintf("%s by identity %s in approval %s", a.State, a.Identity, a.ID))
		ev.Action = "enrolment.witness_rejected"
		return ip.s.end(ctx, c, Refused, refuse(RefuseWitnessRejected, "the witness answered %s", a.State), ev)
	default:
		c.WitnessApproval = ""
		c.check(CheckWitnessLapsed, false, fmt.Sprintf("approval %s to identity %s ended %s", a.ID, a.Identity, a.State))
		ev.Actor, ev.Action = audit.ActorSystem, "enrolment.witness_lapsed"
		return ip.s.update(ctx, c, ev)
	}
}

var _ approval.Resolver = (*InPerson)(nil)

// Issue is what the person gets once verified.
type Issue struct {
	// UserID is the one the person chose; "" makes one ("mitid-" and 8
	// random letters and digits), which the person may change later.
	UserID string
	// Password is optional; the person types it themselves. A code display
	// needs one to log in with.
	Password string
	App      bool   // issue an app activation code
	Serial   string // hand over the code display with this serial
}

// InPersonResult is a completed enrolment in person.
type InPersonResult struct {
	Identity       *identity.Identity
	ActivationCode string // shown once; "" if none was asked for
	CodeDisplay    *authenticator.Authenticator
	Case           *Case
}

// Complete makes the identity of a verified case at [InPersonIAL], active,
// with the user ID (and password) of in, and issues an app activation code
// and/or assigns the code display. The identity, the authenticators, the
// case's decision and their audit events are one transaction: a user ID that
// is taken, a password the policy refuses, or a serial unknown or handed out
// already leave nothing behind, and the caseworker may try again while the
// case is ready.
func (ip *InPerson) Complete(ctx context.Context, caseID, operator string, in Issue) (*InPersonResult, error) {
	if !in.App && strings.TrimSpace(in.Serial) == "" {
		return nil, ErrNothingToIssue
	}
	c, err := ip.Case(ctx, caseID)
	if err != nil {
		return nil, err
	}
	if c.State != Ready || !ip.s.now().Before(c.ExpiresAt) {
		return nil, ErrWrongState
	}
	n, err := ip.cprOf(c)
	if err != nil {
		return nil, err
	}
	userID := strings.TrimSpace(in.UserID)
	if userID == "" {
		if userID, err = ip.newUserID(); err != nil {
			return nil, err
		}
	}
	draft, err := ip.s.identities.Prepare(identity.New{UserID: userID, Password: in.Password, CPR: n, IAL: InPersonIAL,
		State: identity.Active})
	if err != nil {
		return nil, err
	}
	actor := audit.ActorOperator(operator)
	var out *InPersonResult
	err = ip.store.InTx(ctx, func(ctx context.Context) error {
		out = nil
		cur, err := ip.store.EnrolmentCase(ctx, caseID)
		if err != nil {
			return err
		}
		if cur.State != Ready {
			return ErrWrongState
		}
		if err := ip.s.identities.Insert(ctx, draft, actor); err != nil {
			return err
		}
		res := &InPersonResult{Identity: draft, Case: cur}
		var issued []string
		if in.App {
			if res.ActivationCode, err = ip.apps.NewActivationCode(ctx, draft.UUID, InPersonIAL, actor); err != nil {
				return err
			}
			issued = append(issued, "app_activation_code")
		}
		if s := strings.TrimSpace(in.Serial); s != "" {
			if res.CodeDisplay, err = ip.codes.Assign(ctx, s, draft.UUID, InPersonIAL, actor); err != nil {
				return err
			}
			issued = append(issued, "code_display "+s)
		}
		cur.IdentityUUID, cur.State, cur.Operator = draft.UUID, Completed, operator
		cur.check("identity", true, fmt.Sprintf("identity %s at IAL %s; issued %s", draft.UUID, InPersonIAL, strings.Join(issued, ", ")))
		if err := ip.s.update(ctx, cur, audit.Event{Actor: actor, Action: "enrolment.completed", Identity: draft.UUID,
			Details: map[string]string{"ial": InPersonIAL.String(), "channel": string(ChannelInPerson),
				"verification": cur.Verification, "issued": strings.Join(issued, ", ")}}); err != nil {
			return err
		}
		out = res
		return nil
	})
	if errors.Is(err, identity.ErrAlreadyEnrolled) {
		return nil, ip.s.refuseEnrolledMeanwhile(ctx, caseID, actor)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newUserID makes a user ID for a person who did not choose one.
func (ip *InPerson) newUserID() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789" // 32 letters and digits, none alike
	b, err := ip.s.random(8)
	if err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "mitid-" + string(b), nil
}
