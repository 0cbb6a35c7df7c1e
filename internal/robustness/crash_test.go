package robustness_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/internal/testbin"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// openSQL opens the node's database for the test's own queries.
func openSQL(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	var (
		db  *sql.DB
		err error
	)
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err = sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	} else {
		db, err = sql.Open("pgx", dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// acks is what the killed node acknowledged, and what was under way when it died.
type acks struct {
	mu         sync.Mutex
	identities []*person
	done       []*flow  // logins whose last answer said done
	answered   []string // approval requests the app was told were approved
	inflight   []*flow  // logins started and not seen done
	failures   []error  // anything wrong before the kill
}

func (a *acks) add(f func(a *acks)) { a.mu.Lock(); f(a); a.mu.Unlock() }

// TestKillDuringWrites kills a node with SIGKILL while test identities,
// logins and approvals are written through it, restarts it on the same
// database, and checks that what it acknowledged is there, that nothing is
// half-written, that the audit chain verifies, and that the logins cut short
// end cleanly.
func TestKillDuringWrites(t *testing.T) {
	heavy(t)
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) { killDuringWrites(t, engine) })
	}
}

func killDuringWrites(t *testing.T, engine store.Engine) {
	ctx := context.Background()
	dsn := storetest.DSN(t, engine)
	kek := newKEK(t)
	dir := t.TempDir()
	addr := testbin.FreeAddr(t)
	args := []string{"--db", dsn, "--kek-file", kek, "--demo"}
	srv := testbin.ServeAt(t, addr, dir, nil, args...)
	a := newAPI(srv.URL, nil)

	// People log in with the app, over and over (at most 10 requests to a
	// person's app in 10 minutes, so 8 of them), and a dozen with a code
	// display (which gives a code about every 30 seconds).
	var apps []*appclient.Client
	var appPeople, codePeople []*person
	for range 8 {
		p := mustPerson(t, a, "app")
		app, err := activate(ctx, srv.URL, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		appPeople, apps = append(appPeople, p), append(apps, app)
	}
	for range 12 {
		codePeople = append(codePeople, mustPerson(t, a, "code_display"))
	}

	db := openSQL(t, dsn)
	var all acks
	for round := range 3 {
		rec := writeUntilKilled(t, srv, a, appPeople, apps, codePeople)
		t.Logf("round %d: killed with %d identities, %d logins done, %d approvals answered acknowledged; %d logins under way",
			round, len(rec.identities), len(rec.done), len(rec.answered), len(rec.inflight))
		srv = testbin.ServeAt(t, addr, dir, nil, args...)
		checkAcknowledged(t, a, db, rec)
		checkConsistent(t, db)
		// The logins cut short answer as they are.
		for _, f := range rec.inflight {
			if r, err := f.look(ctx, a, 0); err != nil || r.Status != http.StatusOK {
				t.Errorf("login %s cut short by the kill: %v %s", f.ID, err, r)
			}
		}
		all.inflight = append(all.inflight, rec.inflight...)
		if t.Failed() {
			t.FailNow()
		}
	}
	if res := testbin.Run(t, dir, nil, "audit", "verify", "--db", dsn, "--kek-file", kek); res.Code != 0 {
		t.Errorf("audit verify after the kills: %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	} else {
		t.Logf("after the restarts: %s", strings.TrimSpace(res.Stdout))
	}
	var bare int
	db.QueryRow(`SELECT count(*) FROM identities i WHERE NOT EXISTS
		(SELECT 1 FROM authenticators a WHERE a.identity_uuid = i.uuid)`).Scan(&bare)
	t.Logf("%d unacknowledged test identities were left without the authenticators asked for", bare)

	// A request the app had not answered, or whose answer died with the node,
	// can be answered now; one already answered says so.
	for i, app := range apps {
		pend, err := app.Next(ctx, time.Second)
		if err != nil || pend == nil {
			continue
		}
		var f *flow
		for _, g := range all.inflight {
			if g.State == "waiting_for_app" && g.Last.str("binding_code") != "" && flowOf(db, pend.ApprovalID) == g.ID {
				f = g
			}
		}
		if f == nil {
			t.Errorf("app %d sees request %s, which no login under way waits for", i, pend.ApprovalID)
			continue
		}
		if _, err := approve(ctx, app, f.Last.str("binding_code")); err != nil && appclient.ErrorCode(err) != "already_answered" {
			t.Errorf("answering the request cut short: %v", err)
		}
		if r, _ := f.look(ctx, a, 0); r.str("state") != "done" {
			t.Errorf("login %s after its late approval: %s", f.ID, r)
		}
	}
	rec := &all
	// A flow lives 10 minutes; rather than wait, move the stored expiry of
	// every login not finished into the past. Touched again, each of those
	// must end as expired and say so; those that ended otherwise meanwhile
	// (replaced by the next login's request) say they have ended.
	open := map[string]bool{}
	rows, err := db.Query(`SELECT id FROM login_flows WHERE state NOT IN ('done', 'failed')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		open[id] = true
	}
	rows.Close()
	past := time.Now().Add(-time.Second).UnixMicro()
	if _, err := db.Exec(`UPDATE login_flows SET expires_at = $1 WHERE state NOT IN ('done', 'failed')`, past); err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, f := range rec.inflight {
		r, err := f.look(ctx, a, 0)
		if err != nil || r.Status != http.StatusOK {
			t.Errorf("login %s cut short, after its time: %v %s", f.ID, err, r)
			continue
		}
		if f.State == "done" {
			outcomes["done"]++
			continue
		}
		want, status := "flow_finished", http.StatusConflict
		if open[f.ID] {
			want, status = "flow_expired", http.StatusGone
		}
		if f.State != "failed" || (open[f.ID] && r.str("error") != "flow_expired") {
			t.Errorf("login %s cut short, after its time: %s", f.ID, r)
		}
		r, err = f.step(ctx, a, map[string]any{"step": "password", "password": "whatever-it-was"})
		if err == nil || r.Status != status || r.str("error") != want {
			t.Errorf("a step on the ended login %s: %v %s", f.ID, err, r)
		}
		outcomes[want]++
	}
	checkConsistent(t, db)
	t.Logf("the logins cut short, touched after their time: %v", outcomes)
}

// writeUntilKilled runs writers against the node until each kind of write
// has been acknowledged a few times, then kills the node with SIGKILL (no
// deferred function, no rollback, no close runs) at a moment that varies, and
// returns what was acknowledged and what was under way.
func writeUntilKilled(t *testing.T, srv *testbin.Server, a *api, appPeople []*person, apps []*appclient.Client, codePeople []*person) *acks {
	t.Helper()
	var (
		rec    acks
		killed atomic.Bool
		wg     sync.WaitGroup
	)
	wctx, stop := context.WithCancel(context.Background())
	defer stop()
	// report records a failure unless the node was being killed.
	report := func(err error) {
		if !killed.Load() && wctx.Err() == nil {
			rec.add(func(a *acks) { a.failures = append(a.failures, err) })
		}
	}
	for range 2 { // the test tool
		wg.Go(func() {
			for wctx.Err() == nil {
				p, _, err := createPerson(wctx, a, map[string]any{"authenticators": []string{"code_display"}})
				if err != nil {
					report(err)
					return
				}
				rec.add(func(a *acks) { a.identities = append(a.identities, p) })
			}
		})
	}
	wg.Go(func() { // code display logins
		for i := 0; wctx.Err() == nil; i++ {
			p := codePeople[i%len(codePeople)]
			f, err := codeLogin(wctx, p, a)
			if errors.Is(err, errNoCode) {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			if err != nil {
				if f != nil {
					rec.add(func(a *acks) { a.inflight = append(a.inflight, f) })
				}
				report(err)
				return
			}
			rec.add(func(a *acks) { a.done = append(a.done, f) })
		}
	})
	for w := range 2 { // app logins, each worker with every other person
		wg.Go(func() {
			for i := w; wctx.Err() == nil; i += 2 {
				p, app := appPeople[i%len(apps)], apps[i%len(apps)]
				if p.requests.Add(1) > approval.MaxPerWindow {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				f, err := startFlow(wctx, a, "substantial")
				if err != nil {
					report(err)
					return
				}
				if _, err := f.step(wctx, a, map[string]any{"step": "identify", "user_id": p.UserID, "method": "app"}); err != nil {
					rec.add(func(a *acks) { a.inflight = append(a.inflight, f) })
					report(err)
					return
				}
				id, err := approve(wctx, app, f.Last.str("binding_code"))
				if err != nil {
					rec.add(func(a *acks) { a.inflight = append(a.inflight, f) })
					report(err)
					return
				}
				rec.add(func(a *acks) { a.answered = append(a.answered, id) })
				if r, err := f.look(wctx, a, 0); err != nil || f.State != "done" {
					rec.add(func(a *acks) { a.inflight = append(a.inflight, f) })
					report(fmt.Errorf("after the approval: %v %s", err, r))
					return
				}
				rec.add(func(a *acks) { a.done = append(a.done, f) })
			}
		})
	}
	progressed := waitFor(30*time.Second, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.identities) >= 4 && len(rec.done) >= 4 && len(rec.answered) >= 2 || len(rec.failures) > 0
	})
	time.Sleep(time.Duration(rand.IntN(250)) * time.Millisecond)
	killed.Store(true)
	srv.Kill()
	stop()
	wg.Wait()
	for _, err := range rec.failures {
		t.Errorf("before the kill: %v", err)
	}
	if !progressed || t.Failed() {
		t.Fatalf("the writers did not get going: %d identities, %d logins, %d approvals", len(rec.identities), len(rec.done), len(rec.answered))
	}
	return &rec
}

// checkAcknowledged checks that every write the killed node acknowledged is there.
func checkAcknowledged(t *testing.T, a *api, db *sql.DB, rec *acks) {
	t.Helper()
	ctx := context.Background()
	for _, p := range rec.identities {
		r, err := a.get(ctx, "/testtool/v1/identities/"+p.UserID, nil)
		auths, _ := r.Body["authenticators"].([]any)
		if err != nil || r.Status != http.StatusOK || r.str("uuid") != p.UUID || len(auths) != 1 {
			t.Errorf("acknowledged identity %s after the restart: %v %s", p.UserID, err, r)
		}
	}
	for _, f := range rec.done {
		if r, err := f.look(ctx, a, 0); err != nil || r.str("state") != "done" {
			t.Errorf("login %s acknowledged done is now %v %s", f.ID, err, r)
		}
	}
	for _, id := range rec.answered {
		var state, flowState string
		err := db.QueryRow(`SELECT a.state, f.state FROM approvals a JOIN login_flows f ON f.id = a.flow_id WHERE a.id = $1`, id).Scan(&state, &flowState)
		if err != nil || state != "approved" || flowState != "done" {
			t.Errorf("approval %s answered before the kill is %q, its login %q (%v)", id, state, flowState, err)
		}
	}
}

func flowOf(db *sql.DB, approvalID string) string {
	var id string
	db.QueryRow("SELECT flow_id FROM approvals WHERE id = $1", approvalID).Scan(&id)
	return id
}

// checkConsistent looks for what a crash in the middle of a change would
// leave: an identity without its user ID or its audit event, a login and its
// approval request that disagree, a finished login without its event.
func checkConsistent(t *testing.T, db *sql.DB) {
	t.Helper()
	queries := []struct{ what, query string }{
		{"identities without a current user ID", `SELECT i.uuid FROM identities i WHERE NOT EXISTS
			(SELECT 1 FROM user_ids u WHERE u.identity_uuid = i.uuid AND u.retired_at IS NULL)`},
		{"identities without their identity.created event", `SELECT i.uuid FROM identities i WHERE NOT EXISTS
			(SELECT 1 FROM audit_events e WHERE e.identity = i.uuid AND e.action = 'identity.created')`},
		{"logins waiting for a request that is settled or missing", `SELECT f.id FROM login_flows f
			LEFT JOIN approvals a ON a.id = f.approval_id
			WHERE f.state = 'waiting_for_app' AND (a.id IS NULL OR a.state NOT IN ('pending', 'bound'))`},
		{"open requests whose login no longer waits for them", `SELECT a.id FROM approvals a
			JOIN login_flows f ON f.id = a.flow_id
			WHERE a.state IN ('pending', 'bound') AND (f.state <> 'waiting_for_app' OR f.approval_id <> a.id)`},
		{"approved requests whose login is not done", `SELECT a.id FROM approvals a
			JOIN login_flows f ON f.id = a.flow_id WHERE a.kind = 'login' AND a.state = 'approved' AND f.state <> 'done'`},
	}
	for _, q := range queries {
		rows, err := db.Query(q.query)
		if err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		var bad []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			bad = append(bad, id)
		}
		rows.Close()
		if len(bad) > 0 {
			t.Errorf("%s: %v", q.what, bad)
		}
	}
	// Every finished login has its login.succeeded event, and every event its login.
	done := map[string]bool{}
	rows, err := db.Query("SELECT id FROM login_flows WHERE state = 'done'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		done[id] = true
	}
	rows.Close()
	rows, err = db.Query("SELECT details FROM audit_events WHERE action = 'login.succeeded'")
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for rows.Next() {
		var raw string
		rows.Scan(&raw)
		var d map[string]string
		json.Unmarshal([]byte(raw), &d)
		if !done[d["flow"]] {
			t.Errorf("login.succeeded for flow %s, which is not done", d["flow"])
		}
		events++
	}
	rows.Close()
	if events != len(done) {
		t.Errorf("%d logins done, %d login.succeeded events", len(done), events)
	}
}
