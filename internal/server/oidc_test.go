package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/store"
)

// rp is a service provider as the tests play it: a browser (cookie jar, no
// automatic redirects) and the back channel.
type rp struct {
	n            *node
	client       string
	secret       string
	redirect     string
	browser      *http.Client
	verifier     string
	state, nonce string
}

func newRP(t *testing.T, n *node, client, secret, redirect string) *rp {
	jar, _ := cookiejar.New(nil)
	return &rp{n: n, client: client, secret: secret, redirect: redirect, browser: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *rp) authorizeURL(extra url.Values) string {
	c.verifier = base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("v", 32) + c.client))
	sum := sha256.Sum256([]byte(c.verifier))
	c.state, c.nonce = "st-"+c.client, "nonce-"+c.client
	q := url.Values{"client_id": {c.client}, "response_type": {"code"}, "redirect_uri": {c.redirect},
		"scope": {"openid profile age"}, "state": {c.state}, "nonce": {c.nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	return c.n.URL + "/authorize?" + q.Encode()
}

// get fetches a URL in the browser and returns the status and Location.
func (c *rp) get(t *testing.T, u string) (int, string, string) {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = c.n.URL + u
	}
	resp, err := c.browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// begin goes from /authorize to the login pages and returns the flow.
func (c *rp) begin(t *testing.T, extra url.Values) *flow {
	t.Helper()
	code, loc, body := c.get(t, c.authorizeURL(extra))
	if code != http.StatusFound || !strings.HasPrefix(loc, "/authorize/start") {
		t.Fatalf("authorize: %d %s %s", code, loc, body)
	}
	code, loc, body = c.get(t, loc)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login/") {
		t.Fatalf("login start: %d %s %s", code, loc, body)
	}
	f := c.flowAt(t, loc)
	f.refresh(t)
	return f
}

// flowAt returns the flow of a login page's location, with the token the
// browser holds for it in its cookie.
func (c *rp) flowAt(t *testing.T, loc string) *flow {
	t.Helper()
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/login/")
	u, _ := url.Parse(c.n.URL)
	for _, ck := range c.browser.Jar.Cookies(u) {
		if ck.Name == "omid_flow_"+id {
			return &flow{n: c.n, ID: id, Token: ck.Value}
		}
	}
	t.Fatalf("no flow cookie for %s", loc)
	return nil
}

// finish follows the browser back to the service provider and returns the
// redirect's query.
func (c *rp) finish(t *testing.T, f *flow) url.Values {
	t.Helper()
	code, loc, body := c.get(t, "/authorize/finish/"+f.ID)
	for i := 0; code == http.StatusFound && !strings.HasPrefix(loc, c.redirect) && i < 3; i++ {
		code, loc, body = c.get(t, loc)
	}
	if code != http.StatusFound || !strings.HasPrefix(loc, c.redirect) {
		t.Fatalf("finish: %d %s %s", code, loc, body)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// exchange redeems a code at the token endpoint.
func (c *rp) exchange(t *testing.T, code string, form url.Values) (int, map[string]any) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirect}, "code_verifier": {c.verifier}}
	for k, v := range form {
		f[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, c.n.URL+"/oauth/token", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.secret != "" && form.Get("client_assertion") == "" && form.Get("client_secret") == "" {
		req.SetBasicAuth(c.client, c.secret)
	}
	return do(t, req)
}

// verifyIDToken checks an ID token's signature against the published keys
// and returns its header algorithm and claims.
func verifyIDToken(t *testing.T, n *node, raw string) (string, map[string]any) {
	t.Helper()
	resp, err := http.Get(n.URL + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the ID token's key %q is not published", h.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("the ID token's signature: %v", err)
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	return h.Algorithm, claims
}

func codeLogin(t *testing.T, n *node, c *rp, p *person, extra url.Values) (url.Values, *flow) {
	t.Helper()
	f := c.begin(t, extra)
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "code_display"})
	f.step(t, map[string]any{"step": "password", "password": p.Password})
	f.step(t, map[string]any{"step": "code", "code": totp(t, p.TOTPSecret, n.clock.Now())})
	if f.state() != "done" {
		t.Fatalf("login: %v", f.Last)
	}
	return c.finish(t, f), f
}

func TestOIDCCodeFlow(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		p := n.person(t, "code_display")
		c := newRP(t, n, "demo", "demo-secret", "http://127.0.0.1:53117/callback")
		q, _ := codeLogin(t, n, c, p, url.Values{"acr_values": {"https://data.gov.dk/concept/core/nsis/Substantial"}})
		if q.Get("state") != c.state || q.Get("code") == "" {
			t.Fatalf("redirect: %v", q)
		}
		code := q.Get("code")
		status, tok := c.exchange(t, code, nil)
		if status != 200 {
			t.Fatalf("exchange: %d %v", status, tok)
		}
		alg, claims := verifyIDToken(t, n, tok["id_token"].(string))
		want := map[string]any{"iss": n.Issuer, "aud": "demo", "nonce": c.nonce,
			"acr": "https://data.gov.dk/concept/core/nsis/Substantial",
			"loa": "https://data.gov.dk/concept/core/nsis/Substantial", "ial": "https://data.gov.dk/concept/core/nsis/High",
			"aal": "https://data.gov.dk/concept/core/nsis/Substantial"}
		for k, v := range want {
			if got := claims[k]; got != v && !(k == "aud" && strings.Contains(mustJSON(got), "demo")) {
				t.Errorf("ID token %s = %v, want %v", k, got, v)
			}
		}
		if alg != "RS256" || claims["sub"] == p.UUID || claims["sub"] == "" || claims["name"] == nil || claims["age"] == nil {
			t.Errorf("ID token alg %s, claims %v", alg, claims)
		}
		if amr := mustJSON(claims["amr"]); amr != `["password","code_token"]` {
			t.Errorf("amr %s", amr)
		}
		if _, ok := claims["cpr"]; ok {
			t.Error("cpr was given without the cpr scope")
		}
		// The code is single-use.
		if status, body := c.exchange(t, code, nil); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("a replayed code: %d %v", status, body)
		}
		// The access token reads userinfo.
		req, _ := http.NewRequest(http.MethodGet, n.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		if status, ui := do(t, req); status != 200 || ui["sub"] != claims["sub"] || ui["loa"] == nil {
			t.Errorf("userinfo: %d %v", status, ui)
		}
	})
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestOIDCCodeBinding(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "code_display")
	other := n.client(t, "other-bank", "ES256", "")
	c := newRP(t, n, "demo", "demo-secret", "http://127.0.0.1:53117/callback")
	tries := []struct {
		name string
		form url.Values
		as   *rp
	}{
		{"wrong verifier", url.Values{"code_verifier": {strings.Repeat("x", 43)}}, c},
		{"wrong redirect", url.Values{"redirect_uri": {"http://127.0.0.1:9/callback"}}, c},
		{"another client", nil, other},
		{"wrong secret", url.Values{"client_secret": {"guess"}}, newRP(t, n, "demo", "", c.redirect)},
	}
	for _, tt := range tries {
		n.clock.Add(30 * time.Second) // a new code from the code display each time
		q, _ := codeLogin(t, n, c, p, nil)
		tt.as.verifier = c.verifier
		tt.as.redirect = c.redirect
		status, body := tt.as.exchange(t, q.Get("code"), tt.form)
		if status < 400 || (body["error"] != "invalid_grant" && body["error"] != "invalid_client") {
			t.Errorf("%s: %d %v", tt.name, status, body)
		}
		// Whatever failed, the code is spent.
		if status, _ := c.exchange(t, q.Get("code"), nil); status == 200 {
			t.Errorf("%s: the code still worked afterwards", tt.name)
		}
	}
}

// TestOIDCCodeRace: one code sent to the token endpoint by several requests at
// once is exchanged by exactly one of them (RFC 6749, section 4.1.2), on
// either database; the others get invalid_grant.
func TestOIDCCodeRace(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		p := n.person(t, "code_display")
		c := newRP(t, n, "demo", "demo-secret", "http://127.0.0.1:53117/callback")
		q, _ := codeLogin(t, n, c, p, nil)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {c.redirect},
			"code_verifier": {c.verifier}}.Encode()
		const racers = 6
		statuses := make([]int, racers)
		bodies := make([]map[string]any, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, n.URL+"/oauth/token", strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(c.client, c.secret)
				<-start
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				statuses[i] = resp.StatusCode
				json.NewDecoder(resp.Body).Decode(&bodies[i])
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, st := range statuses {
			switch {
			case st == 200 && bodies[i]["id_token"] != nil:
				ok++
			case st == 400 && bodies[i]["error"] == "invalid_grant":
			default:
				t.Errorf("racer %d: %d %v", i, st, bodies[i])
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d exchanges of one code got tokens, want 1: %v", ok, racers, statuses)
		}
	})
}

// TestOIDCFinish: a done login goes straight back to the service provider
// with its code (no hop through op's callback), a reload of the finish page
// before the exchange replaces the code and after it gives none, and
// response_mode=fragment puts the code in the fragment.
func TestOIDCFinish(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "code_display")
	c := newRP(t, n, "demo", "demo-secret", "http://127.0.0.1:53117/callback")
	f := c.begin(t, nil)
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "code_display"})
	f.step(t, map[string]any{"step": "password", "password": p.Password})
	f.step(t, map[string]any{"step": "code", "code": totp(t, p.TOTPSecret, n.clock.Now())})
	status, loc, body := c.get(t, "/authorize/finish/"+f.ID)
	u, _ := url.Parse(loc)
	if status != http.StatusFound || !strings.HasPrefix(loc, c.redirect+"?") || u.Query().Get("code") == "" || u.Query().Get("state") != c.state {
		t.Fatalf("finish: %d %s %s", status, loc, body)
	}
	code := u.Query().Get("code")
	// A reload (the first answer may never have reached the browser): a new
	// code, and the one before stops working.
	status, loc, _ = c.get(t, "/authorize/finish/"+f.ID)
	u, _ = url.Parse(loc)
	second := u.Query().Get("code")
	if status != http.StatusFound || !strings.HasPrefix(loc, c.redirect+"?") || second == "" || second == code {
		t.Fatalf("a reload of the finish page: %d %s", status, loc)
	}
	if st, body := c.exchange(t, code, nil); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("the replaced code: %d %v", st, body)
	}
	if st, tok := c.exchange(t, second, nil); st != 200 || tok["id_token"] == nil {
		t.Fatalf("exchange of the reissued code: %d %v", st, tok)
	}
	// Once redeemed, a reload gets a page, no code.
	if status, loc, body = c.get(t, "/authorize/finish/"+f.ID); status != http.StatusBadRequest || loc != "" || !strings.Contains(body, "<h1>") {
		t.Fatalf("a reload after the exchange: %d %s", status, loc)
	}
	// op's callback is not served: finish answers with the code itself.
	if status, _, _ = c.get(t, "/authorize/callback?id=x"); status != http.StatusNotFound {
		t.Errorf("/authorize/callback: %d, want 404", status)
	}

	// The fragment, if asked for.
	n.clock.Add(30 * time.Second) // a new code from the code display
	f = c.begin(t, url.Values{"response_mode": {"fragment"}})
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "code_display"})
	f.step(t, map[string]any{"step": "password", "password": p.Password})
	f.step(t, map[string]any{"step": "code", "code": totp(t, p.TOTPSecret, n.clock.Now())})
	status, loc, body = c.get(t, "/authorize/finish/"+f.ID)
	u, _ = url.Parse(loc)
	frag, _ := url.ParseQuery(u.Fragment)
	if status != http.StatusFound || !strings.HasPrefix(loc, c.redirect+"#") || frag.Get("code") == "" || frag.Get("state") != c.state {
		t.Fatalf("fragment finish: %d %s %s", status, loc, body)
	}
	if st, tok := c.exchange(t, frag.Get("code"), nil); st != 200 || tok["id_token"] == nil {
		t.Fatalf("exchange of the fragment's code: %d %v", st, tok)
	}
}

func TestOIDCAuthorizeErrors(t *testing.T) {
	n := newNode(t, store.SQLite)
	c := newRP(t, n, "demo", "demo-secret", "http://127.0.0.1:53117/callback")
	base, _ := url.Parse(c.authorizeURL(nil))
	mutate := func(f func(q url.Values)) string {
		q := base.Query()
		f(q)
		return n.URL + "/authorize?" + q.Encode()
	}
	page := []struct{ name, u string }{
		{"unregistered redirect", mutate(func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") })},
		{"malformed redirect", mutate(func(q url.Values) { q.Set("redirect_uri", "::not a uri") })},
		{"missing client", mutate(func(q url.Values) { q.Del("client_id") })},
		{"unknown client", mutate(func(q url.Values) { q.Set("client_id", "nobody") })},
		{"repeated parameter", base.String() + "&scope=openid"},
		{"oversized", mutate(func(q url.Values) { q.Set("state", strings.Repeat("s", 9000)) })},
		{"unknown request_uri", n.URL + "/authorize?client_id=demo&request_uri=urn:ietf:params:oauth:request_uri:nope"},
	}
	for _, tt := range page {
		status, loc, body := c.get(t, tt.u)
		if status < 400 || loc != "" || !strings.Contains(body, "<h1>") {
			t.Errorf("%s: %d Location=%q; want an error page and no redirect", tt.name, status, loc)
		}
	}
	redirect := []struct {
		name, u, err string
	}{
		{"no PKCE", mutate(func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }), "invalid_request"},
		{"plain PKCE", mutate(func(q url.Values) { q.Set("code_challenge_method", "plain") }), "invalid_request"},
		{"unknown level", mutate(func(q url.Values) { q.Set("acr_values", "medium") }), "invalid_request"},
		{"unknown loa_value", mutate(func(q url.Values) { q.Set("loa_value", "extreme") }), "invalid_request"},
		{"prompt none", mutate(func(q url.Values) { q.Set("prompt", "none") }), "login_required"},
		{"token response", mutate(func(q url.Values) { q.Set("response_type", "token") }), ""},
		{"long reference text", mutate(func(q url.Values) { q.Set("reference_text", strings.Repeat("x", 131)) }), "invalid_request"},
		{"no openid scope", mutate(func(q url.Values) { q.Set("scope", "profile") }), "invalid_scope"},
		{"form_post", mutate(func(q url.Values) { q.Set("response_mode", "form_post") }), "invalid_request"},
		{"unknown response_mode", mutate(func(q url.Values) { q.Set("response_mode", "web_message") }), "invalid_request"},
	}
	for _, tt := range redirect {
		status, loc, _ := c.get(t, tt.u)
		if status != http.StatusFound || !strings.HasPrefix(loc, c.redirect) {
			t.Errorf("%s: %d %q; want a redirect to the client", tt.name, status, loc)
			continue
		}
		u, _ := url.Parse(loc)
		if u.Query().Get("error") == "" || (tt.err != "" && u.Query().Get("error") != tt.err) || u.Query().Get("state") != c.state {
			t.Errorf("%s: redirected with %v; want error %s and the state", tt.name, u.Query(), tt.err)
		}
	}
}

// TestOIDCScopes: a scope the client may not have is not granted (RFC 6749,
// Section 3.3 lets the server ignore it), and the CPR number goes only to a
// client allowed to see it.
func TestOIDCScopes(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "code_display")
	bank := n.client(t, "plain-bank", "RS256", "")
	q, _ := codeLogin(t, n, bank, p, url.Values{"scope": {"openid profile cpr payments"}})
	_, tok := bank.exchange(t, q.Get("code"), nil)
	_, claims := verifyIDToken(t, n, tok["id_token"].(string))
	if _, ok := claims["cpr"]; ok || claims["name"] == nil {
		t.Fatalf("a client not allowed CPR numbers got %v", claims)
	}
	n.clock.Add(30 * time.Second)
	demo := newRP(t, n, "demo", "demo-secret", "http://127.0.0.1:53117/callback")
	q, _ = codeLogin(t, n, demo, p, url.Values{"scope": {"openid cpr"}})
	_, tok = demo.exchange(t, q.Get("code"), nil)
	_, claims = verifyIDToken(t, n, tok["id_token"].(string))
	if claims["cpr"] != strings.ReplaceAll(p.CPR, "-", "") {
		t.Fatalf("the demo client (allowed CPR) got cpr %v, want %s", claims["cpr"], p.CPR)
	}
	if claims["name"] != nil {
		t.Fatal("profile claims without the profile scope")
	}
}

func TestOIDCLevels(t *testing.T) {
	n := newNode(t, store.SQLite)
	ctx := context.Background()
	p := n.person(t, "app", "code_display")
	app := n.activate(t, p)
	c := newRP(t, n, "demo", "demo-secret", "http://localhost:5599/callback")
	// High cannot be reached without a chip: an OpenID error, never a lower level.
	f := c.begin(t, url.Values{"acr_values": {"https://data.gov.dk/concept/core/nsis/High"}})
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
	if f.state() != "failed" {
		t.Fatalf("high without a chip: %v", f.Last)
	}
	q := c.finish(t, f)
	if q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Fatalf("high without a chip gave %v", q)
	}
	// loa_value asks too; the app reaches substantial.
	f = c.begin(t, url.Values{"loa_value": {"substantial"}, "reference_text": {base64.StdEncoding.EncodeToString([]byte("Underskriv lejekontrakt"))}, "action_text": {"APPROVE"}})
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
	req, _, err := app.ApproveNext(ctx, time.Second, f.Last["binding_code"].(string), approval.Approve)
	if err != nil || req.ReferenceText != "Underskriv lejekontrakt" || req.ActionText != "APPROVE" {
		t.Fatalf("the app was shown %+v (%v)", req, err)
	}
	f.refresh(t)
	q = c.finish(t, f)
	_, tok := c.exchange(t, q.Get("code"), nil)
	_, claims := verifyIDToken(t, n, tok["id_token"].(string))
	if claims["loa"] != "https://data.gov.dk/concept/core/nsis/Substantial" || mustJSON(claims["amr"]) != `["code_app"]` {
		t.Fatalf("claims %v", claims)
	}
}
