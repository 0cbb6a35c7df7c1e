package robustness_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// heavy skips the test unless the robustness tests were asked for: they start
// several processes and compare rates, so they run alone, after the other
// packages (make robustness).
func heavy(t *testing.T) {
	t.Helper()
	if os.Getenv("OPENMITID_ROBUSTNESS") != "1" {
		t.Skip("robustness tests run alone: OPENMITID_ROBUSTNESS=1 go test ./internal/robustness/ (make robustness)")
	}
}

// newKEK writes a key-encryption key file for nodes to share.
func newKEK(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "openmitid.kek")
	if _, err := pki.CreateKEKFile(path, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// newHTTPClient returns a client whose connections come from the loopback
// address local ("" for any), so that a server sees each simulated person or
// attacker at an address of their own.
func newHTTPClient(local string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConns: 256, MaxIdleConnsPerHost: 256,
			IdleConnTimeout: 30 * time.Second},
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// api speaks JSON to one base URL (a node or the balancer).
type api struct {
	base string
	hc   *http.Client
}

func newAPI(base string, hc *http.Client) *api {
	if hc == nil {
		hc = newHTTPClient("")
	}
	return &api{base: strings.TrimRight(base, "/"), hc: hc}
}

// reply is an HTTP answer: its status, headers, body and how long it took.
type reply struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
	Took   time.Duration
}

func (r reply) str(k string) string { s, _ := r.Body[k].(string); return s }

func (r reply) String() string {
	raw := string(r.Raw)
	if len(raw) > 300 {
		raw = raw[:300] + "…"
	}
	return fmt.Sprintf("%d %s", r.Status, strings.TrimSpace(raw))
}

// do sends a request with a JSON body (unless body is nil) and reads a JSON
// answer if there is one.
func (a *api) do(ctx context.Context, method, path string, header map[string]string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return a.send(req)
}

// send sends a request made by the caller.
func (a *api) send(req *http.Request) (reply, error) {
	method, path := req.Method, req.URL.Path
	start := time.Now()
	resp, err := a.hc.Do(req)
	if err != nil {
		return reply{Took: time.Since(start)}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw, Took: time.Since(start)}
	if err != nil {
		return r, err
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			return r, fmt.Errorf("%s %s: %d, bad JSON: %v", method, path, resp.StatusCode, err)
		}
	}
	return r, nil
}

func (a *api) post(ctx context.Context, path string, header map[string]string, body any) (reply, error) {
	return a.do(ctx, http.MethodPost, path, header, body)
}

func (a *api) get(ctx context.Context, path string, header map[string]string) (reply, error) {
	return a.do(ctx, http.MethodGet, path, header, nil)
}

// person is a test identity made through the test tool.
type person struct {
	UUID, UserID, Password string
	Activation             string
	totp                   otp.TOTP

	mu       sync.Mutex
	lastStep int64 // the newest TOTP step this test used

	requests atomic.Int64 // approval requests this test made for the person's app
}

// createPerson makes a test identity with the given authenticators.
func createPerson(ctx context.Context, a *api, body map[string]any) (*person, reply, error) {
	r, err := a.post(ctx, "/testtool/v1/identities", nil, body)
	if err != nil {
		return nil, r, err
	}
	if r.Status != http.StatusCreated {
		return nil, r, fmt.Errorf("test tool: %s", r)
	}
	p := &person{UUID: r.str("uuid"), UserID: r.str("user_id"), Password: r.str("password")}
	if app, ok := r.Body["app"].(map[string]any); ok {
		p.Activation, _ = app["activation_code"].(string)
	}
	if cd, ok := r.Body["code_display"].(map[string]any); ok {
		secret, _ := cd["secret"].(string)
		s, err := otp.DecodeSecret(secret)
		if err != nil {
			return nil, r, err
		}
		p.totp = otp.TOTP{Secret: s}
	}
	return p, r, nil
}

func mustPerson(t *testing.T, a *api, authenticators ...string) *person {
	t.Helper()
	p, _, err := createPerson(context.Background(), a, map[string]any{"authenticators": authenticators})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// nextCode returns a code of the person's code display that the server has not
// seen used, or "" if none is valid now: a time step is used once, and the
// server accepts the step before and after the current one, so a code display
// gives about one login per 30 seconds (two in a row at most).
func (p *person) nextCode(now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.totp.Step(now)
	switch {
	case p.lastStep < s:
	case p.lastStep == s:
		s++
	default:
		return ""
	}
	p.lastStep = s
	return p.totp.At(time.Unix(s*30, 0))
}

// activate activates the person's app against server.
func activate(ctx context.Context, server string, p *person, hc *http.Client) (*appclient.Client, error) {
	key, err := appclient.NewKey()
	if err != nil {
		return nil, err
	}
	var opts []appclient.Option
	if hc != nil {
		opts = append(opts, appclient.WithHTTPClient(hc))
	}
	act, err := appclient.Activate(ctx, server, p.Activation, "test phone", key, opts...)
	if err != nil {
		return nil, fmt.Errorf("activate: %w", err)
	}
	return appclient.New(appclient.Device{Server: server, ID: act.DeviceID, Key: key, Identity: p.UUID}, opts...)
}

// approve answers the person's next approval request with the binding code
// the browser shows.
func approve(ctx context.Context, app *appclient.Client, bindingCode string) (approvalID string, err error) {
	pend, err := app.WaitNext(ctx, 10*time.Second)
	if err != nil {
		return "", err
	}
	if pend == nil {
		return "", errors.New("no approval request reached the app")
	}
	b, err := app.Bind(ctx, pend.ApprovalID, "", bindingCode)
	if err != nil {
		return pend.ApprovalID, fmt.Errorf("bind: %w", err)
	}
	state, err := app.Answer(ctx, b, approval.Approve)
	if err != nil {
		return pend.ApprovalID, fmt.Errorf("answer: %w", err)
	}
	if state != "approved" {
		return pend.ApprovalID, fmt.Errorf("answer: state %q", state)
	}
	return pend.ApprovalID, nil
}

// flow is a login flow driven through the JSON flow API.
type flow struct {
	ID, Token string
	State     string
	Version   int64
	Last      reply
}

func startFlow(ctx context.Context, a *api, level string) (*flow, error) {
	f, _, err := newFlow(ctx, a, level)
	return f, err
}

// newFlow is startFlow that also returns the answer.
func newFlow(ctx context.Context, a *api, level string) (*flow, reply, error) {
	r, err := a.post(ctx, "/authn/v1/flows", nil, map[string]any{"client_id": "demo", "level": level})
	if err != nil {
		return nil, r, err
	}
	if r.Status != http.StatusCreated {
		return nil, r, fmt.Errorf("create flow: %s", r)
	}
	f := &flow{ID: r.str("flow_id"), Token: r.str("flow_token")}
	f.see(r)
	return f, r, nil
}

func (f *flow) see(r reply) {
	f.Last = r
	if s := r.str("state"); s != "" {
		f.State = s
	}
	if v, ok := r.Body["version"].(float64); ok {
		f.Version = int64(v)
	}
}

func (f *flow) header() map[string]string { return map[string]string{"X-Flow-Token": f.Token} }

// step posts one step; an answer that is not 200 is returned as an error
// along with the reply.
func (f *flow) step(ctx context.Context, a *api, body map[string]any) (reply, error) {
	r, err := a.post(ctx, "/authn/v1/flows/"+f.ID, f.header(), body)
	if err != nil {
		return r, err
	}
	f.see(r)
	if r.Status != http.StatusOK {
		return r, fmt.Errorf("step %v: %s", body["step"], r)
	}
	return r, nil
}

// look reads the flow, waiting up to wait for a change after the version last seen.
func (f *flow) look(ctx context.Context, a *api, wait time.Duration) (reply, error) {
	path := "/authn/v1/flows/" + f.ID
	if wait > 0 {
		path += fmt.Sprintf("?wait=%s&since=%d", wait, f.Version)
	}
	r, err := a.get(ctx, path, f.header())
	if err == nil && r.Status == http.StatusOK {
		f.see(r)
	}
	return r, err
}

// codeLogin logs p in with password and code display, each step through the
// next of apis (round robin), and returns the flow (done) or an error.
func codeLogin(ctx context.Context, p *person, apis ...*api) (*flow, error) {
	code := p.nextCode(time.Now())
	if code == "" {
		return nil, errNoCode
	}
	at := func(i int) *api { return apis[i%len(apis)] }
	f, err := startFlow(ctx, at(0), "substantial")
	if err != nil {
		return nil, err
	}
	if _, err := f.step(ctx, at(1), map[string]any{"step": "identify", "user_id": p.UserID, "method": "code_display"}); err != nil {
		return f, err
	}
	if _, err := f.step(ctx, at(2), map[string]any{"step": "password", "password": p.Password}); err != nil {
		return f, err
	}
	if _, err := f.step(ctx, at(3), map[string]any{"step": "code", "code": code}); err != nil {
		return f, err
	}
	if f.State != "done" {
		return f, fmt.Errorf("code login ended %s", f.Last)
	}
	return f, nil
}

var errNoCode = errors.New("the code display has no unused code now")

// metrics reads a node's /metrics and returns the unlabelled samples.
func metrics(ctx context.Context, base string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.Contains(line, "{") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	m, err := metrics(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := m[name]
	if !ok {
		t.Fatalf("%s/metrics has no %s", base, name)
	}
	return v
}

// waitFor calls cond every 50 ms until it is true or limit has passed.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// quantile returns the q-quantile of ds (0 for none).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
