package pages_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/internal/web"
	"github.com/openmitid/openmitid/internal/web/pages"
	"github.com/openmitid/openmitid/pkg/appclient"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// finisher sends flows started for "sp:…" authorization requests back to a
// made-up service provider, and keeps the flows it was asked about.
type finisher struct {
	mu    sync.Mutex
	calls []authn.Flow
}

const spCallback = "https://sp.example/callback"

func (f *finisher) Finish(_ context.Context, fl *authn.Flow) (string, bool) {
	f.mu.Lock()
	f.calls = append(f.calls, *fl)
	f.mu.Unlock()
	if !strings.HasPrefix(fl.AuthRequest, "sp:") {
		return "", false
	}
	q := url.Values{"request": {fl.AuthRequest}, "flow": {fl.ID}, "state": {string(fl.State)}, "error": {fl.Error}}
	return spCallback + "?" + q.Encode(), true
}

func (f *finisher) last() (authn.Flow, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return authn.Flow{}, false
	}
	return f.calls[len(f.calls)-1], true
}

// lockedBuffer collects the server's log, shown when a test fails.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rig is a demo node (the real engine on a real SQLite database, the flow
// API, the app API and the test tool) with the login pages mounted in front,
// serving over HTTP on loopback.
type rig struct {
	URL      string
	Issuer   string
	srv      *server.Server
	pages    *pages.Pages
	clock    *clock
	finisher *finisher
	adopt    bool // serve /test/adopt, for tests in Chromium

	mu  sync.Mutex
	log []string // the paths and queries of the requests the pages got
}

// requests returns what was asked of /login/ so far.
func (g *rig) requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.log...)
}

var csrfKey = bytes.Repeat([]byte{0x42}, 32)

func newRig(t *testing.T) *rig {
	t.Helper()
	dsn := storetest.DSN(t, store.SQLite)
	kek := filepath.Join(t.TempDir(), "test.kek")
	if _, err := pki.CreateKEKFile(kek, nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	issuer := "http://localhost:" + port // a WebAuthn relying party needs a host name
	srv, err := server.New(context.Background(), server.Config{Addr: ln.Addr().String(), DB: dsn, KEKFile: kek,
		Issuer: issuer, Demo: true, Now: c.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	fin := &finisher{}
	pg, err := pages.New(pages.Config{Engine: srv.Engine(), Finisher: fin, Log: log, CSRFKey: csrfKey, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	pg.Mount(mux)
	// What the OpenID provider will do: start a flow and send the browser to it.
	mux.HandleFunc("GET /test/start", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		_, err := pg.Begin(w, r, authn.StartRequest{ClientID: "demo", Level: q.Get("level"),
			ReferenceText: q.Get("reference_text"), AuthRequest: q.Get("auth_request")})
		if err != nil {
			web.WriteError(w, http.StatusBadRequest, "begin", err.Error())
		}
	})
	g := &rig{}
	// For tests in Chromium only: hand a flow's cookie to a fresh browser.
	mux.HandleFunc("GET /test/adopt", func(w http.ResponseWriter, r *http.Request) {
		if !g.adopt {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		web.SetFlowCookie(w, q.Get("flow"), q.Get("token"), false)
		to := pages.Path(q.Get("flow"))
		if q.Get("then") != "" {
			to += "/" + q.Get("then")
		}
		http.Redirect(w, r, to+"?lang="+q.Get("lang"), http.StatusSeeOther)
	})
	mux.Handle("/", srv.Handler())
	record := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/login/") {
				g.mu.Lock()
				g.log = append(g.log, r.URL.RequestURI())
				g.mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
	h := web.Chain(mux, web.Recover(log), web.SecurityHeaders(false), web.Origin(nil), record)
	hs := httptest.NewUnstartedServer(h)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(func() { hs.Close(); srv.Close() })
	g.URL, g.Issuer, g.srv, g.pages, g.clock, g.finisher = "http://"+ln.Addr().String(), issuer, srv, pg, c, fin
	return g
}

// person is a test identity made through the test tool.
type person struct {
	UserID, Password string
	ActivationCode   string
	TOTPSecret       string
	Chip             *softkey.Key
}

func (g *rig) person(t *testing.T, authenticators ...string) *person {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"authenticators": authenticators})
	resp, err := http.Post(g.URL+"/testtool/v1/identities", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("test tool: %d %v", resp.StatusCode, m)
	}
	p := &person{UserID: m["user_id"].(string), Password: m["password"].(string)}
	if a, ok := m["app"].(map[string]any); ok {
		p.ActivationCode = a["activation_code"].(string)
	}
	for _, k := range []string{"code_display", "audio_code_reader"} {
		if c, ok := m[k].(map[string]any); ok {
			p.TOTPSecret = c["secret"].(string)
		}
	}
	if c, ok := m["chip"].(map[string]any); ok {
		delete(c, "private_key_pkcs8")
		delete(c, "rp_id")
		kb, _ := json.Marshal(c)
		if p.Chip, err = softkey.Unmarshal(kb); err != nil {
			t.Fatalf("the test tool's chip: %v", err)
		}
	}
	return p
}

// code is the person's code display's code now.
func (g *rig) code(t *testing.T, p *person) string {
	t.Helper()
	secret, err := otp.DecodeSecret(p.TOTPSecret)
	if err != nil {
		t.Fatal(err)
	}
	return otp.TOTP{Secret: secret}.At(g.clock.Now())
}

// activate activates the person's app on a new device key.
func (g *rig) activate(t *testing.T, p *person) *appclient.Client {
	t.Helper()
	key, err := appclient.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	act, err := appclient.Activate(context.Background(), g.URL, p.ActivationCode, "test phone", key, appclient.WithClock(g.clock.Now))
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	c, err := appclient.New(appclient.Device{Server: g.URL, ID: act.DeviceID, Key: key, Identity: act.Identity}, appclient.WithClock(g.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// browser is a person's browser without JavaScript: a cookie jar, following
// no redirects by itself so that tests see each one.
type browser struct {
	t      *testing.T
	g      *rig
	c      *http.Client
	header http.Header // sent with every request (Accept-Language)
}

func (g *rig) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, g: g, header: http.Header{}, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a response as the tests look at it.
type page struct {
	status int
	header http.Header
	body   string
	doc    *node
	url    string
}

func (b *browser) do(method, path string, form url.Values) *page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = b.g.URL + path
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	pg := &page{status: resp.StatusCode, header: resp.Header, body: string(raw), url: path}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		pg.doc = parseHTML(b.t, pg.body)
	}
	return pg
}

func (b *browser) get(path string) *page { b.t.Helper(); return b.do("GET", path, nil) }

// follow GETs a redirect's target, checking that it is one.
func (b *browser) follow(p *page, want int) *page {
	b.t.Helper()
	if p.status != want {
		b.t.Fatalf("%s: %d, want %d\n%s", p.url, p.status, want, p.body)
	}
	loc := p.header.Get("Location")
	if loc == "" {
		b.t.Fatalf("%s: %d without a Location", p.url, p.status)
	}
	return b.get(loc)
}

// start begins a flow as the OpenID provider will, and opens its page.
func (b *browser) start(level, authRequest string) (string, *page) {
	b.t.Helper()
	q := url.Values{"level": {level}, "auth_request": {authRequest}}
	resp := b.get("/test/start?" + q.Encode())
	if resp.status != http.StatusSeeOther || !strings.HasPrefix(resp.header.Get("Location"), "/login/") {
		b.t.Fatalf("start: %d %v %s", resp.status, resp.header, resp.body)
	}
	id := strings.TrimPrefix(resp.header.Get("Location"), "/login/")
	return id, b.follow(resp, http.StatusSeeOther)
}

// submit posts the form that holds the control (a button), with its fields,
// extra ones set, and the button's own name and value.
func (b *browser) submit(p *page, button *node, set map[string]string) *page {
	b.t.Helper()
	form := button.form()
	if form == nil {
		b.t.Fatalf("%s: the button %q is in no form", p.url, button.textContent())
	}
	if form.attr["method"] != "post" {
		b.t.Fatalf("%s: the form %s is not posted", p.url, form.attr["id"])
	}
	v := url.Values{}
	for k, x := range form.fields() {
		v.Set(k, x)
	}
	for k, x := range set {
		v.Set(k, x)
	}
	if n := button.attr["name"]; n != "" {
		v.Set(n, button.attr["value"])
	}
	return b.do("POST", form.attr["action"], v)
}

// state is the page's <body data-state>.
func (p *page) state() string {
	if p.doc == nil {
		return ""
	}
	if bs := p.doc.tags("body"); len(bs) == 1 {
		return bs[0].attr["data-state"]
	}
	return ""
}

func (p *page) String() string { return fmt.Sprintf("%s: %d %s", p.url, p.status, p.state()) }

func (p *page) mustState(t *testing.T, state string) *page {
	t.Helper()
	if p.state() != state {
		t.Fatalf("%s: state %q, want %q\n%s", p.url, p.state(), state, p.body)
	}
	return p
}
