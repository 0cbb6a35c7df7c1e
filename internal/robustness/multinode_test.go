package robustness_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/internal/testbin"
)

// cluster is several `openmitid serve --demo` processes on one PostgreSQL
// schema with one key file, behind a round-robin balancer.
type cluster struct {
	dsn, kek, issuer string
	nodes            []*testbin.Server
	apis             []*api // straight to each node
	lb               *balancer
}

func newCluster(t *testing.T, dsn string, n int) *cluster {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	// One issuer for all: the balancer's address, under a host name (a
	// WebAuthn relying party cannot be an IP address).
	c := &cluster{dsn: dsn, kek: newKEK(t), issuer: "http://localhost:" + port}
	dir := t.TempDir()
	var urls []string
	for range n {
		s := testbin.Serve(t, dir, nil, "--db", dsn, "--kek-file", c.kek, "--demo", "--issuer", c.issuer,
			"--trusted-proxies", "127.0.0.1")
		c.nodes = append(c.nodes, s)
		c.apis = append(c.apis, newAPI(s.URL, nil))
		urls = append(urls, s.URL)
	}
	c.lb = newBalancer(t, ln, urls)
	return c
}

// TestSeveralNodes runs three nodes on one PostgreSQL database behind a
// balancer without sticky sessions, and checks that a login does not care
// which node serves which of its requests.
func TestSeveralNodes(t *testing.T) {
	heavy(t)
	c := newCluster(t, storetest.DSN(t, store.Postgres), 3)
	t.Run("the app's answer wakes a browser waiting on another node", func(t *testing.T) {
		crossNodeWake(t, c.apis[0], c.apis[1], c.nodes[2].URL, 3)
	})
	t.Run("an OpenID login hops nodes at every step", func(t *testing.T) { oidcAcrossNodes(t, c) })
	t.Run("logins through the round-robin balancer", func(t *testing.T) { throughBalancer(t, c) })
}

// crossNodeWake starts app logins on node a, has a browser long-poll them on
// node b and the app answer on the node at appURL, and checks, trials times,
// that the answer reaches the browser by notification: node b's count of
// waiters woken by a notification goes up while the browser waits (node b
// itself writes nothing, so only PostgreSQL LISTEN/NOTIFY can have told it),
// and the browser has its answer well within the 2-second re-check.
func crossNodeWake(t *testing.T, a, b *api, appURL string, trials int) []time.Duration {
	t.Helper()
	ctx := context.Background()
	p := mustPerson(t, a, "app")
	app, err := activate(ctx, appURL, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	for i := range trials {
		f, err := startFlow(ctx, a, "substantial")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.step(ctx, a, map[string]any{"step": "identify", "user_id": p.UserID, "method": "app"}); err != nil || f.State != "waiting_for_app" {
			t.Fatalf("identify: %v %s", err, f.Last)
		}
		code := f.Last.str("binding_code") // before the poll goroutine owns f
		type polled struct {
			r   reply
			err error
			at  time.Time
		}
		done := make(chan polled, 1)
		go func() {
			r, err := f.look(ctx, b, 25*time.Second)
			done <- polled{r, err, time.Now()}
		}()
		// The poll is parked once b counts it in flight beside the scrape
		// itself; give it a moment more to load the flow and subscribe.
		if !waitFor(10*time.Second, func() bool {
			m, err := metrics(ctx, b.base)
			return err == nil && m["openmitid_http_requests_in_flight"] >= 2
		}) {
			t.Fatal("the long poll never reached node b")
		}
		time.Sleep(300 * time.Millisecond)
		before := metric(t, b.base, "openmitid_notification_wakeups_total")
		if _, err := approve(ctx, app, code); err != nil {
			t.Fatalf("trial %d: %v", i, err)
		}
		answered := time.Now()
		var res polled
		select {
		case res = <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the long poll did not return")
		}
		if res.err != nil || res.r.Status != http.StatusOK || res.r.str("state") != "done" {
			t.Fatalf("trial %d: the browser on the other node saw %v %s", i, res.err, res.r)
		}
		woke := metric(t, b.base, "openmitid_notification_wakeups_total") - before
		delay := max(0, res.at.Sub(answered))
		delays = append(delays, delay)
		if woke < 1 {
			t.Errorf("trial %d: no notification woke the waiter on node b (answered %s before the poll returned)", i, ms(delay))
		}
		if delay > 1500*time.Millisecond {
			t.Errorf("trial %d: the answer took %s to reach the other node; the 2 s re-check, not a notification, woke it", i, ms(delay))
		}
	}
	t.Logf("app answer → browser on another node: %v (notification wake-ups counted on the waiting node)", delays)
	return delays
}

// browser is a person's browser: cookies for every node (cookies ignore the
// port), no automatic redirects.
type browser struct {
	hc   *http.Client
	apis []*api
}

func newBrowser(nodes []*api) *browser {
	jar, _ := cookiejar.New(nil)
	hc := newHTTPClient("")
	hc.Jar = jar
	b := &browser{hc: hc}
	for _, n := range nodes {
		b.apis = append(b.apis, newAPI(n.base, hc))
	}
	return b
}

// relative turns an absolute Location under the issuer into a path.
func relative(loc, issuer string) string {
	if rest, ok := strings.CutPrefix(loc, issuer); ok {
		return rest
	}
	return loc
}

func oidcAcrossNodes(t *testing.T, c *cluster) {
	ctx := context.Background()
	p := mustPerson(t, c.apis[1], "code_display")
	br := newBrowser(c.apis)
	A, B, C := br.apis[0], br.apis[1], br.apis[2]

	var vb [32]byte
	rand.Read(vb[:])
	verifier := base64.RawURLEncoding.EncodeToString(vb[:])
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://127.0.0.1:53117/callback"
	q := url.Values{"client_id": {"demo"}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"openid profile"}, "state": {"st-several"}, "nonce": {"n-several"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}

	r, err := A.get(ctx, "/authorize?"+q.Encode(), nil) // node A
	loc := relative(r.Header.Get("Location"), c.issuer)
	if err != nil || r.Status != http.StatusFound || !strings.HasPrefix(loc, "/authorize/start") {
		t.Fatalf("authorize on A: %v %s %s", err, r, loc)
	}
	r, err = B.get(ctx, loc, nil) // node B
	loc = relative(r.Header.Get("Location"), c.issuer)
	if err != nil || r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login/") {
		t.Fatalf("start on B: %v %s %s", err, r, loc)
	}
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/login/")
	u, _ := url.Parse(c.nodes[0].URL)
	f := &flow{ID: id}
	for _, ck := range br.hc.Jar.Cookies(u) {
		if ck.Name == "omid_flow_"+id {
			f.Token = ck.Value
		}
	}
	if f.Token == "" {
		t.Fatal("the browser got no flow cookie")
	}
	steps := []struct {
		at   *api
		body map[string]any
	}{
		{B, map[string]any{"step": "identify", "user_id": p.UserID, "method": "code_display"}},
		{C, map[string]any{"step": "password", "password": p.Password}},
		{A, map[string]any{"step": "code", "code": p.nextCode(time.Now())}},
	}
	for _, s := range steps {
		if _, err := f.step(ctx, s.at, s.body); err != nil {
			t.Fatal(err)
		}
	}
	if f.State != "done" {
		t.Fatalf("login: %s", f.Last)
	}
	// Finish on B; the provider's own redirects on C, then A.
	r, err = B.get(ctx, "/authorize/finish/"+id, nil)
	loc = r.Header.Get("Location")
	for i := 0; err == nil && r.Status == http.StatusFound && !strings.HasPrefix(loc, redirect) && i < 3; i++ {
		r, err = br.apis[(2+i)%3].get(ctx, relative(loc, c.issuer), nil)
		loc = r.Header.Get("Location")
	}
	if err != nil || !strings.HasPrefix(loc, redirect) {
		t.Fatalf("finish: %v %s %s", err, r, loc)
	}
	back, _ := url.Parse(loc)
	if back.Query().Get("state") != "st-several" || back.Query().Get("code") == "" {
		t.Fatalf("back at the service provider with %v", back.Query())
	}
	// The code is exchanged at C, whose node saw none of the login.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, c.nodes[2].URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo", "demo-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	idToken, _ := tok["id_token"].(string)
	if resp.StatusCode != http.StatusOK || idToken == "" {
		t.Fatalf("token on C: %d %v", resp.StatusCode, tok)
	}
	// Every node publishes the same keys, and the token verifies with each.
	var kids [][]string
	for i, n := range c.nodes {
		set := jwks(t, n.URL)
		var ks []string
		for _, k := range set.Keys {
			ks = append(ks, k.KeyID)
		}
		slices.Sort(ks)
		kids = append(kids, ks)
		claims := verifyWith(t, set, idToken)
		if claims["iss"] != c.issuer || claims["nonce"] != "n-several" {
			t.Errorf("node %d: ID token claims %v", i, claims)
		}
	}
	if !slices.Equal(kids[0], kids[1]) || !slices.Equal(kids[0], kids[2]) {
		t.Errorf("the nodes publish different keys: %v", kids)
	}
	// The access token works on yet another node.
	req, _ = http.NewRequest(http.MethodGet, c.nodes[1].URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("userinfo on B: %d", resp.StatusCode)
	}
	t.Logf("authorize on A, start and identify on B, password on C, code on A, finish on B, token on C, userinfo on B; %d keys alike on 3 nodes", len(kids[0]))
}

func jwks(t *testing.T, base string) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(base + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set
}

func verifyWith(t *testing.T, set jose.JSONWebKeySet, raw string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the ID token's key %q is not published", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("the ID token does not verify: %v", err)
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	return claims
}

// throughBalancer runs whole logins with every request through the balancer
// (so each goes to the next node), from a client address the nodes learn
// from X-Forwarded-For.
func throughBalancer(t *testing.T, c *cluster) {
	ctx := context.Background()
	const client = "127.0.0.77"
	hc := newHTTPClient(client)
	lb := newAPI(c.lb.URL, hc)
	before := c.lb.Served()
	const people = 3
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		flows  []string
		errs   []error
		delays []time.Duration
	)
	for range people {
		p := mustPerson(t, lb, "app", "code_display")
		app, err := activate(ctx, c.lb.URL, p, hc)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
			for range 2 {
				f, err := startFlow(ctx, lb, "substantial")
				if err != nil {
					fail(err)
					return
				}
				if _, err := f.step(ctx, lb, map[string]any{"step": "identify", "user_id": p.UserID, "method": "app"}); err != nil {
					fail(err)
					return
				}
				code := f.Last.str("binding_code") // before the poll goroutine owns f
				polled := make(chan error, 1)
				var at time.Time
				go func() {
					for i := 0; i < 5 && f.State == "waiting_for_app"; i++ {
						if r, err := f.look(ctx, lb, 25*time.Second); err != nil || r.Status != http.StatusOK {
							polled <- fmt.Errorf("poll: %v %s", err, r)
							return
						}
					}
					at = time.Now()
					polled <- nil
				}()
				if _, err := approve(ctx, app, code); err != nil {
					fail(err)
					return
				}
				answered := time.Now()
				if err := <-polled; err != nil || f.State != "done" {
					fail(fmt.Errorf("app login through the balancer: %v %s", err, f.Last))
					return
				}
				mu.Lock()
				flows = append(flows, f.ID)
				delays = append(delays, max(0, at.Sub(answered)))
				mu.Unlock()
			}
			f, err := codeLogin(ctx, p, lb)
			if err != nil {
				fail(fmt.Errorf("code login through the balancer: %w", err))
				return
			}
			mu.Lock()
			flows = append(flows, f.ID)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	served := c.lb.Served()
	for i := range served {
		served[i] -= before[i]
		if served[i] == 0 {
			t.Errorf("node %d served nothing through the balancer: %v", i, served)
		}
	}
	// The nodes believed the balancer's X-Forwarded-For (--trusted-proxies)
	// and saw the browser's address, not the balancer's.
	db, err := sql.Open("pgx", c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range flows {
		var origin string
		if err := db.QueryRow("SELECT origin_ip FROM login_flows WHERE id = $1", id).Scan(&origin); err != nil || origin != client {
			t.Errorf("flow %s: origin %q (%v), want the browser's %s", id, origin, err, client)
		}
	}
	t.Logf("%d logins through the balancer; requests per node %v; app answer → browser %v", len(flows), served, delays)
}
