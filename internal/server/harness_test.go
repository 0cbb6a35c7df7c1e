package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/nsis"
	oidcp "github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
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

// node is a demo server on a real database, serving over real HTTP on loopback.
type node struct {
	URL    string // where requests go
	Issuer string // what the server calls itself (and browsers' origin)
	srv    *server.Server
	clock  *clock
}

func newNode(t *testing.T, engine store.Engine) *node {
	t.Helper()
	dsn := storetest.DSN(t, engine)
	kek := filepath.Join(t.TempDir(), "test.kek")
	if _, err := pki.CreateKEKFile(kek, nil); err != nil {
		t.Fatal(err)
	}
	return newNodeOn(t, dsn, kek, &clock{t: time.Now().UTC()})
}

func newNodeOn(t *testing.T, dsn, kek string, c *clock) *node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The issuer names localhost, not 127.0.0.1: a WebAuthn relying party
	// needs a host name. Requests go to the address itself.
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	issuer := "http://localhost:" + port
	srv, err := server.New(context.Background(), server.Config{Addr: ln.Addr().String(), DB: dsn, KEKFile: kek,
		Issuer: issuer, Demo: true, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &node{URL: "http://" + ln.Addr().String(), Issuer: issuer, srv: srv, clock: c}
}

func (n *node) post(t *testing.T, path string, header map[string]string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, n.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func (n *node) get(t *testing.T, path string, header map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.URL+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %s", req.Method, req.URL.Path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, m
}

// person is a test identity made through the test tool.
type person struct {
	UUID, UserID, Password, CPR string
	ActivationCode              string
	TOTPSecret                  string
	Chip                        json.RawMessage
	app                         *appclient.Client
}

func (n *node) person(t *testing.T, authenticators ...string) *person {
	t.Helper()
	code, m := n.post(t, "/testtool/v1/identities", nil, map[string]any{"authenticators": authenticators})
	if code != http.StatusCreated {
		t.Fatalf("test tool: %d %v", code, m)
	}
	p := &person{UUID: m["uuid"].(string), UserID: m["user_id"].(string), Password: m["password"].(string), CPR: m["cpr"].(string)}
	if a, ok := m["app"].(map[string]any); ok {
		p.ActivationCode = a["activation_code"].(string)
	}
	if c, ok := m["code_display"].(map[string]any); ok {
		p.TOTPSecret = c["secret"].(string)
	}
	if c, ok := m["chip"]; ok {
		p.Chip, _ = json.Marshal(c)
	}
	return p
}

// activate activates the person's app on a new device key.
func (n *node) activate(t *testing.T, p *person) *appclient.Client {
	t.Helper()
	key, err := appclient.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	act, err := appclient.Activate(ctx, n.URL, p.ActivationCode, "test phone", key, appclient.WithClock(n.clock.Now))
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	c, err := appclient.New(appclient.Device{Server: n.URL, ID: act.DeviceID, Key: key, Identity: act.Identity}, appclient.WithClock(n.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	p.app = c
	return c
}

// flow is a login flow driven through the JSON flow API.
type flow struct {
	n      *node
	ID     string
	Token  string
	Last   map[string]any
	Status int
}

func (n *node) flow(t *testing.T, level string) *flow {
	t.Helper()
	code, m := n.post(t, "/authn/v1/flows", nil, map[string]any{"client_id": "demo", "level": level, "reference_text": "Log på e-Boks"})
	if code != http.StatusCreated {
		t.Fatalf("create flow: %d %v", code, m)
	}
	return &flow{n: n, ID: m["flow_id"].(string), Token: m["flow_token"].(string), Last: m, Status: code}
}

func (f *flow) step(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	f.Status, f.Last = f.n.post(t, "/authn/v1/flows/"+f.ID, map[string]string{"X-Flow-Token": f.Token}, body)
	return f.Last
}

func (f *flow) state() string   { s, _ := f.Last["state"].(string); return s }
func (f *flow) errCode() string { s, _ := f.Last["error"].(string); return s }

func (f *flow) refresh(t *testing.T) map[string]any {
	t.Helper()
	f.Status, f.Last = f.n.get(t, "/authn/v1/flows/"+f.ID, map[string]string{"X-Flow-Token": f.Token})
	return f.Last
}

// client registers a confidential service provider (client_secret_basic) with
// the given ID token algorithm and back-channel logout URI, and returns it as
// a relying party with a loopback redirect.
func (n *node) client(t *testing.T, id, alg, backchannel string) *rp {
	t.Helper()
	secret := id + "-secret-with-enough-length"
	c := &oidcp.Client{ID: id, Name: "Bank " + id, SecretHash: oidcp.HashSecret(secret), AuthMethod: zoidc.AuthMethodBasic,
		RedirectURIs: []string{"https://" + id + ".example/callback"}, BackchannelLogoutURI: backchannel,
		Scopes: []string{"openid", "profile", "age"}, MinLevel: nsis.Low, IDTokenAlg: alg,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := n.srv.Platform().DB.InsertClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return newRP(t, n, id, secret, "https://"+id+".example/callback")
}

// totp is the code a code display shows at now.
func totp(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	s, err := otp.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return otp.TOTP{Secret: s}.At(now)
}
