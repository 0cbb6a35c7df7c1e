// Package console is the operator console under /operator/ (DESIGN.md,
// flow 5): caseworkers enrol people in person and review the faces of
// passport enrolments.
//
// The console is an OpenID Connect client of this same provider (client
// "openmitid-operator", authorization code with PKCE, level substantial),
// which checks that the ID token's level is substantial or high and that the
// identity is an operator (internal/operator). Its session lives on the server;
// the browser holds a random id in an HttpOnly, SameSite=Strict cookie (Secure
// under https). Every form carries a CSRF token bound to the session. Pages
// send a strict Content-Security-Policy without scripts: the page that waits
// for a witness reloads itself with a meta refresh. Pictures are served only
// to a session, never cached.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/operator"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/web"
	"github.com/openmitid/openmitid/internal/web/i18n"
)

// ClientID is the console's client at the provider.
const ClientID = "openmitid-operator"

// CSP is the console pages' policy: their stylesheet and pictures from this
// site, forms only to it, no scripts at all.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const (
	sessionCookie = "omid_operator"
	loginCookie   = "omid_operator_login"
	langCookie    = "omid_lang"
)

//go:embed templates/*.html console.css
var files embed.FS

// Config is what [New] needs.
type Config struct {
	Issuer    string
	Secret    string // the console client's secret
	Operators *operator.Service
	// InPerson and Proofing are nil without a population register: the
	// console then says that enrolment is unavailable.
	InPerson *proofing.InPerson
	Proofing *proofing.Service
	// UserID names an operator by their identity's current user ID, for
	// the page's header; nil shows the identity's UUID.
	UserID  func(ctx context.Context, identityUUID string) string
	Secure  bool
	CSRFKey []byte // at least 32 secret bytes, the same on every node
	Log     *slog.Logger
	Now     func() time.Time
}

// Console serves /operator/.
type Console struct {
	cfg  Config
	tmpl *template.Template
	http *http.Client

	mu sync.Mutex
	rp rp.RelyingParty
}

// New returns the console.
func New(c Config) (*Console, error) {
	if c.Operators == nil || len(c.CSRFKey) < 32 || c.Secret == "" || c.Issuer == "" {
		return nil, errors.New("console: New needs the issuer, the client secret, the operators and a CSRF key of 32 bytes")
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	t, err := template.New("").Funcs(template.FuncMap{"date": func(t time.Time) string { return t.Format("02-01-2006") },
		"clock": func(t time.Time) string { return t.Local().Format("15:04:05") }}).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Console{cfg: c, tmpl: t, http: &http.Client{Timeout: 10 * time.Second}}, nil
}

// Mount adds the console's routes.
func (c *Console) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /operator/{$}", c.home)
	mux.HandleFunc("GET /operator/console.css", c.css)
	mux.HandleFunc("GET /operator/login", c.login)
	mux.HandleFunc("GET /operator/callback", c.callback)
	mux.HandleFunc("POST /operator/logout", c.auth(c.logout))
	mux.HandleFunc("POST /operator/person", c.auth(c.findPerson))
	mux.HandleFunc("POST /operator/cases", c.auth(c.openCase))
	mux.HandleFunc("GET /operator/cases/{id}", c.auth(c.showCase))
	mux.HandleFunc("POST /operator/cases/{id}/answers", c.auth(c.answers))
	mux.HandleFunc("POST /operator/cases/{id}/witness", c.auth(c.witness))
	mux.HandleFunc("POST /operator/cases/{id}/complete", c.auth(c.complete))
	mux.HandleFunc("GET /operator/reviews", c.auth(c.reviews))
	mux.HandleFunc("GET /operator/reviews/{id}", c.auth(c.review))
	mux.HandleFunc("GET /operator/reviews/{id}/{which}", c.auth(c.reviewImage))
	mux.HandleFunc("POST /operator/reviews/{id}", c.auth(c.decide))
}

func (c *Console) css(w http.ResponseWriter, r *http.Request) {
	b, _ := files.ReadFile("console.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

// language: ?lang=da|en (remembered), the cookie, or Accept-Language.
func (c *Console) language(w http.ResponseWriter, r *http.Request) i18n.Lang {
	if l, ok := i18n.Parse(r.URL.Query().Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", HttpOnly: true, Secure: c.cfg.Secure,
			SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		return l
	}
	if ck, err := r.Cookie(langCookie); err == nil {
		if l, ok := i18n.Parse(ck.Value); ok {
			return l
		}
	}
	return i18n.Match(r.Header.Get("Accept-Language"))
}

// session is a request's logged-in operator.
type session struct {
	cookie string
	op     *operator.Operator
	name   string // how the header names the operator
	lang   i18n.Lang
}

func (c *Console) nameOf(ctx context.Context, op *operator.Operator) string {
	if c.cfg.UserID != nil {
		if n := c.cfg.UserID(ctx, op.Identity); n != "" {
			return n
		}
	}
	return op.Identity
}

type sessionKey struct{}

// auth admits only a logged-in operator; POSTs must carry the session's
// CSRF token. Others are sent to the console's front page (GET) or refused
// (POST, 403).
func (c *Console) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := c.language(w, r)
		ck, _ := r.Cookie(sessionCookie)
		var value string
		if ck != nil {
			value = ck.Value
		}
		_, op, err := c.cfg.Operators.Open(r.Context(), value)
		if err != nil {
			if !errors.Is(err, operator.ErrNoSession) {
				c.fail(w, r, lang, err)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/operator/", http.StatusSeeOther)
				return
			}
			c.message(w, r, lang, http.StatusForbidden, "session_ended")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil || !c.validCSRF(value, r.PostForm.Get("csrf")) {
				c.message(w, r, lang, http.StatusForbidden, "csrf")
				return
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, &session{cookie: value, op: op, name: c.nameOf(r.Context(), op), lang: lang})))
	}
}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

// csrfToken is an HMAC of the session's cookie: only a page of the session
// knows it.
func (c *Console) csrfToken(cookie string) string {
	m := hmac.New(sha256.New, c.cfg.CSRFKey)
	m.Write([]byte("openmitid operator form\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (c *Console) validCSRF(cookie, got string) bool {
	if cookie == "" || got == "" || len(got) > 64 {
		return false
	}
	return hmac.Equal([]byte(got), []byte(c.csrfToken(cookie)))
}

// relyingParty discovers the provider on first use: it is this same server,
// which is not listening while it is being built.
func (c *Console) relyingParty(ctx context.Context) (rp.RelyingParty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rp != nil {
		return c.rp, nil
	}
	r, err := rp.NewRelyingPartyOIDC(ctx, c.cfg.Issuer, ClientID, c.cfg.Secret, c.cfg.Issuer+"/operator/callback",
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile}, rp.WithHTTPClient(c.http), rp.WithSigningAlgsFromDiscovery(),
		rp.WithVerifierOpts(rp.WithIssuedAtOffset(5*time.Second),
			rp.WithNonce(func(ctx context.Context) string { n, _ := ctx.Value(nonceKey{}).(string); return n })))
	if err != nil {
		return nil, err
	}
	c.rp = r
	return r, nil
}

type nonceKey struct{}

// login starts a login: a pending login on the server, its id in a cookie,
// and the browser to the provider asking for level substantial with PKCE.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	lang := c.language(w, r)
	rpy, err := c.relyingParty(r.Context())
	if err != nil {
		c.cfg.Log.Error("console: discovering the provider", "err", err)
		c.message(w, r, lang, http.StatusServiceUnavailable, "provider_unreachable")
		return
	}
	l, err := c.cfg.Operators.BeginLogin(r.Context(), web.ClientIPFrom(r.Context()))
	if errors.Is(err, operator.ErrRateLimited) {
		w.Header().Set("Retry-After", "600")
		c.message(w, r, lang, http.StatusTooManyRequests, "rate_limited")
		return
	}
	if err != nil {
		c.fail(w, r, lang, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: l.Cookie, Path: "/operator/", HttpOnly: true, Secure: c.cfg.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(operator.LoginTTL / time.Second)})
	u := rp.AuthURL(l.State, rpy, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(l.Verifier)),
		rp.AuthURLOpt(rp.WithURLParam("nonce", l.Nonce)), rp.AuthURLOpt(rp.WithURLParam("acr_values", nsis.Substantial.URI())),
		rp.AuthURLOpt(rp.WithURLParam("reference_text", base64.StdEncoding.EncodeToString([]byte("Log på MitID operatørkonsol")))),
		rp.AuthURLOpt(rp.WithURLParam("ui_locales", string(lang))))
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// callback takes the provider's answer: the state must be the pending
// login's, the code is exchanged with its PKCE verifier, the ID token must
// carry its nonce and a level of substantial or high, and the identity must
// be an operator.
func (c *Console) callback(w http.ResponseWriter, r *http.Request) {
	lang := c.language(w, r)
	ck, _ := r.Cookie(loginCookie)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/operator/", HttpOnly: true, Secure: c.cfg.Secure, MaxAge: -1})
	if ck == nil {
		c.message(w, r, lang, http.StatusBadRequest, "login_lost")
		return
	}
	pending, err := c.cfg.Operators.PendingLogin(r.Context(), ck.Value)
	if err != nil || !hmac.Equal([]byte(pending.LoginState), []byte(r.URL.Query().Get("state"))) {
		c.message(w, r, lang, http.StatusBadRequest, "login_lost")
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		c.cfg.Log.Info("console: login failed at the provider", "error", e, "description", r.URL.Query().Get("error_description"))
		c.message(w, r, lang, http.StatusForbidden, "login_failed")
		return
	}
	rpy, err := c.relyingParty(r.Context())
	if err != nil {
		c.message(w, r, lang, http.StatusServiceUnavailable, "provider_unreachable")
		return
	}
	ctx := context.WithValue(r.Context(), nonceKey{}, pending.LoginNonce)
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, r.URL.Query().Get("code"), rpy, rp.WithCodeVerifier(pending.LoginPKCE))
	if err != nil {
		c.cfg.Log.Warn("console: code exchange", "err", err)
		c.message(w, r, lang, http.StatusForbidden, "login_failed")
		return
	}
	loaClaim, _ := tokens.IDTokenClaims.Claims["loa"].(string)
	level, lerr := nsis.Parse(loaClaim)
	enough := lerr == nil && level.AtLeast(nsis.Substantial)
	cookie, _, err := c.cfg.Operators.FinishLogin(r.Context(), ck.Value, tokens.IDTokenClaims.Subject, level.String(), enough)
	switch {
	case errors.Is(err, operator.ErrLevelTooLow):
		c.message(w, r, lang, http.StatusForbidden, "level_too_low")
		return
	case errors.Is(err, operator.ErrNotOperator):
		c.message(w, r, lang, http.StatusForbidden, "not_operator")
		return
	case errors.Is(err, operator.ErrNoSession):
		c.message(w, r, lang, http.StatusBadRequest, "login_lost")
		return
	case err != nil:
		c.fail(w, r, lang, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/operator/", HttpOnly: true, Secure: c.cfg.Secure,
		SameSite: http.SameSiteStrictMode})
	// A page, not a redirect: the cookie is SameSite=Strict, and this
	// request came from the provider's redirect, so the browser would
	// leave it out of a redirect's request in some cases.
	c.render(w, r, http.StatusOK, &page{L: lang, Name: "continue", Title: tr(lang, "console.logged_in"), Onward: "/operator/"})
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if err := c.cfg.Operators.Logout(r.Context(), s.cookie); err != nil {
		c.fail(w, r, s.lang, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/operator/", HttpOnly: true, Secure: c.cfg.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/operator/", http.StatusSeeOther)
}

// home is the front page: a login link, or the operator's work.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	lang := c.language(w, r)
	ck, _ := r.Cookie(sessionCookie)
	var value string
	if ck != nil {
		value = ck.Value
	}
	_, op, err := c.cfg.Operators.Open(r.Context(), value)
	if errors.Is(err, operator.ErrNoSession) {
		c.render(w, r, http.StatusOK, &page{L: lang, Name: "login", Title: tr(lang, "console.login.title")})
		return
	}
	if err != nil {
		c.fail(w, r, lang, err)
		return
	}
	s := &session{cookie: value, op: op, name: c.nameOf(r.Context(), op), lang: lang}
	pg := c.newPage(s, "home", tr(lang, "console.home.title"))
	pg.DocKinds = proofing.DocumentKinds
	if c.cfg.InPerson != nil {
		cases, err := c.cfg.InPerson.Cases(r.Context(), op.Identity, 20)
		if err != nil {
			c.fail(w, r, lang, err)
			return
		}
		pg.Cases = cases
		reviews, err := c.cfg.Proofing.PendingReviews(r.Context(), 100)
		if err != nil {
			c.fail(w, r, lang, err)
			return
		}
		pg.ReviewCount = len(reviews)
	}
	c.render(w, r, http.StatusOK, pg)
}
