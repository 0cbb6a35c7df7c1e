package pages

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/web/i18n"
	"github.com/openmitid/openmitid/internal/web/static"
)

//go:embed templates/*.html
var templateFiles embed.FS

// templateNames are the pages; each is layout.html with its own "content"
// (and, where it needs one, "head").
var templateNames = []string{"identify", "password", "code", "waiting", "chip", "methods", "done", "failed", "message"}

func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	out := make(map[string]*template.Template, len(templateNames))
	for _, name := range templateNames {
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(templateFiles, "templates/"+name+".html")
		}
		if err != nil {
			return nil, fmt.Errorf("pages: %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// page is what a template renders.
type page struct {
	L        i18n.Lang
	Template string // which page
	State    string // <body data-state>: the flow's state, or what the page is ("not_found", "methods")
	Title    string // the <h1> and the <title>

	// The flow.
	FlowID     string
	Action     string // the page's own path, where its forms post
	MethodsURL string
	CSRF       string
	Client     string // the service provider's name
	View       authn.View

	// Forms and errors.
	UserID    string            // identify: what was typed, shown again after an error
	UserKey   string            // password: who is logging in
	Method    authn.Method      // code: which kind of code
	Errors    map[string]string // by form field
	PageError string            // an error that belongs to no field
	Focus     string            // the id of the element to focus on load

	// Waiting for the app.
	EventsURL string
	QRSrc     string
	// Chip.
	WebAuthn string // the options for navigator.credentials.get (JSON)
	// Choosing a method.
	Methods []methodItem

	// Done and failed.
	Onward       string // where the Finisher sends the browser
	AutoContinue bool   // go there at once (done, cancelled)
	Lead         string // the page's first paragraph
	Retry        bool   // offer "Try again"
	BackURL      string // message pages: a way back to the flow's page
	BackText     string
}

type methodItem struct {
	ID      authn.Method
	Name    string
	Desc    string
	Current bool
}

// T returns the text for key in the page's language.
func (pg *page) T(key string, args ...any) string { return pg.L.T(key, args...) }

// Asset returns the URL of a static file.
func (pg *page) Asset(name string) string { return static.Path(name) }

// Err returns the error shown beside a form field, or "".
func (pg *page) Err(field string) string { return pg.Errors[field] }

// HasError reports whether the page shows an error (its title says so first).
func (pg *page) HasError() bool { return pg.PageError != "" || len(pg.Errors) > 0 }

// render writes the page with status and the pages' headers. It renders into
// a buffer first, so a template error is a clean 500, never half a page.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, pg *page) {
	var buf bytes.Buffer
	t, ok := p.tmpl[pg.Template]
	if !ok {
		p.log.Error("pages: no such template", "template", pg.Template)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		p.log.Error("pages: rendering", "template", pg.Template, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", CSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// message renders a page without a flow: not found, refused, went wrong.
func (p *Pages) message(w http.ResponseWriter, r *http.Request, lang i18n.Lang, status int, state, key string, back string) {
	pg := &page{L: lang, Template: "message", State: state, Title: lang.T(key + ".title"), Lead: lang.T(key + ".body")}
	if back != "" {
		pg.BackURL, pg.BackText = back, lang.T("forbidden.back")
	}
	p.render(w, r, status, pg)
}
