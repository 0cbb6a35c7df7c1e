package console

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/operator"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/qr"
	"github.com/openmitid/openmitid/internal/web"
	"github.com/openmitid/openmitid/internal/web/i18n"
)

// page is what a template renders.
type page struct {
	L        i18n.Lang
	Name     string // the template
	Title    string
	CSRF     string
	Operator string // the operator's identity UUID
	Role     string
	Error    string
	Lead     string
	Onward   string // the continue page's target

	DocKinds    []proofing.DocumentKind
	Cases       []*proofing.Case
	ReviewCount int

	// A person found, a case.
	CPR       string
	Found     *proofing.Found
	Case      *proofing.Case
	Person    cpr.Person
	Questions []proofing.Question
	Witness   *approval.Approval
	Refresh   int // seconds until the page reloads itself (waiting for the witness)
	Form      map[string]string

	// Completed.
	UserID         string
	ActivationCode string
	QR             template.HTML
	Serial         string

	// Reviews.
	Reviews  []*proofing.Case
	Portrait string // "image/jpeg", "image/jp2", …
	Selfie   string
}

func (pg *page) T(key string, args ...any) string { return tr(pg.L, key, args...) }

func (c *Console) newPage(s *session, name, title string) *page {
	return &page{L: s.lang, Name: name, Title: title, CSRF: c.csrfToken(s.cookie), Operator: s.name, Role: string(s.op.Role)}
}

// render writes the page into a buffer first, so a template error is a
// clean 500, never half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	var buf bytes.Buffer
	if err := c.tmpl.ExecuteTemplate(&buf, "layout", pg); err != nil {
		c.cfg.Log.Error("console: rendering", "page", pg.Name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", CSP)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// message renders a page that only says something (key.title, key.body).
func (c *Console) message(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, key string) {
	c.render(w, r, status, &page{L: lang, Name: "message", Title: tr(lang, "console."+key+".title"), Lead: tr(lang, "console."+key+".body")})
}

// fail answers an error that is not the operator's: 503 while the database
// is away, else 500, logged.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, lang i18n.Lang, err error) {
	if web.IsUnavailable(err) || errors.Is(err, proofing.FailRegisterUnavailable) {
		w.Header().Set("Retry-After", "2")
		c.message(w, r, lang, http.StatusServiceUnavailable, "unavailable")
		return
	}
	c.cfg.Log.Error("console", "path", r.URL.Path, "err", err)
	c.message(w, r, lang, http.StatusInternalServerError, "internal")
}

// refusalText is the caseworker's sentence for an error of the domain, or "".
func refusalText(lang i18n.Lang, err error) string {
	// The refusals' own messages speak to the person; the caseworker reads these.
	for _, k := range []struct {
		r   *proofing.Refusal
		key string
	}{
		{proofing.RefuseDocumentExpired, "console.refuse.expired"},
		{proofing.RefuseAlreadyEnrolled, "console.refuse.enrolled"},
		{proofing.RefuseTooYoung, "console.refuse.too_young"},
		{proofing.RefusePersonNotFound, "console.refuse.not_found"},
	} {
		if errors.Is(err, k.r) {
			return tr(lang, k.key)
		}
	}
	if rf := proofing.RefusalOf(err); rf != nil && !rf.Failure() {
		return rf.Message(string(lang))
	}
	var we *proofing.WitnessError
	if errors.As(err, &we) {
		return we.Message(string(lang))
	}
	for _, k := range []struct {
		err error
		key string
	}{
		{proofing.ErrBadDocument, "console.err.document"},
		{proofing.ErrWitnessPending, "console.err.witness_pending"},
		{proofing.ErrIncompleteAnswers, "console.err.incomplete"},
		{proofing.ErrNothingToIssue, "console.err.nothing"},
		{proofing.ErrWrongState, "console.err.state"},
		{identity.ErrUserIDTaken, "console.err.user_id_taken"},
		{identity.ErrUserIDLength, "console.err.user_id"},
		{identity.ErrUserIDCharacters, "console.err.user_id"},
		{identity.ErrUserIDIsCPR, "console.err.user_id"},
		{codedisplay.ErrUnknownSerial, "console.err.serial"},
		{codedisplay.ErrAssigned, "console.err.serial_assigned"},
		{approval.ErrTooMany, "console.err.witness_busy"},
	} {
		if errors.Is(err, k.err) {
			return tr(lang, k.key)
		}
	}
	if strings.HasPrefix(err.Error(), "password:") {
		return tr(lang, "console.err.password") + " " + err.Error()
	}
	return ""
}

func (c *Console) unavailable(w http.ResponseWriter, r *http.Request) bool {
	if c.cfg.InPerson == nil {
		c.message(w, r, sessionOf(r).lang, http.StatusServiceUnavailable, "no_register")
		return true
	}
	return false
}

// findPerson is POST /operator/person: the person with the CPR number, and
// the document form. The number travels in the form, never in a URL.
func (c *Console) findPerson(w http.ResponseWriter, r *http.Request) {
	if c.unavailable(w, r) {
		return
	}
	s := sessionOf(r)
	pg := c.newPage(s, "person", tr(s.lang, "console.person.title"))
	pg.DocKinds, pg.CPR = proofing.DocumentKinds, strings.TrimSpace(r.PostForm.Get("cpr"))
	n, err := cpr.Parse(strings.ReplaceAll(pg.CPR, "-", ""))
	if err != nil {
		pg.Name, pg.Title, pg.Error = "home", tr(s.lang, "console.home.title"), tr(s.lang, "console.err.cpr")
		c.render(w, r, http.StatusBadRequest, pg)
		return
	}
	f, err := c.cfg.InPerson.LookUp(r.Context(), s.op.Identity, n)
	if msg := errText(s.lang, err); msg != "" {
		pg.Name, pg.Title, pg.Error = "home", tr(s.lang, "console.home.title"), msg
		c.render(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	pg.Found, pg.CPR = f, n.String()
	c.render(w, r, http.StatusOK, pg)
}

func errText(lang i18n.Lang, err error) string {
	if err == nil {
		return ""
	}
	return refusalText(lang, err)
}

// openCase is POST /operator/cases: the document inspected; a case, or the
// refusal on the person's page.
func (c *Console) openCase(w http.ResponseWriter, r *http.Request) {
	if c.unavailable(w, r) {
		return
	}
	s := sessionOf(r)
	f := r.PostForm
	n, err := cpr.Parse(strings.ReplaceAll(strings.TrimSpace(f.Get("cpr")), "-", ""))
	if err != nil {
		c.message(w, r, s.lang, http.StatusBadRequest, "bad_request")
		return
	}
	doc := proofing.InspectedDocument{Kind: proofing.DocumentKind(f.Get("document_kind")), Number: f.Get("document_number")}
	if f.Get("document_expiry") != "" {
		doc.Expiry, _ = time.Parse(time.DateOnly, f.Get("document_expiry"))
	}
	cs, err := c.cfg.InPerson.Open(r.Context(), s.op.Identity, n, doc)
	if msg := errText(s.lang, err); msg != "" {
		pg := c.newPage(s, "person", tr(s.lang, "console.person.title"))
		pg.DocKinds, pg.CPR, pg.Error = proofing.DocumentKinds, n.String(), msg
		pg.Form = map[string]string{"document_kind": f.Get("document_kind"), "document_number": f.Get("document_number"),
			"document_expiry": f.Get("document_expiry")}
		if found, ferr := c.cfg.InPerson.FindPerson(r.Context(), n); ferr == nil {
			pg.Found = found
		}
		c.render(w, r, http.StatusUnprocessableEntity, pg)
		return
	}
	if err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	http.Redirect(w, r, "/operator/cases/"+cs.ID, http.StatusSeeOther)
}

// loadCase returns the session operator's in-person case; any other is not found.
func (c *Console) loadCase(w http.ResponseWriter, r *http.Request) *proofing.Case {
	if c.unavailable(w, r) {
		return nil
	}
	s := sessionOf(r)
	cs, err := c.cfg.InPerson.Case(r.Context(), r.PathValue("id"))
	// A caseworker sees their own cases; a supervisor sees everyone's.
	if errors.Is(err, proofing.ErrCaseNotFound) || errors.Is(err, proofing.ErrNotInPerson) ||
		err == nil && cs.Operator != s.op.Identity && s.op.Role != operator.Supervisor {
		c.message(w, r, s.lang, http.StatusNotFound, "not_found")
		return nil
	}
	if err != nil {
		c.fail(w, r, s.lang, err)
		return nil
	}
	return cs
}

// casePage renders the case in its state.
func (c *Console) casePage(w http.ResponseWriter, r *http.Request, cs *proofing.Case, status int, errMsg string) {
	s := sessionOf(r)
	ctx := r.Context()
	if cs.WitnessApproval != "" && cs.State == proofing.Checking {
		a, err := c.cfg.InPerson.Witness(ctx, cs)
		if err != nil {
			c.fail(w, r, s.lang, err)
			return
		}
		// Settling a lapsed request changes the case: read it again.
		if cs, err = c.cfg.InPerson.Case(ctx, cs.ID); err != nil {
			c.fail(w, r, s.lang, err)
			return
		}
		if a != nil && a.State.Open() {
			pg := c.newPage(s, "case", tr(s.lang, "console.case.title"))
			pg.Case, pg.Witness, pg.Refresh = cs, a, 2
			if pg.Person, err = c.cfg.InPerson.Person(ctx, cs); err != nil {
				c.fail(w, r, s.lang, err)
				return
			}
			c.render(w, r, status, pg)
			return
		}
	}
	if !cs.State.Final() && !c.cfg.Now().Before(cs.ExpiresAt) && c.cfg.Proofing != nil {
		c.cfg.Proofing.ExpireDue(ctx)
		cs, _ = c.cfg.InPerson.Case(ctx, cs.ID)
	}
	pg := c.newPage(s, "case", tr(s.lang, "console.case.title"))
	pg.Case, pg.Error = cs, errMsg
	if n := len(cs.Checks); errMsg == "" && cs.State == proofing.Checking && n > 0 && cs.Checks[n-1].Name == proofing.CheckWitnessLapsed {
		pg.Error = tr(s.lang, "console.err.witness_lapsed")
	}
	var err error
	if pg.Person, err = c.cfg.InPerson.Person(ctx, cs); err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	if cs.State == proofing.Checking {
		if pg.Questions, err = c.cfg.InPerson.Questions(ctx, cs); err != nil {
			c.fail(w, r, s.lang, err)
			return
		}
	}
	if cs.State.Final() && cs.State != proofing.Completed {
		pg.Lead = refusalMessage(s.lang, cs.Reason)
	}
	c.render(w, r, status, pg)
}

// refusalMessage is the sentence for a case's refusal code.
func refusalMessage(lang i18n.Lang, code string) string {
	for _, rf := range []*proofing.Refusal{proofing.RefuseQuestionsFailed, proofing.RefuseWitnessRejected,
		proofing.RefuseAlreadyEnrolled, proofing.RefuseExpired, proofing.RefuseFaceRejected} {
		if rf.Code() == code {
			return rf.Message(string(lang))
		}
	}
	return code
}

func (c *Console) showCase(w http.ResponseWriter, r *http.Request) {
	if cs := c.loadCase(w, r); cs != nil {
		c.casePage(w, r, cs, http.StatusOK, "")
	}
}

// answers is POST …/answers: one radio per question, right or wrong.
func (c *Console) answers(w http.ResponseWriter, r *http.Request) {
	cs := c.loadCase(w, r)
	if cs == nil {
		return
	}
	s := sessionOf(r)
	right := map[string]bool{}
	for k, v := range r.PostForm {
		if id, ok := strings.CutPrefix(k, "q_"); ok && len(v) == 1 && (v[0] == "right" || v[0] == "wrong") {
			right[id] = v[0] == "right"
		}
	}
	_, err := c.cfg.InPerson.RecordAnswers(r.Context(), cs.ID, s.op.Identity, right)
	if msg := errText(s.lang, err); msg != "" {
		c.casePage(w, r, cs, http.StatusUnprocessableEntity, msg)
		return
	}
	if err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	http.Redirect(w, r, "/operator/cases/"+cs.ID, http.StatusSeeOther)
}

// witness is POST …/witness: ask the witness with this user ID.
func (c *Console) witness(w http.ResponseWriter, r *http.Request) {
	cs := c.loadCase(w, r)
	if cs == nil {
		return
	}
	s := sessionOf(r)
	_, err := c.cfg.InPerson.AskWitness(r.Context(), cs.ID, s.op.Identity, r.PostForm.Get("witness_user_id"))
	if msg := errText(s.lang, err); msg != "" {
		c.casePage(w, r, cs, http.StatusUnprocessableEntity, msg)
		return
	}
	if err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	http.Redirect(w, r, "/operator/cases/"+cs.ID, http.StatusSeeOther)
}

// complete is POST …/complete: the identity, and the activation code shown
// once, on this answer only (as text and QR code).
func (c *Console) complete(w http.ResponseWriter, r *http.Request) {
	cs := c.loadCase(w, r)
	if cs == nil {
		return
	}
	s := sessionOf(r)
	f := r.PostForm
	res, err := c.cfg.InPerson.Complete(r.Context(), cs.ID, s.op.Identity, proofing.Issue{UserID: f.Get("user_id"),
		Password: f.Get("password"), App: f.Get("issue_app") == "on", Serial: f.Get("serial")})
	if msg := errText(s.lang, err); msg != "" {
		cur, _ := c.cfg.InPerson.Case(r.Context(), cs.ID)
		if cur == nil {
			cur = cs
		}
		c.casePage(w, r, cur, http.StatusUnprocessableEntity, msg)
		return
	}
	if err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	pg := c.newPage(s, "issued", tr(s.lang, "console.issued.title"))
	pg.Case, pg.UserID, pg.ActivationCode = res.Case, res.Identity.UserID, res.ActivationCode
	if res.CodeDisplay != nil {
		pg.Serial = res.CodeDisplay.Serial
	}
	if res.ActivationCode != "" {
		code, err := qr.Encode([]byte(res.ActivationCode), qr.M)
		var buf bytes.Buffer
		if err == nil {
			err = code.SVG(&buf, qr.SVGOptions{Label: tr(s.lang, "console.issued.qr")})
		}
		if err != nil {
			c.fail(w, r, s.lang, err)
			return
		}
		// The encoder writes no scripts, styles or references (qr.SVG).
		pg.QR = template.HTML(buf.String())
	}
	c.render(w, r, http.StatusOK, pg)
}
