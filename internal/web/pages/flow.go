package pages

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/web"
	"github.com/openmitid/openmitid/internal/web/i18n"
)

// maxForm bounds a form's body: the largest field is a chip's answer (the
// engine refuses one above 64 KiB).
const maxForm = 80 << 10

// validFlowID reports whether s can be a flow's id (base64url, as the engine
// makes them), so that anything else is "not found" without a query.
func validFlowID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// flowToken is the flow's token from its cookie: the pages are for browsers,
// which present the cookie the flow was started with.
func flowToken(r *http.Request, flowID string) string {
	if c, err := r.Cookie(web.FlowCookie(flowID)); err == nil {
		return c.Value
	}
	return ""
}

// load opens the flow the request names with its cookie.
func (p *Pages) load(r *http.Request) (*authn.Flow, string, error) {
	id := r.PathValue("flow")
	token := flowToken(r, id)
	if !validFlowID(id) || token == "" {
		return nil, "", authn.ErrFlowNotFound
	}
	f, err := p.engine.Load(r.Context(), id, token)
	return f, token, err
}

// show is GET /login/{flow}: the page for the flow's state.
func (p *Pages) show(w http.ResponseWriter, r *http.Request) {
	lang := p.language(w, r)
	f, token, err := p.load(r)
	if err != nil {
		p.fail(w, r, lang, err)
		return
	}
	p.renderFlow(w, r, lang, f, token, nil, "")
}

// methods is GET /login/{flow}/methods: the methods the flow offers, each a
// button that posts step=method.
func (p *Pages) methods(w http.ResponseWriter, r *http.Request) {
	lang := p.language(w, r)
	f, token, err := p.load(r)
	if err != nil {
		p.fail(w, r, lang, err)
		return
	}
	if f.State == authn.StateIdentify || f.State.Terminal() {
		http.Redirect(w, r, Path(f.ID), http.StatusSeeOther)
		return
	}
	pg := p.base(lang, f, token)
	pg.Template, pg.State, pg.Title = "methods", "methods", lang.T("methods.title")
	for _, m := range f.Methods {
		pg.Methods = append(pg.Methods, methodItem{ID: m, Name: lang.T("method." + string(m)),
			Desc: lang.T("method." + string(m) + ".desc"), Current: m == f.Method})
	}
	p.render(w, r, http.StatusOK, pg)
}

// submit is POST /login/{flow}: one step from a form. A step that works, or
// that no longer fits the flow (a second click, another tab), answers 303 to
// the flow's page; a step that fails shows the page again with the error.
func (p *Pages) submit(w http.ResponseWriter, r *http.Request) {
	lang := p.language(w, r)
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		p.message(w, r, lang, status, "bad_request", "forbidden", "")
		return
	}
	id := r.PathValue("flow")
	token := flowToken(r, id)
	if !validFlowID(id) || token == "" {
		p.fail(w, r, lang, authn.ErrFlowNotFound)
		return
	}
	if !p.validCSRF(id, token, r.PostForm.Get("csrf")) {
		p.message(w, r, lang, http.StatusForbidden, "forbidden", "forbidden", Path(id))
		return
	}
	form := r.PostForm
	step := form.Get("step")
	in := authn.StepInput{Step: step}
	switch step {
	case "identify":
		in.UserID, in.Method = form.Get("user_id"), form.Get("method")
	case "password":
		in.Password = form.Get("password")
	case "code":
		in.Code = form.Get("code")
	case "method":
		in.Method = form.Get("method")
	case "chip":
		if s := form.Get("webauthn"); s != "" && json.Valid([]byte(s)) {
			in.WebAuthn = json.RawMessage(s)
		}
	case "cancel":
	case "retry":
		p.retry(w, r, lang, id, token)
		return
	default:
		in.Step = "" // the engine's unknown_step, shown on the flow's page
	}
	f, err := p.engine.Step(r.Context(), id, token, in)
	if err == nil {
		http.Redirect(w, r, Path(id), http.StatusSeeOther)
		return
	}
	e, ok := authn.IsError(err)
	switch {
	case !ok:
		p.internal(w, r, lang, err)
	case e.Code == authn.ErrFlowNotFound.Code || f == nil:
		p.fail(w, r, lang, err)
	case e.Code == authn.ErrStepOutOfTurn.Code || e.Code == authn.ErrFlowChanged.Code ||
		e.Code == authn.ErrFlowFinished.Code || e.Code == authn.ErrFlowExpired.Code || f.State.Terminal():
		// The page in the browser is behind the flow: show the flow as it is.
		http.Redirect(w, r, Path(id), http.StatusSeeOther)
	default:
		if !e.RetryAfter.IsZero() {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(e.RetryAfter.Sub(p.now()).Seconds())))))
		}
		p.renderFlow(w, r, lang, f, token, e, in.UserID)
	}
}

// retryable are the failures after which starting again may work; after the
// others (a fraud report, a block, a level the person cannot reach) the way
// forward is back to the service provider or to support.
var retryable = map[string]bool{
	"flow_expired": true, "expired": true, "rejected": true, "binding_failed": true,
	"replaced": true, "cancelled": true, "chip_blocked": true, "app_not_usable_yet": true,
}

// retry starts a new flow like the failed one (same service provider, level,
// texts and waiting authorization request) for this browser, and forgets the
// old flow's cookie.
func (p *Pages) retry(w http.ResponseWriter, r *http.Request, lang i18n.Lang, id, token string) {
	f, err := p.engine.Load(r.Context(), id, token)
	if err != nil {
		p.fail(w, r, lang, err)
		return
	}
	if f.State != authn.StateFailed || !retryable[f.Error] {
		http.Redirect(w, r, Path(id), http.StatusSeeOther)
		return
	}
	nf, ntoken, err := p.engine.Start(r.Context(), authn.StartRequest{ClientID: f.ClientID, Level: f.Level.String(),
		ReferenceText: f.ReferenceText, ActionText: f.ActionText, AuthRequest: f.AuthRequest,
		OriginIP: web.ClientIPFrom(r.Context()), UserAgent: r.UserAgent()})
	if err != nil {
		p.fail(w, r, lang, err)
		return
	}
	web.ClearFlowCookie(w, id, p.secure)
	web.SetFlowCookie(w, nf.ID, ntoken, p.secure)
	http.Redirect(w, r, Path(nf.ID), http.StatusSeeOther)
}

// fail answers an error from loading or stepping a flow that has no page of
// its own to show it on.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, lang i18n.Lang, err error) {
	e, ok := authn.IsError(err)
	switch {
	case !ok:
		p.internal(w, r, lang, err)
	case e.Code == authn.ErrFlowNotFound.Code:
		// A wrong id, a missing or wrong cookie, a flow deleted long after it
		// ended: all look the same.
		p.message(w, r, lang, http.StatusNotFound, "not_found", "notfound", "")
	default:
		p.log.Warn("pages: a flow error without a page", "code", e.Code, "path", r.URL.Path)
		p.message(w, r, lang, e.Status, "error", "internal", "")
	}
}

// internal answers an unexpected error: 503 while the database is out of
// reach (the person may simply try again), 500 otherwise; the person sees no
// details, the log gets them.
func (p *Pages) internal(w http.ResponseWriter, r *http.Request, lang i18n.Lang, err error) {
	if errors.Is(err, context.Canceled) {
		return // the browser went away
	}
	p.log.Error("pages: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if web.IsUnavailable(err) {
		w.Header().Set("Retry-After", "2")
		p.message(w, r, lang, http.StatusServiceUnavailable, "unavailable", "unavailable", "")
		return
	}
	p.message(w, r, lang, http.StatusInternalServerError, "error", "internal", "")
}

// base is what every page of a flow has.
func (p *Pages) base(lang i18n.Lang, f *authn.Flow, token string) *page {
	return &page{L: lang, State: string(f.State), FlowID: f.ID, Action: Path(f.ID), MethodsURL: Path(f.ID) + "/methods",
		CSRF: p.csrfToken(f.ID, token), Client: f.ClientName}
}

// fieldOf says beside which form field a step error belongs; "" is the top of
// the page.
var fieldOf = map[string]string{
	"user_id_required":  "user_id",
	"password_required": "password", "password_too_long": "password", "wrong_password": "password", "password_locked": "password",
	"code_format": "code", "wrong_code": "code", "code_locked": "code",
}

// fieldIDs are the ids of the fields' inputs.
var fieldIDs = map[string]string{"user_id": "user-id", "password": "password", "code": "code"}

// renderFlow shows the page for the flow's state; se, when not nil, is the
// error of the step just posted, shown beside its field with focus on it.
func (p *Pages) renderFlow(w http.ResponseWriter, r *http.Request, lang i18n.Lang, f *authn.Flow, token string, se *authn.Error, typedUserID string) {
	v, err := p.engine.View(r.Context(), f)
	if err != nil {
		p.internal(w, r, lang, err)
		return
	}
	pg := p.base(lang, f, token)
	pg.View = v
	status := http.StatusOK
	var fields []string // the page's form fields, first to focus
	switch f.State {
	case authn.StateIdentify:
		pg.Template, pg.Title, fields = "identify", lang.T("identify.title"), []string{"user_id"}
		pg.UserID = typedUserID
	case authn.StatePassword:
		pg.Template, pg.Title, fields = "password", lang.T("password.title"), []string{"password"}
		pg.UserKey = f.UserKey
	case authn.StateCode:
		pg.Method = authn.MethodCodeDisplay
		if f.Method == authn.MethodAudioCodeReader {
			pg.Method = authn.MethodAudioCodeReader
		}
		pg.Template, pg.Title, fields = "code", lang.T("code.title."+string(pg.Method)), []string{"code"}
	case authn.StateWaitingForApp:
		pg.Template, pg.Title = "waiting", lang.T("waiting.title")
		pg.EventsURL = "/authn/v1/flows/" + f.ID + "/events"
		pg.QRSrc = Path(f.ID) + "/qr.svg"
	case authn.StateChip:
		pg.Template, pg.Title = "chip", lang.T("chip.title")
		pg.WebAuthn = string(v.WebAuthn)
	case authn.StateDone:
		pg.Template, pg.Title = "done", lang.T("done.title")
		pg.Onward = p.onward(r.Context(), f)
		pg.AutoContinue = pg.Onward != ""
		if pg.AutoContinue {
			pg.Lead = lang.T("done.continue_to", f.ClientName)
		} else {
			pg.Lead = lang.T("done.final")
		}
	case authn.StateFailed:
		code := f.Error
		if !lang.Has("fail." + code + ".title") {
			code = "unknown"
		}
		pg.Template, pg.Title = "failed", lang.T("fail."+code+".title")
		if code == "level_not_reachable" {
			pg.Lead = lang.T("fail.level_not_reachable.body", f.ClientName)
		} else {
			pg.Lead = lang.T("fail." + code + ".body")
		}
		pg.Onward = p.onward(r.Context(), f)
		// Cancelling is the person's own way back: take them there at once.
		pg.AutoContinue = f.Error == "cancelled" && pg.Onward != ""
		pg.Retry = retryable[f.Error] && !pg.AutoContinue
	default:
		p.internal(w, r, lang, errors.New("pages: a flow in state "+string(f.State)))
		return
	}

	// A lock shows on its page before anyone posts into it.
	if se == nil && v.LockedUntil != nil && v.LockedUntil.After(p.now()) {
		code := "password_locked"
		if f.State == authn.StateCode {
			code = "code_locked"
		}
		se = &authn.Error{Code: code, RetryAfter: *v.LockedUntil}
	}
	if se != nil {
		msg := p.errorText(lang, se)
		field := fieldOf[se.Code]
		if se.Code == "rate_limited" && len(fields) > 0 {
			field = fields[0]
		}
		if field != "" && slices.Contains(fields, field) {
			pg.Errors = map[string]string{field: msg}
			pg.Focus = fieldIDs[field]
		} else {
			pg.PageError, pg.Focus = msg, "page-error"
		}
		if se.Status != 0 {
			status = se.Status
			if status == http.StatusUnauthorized {
				// A wrong password or code: a form error, not HTTP
				// authentication (a 401 must carry WWW-Authenticate).
				status = http.StatusBadRequest
			}
		}
	}
	if pg.Focus == "" && len(fields) > 0 {
		pg.Focus = fieldIDs[fields[0]]
	}
	p.render(w, r, status, pg)
}

// errorText is a step error as the person reads it, with when to try again.
func (p *Pages) errorText(lang i18n.Lang, e *authn.Error) string {
	key := "error." + e.Code
	if !lang.Has(key) {
		return lang.T("error.generic")
	}
	switch e.Code {
	case "password_locked", "code_locked", "rate_limited":
		mins := 1
		if !e.RetryAfter.IsZero() {
			mins = int(math.Ceil(e.RetryAfter.Sub(p.now()).Minutes()))
		}
		return lang.T(key, lang.Minutes(mins))
	}
	return lang.T(key)
}

// onward asks the Finisher where the browser goes, and accepts only an
// http(s) URL or a path on this site.
func (p *Pages) onward(ctx context.Context, f *authn.Flow) string {
	if p.finisher == nil {
		return ""
	}
	u, ok := p.finisher.Finish(ctx, f)
	if !ok {
		return ""
	}
	if !safeOnward(u) {
		p.log.Error("pages: the Finisher's URL is neither an http(s) URL nor a path; showing the final page instead",
			"flow", f.ID, "url", u)
		return ""
	}
	return u
}

func safeOnward(s string) bool {
	if s == "" || len(s) > 8<<10 || strings.ContainsAny(s, "\x00\r\n\t\\") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if u.Scheme == "" {
		return u.Host == "" && strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//")
	}
	return (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
