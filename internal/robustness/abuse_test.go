package robustness_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/internal/testbin"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// The abuse test's shape: honest logins arrive at a steady rate throughout;
// the attackers run only in the attack phases, which alternate with baseline
// phases so that whatever else the (shared) machine does falls on both alike.
// After an attack phase comes a pause that is measured as neither, so that
// work the attackers left queued is not counted against the baseline.
const (
	abusePhase     = 12 * time.Second
	abusePause     = 2 * time.Second
	abuseRounds    = 2                // baseline, attack, pause; twice
	honestRate     = 3.0              // honest login attempts per second, half with a code display, half with the app
	honestDeadline = 10 * time.Second // a login not done by then counts as failed: the person gave up
	// addressFailures is the node's limit of failed factors per address and
	// 10 minutes: lower than the default 100, so that the stuffing reaches it
	// within the test's time (each wrong password costs an argon2id hash).
	addressFailures = 10
)

// Addresses: everything here is loopback on Linux (127.0.0.0/8), and the
// node, listening on 127.0.0.1 without --trusted-proxies, counts each
// connection's own source address.
func honestAddr(i int) string { return fmt.Sprintf("127.0.1.%d", 1+i) }

var (
	stuffAddrs    = []string{"127.0.2.1", "127.0.2.2", "127.0.2.3"}
	guessAddr     = "127.0.2.10" // guesses one user ID's password
	codeGuessAddr = "127.0.2.11" // has one person's password, guesses their codes
	floodAddr     = "127.0.2.20" // floods one person's app with approval requests
)

// commonPasswords are what a credential-stuffing list starts with.
var commonPasswords = []string{"123456", "password", "12345678", "qwerty", "123456789", "12345", "1234",
	"111111", "1234567", "dragon", "123123", "baseball", "abc123", "football", "monkey", "letmein", "696969",
	"shadow", "master", "666666", "qwertyuiop", "123321", "mustang", "1234567890", "michael"}

// TestAbuseUnderLoad runs honest logins at a steady rate, each person from an
// address of their own, and alternately alone and beside attackers:
// credential stuffing (many user IDs, some real, × common passwords, from three
// addresses), parallel guessing of one user ID's password, parallel guessing
// of another's codes by someone who has their password, and a flood of app
// logins against a third person. It checks that no attacker gets in, that the
// server evaluated no more of their guesses than its limits allow (counted in
// the audit log, which records every failed evaluation with its address), that
// the flooded person's app got no more requests than the limit, and that the
// honest users' login rate under attack is at least 80 % of their rate alone.
// The attacked user IDs are not among the honest users: locking them is the
// limits' intended effect.
func TestAbuseUnderLoad(t *testing.T) {
	heavy(t)
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) { abuseUnderLoad(t, engine) })
	}
}

// honestOne is an honest person with their own address: a code display, or an app.
type honestOne struct {
	p    *person
	a    *api
	app  *appclient.Client // nil: a code display
	busy atomic.Bool
}

// attempt is one honest login.
type attempt struct {
	start, end time.Time
	app        bool
	ok         bool
	err        string
}

// tally counts an attacker's answers by kind.
type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *tally) add(k string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[k]++
	c.mu.Unlock()
}

func (c *tally) get(k string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.m[k] }

func (c *tally) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.m {
		n += v
	}
	return n
}

func (c *tally) String() string { c.mu.Lock(); defer c.mu.Unlock(); return summary(c.m) }

// answer names an attacker's answer: the JSON error's code, or what went wrong.
func answer(r reply, err error) string {
	if code := r.str("error"); code != "" {
		return code
	}
	if r.Status == 0 && err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return "cancelled"
		}
		return "no answer"
	}
	return fmt.Sprintf("HTTP %d", r.Status)
}

// success is the tally key of an attacker getting in.
const success = "SUCCESS"

func abuseUnderLoad(t *testing.T, engine store.Engine) {
	ctx := context.Background()
	dsn := storetest.DSN(t, engine)
	// The node is built without the race detector: the test compares speeds.
	srv := testbin.ServeBinary(t, testbin.PlainPath(t), testbin.FreeAddr(t), t.TempDir(), nil,
		"--db", dsn, "--kek-file", newKEK(t), "--demo", "--address-failure-limit", fmt.Sprint(addressFailures))
	admin := newAPI(srv.URL, nil)
	db := openSQL(t, dsn)

	// The node sees a client bound to another loopback address as that address.
	probe := newAPI(srv.URL, newHTTPClient(floodAddr))
	f, err := startFlow(ctx, probe, "substantial")
	if err != nil {
		t.Fatal(err)
	}
	var origin string
	if err := db.QueryRow("SELECT origin_ip FROM login_flows WHERE id = $1", f.ID).Scan(&origin); err != nil || origin != floodAddr {
		t.Fatalf("a client bound to %s is seen as %q (%v): the test needs the node to see each client's own address", floodAddr, origin, err)
	}

	// The people: honest ones, and the attackers' targets.
	const nCode, nApp, nStuffed = 40, 12, 40
	made := make([]*person, nCode+nApp+nStuffed+3)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var mkErr error
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(made); i += 4 {
				kinds := []string{"code_display"}
				if i >= nCode && i < nCode+nApp || i == len(made)-1 {
					kinds = []string{"app"}
				}
				p, _, err := createPerson(ctx, admin, map[string]any{"authenticators": kinds})
				mu.Lock()
				made[i] = p
				mkErr = errors.Join(mkErr, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if mkErr != nil {
		t.Fatal(mkErr)
	}
	var honest []*honestOne
	for i, p := range made[:nCode+nApp] {
		h := &honestOne{p: p, a: newAPI(srv.URL, newHTTPClient(honestAddr(i)))}
		if i >= nCode {
			if h.app, err = activate(ctx, srv.URL, p, h.a.hc); err != nil {
				t.Fatal(err)
			}
		}
		honest = append(honest, h)
	}
	stuffed := made[nCode+nApp : nCode+nApp+nStuffed]
	guessed, codeGuessed, flooded := made[len(made)-3], made[len(made)-2], made[len(made)-1]
	victimApp, err := activate(ctx, srv.URL, flooded, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Credential stuffing: the real user IDs, as many that do not exist, and
	// the common passwords, none of which is any target's.
	var stuffIDs []string
	for i, p := range stuffed {
		if slices.Contains(commonPasswords, p.Password) {
			t.Fatalf("the test tool gave a stuffed person a common password: %q", p.Password)
		}
		var b [5]byte
		rand.Read(b[:])
		stuffIDs = append(stuffIDs, p.UserID, fmt.Sprintf("nobody%d%s", i, hex.EncodeToString(b[:])))
	}
	guesses := append([]string(nil), commonPasswords...)
	for _, s := range []string{"Summer", "Winter", "Password", "Denmark", "Kobenhavn"} {
		for _, y := range []string{"2024", "2025", "2026", "!"} {
			guesses = append(guesses, s+y)
		}
	}
	if slices.Contains(guesses, guessed.Password) {
		t.Fatalf("the guessed person's password %q is on the guesser's list", guessed.Password)
	}

	// Honest logins, at a steady rate from start to end.
	var (
		amu      sync.Mutex
		attempts []attempt
		hwg      sync.WaitGroup
	)
	hctx, stopHonest := context.WithCancel(ctx)
	defer stopHonest()
	pacerDone := make(chan struct{})
	go func() {
		defer close(pacerDone)
		tick := time.NewTicker(time.Second * 1000 / time.Duration(1000*honestRate))
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-hctx.Done():
				return
			case <-tick.C:
			}
			h := pickHonest(honest, n%2 == 1)
			if h == nil {
				h = pickHonest(honest, n%2 == 0)
			}
			start := time.Now()
			if h == nil {
				amu.Lock()
				attempts = append(attempts, attempt{start: start, end: start, err: "no honest person free"})
				amu.Unlock()
				continue
			}
			hwg.Go(func() {
				defer h.busy.Store(false)
				lctx, cancel := context.WithTimeout(ctx, honestDeadline)
				defer cancel()
				var err error
				if h.app != nil {
					err = appLogin(lctx, h.a, h.p, h.app)
				} else {
					_, err = codeLogin(lctx, h.p, h.a)
				}
				at := attempt{start: start, end: time.Now(), app: h.app != nil, ok: err == nil}
				if err != nil {
					at.err = err.Error()
				}
				amu.Lock()
				attempts = append(attempts, at)
				amu.Unlock()
			})
		}
	}()

	// The victim's app, polling as a phone does: each request it sees.
	seen := map[string]bool{}
	var seenMu sync.Mutex
	vctx, stopVictim := context.WithCancel(ctx)
	var vwg sync.WaitGroup
	vwg.Go(func() {
		for vctx.Err() == nil {
			pend, err := victimApp.Next(vctx, 5*time.Second)
			if err == nil && pend != nil {
				seenMu.Lock()
				seen[pend.ApprovalID] = true
				seenMu.Unlock()
			}
			select {
			case <-vctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})

	// The attackers.
	stuff := make([]*tally, len(stuffAddrs))
	for i := range stuff {
		stuff[i] = &tally{}
	}
	var guess, codeGuess, flood tally
	var next atomic.Int64 // the stuffing list's next pair, password-major: every user ID, then the next password
	attack := func(actx context.Context) {
		var awg sync.WaitGroup
		for i, addr := range stuffAddrs {
			a := newAPI(srv.URL, newHTTPClient(addr))
			for range 6 {
				awg.Go(func() {
					for actx.Err() == nil {
						n := int(next.Add(1) - 1)
						uid, pw := stuffIDs[n%len(stuffIDs)], commonPasswords[(n/len(stuffIDs))%len(commonPasswords)]
						stuff[i].add(passwordTry(actx, a, uid, pw))
					}
				})
			}
		}
		ga := newAPI(srv.URL, newHTTPClient(guessAddr))
		var g atomic.Int64
		for range 6 {
			awg.Go(func() {
				for actx.Err() == nil {
					guess.add(passwordTry(actx, ga, guessed.UserID, guesses[int(g.Add(1)-1)%len(guesses)]))
				}
			})
		}
		ca := newAPI(srv.URL, newHTTPClient(codeGuessAddr))
		for range 4 {
			awg.Go(func() {
				for actx.Err() == nil {
					codeGuess.add(codeTry(actx, ca, codeGuessed))
				}
			})
		}
		fa := newAPI(srv.URL, newHTTPClient(floodAddr))
		for range 4 {
			awg.Go(func() {
				for actx.Err() == nil {
					flood.add(floodTry(actx, fa, flooded.UserID))
				}
			})
		}
		awg.Wait()
	}

	// The phases.
	type phase struct {
		attack     bool
		start, end time.Time
	}
	var phases []phase
	time.Sleep(2 * time.Second) // the honest load settles
	attackStart := time.Now()
	for range abuseRounds {
		b := phase{start: time.Now()}
		time.Sleep(abusePhase)
		b.end = time.Now()
		a := phase{attack: true, start: b.end}
		actx, cancel := context.WithTimeout(ctx, abusePhase)
		attack(actx)
		cancel()
		a.end = time.Now()
		phases = append(phases, b, a)
		time.Sleep(abusePause)
	}
	attackEnd := phases[len(phases)-1].end
	stopHonest()
	<-pacerDone
	hwg.Wait()
	stopVictim()
	vwg.Wait()

	// The honest users' rate: logins started in a phase that succeeded, per second.
	type rate struct {
		n, ok int
		dur   time.Duration
		took  []time.Duration
		errs  map[string]int
	}
	var base, under rate
	base.errs, under.errs = map[string]int{}, map[string]int{}
	for _, ph := range phases {
		r := &base
		if ph.attack {
			r = &under
		}
		r.dur += ph.end.Sub(ph.start)
		for _, at := range attempts {
			if at.start.Before(ph.start) || !at.start.Before(ph.end) {
				continue
			}
			r.n++
			if at.ok {
				r.ok++
				r.took = append(r.took, at.end.Sub(at.start))
			} else {
				r.errs[shortErr(at.err)]++
			}
		}
	}
	perSec := func(r rate) float64 { return float64(r.ok) / r.dur.Seconds() }
	ratio := perSec(under) / perSec(base)
	t.Logf("honest logins alone: %d of %d in %.0f s = %.2f/s (p50 %s, p95 %s)%s", base.ok, base.n, base.dur.Seconds(),
		perSec(base), ms(quantile(base.took, .5)), ms(quantile(base.took, .95)), failures(base.errs))
	t.Logf("honest logins under attack: %d of %d in %.0f s = %.2f/s (p50 %s, p95 %s)%s", under.ok, under.n, under.dur.Seconds(),
		perSec(under), ms(quantile(under.took, .5)), ms(quantile(under.took, .95)), failures(under.errs))
	t.Logf("honest rate under attack / alone: %.2f", ratio)
	if base.ok == 0 || ratio < 0.8 {
		t.Errorf("the honest login rate under attack is %.2f of the rate without (want ≥ 0.80)", ratio)
	}

	// What the server evaluated for the attackers: every failed password or
	// code is an audit event with the request's address.
	ev := auditByAddr(t, db)
	ipWins := windows(attackStart, attackEnd, authn.DefaultLimits.IPWindow)
	perKey := failuresPerUserKey(t, db)

	all := 0
	for i, addr := range stuffAddrs {
		n := ev[addr]["login.password_failed"]
		all += stuff[i].total()
		t.Logf("stuffing from %s: %d attempts, %d passwords evaluated: %s", addr, stuff[i].total(), n, stuff[i])
		if stuff[i].get(success) > 0 {
			t.Errorf("stuffing from %s got in %d times", addr, stuff[i].get(success))
		}
		if limit := addressFailures * ipWins; n > limit {
			t.Errorf("stuffing from %s: %d passwords evaluated, more than the address's limit of %d", addr, n, limit)
		}
		if stuff[i].get("rate_limited") == 0 {
			t.Errorf("stuffing from %s was never refused rate_limited: the test did not reach the address limit", addr)
		}
	}
	worst, worstKey := 0, ""
	for k, n := range perKey {
		if n > worst {
			worst, worstKey = n, k
		}
	}
	if worst > authn.DefaultLimits.PasswordFailures {
		t.Errorf("user ID %q: %d wrong passwords evaluated, more than its lockout's %d", worstKey, worst, authn.DefaultLimits.PasswordFailures)
	}
	t.Logf("stuffing: %d attempts in all on %d user IDs; at most %d passwords evaluated for one user ID (%d user IDs tried)",
		all, len(stuffIDs), worst, len(perKey))

	gn := ev[guessAddr]["login.password_failed"]
	t.Logf("guessing one user ID's password from %s: %d attempts, %d evaluated: %s", guessAddr, guess.total(), gn, &guess)
	if guess.get(success) > 0 {
		t.Errorf("the password guesser got in")
	}
	if gn > authn.DefaultLimits.PasswordFailures || guess.get("password_locked") == 0 {
		t.Errorf("the password guesser had %d passwords evaluated (limit %d) and %d answers password_locked",
			gn, authn.DefaultLimits.PasswordFailures, guess.get("password_locked"))
	}

	cn := ev[codeGuessAddr]["login.code_failed"]
	t.Logf("guessing one person's codes with their password from %s: %d attempts, %d codes evaluated, %d passwords (right) evaluated: %s",
		codeGuessAddr, codeGuess.total(), cn, ev[codeGuessAddr]["login.factor_passed"], &codeGuess)
	if codeGuess.get(success) > 0 {
		t.Errorf("the code guesser got in")
	}
	if cn > authn.DefaultLimits.CodeFailures || codeGuess.get("code_locked") == 0 {
		t.Errorf("the code guesser had %d codes evaluated (limit %d) and %d answers code_locked",
			cn, authn.DefaultLimits.CodeFailures, codeGuess.get("code_locked"))
	}

	var made2 int
	if err := db.QueryRow("SELECT count(*) FROM approvals WHERE identity_uuid = $1", flooded.UUID).Scan(&made2); err != nil {
		t.Fatal(err)
	}
	limit := approval.MaxPerWindow * windows(attackStart, attackEnd, approval.RateWindow)
	t.Logf("flooding one person's app from %s: %d attempts, %d requests made, %d seen by the app: %s",
		floodAddr, flood.total(), made2, len(seen), &flood)
	if made2 > limit || len(seen) > limit || flood.get("too_many_app_requests") == 0 {
		t.Errorf("the flooded app: %d requests made, %d seen (limit %d); %d answers too_many_app_requests",
			made2, len(seen), limit, flood.get("too_many_app_requests"))
	}

	// In all: every attacker's attempts, what the node evaluated for them
	// (wrong and right factors alike), and how often they got in.
	tries, evaluated, got := guess.total()+codeGuess.total()+flood.total(), 0, guess.get(success)+codeGuess.get(success)
	for _, tl := range stuff {
		tries += tl.total()
		got += tl.get(success)
	}
	for _, addr := range append([]string{guessAddr, codeGuessAddr, floodAddr}, stuffAddrs...) {
		for _, n := range ev[addr] {
			evaluated += n
		}
	}
	t.Logf("attackers in all: %d attempts, %d passwords and codes evaluated, %d successes; the flooded app saw %d requests",
		tries, evaluated, got, len(seen))
}

// pickHonest returns a free honest person who can log in now with the app
// (app) or a code display, marked busy; or nil.
func pickHonest(people []*honestOne, app bool) *honestOne {
	now := time.Now()
	for _, h := range people {
		if (h.app != nil) != app || h.busy.Load() {
			continue
		}
		if app && h.p.requests.Load() >= approval.MaxPerWindow {
			continue
		}
		if !app && !h.p.hasCode(now) {
			continue
		}
		if h.busy.CompareAndSwap(false, true) {
			return h
		}
	}
	return nil
}

// hasCode reports whether [person.nextCode] would give a code now.
func (p *person) hasCode(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastStep <= p.totp.Step(now)
}

// appLogin logs p in with the app: the browser waits on the flow while the
// phone approves.
func appLogin(ctx context.Context, a *api, p *person, app *appclient.Client) error {
	f, err := startFlow(ctx, a, "substantial")
	if err != nil {
		return err
	}
	p.requests.Add(1)
	if _, err := f.step(ctx, a, map[string]any{"step": "identify", "user_id": p.UserID, "method": "app"}); err != nil {
		return err
	}
	if f.State != "waiting_for_app" {
		return fmt.Errorf("identify: %s", f.Last)
	}
	code := f.Last.str("binding_code") // before the poll goroutine owns f
	polled := make(chan error, 1)
	go func() {
		for f.State == "waiting_for_app" {
			if r, err := f.look(ctx, a, 25*time.Second); err != nil || r.Status != http.StatusOK {
				polled <- fmt.Errorf("poll: %v %s", err, r)
				return
			}
		}
		polled <- nil
	}()
	if _, err := approve(ctx, app, code); err != nil {
		return err
	}
	if err := <-polled; err != nil {
		return err
	}
	if f.State != "done" {
		return fmt.Errorf("app login ended %s", f.Last)
	}
	return nil
}

// passwordTry is one credential-stuffing or guessing attempt: a login at the
// low level, which the password alone reaches.
func passwordTry(ctx context.Context, a *api, userID, pw string) string {
	f, r, err := newFlow(ctx, a, "low")
	if err != nil {
		return answer(r, err)
	}
	if r, err := f.step(ctx, a, map[string]any{"step": "identify", "user_id": userID, "method": "password"}); err != nil {
		return answer(r, err)
	}
	if f.State != "password" {
		return "no password step" // the user ID offers no password-only login
	}
	r, err = f.step(ctx, a, map[string]any{"step": "password", "password": pw})
	if err != nil {
		return answer(r, err)
	}
	return success
}

// codeTry is one attempt by someone who has p's password at p's code display:
// any code but the ones valid around now, so that only the limit is tested.
func codeTry(ctx context.Context, a *api, p *person) string {
	f, r, err := newFlow(ctx, a, "substantial")
	if err != nil {
		return answer(r, err)
	}
	if r, err := f.step(ctx, a, map[string]any{"step": "identify", "user_id": p.UserID, "method": "code_display"}); err != nil {
		return answer(r, err)
	}
	if r, err := f.step(ctx, a, map[string]any{"step": "password", "password": p.Password}); err != nil {
		return answer(r, err)
	}
	if f.State != "code" {
		return "no code step"
	}
	now := time.Now()
	var guess string
	for guess == "" {
		var b [4]byte
		rand.Read(b[:])
		guess = fmt.Sprintf("%06d", (uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))%1000000)
		for d := -3; d <= 3; d++ {
			if p.totp.At(now.Add(time.Duration(d)*30*time.Second)) == guess {
				guess = ""
			}
		}
	}
	r, err = f.step(ctx, a, map[string]any{"step": "code", "code": guess})
	if err != nil {
		return answer(r, err)
	}
	return success
}

// floodTry starts an app login for userID: a request to that person's phone.
func floodTry(ctx context.Context, a *api, userID string) string {
	f, r, err := newFlow(ctx, a, "substantial")
	if err != nil {
		return answer(r, err)
	}
	if r, err := f.step(ctx, a, map[string]any{"step": "identify", "user_id": userID, "method": "app"}); err != nil {
		return answer(r, err)
	}
	return f.State // waiting_for_app: a request was made
}

// auditByAddr counts the audit log's login events by address and action.
func auditByAddr(t *testing.T, db *sql.DB) map[string]map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT ip, action, count(*) FROM audit_events
		WHERE action IN ('login.password_failed', 'login.code_failed', 'login.factor_passed') GROUP BY ip, action`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var ip, action string
		var n int
		if err := rows.Scan(&ip, &action, &n); err != nil {
			t.Fatal(err)
		}
		if out[ip] == nil {
			out[ip] = map[string]int{}
		}
		out[ip][action] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// failuresPerUserKey counts the wrong passwords evaluated for each user ID
// (normalised), from the audit log's events and their flows.
func failuresPerUserKey(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	keys := map[string]string{}
	rows, err := db.Query("SELECT id, user_key FROM login_flows WHERE user_key <> ''")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			t.Fatal(err)
		}
		keys[id] = key
	}
	rows.Close()
	rows, err = db.Query("SELECT details FROM audit_events WHERE action = 'login.password_failed'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var d map[string]string
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatalf("audit details %q: %v", raw, err)
		}
		k, ok := keys[d["flow"]]
		if !ok {
			t.Fatalf("a failed password's flow %q has no user ID", d["flow"])
		}
		out[k]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// windows is how many fixed windows of length w the span from a to b touches.
func windows(a, b time.Time, w time.Duration) int {
	return int(b.UnixMicro()/w.Microseconds()-a.UnixMicro()/w.Microseconds()) + 1
}

// shortErr cuts an honest login's error to its kind.
func shortErr(s string) string {
	if i := strings.Index(s, "\"error\":\""); i >= 0 {
		rest := s[i+9:]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			return rest[:j]
		}
	}
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func failures(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	return "; failed: " + summary(m)
}
