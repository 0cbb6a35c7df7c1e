// Package pages is the login pages: the HTML face of the login engine
// ([authn.Engine]) for a person in a browser, from the user ID to the app, a
// code display, an audio code reader or a chip, and on to the service provider
// (CONTRACT.md, "Login pages").
//
// A page is found by its flow's id in the path and opened by the flow's cookie
// ([web.FlowCookie]), which the browser got when the flow was started: the id
// alone shows nothing. The pages work without JavaScript where the flow allows
// it (the chip needs WebAuthn, which needs a script); forms post back to the
// page, which answers 303 to itself (post/redirect/get), or re-renders with the
// error beside its field. Every form carries a CSRF token, an HMAC over the
// flow's id and token. The pages send a strict Content-Security-Policy ([CSP]):
// their only script and stylesheet are the files of package static.
//
// The pages speak Danish by default and English when the browser asks for it
// or with ?lang=en (package i18n), remembered in a cookie.
//
// Once a flow is done or has failed, a [Finisher] says where the browser goes
// next: back to the service provider through the OpenID provider. The page
// sends it there with a meta refresh and a visible link, never with a redirect
// from a form's POST, which a CSP with form-action 'self' makes Chromium block
// once the redirect leaves the site.
package pages

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/web"
	"github.com/openmitid/openmitid/internal/web/static"
)

// CSP is the Content-Security-Policy of every login page, in place of
// [web.DefaultCSP]: the page's own script, stylesheet and images (the QR
// code), server-sent events from the flow API, forms only to this site, and
// no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Finisher says where the browser goes once its flow has ended.
//
// Finish is called with a flow that is done or has failed, each time its page
// is shown (a reload calls it again, so it must give the same answer and
// change nothing twice). It returns the URL to send the browser to, absolute
// (http or https) or a path on this site: for a done flow, where the service
// provider gets its result; for a failed one, where it learns of the failure
// (f.Error holds the code). It returns ok=false when no service provider waits
// for the flow; the page then ends the login itself ("you can close this
// window"). A flow started again with "Try again" is a new flow with the same
// client and AuthRequest as the failed one.
type Finisher interface {
	Finish(ctx context.Context, f *authn.Flow) (url string, ok bool)
}

// FinisherFunc is a function as a [Finisher].
type FinisherFunc func(ctx context.Context, f *authn.Flow) (string, bool)

// Finish calls fn.
func (fn FinisherFunc) Finish(ctx context.Context, f *authn.Flow) (string, bool) { return fn(ctx, f) }

// Config is what [New] needs.
type Config struct {
	Engine *authn.Engine
	// Finisher says where done and failed flows go; nil: nowhere, every
	// login ends on its own page.
	Finisher Finisher
	Log      *slog.Logger
	// Secure marks cookies Secure (the issuer is https).
	Secure bool
	// CSRFKey keys the forms' CSRF tokens: at least 32 secret bytes, the same
	// on every node (the keyring secret "login-csrf").
	CSRFKey []byte
	Now     func() time.Time
}

// Pages serves the login pages. Make one with [New].
type Pages struct {
	engine   *authn.Engine
	finisher Finisher
	log      *slog.Logger
	secure   bool
	csrfKey  []byte
	now      func() time.Time
	tmpl     map[string]*template.Template
}

// New returns the login pages. It refuses a missing engine and a CSRF key
// shorter than 32 bytes.
func New(c Config) (*Pages, error) {
	if c.Engine == nil {
		return nil, errors.New("pages: New needs the login engine")
	}
	if len(c.CSRFKey) < 32 {
		return nil, errors.New("pages: the CSRF key must have at least 32 bytes")
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Pages{engine: c.Engine, finisher: c.Finisher, log: c.Log, secure: c.Secure,
		csrfKey: append([]byte(nil), c.CSRFKey...), now: c.Now, tmpl: tmpl}, nil
}

// Mount adds the pages' routes to mux:
//
//	GET  /login/{flow}          the page for the flow's state
//	POST /login/{flow}          a step (the pages' forms), then 303 to the page
//	GET  /login/{flow}/methods  "Choose another method"
//	GET  /login/{flow}/qr.svg   the QR code to scan now, while the flow waits for the app
//	GET  /static/{file}         the pages' stylesheet, script and icon (package static)
func (p *Pages) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/{flow}", p.show)
	mux.HandleFunc("POST /login/{flow}", p.submit)
	mux.HandleFunc("GET /login/{flow}/methods", p.methods)
	mux.HandleFunc("GET /login/{flow}/qr.svg", p.qrImage)
	static.Mount(mux)
}

// Path returns the path of a flow's login page: "/login/{flow}".
func Path(flowID string) string { return "/login/" + flowID }

// Begin starts a flow for req, hands the browser the flow's token in its
// cookie and redirects it (303 See Other) to the flow's page. It fills in the
// request's address and user agent where req leaves them empty. On error
// (an [*authn.Error] for bad input, such as an unknown client or a reference
// text that is too long) it has written nothing, and the caller answers.
func (p *Pages) Begin(w http.ResponseWriter, r *http.Request, req authn.StartRequest) (*authn.Flow, error) {
	if req.OriginIP == "" {
		req.OriginIP = web.ClientIPFrom(r.Context())
	}
	if req.UserAgent == "" {
		req.UserAgent = r.UserAgent()
	}
	f, token, err := p.engine.Start(r.Context(), req)
	if err != nil {
		return nil, err
	}
	web.SetFlowCookie(w, f.ID, token, p.secure)
	http.Redirect(w, r, Path(f.ID), http.StatusSeeOther)
	return f, nil
}
