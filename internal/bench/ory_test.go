package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/password"
)

// TestOryFlow drives whole logins against a running ORY Kratos + Hydra, the peer of
// docs/performance.md. The peer is built from its own sources outside this repository and is not
// built in CI, so the test is skipped unless OPENMITID_PEER_ORY holds its configuration as JSON:
//
//	{"KratosPublic":"http://127.0.0.1:4433","KratosAdmin":"http://127.0.0.1:4434",
//	 "HydraPublic":"http://127.0.0.1:4444","HydraAdmin":"http://127.0.0.1:4445",
//	 "ClientID":"…","ClientSecret":"…","RedirectURI":"http://127.0.0.1/callback",
//	 "Users":16,"VUs":8,"Seconds":20}
//
// It fails if any login fails. With -v it logs logins per second and each step's latency, first
// for one virtual user at a time (the cost of one login, and of Kratos's password hash), then
// for VUs at once.
func TestOryFlow(t *testing.T) {
	env := os.Getenv("OPENMITID_PEER_ORY")
	if env == "" {
		t.Skip("OPENMITID_PEER_ORY is not set: no ORY Kratos + Hydra to drive (see docs/performance.md)")
	}
	var cfg struct {
		OryConfig
		Users, VUs, Seconds int
	}
	if err := json.Unmarshal([]byte(env), &cfg); err != nil {
		t.Fatalf("OPENMITID_PEER_ORY: %v", err)
	}
	for _, v := range []struct {
		p   *int
		def int
	}{{&cfg.Users, 16}, {&cfg.VUs, 8}, {&cfg.Seconds, 20}} {
		if *v.p <= 0 {
			*v.p = v.def
		}
	}

	ctx := t.Context()
	flow := NewOryFlow(cfg.OryConfig)
	start := time.Now()
	if err := flow.Setup(ctx, cfg.Users); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d users with password and TOTP in %v; Kratos stores argon2id %v",
		flow.Name(), cfg.Users, time.Since(start).Round(time.Millisecond), flow.(*oryFlow).hashParams)

	h, err := password.NewHasher(password.OWASP, nil)
	if err != nil {
		t.Fatal(err)
	}
	const hashes = 10
	start = time.Now()
	for range hashes {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("OpenMitID's argon2id %v in this process: %v per hash", password.OWASP, (time.Since(start) / hashes).Round(100*time.Microsecond))

	for _, phase := range []struct {
		vus int
		d   time.Duration
	}{
		{1, 5 * time.Second},
		{cfg.VUs, time.Duration(cfg.Seconds) * time.Second},
	} {
		r := oryRun(ctx, flow, phase.vus, phase.d)
		t.Logf("%d virtual users for %v: %d logins, %.1f logins/s, %d failed %v",
			phase.vus, phase.d, r.ok, float64(r.ok)/r.elapsed.Seconds(), r.failed(), r.errs)
		for _, line := range r.rec.table() {
			t.Log(line)
		}
		if r.ok == 0 || r.failed() > 0 {
			t.Errorf("%d virtual users: %d logins, %d failed: %v; first: %v", phase.vus, r.ok, r.failed(), r.errs, r.first)
		}
	}
}

// oryResult is what oryRun saw.
type oryResult struct {
	ok      int
	errs    map[string]int
	first   error
	elapsed time.Duration
	rec     *oryRecorder
}

func (r oryResult) failed() (n int) {
	for _, c := range r.errs {
		n += c
	}
	return n
}

// oryRun is a small closed-loop runner: vus goroutines log in back to back for d.
func oryRun(ctx context.Context, flow Flow, vus int, d time.Duration) oryResult {
	r := oryResult{errs: map[string]int{}, rec: &oryRecorder{steps: map[string][]time.Duration{}}}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for vu := range vus {
		wg.Go(func() {
			for ctx.Err() == nil {
				err := flow.Login(ctx, vu, r.rec)
				mu.Lock()
				switch {
				case err == nil:
					r.ok++
				case ctx.Err() != nil: // cut off by the end of the run: not counted
				default:
					kind := "other"
					if ke := (*KindError)(nil); errors.As(err, &ke) {
						kind = ke.Kind
					}
					r.errs[kind]++
					if r.first == nil {
						r.first = err
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	return r
}

// oryRecorder keeps every step's durations.
type oryRecorder struct {
	mu    sync.Mutex
	steps map[string][]time.Duration
}

func (r *oryRecorder) Step(name string, d time.Duration) {
	r.mu.Lock()
	r.steps[name] = append(r.steps[name], d)
	r.mu.Unlock()
}

// oryStepOrder is the order of a login's steps in the table.
var oryStepOrder = []string{"authorize", "password", "totp", "login_accept", "consent", "token"}

// table returns one line per step: count, mean, median, 95th and 99th percentile.
func (r *oryRecorder) table() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.steps))
	for n := range r.steps {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := slices.Index(oryStepOrder, names[i]), slices.Index(oryStepOrder, names[j])
		if a != b {
			return a < b
		}
		return names[i] < names[j]
	})
	lines := []string{fmt.Sprintf("  %-13s %7s %9s %9s %9s %9s", "step", "n", "mean", "p50", "p95", "p99")}
	for _, n := range names {
		ds := slices.Clone(r.steps[n])
		slices.Sort(ds)
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
		ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/1e6) }
		lines = append(lines, strings.TrimRight(fmt.Sprintf("  %-13s %7d %9s %9s %9s %9s", n, len(ds),
			ms(sum/time.Duration(len(ds))), ms(q(0.5)), ms(q(0.95)), ms(q(0.99))), " "))
	}
	return lines
}
