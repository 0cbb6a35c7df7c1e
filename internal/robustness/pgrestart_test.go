package robustness_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// outcome is one request made while PostgreSQL restarts.
type outcome struct {
	what       string // create, identify, poll, app, testtool, readyz
	node       int
	start, end time.Time
	status     int    // 0: no HTTP answer
	code       string // the JSON error's code
	retryAfter string
	jsonError  bool // the body was a JSON error
	html       bool // a page for a browser, not a JSON API
	err        error
}

type timeline struct {
	mu   sync.Mutex
	outs []outcome
	done []time.Time // when whole logins succeeded
}

func (tl *timeline) add(o outcome) { tl.mu.Lock(); tl.outs = append(tl.outs, o); tl.mu.Unlock() }

// call makes a request with a and records its outcome.
func (tl *timeline) call(what string, node int, fn func() (reply, error)) (reply, error) {
	start := time.Now()
	r, err := fn()
	o := outcome{what: what, node: node, start: start, end: time.Now(), status: r.Status, code: r.str("error"),
		retryAfter: r.Header.Get("Retry-After"), jsonError: r.str("error") != "",
		html: strings.HasPrefix(r.Header.Get("Content-Type"), "text/html")}
	if err != nil && r.Status == 0 {
		o.err = err
	}
	tl.add(o)
	return r, err
}

// app records an app API call.
func (tl *timeline) app(what string, node int, fn func() error) error {
	start := time.Now()
	err := fn()
	o := outcome{what: what, node: node, start: start, end: time.Now(), status: http.StatusOK}
	if err != nil {
		var e *appclient.APIError
		if errors.As(err, &e) {
			o.status, o.code, o.jsonError = e.Status, e.Code, e.Code != ""
			if e.RetryAfter > 0 || e.Status == http.StatusServiceUnavailable {
				o.retryAfter = fmt.Sprint(int(e.RetryAfter / time.Second))
			}
		} else {
			o.status, o.err = 0, err
		}
	}
	tl.add(o)
	return err
}

// TestPostgresRestart stops PostgreSQL under two nodes while logins, test
// identities and readiness checks run against them, and starts it again:
// meanwhile every request must fail fast with a 503, a JSON error and
// Retry-After (never hang, never a 500), /readyz must say not ready, and once
// the database is back the nodes must recover by themselves: ready, logins
// succeeding, the notification listener connected again. It uses a
// PostgreSQL server of its own, so that the restart disturbs no other test.
func TestPostgresRestart(t *testing.T) {
	heavy(t)
	ctx := context.Background()
	pg := startPostgres(t)
	c := newCluster(t, pg.URL(), 2)
	A, B := c.apis[0], c.apis[1]
	crossNodeWake(t, A, B, c.nodes[0].URL, 1)

	var people []*person
	var apps []*appclient.Client
	for range 12 {
		p := mustPerson(t, A, "app")
		app, err := activate(ctx, c.nodes[0].URL, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		people, apps = append(people, p), append(apps, app)
	}

	var tl timeline
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	pause := func(d time.Duration) {
		select {
		case <-wctx.Done():
		case <-time.After(d):
		}
	}
	for w := range 2 { // app logins: the flow on one node, the browser waiting on the other, the app on the first
		wg.Go(func() {
			home, away := c.apis[w], c.apis[1-w]
			for i := w; wctx.Err() == nil; i += 2 {
				p, app := people[i%len(people)], apps[i%len(people)]
				if p.requests.Load() >= approval.MaxPerWindow {
					pause(50 * time.Millisecond)
					continue
				}
				appLoginRecorded(wctx, &tl, w, home, away, p, app)
				pause(100 * time.Millisecond)
			}
		})
	}
	wg.Go(func() { // test identities on the second node
		for wctx.Err() == nil {
			tl.call("testtool", 1, func() (reply, error) {
				_, r, err := createPerson(wctx, B, map[string]any{"authenticators": []string{"code_display"}})
				return r, err
			})
			pause(200 * time.Millisecond)
		}
	})
	for i, n := range c.apis { // readiness, as a load balancer asks
		wg.Go(func() {
			for wctx.Err() == nil {
				tl.call("readyz", i, func() (reply, error) { return n.get(wctx, "/readyz", nil) })
				pause(250 * time.Millisecond)
			}
		})
	}

	time.Sleep(1500 * time.Millisecond)
	// Twice: the second outage finds the listeners after a reconnection.
	var outages []outage
	for _, hold := range []time.Duration{3 * time.Second, 2 * time.Second} {
		o := restart(t, pg, c, &tl, hold)
		outages = append(outages, o)
		time.Sleep(1500 * time.Millisecond)
	}
	stop()
	wg.Wait()
	// The answer reaches the browser on the other node by notification again.
	crossNodeWake(t, A, B, c.nodes[0].URL, 2)

	// Every request failed properly: no 500, no 503 without its JSON and Retry-After.
	for _, o := range tl.outs {
		switch {
		case o.err != nil && errors.Is(o.err, context.Canceled):
			// the test stopping its workers
		case o.err != nil:
			t.Errorf("%s on node %d got no answer: %v", o.what, o.node, o.err)
		case o.status >= 500 && o.status != http.StatusServiceUnavailable:
			t.Errorf("%s on node %d: %d %s", o.what, o.node, o.status, o.code)
		case o.status == http.StatusServiceUnavailable && ((!o.jsonError && !o.html) || o.retryAfter == ""):
			t.Errorf("%s on node %d: 503 without a JSON error (%q) or Retry-After (%q)", o.what, o.node, o.code, o.retryAfter)
		case o.status >= 400 && !o.jsonError && !o.html:
			t.Errorf("%s on node %d: %d without a JSON error", o.what, o.node, o.status)
		}
	}
	for i, o := range outages {
		o.check(t, &tl, i)
	}
	t.Logf("%d logins in all", len(tl.done))
}

// outage is one stop and start of PostgreSQL, and how the nodes took it.
type outage struct {
	down, stopped, started     time.Time
	ready, loggedIn, listening time.Duration
}

// restart stops PostgreSQL for hold and starts it again, checking /readyz
// meanwhile and waiting for the nodes to recover.
func restart(t *testing.T, pg *pgServer, c *cluster, tl *timeline, hold time.Duration) outage {
	t.Helper()
	ctx := context.Background()
	var o outage
	pr := prepareProbes(t, c)
	o.down = time.Now()
	pg.Stop(t)
	o.stopped = time.Now()
	time.Sleep(hold / 2)
	pr.run(tl)
	time.Sleep(hold / 2)
	for i, n := range c.apis {
		r, err := n.get(ctx, "/readyz", nil)
		if err != nil || r.Status != http.StatusServiceUnavailable || r.str("error") != "not_ready" {
			t.Errorf("node %d /readyz with PostgreSQL down: %v %s", i, err, r)
		}
	}
	pg.Start(t)
	o.started = time.Now()

	// The nodes come back by themselves: ready, logins succeeding, the
	// listeners connected; each timed on its own.
	ready := func() bool {
		for _, n := range c.apis {
			if r, err := n.get(ctx, "/readyz", nil); err != nil || r.Status != http.StatusOK {
				return false
			}
		}
		return true
	}
	loggedIn := func() bool {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		return len(tl.done) > 0 && tl.done[len(tl.done)-1].After(o.started)
	}
	listening := func() bool {
		for _, n := range c.nodes {
			m, err := metrics(ctx, n.URL)
			if err != nil || m["openmitid_notification_listener_up"] != 1 {
				return false
			}
		}
		return true
	}
	waitFor(30*time.Second, func() bool {
		for _, w := range []struct {
			d    *time.Duration
			cond func() bool
		}{{&o.ready, ready}, {&o.loggedIn, loggedIn}, {&o.listening, listening}} {
			if *w.d == 0 && w.cond() {
				*w.d = time.Since(o.started)
			}
		}
		return o.ready > 0 && o.loggedIn > 0 && o.listening > 0
	})
	switch {
	case o.ready == 0:
		t.Fatal("the nodes did not become ready within 30 s of PostgreSQL's return")
	case o.loggedIn == 0:
		t.Fatal("no login succeeded within 30 s of PostgreSQL's return")
	case o.listening == 0:
		t.Fatal("the notification listeners did not reconnect within 30 s of PostgreSQL's return")
	}
	return o
}

// probes are one request of every kind a node serves, made while the
// database is away: JSON APIs, pages and the OpenID endpoints.
type probes struct {
	c          *cluster
	identify   *flow // a login waiting for its user ID
	waiting    *flow // a login waiting for the app
	app        *appclient.Client
	approvalID string
	userID     string
}

func prepareProbes(t *testing.T, c *cluster) *probes {
	t.Helper()
	ctx := context.Background()
	A := c.apis[0]
	p := mustPerson(t, A, "app")
	app, err := activate(ctx, c.nodes[0].URL, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	pr := &probes{c: c, app: app, userID: p.UserID}
	if pr.identify, err = startFlow(ctx, A, "substantial"); err != nil {
		t.Fatal(err)
	}
	if pr.waiting, err = startFlow(ctx, A, "substantial"); err != nil {
		t.Fatal(err)
	}
	if _, err := pr.waiting.step(ctx, A, map[string]any{"step": "identify", "user_id": p.UserID, "method": "app"}); err != nil {
		t.Fatal(err)
	}
	pend, err := app.Next(ctx, 5*time.Second)
	if err != nil || pend == nil {
		t.Fatalf("the probe's request: %v", err)
	}
	pr.approvalID = pend.ApprovalID
	return pr
}

func (pr *probes) run(tl *timeline) {
	ctx := context.Background()
	B := pr.c.apis[1]
	get := func(what, path string, h map[string]string) {
		tl.call(what, 1, func() (reply, error) { return B.get(ctx, path, h) })
	}
	tl.call("probe identify", 1, func() (reply, error) {
		return B.post(ctx, "/authn/v1/flows/"+pr.identify.ID, pr.identify.header(), map[string]any{"step": "identify", "user_id": pr.userID})
	})
	get("probe poll", fmt.Sprintf("/authn/v1/flows/%s?wait=25s&since=%d", pr.waiting.ID, pr.waiting.Version), pr.waiting.header())
	get("probe events", "/authn/v1/flows/"+pr.waiting.ID+"/events", pr.waiting.header())
	get("probe login page", "/login/"+pr.waiting.ID, map[string]string{"Cookie": "omid_flow_" + pr.waiting.ID + "=" + pr.waiting.Token})
	get("probe testtool", "/testtool/v1/identities/"+pr.userID, nil)
	get("probe authorize", "/authorize?client_id=demo&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A53117%2Fcallback"+
		"&state=s&nonce=n&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256", nil)
	tl.call("probe token", 1, func() (reply, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, B.base+"/oauth/token",
			strings.NewReader("grant_type=authorization_code&code=nothing&redirect_uri=http%3A%2F%2F127.0.0.1%3A53117%2Fcallback&code_verifier=v"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo", "demo-secret")
		return B.send(req)
	})
	get("probe userinfo", "/userinfo", map[string]string{"Authorization": "Bearer nothing"})
	tl.app("probe app next", 0, func() error { _, err := pr.app.Next(ctx, time.Second); return err })
	tl.app("probe app bind", 0, func() error { _, err := pr.app.Bind(ctx, pr.approvalID, "", "0000"); return err })
}

// check looks at the requests that met the outage: each answered within a
// couple of seconds (a long poll within its 2-second re-check and a margin).
// And the listeners, which retry at least every second, were back within 5 s.
func (o outage) check(t *testing.T, tl *timeline, i int) {
	t.Helper()
	var during, after int
	var slowest, slowestPoll time.Duration
	kinds := map[string]int{}
	for _, e := range tl.outs {
		if e.err != nil {
			continue
		}
		if e.end.Before(o.down) || e.start.After(o.started) {
			if e.status == http.StatusServiceUnavailable && e.start.After(o.started.Add(o.ready)) && e.start.Before(o.started.Add(o.ready+time.Second)) {
				after++
			}
			continue
		}
		during++
		kinds[fmt.Sprintf("%s %d", e.what, e.status)]++
		took := e.end.Sub(maxTime(e.start, o.down))
		if e.what == "poll" {
			slowestPoll = max(slowestPoll, took)
			if took > 4*time.Second {
				t.Errorf("outage %d: a long poll on node %d held %s into the outage (the 2 s re-check should end it)", i, e.node, ms(took))
			}
			continue
		}
		slowest = max(slowest, took)
		if took > 3*time.Second {
			t.Errorf("outage %d: %s on node %d took %s with PostgreSQL down", i, e.what, e.node, ms(took))
		}
	}
	if o.listening > 5*time.Second {
		t.Errorf("outage %d: the listeners took %s to reconnect", i, ms(o.listening))
	}
	t.Logf("outage %d: PostgreSQL stopped in %s, down %s; %d requests met it, answered within %s (long polls within %s): %s",
		i, ms(o.stopped.Sub(o.down)), ms(o.started.Sub(o.down)), during, ms(slowest), ms(slowestPoll), summary(kinds))
	t.Logf("outage %d: after PostgreSQL's return: ready in %s, a login succeeded in %s, listeners up in %s; %d answers of 503 in the second after the nodes were ready",
		i, ms(o.ready), ms(o.loggedIn), ms(o.listening), after)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func summary(m map[string]int) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// appLoginRecorded runs one app login, recording every request: the flow on
// home, the browser waiting on away, the app on home.
func appLoginRecorded(ctx context.Context, tl *timeline, w int, home, away *api, p *person, app *appclient.Client) {
	// A login the app could not answer ends the browser's wait too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var f *flow
	if _, err := tl.call("create", w, func() (reply, error) {
		var (
			r   reply
			err error
		)
		f, r, err = newFlow(ctx, home, "substantial")
		return r, err
	}); err != nil {
		return
	}
	p.requests.Add(1)
	if _, err := tl.call("identify", w, func() (reply, error) {
		return f.step(ctx, home, map[string]any{"step": "identify", "user_id": p.UserID, "method": "app"})
	}); err != nil {
		return
	}
	code := f.Last.str("binding_code") // before the poll goroutine owns f
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for i := 0; i < 3 && f.State == "waiting_for_app" && ctx.Err() == nil; i++ {
			if r, err := tl.call("poll", 1-w, func() (reply, error) { return f.look(ctx, away, 25*time.Second) }); err != nil || r.Status != http.StatusOK {
				return
			}
		}
	}()
	defer func() { cancel(); <-polled }()
	var pend *appclient.Pending
	if tl.app("app", w, func() error {
		var err error
		pend, err = app.WaitNext(ctx, 2*time.Second)
		if err == nil && pend == nil {
			err = errors.New("no request")
		}
		return err
	}) != nil {
		return
	}
	var b *appclient.Bound
	if tl.app("app", w, func() error {
		var err error
		b, err = app.Bind(ctx, pend.ApprovalID, "", code)
		return err
	}) != nil {
		return
	}
	if tl.app("app", w, func() error { _, err := app.Answer(ctx, b, approval.Approve); return err }) != nil {
		return
	}
	<-polled
	if f.State == "done" {
		tl.mu.Lock()
		tl.done = append(tl.done, time.Now())
		tl.mu.Unlock()
	}
}
