package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// The methods [NewOpenMitID] drives.
const (
	MethodApp         = "app"
	MethodCodeDisplay = "code_display"
	MethodChip        = "chip"
)

// The service provider the logins are for unless told otherwise: the demo
// client, which a server in --demo mode has (CONTRACT.md). Its redirect URI is
// never visited: the code is read from the redirect.
const (
	DemoClient   = "demo"
	DemoRedirect = "http://127.0.0.1/callback"
)

// OpenMitIDOptions configure [NewOpenMitID].
type OpenMitIDOptions struct {
	Server string // the issuer URL, as the server was started with
	Method string // MethodApp or MethodCodeDisplay
	// Users, when set, are identities the bulk loader made; otherwise Setup
	// makes identities through the test tool (the server must run with --demo).
	Users *LoadSpec
	// CheckIDToken verifies each ID token's signature against /keys, its
	// issuer, audience and nonce.
	CheckIDToken bool
	// The service provider: its client_id, secret (client_secret_basic) and a
	// registered redirect URI; the demo client's when empty. Another client
	// shows what its ID token algorithm costs (the demo client's is RS256).
	ClientID, ClientSecret, RedirectURI string
	// Log gets setup progress (nil: none).
	Log io.Writer
}

// OpenMitID drives whole logins against an OpenMitID server, as a browser, a
// phone and a service provider would together: /authorize with PKCE, the
// login flow API, the factor(s), the redirect back with a code, and the code
// exchange at the token endpoint.
type OpenMitID struct {
	opt   OpenMitIDOptions
	base  string
	hc    *http.Client
	users []*benchUser
	conc  int
	vus   []vuState
	keys  *jwks
	// vuClients are the virtual users' browsers' HTTP clients, made on first use.
	vuClients []*http.Client
}

// benchUser is one identity the bench logs in as.
type benchUser struct {
	UserID, Password string
	totp             otp.TOTP
	app              *appclient.Client
	chip             *softkey.Key
	lastStep         int64       // code display: the newest time step used
	used             []time.Time // app: when its approval requests were made
}

// vuState is what one virtual user keeps between Ready and Login. Only that
// virtual user's goroutine touches it.
type vuState struct {
	next int        // index of the next identity to try in its ring
	cur  *benchUser // the identity Ready chose
	step int64      // code display: the time step Ready chose
}

// NewOpenMitID returns the flow for opt.Method.
func NewOpenMitID(opt OpenMitIDOptions) (*OpenMitID, error) {
	if opt.Method != MethodApp && opt.Method != MethodCodeDisplay && opt.Method != MethodChip {
		return nil, fmt.Errorf("bench: unknown flow %q (want app, code_display or chip)", opt.Method)
	}
	u, err := url.Parse(opt.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bench: --server %q is not an http(s) URL", opt.Server)
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if opt.ClientID == "" {
		opt.ClientID, opt.ClientSecret = DemoClient, oidc.DemoSecret
	}
	if opt.RedirectURI == "" {
		opt.RedirectURI = DemoRedirect
	}
	return &OpenMitID{opt: opt, base: strings.TrimRight(opt.Server, "/"), hc: appclient.NewHTTPClient()}, nil
}

// Name implements [Flow].
func (o *OpenMitID) Name() string { return "openmitid/" + o.opt.Method }

// SetConcurrency tells the flow how many virtual users will run, so that each
// owns the identities u with u % concurrency == vu. [Run] does not call it;
// the caller does, before Run.
func (o *OpenMitID) SetConcurrency(n int) { o.conc = n }

// Setup implements [Flow]: it makes (or derives, for loaded identities) the
// users and, for the app, activates their devices, all before the clock.
func (o *OpenMitID) Setup(ctx context.Context, users int) error {
	if o.conc < 1 {
		o.conc = users
	}
	if users < o.conc {
		return fmt.Errorf("bench: %d identities for %d virtual users: each virtual user needs one of its own at least", users, o.conc)
	}
	var err error
	if o.opt.Users != nil {
		o.users, err = o.loadedUsers(users)
	} else {
		o.users, err = o.makeUsers(ctx, users)
	}
	if err != nil {
		return err
	}
	o.vus = make([]vuState, o.conc)
	o.vuClients = make([]*http.Client, o.conc)
	if o.opt.CheckIDToken {
		o.keys = &jwks{url: o.base + "/keys", hc: o.hc}
		if err := o.keys.refresh(ctx); err != nil {
			return fmt.Errorf("bench: reading the signing keys: %w", err)
		}
	}
	return nil
}

// Ready implements [Pacer]: it chooses the virtual user's next identity that
// may log in now, waiting when none may. A code display gives one code per
// 30-second time step, used once (RFC 6238; the server takes the steps from
// the one before now to the one after), so an identity logs in at most twice
// at once and then once per 30 s; an identity's app takes at most
// [approvalPerWindow] requests per [approvalWindow] (the server's limit
// against approval fatigue).
func (o *OpenMitID) Ready(ctx context.Context, vu int) error {
	st := &o.vus[vu]
	mine := (len(o.users) - vu + o.conc - 1) / o.conc // identities vu, vu+conc, …
	for {
		now := time.Now()
		var wait time.Duration = -1
		for range mine {
			u := o.users[vu+st.next*o.conc]
			st.next = (st.next + 1) % mine
			if d, step := o.availableIn(u, now); d == 0 {
				o.take(st, u, step, now)
				return nil
			} else if wait < 0 || d < wait {
				wait = d
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

const (
	approvalWindow    = 10 * time.Minute // approval.RateWindow
	approvalPerWindow = 10               // approval.MaxPerWindow
)

// availableIn returns how long until u may log in (0: now) and, for a code
// display, the time step to use.
func (o *OpenMitID) availableIn(u *benchUser, now time.Time) (time.Duration, int64) {
	if o.opt.Method == MethodCodeDisplay {
		cur := u.totp.Step(now)
		s := max(u.lastStep+1, cur)
		if s <= cur+1 {
			return 0, s
		}
		// Step s becomes usable when the current step is s-1.
		return time.Unix((s-1)*30, 0).Sub(now) + 10*time.Millisecond, 0
	}
	if o.opt.Method == MethodChip || len(u.used) < approvalPerWindow {
		return 0, 0 // a chip's assertions are limited by nothing but the flow
	}
	// A sliding window is at least as strict as the server's.
	oldest := u.used[len(u.used)-approvalPerWindow]
	if d := oldest.Add(approvalWindow + time.Second).Sub(now); d > 0 {
		return d, 0
	}
	return 0, 0
}

func (o *OpenMitID) take(st *vuState, u *benchUser, step int64, now time.Time) {
	st.cur, st.step = u, step
	if o.opt.Method == MethodCodeDisplay {
		u.lastStep = step
		return
	}
	if o.opt.Method == MethodChip {
		return
	}
	u.used = append(u.used, now)
	if len(u.used) > 2*approvalPerWindow {
		u.used = append(u.used[:0], u.used[len(u.used)-approvalPerWindow:]...)
	}
}

// Login implements [Flow]: one whole login as the identity Ready chose (or,
// without Ready, identity vu).
func (o *OpenMitID) Login(ctx context.Context, vu int, rec Recorder) error {
	st := &o.vus[vu]
	u, step := st.cur, st.step
	st.cur = nil
	if u == nil {
		if err := o.Ready(ctx, vu); err != nil {
			return &KindError{Kind: "timeout", Err: err}
		}
		u, step = st.cur, st.step
		st.cur = nil
	}
	b := &browser{o: o, hc: o.browserClient(vu), cookies: map[string]string{}}

	// The service provider's request, with PKCE (RFC 7636) and a nonce.
	verifier, challenge := pkce()
	state, nonce := randomString(12), randomString(12)
	t := time.Now()
	flowID, err := b.authorize(ctx, state, nonce, challenge)
	if err != nil {
		return err
	}
	rec.Step("authorize", time.Since(t))

	flowPath := "/authn/v1/flows/" + flowID
	t = time.Now()
	f, err := b.step(ctx, flowPath, map[string]any{"step": "identify", "user_id": u.UserID, "method": o.opt.Method})
	if err != nil {
		return err
	}
	rec.Step("identify", time.Since(t))

	switch o.opt.Method {
	case MethodApp:
		if f.State != "waiting_for_app" || f.BindingCode == "" {
			return &KindError{Kind: "unexpected_state", Err: fmt.Errorf("identify answered %q without a binding code", f.State)}
		}
		t = time.Now()
		if err := o.approve(ctx, b, flowPath, f, u); err != nil {
			return err
		}
		rec.Step("app", time.Since(t))
	case MethodChip:
		if f.State == "password" { // the level asked for needs chip and password
			t = time.Now()
			if f, err = b.step(ctx, flowPath, map[string]any{"step": "password", "password": u.Password}); err != nil {
				return err
			}
			rec.Step("password", time.Since(t))
		}
		if f.State != "chip" || len(f.WebAuthn) == 0 {
			return &KindError{Kind: "unexpected_state", Err: fmt.Errorf("identify answered %q without WebAuthn options, want chip", f.State)}
		}
		t = time.Now()
		resp, err := u.chip.Assert(f.WebAuthn, o.base)
		if err != nil {
			return &KindError{Kind: "chip", Err: err}
		}
		if f, err = b.step(ctx, flowPath, map[string]any{"step": "chip", "webauthn": json.RawMessage(resp)}); err != nil {
			return err
		}
		rec.Step("chip", time.Since(t))
		if f.State != "done" {
			return &KindError{Kind: "unexpected_state", Err: fmt.Errorf("chip answered %q, want done", f.State)}
		}
	case MethodCodeDisplay:
		if f.State != "password" {
			return &KindError{Kind: "unexpected_state", Err: fmt.Errorf("identify answered %q, want password", f.State)}
		}
		t = time.Now()
		if f, err = b.step(ctx, flowPath, map[string]any{"step": "password", "password": u.Password}); err != nil {
			return err
		}
		rec.Step("password", time.Since(t))
		if f.State != "code" {
			return &KindError{Kind: "unexpected_state", Err: fmt.Errorf("password answered %q, want code", f.State)}
		}
		t = time.Now()
		if f, err = b.step(ctx, flowPath, map[string]any{"step": "code", "code": u.totp.At(time.Unix(step*30, 0))}); err != nil {
			return err
		}
		rec.Step("code", time.Since(t))
		if f.State != "done" {
			return &KindError{Kind: "unexpected_state", Err: fmt.Errorf("code answered %q, want done", f.State)}
		}
	}

	t = time.Now()
	code, err := b.callback(ctx, flowID, state)
	if err != nil {
		return err
	}
	rec.Step("callback", time.Since(t))

	t = time.Now()
	idToken, err := o.exchange(ctx, code, verifier)
	if err != nil {
		return err
	}
	rec.Step("token", time.Since(t))
	if o.keys != nil {
		if err := o.keys.verify(ctx, idToken, o.base, o.opt.ClientID, nonce); err != nil {
			return &KindError{Kind: "id_token", Err: err}
		}
	}
	return nil
}

// approve is the person's part with the app: the browser waits (long poll)
// while the phone fetches the request, binds it with the code the browser
// shows and approves it; done when the browser sees the flow done.
func (o *OpenMitID) approve(ctx context.Context, b *browser, flowPath string, f *flowAnswer, u *benchUser) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var perr error
	phoneDone := make(chan struct{})
	go func() {
		defer close(phoneDone)
		if perr = phone(pctx, u.app, f.BindingCode); perr != nil {
			cancel() // the browser would wait in vain
		}
	}()
	fail := func(err error) error {
		cancel()
		<-phoneDone
		if perr != nil && !errors.Is(perr, context.Canceled) {
			err = appError(perr)
		}
		// Give the identity back: a flow left waiting keeps its request open.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		b.step(cctx, flowPath, map[string]any{"step": "cancel"})
		ccancel()
		return err
	}
	version := f.Version
	for {
		cur, err := b.get(pctx, flowPath+"?wait=25s&since="+strconv.FormatInt(version, 10))
		if err != nil {
			return fail(err)
		}
		switch cur.State {
		case "done":
			<-phoneDone
			return nil
		case "waiting_for_app":
			version = cur.Version
		default:
			return fail(&KindError{Kind: "unexpected_state", Err: fmt.Errorf("waiting for the app, the flow became %q (%s)", cur.State, cur.Error)})
		}
	}
}

// phone is what the phone does: fetch the pending request, bind it with the
// code the browser shows, approve it.
func phone(ctx context.Context, app *appclient.Client, bindingCode string) error {
	p, err := app.Next(ctx, 10*time.Second)
	if err == nil && p == nil {
		err = errors.New("no approval request reached the app")
	}
	if err != nil {
		return err
	}
	bound, err := app.Bind(ctx, p.ApprovalID, "", bindingCode)
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	s, err := app.Answer(ctx, bound, appclient.Approve)
	if err == nil && s != "approved" {
		err = fmt.Errorf("the answer left the request %q", s)
	}
	return err
}

func appError(err error) error {
	var ae *appclient.APIError
	if errors.As(err, &ae) {
		kind := ae.Code
		if kind == "" {
			kind = "http_" + strconv.Itoa(ae.Status)
		}
		return &KindError{Kind: "app_" + kind, Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &KindError{Kind: "timeout", Err: err}
	}
	return &KindError{Kind: "app", Err: err}
}

// ProbeMetrics reads process_cpu_seconds_total and
// process_resident_memory_bytes from the server's /metrics (Prometheus text
// format), for [Config.Probe].
func (o *OpenMitID) ProbeMetrics(ctx context.Context) (cpuSeconds, rssBytes float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.base+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := o.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s/metrics: %s", o.base, resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, 0, err
	}
	found := 0
	for line := range strings.Lines(string(raw)) {
		name, val, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			cpuSeconds, err = strconv.ParseFloat(val, 64)
			found++
		case "process_resident_memory_bytes":
			rssBytes, err = strconv.ParseFloat(val, 64)
			found++
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%s/metrics: %s: %v", o.base, name, err)
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("%s/metrics has no process_cpu_seconds_total or process_resident_memory_bytes", o.base)
	}
	return cpuSeconds, rssBytes, nil
}
