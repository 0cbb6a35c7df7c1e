package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// scripted is a flow whose logins take a fixed time and fail every fifth
// time, to check the runner's counting, not any server.
type scripted struct {
	users atomic.Int64
	calls atomic.Int64
}

func (s *scripted) Name() string { return "scripted" }
func (s *scripted) Setup(_ context.Context, users int) error {
	s.users.Store(int64(users))
	return nil
}
func (s *scripted) Login(ctx context.Context, vu int, rec Recorder) error {
	n := s.calls.Add(1)
	time.Sleep(2 * time.Millisecond)
	rec.Step("first", 2*time.Millisecond)
	if n%5 == 0 {
		return &KindError{Kind: "wrong_code", Err: errors.New("the code was refused")}
	}
	rec.Step("second", time.Millisecond)
	return nil
}

func TestRunCountsLoginsAndErrors(t *testing.T) {
	f := &scripted{}
	res, err := Run(context.Background(), Config{Flow: f, Concurrency: 4, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if f.users.Load() != 4 {
		t.Errorf("setup got %d users, want the concurrency, 4", f.users.Load())
	}
	if res.Logins == 0 || res.Errors["wrong_code"] == 0 || len(res.Errors) != 1 {
		t.Fatalf("logins %d errors %v", res.Logins, res.Errors)
	}
	// Four users, 2 ms a login: at most ~600 logins in 300 ms.
	if res.Logins+res.TotalErrors() > 700 || uint64(f.calls.Load()) <= res.Logins+res.TotalErrors() {
		t.Errorf("counted %d of %d calls: the warm-up was counted", res.Logins+res.TotalErrors(), f.calls.Load())
	}
	if res.Steps["second"].Count != res.Logins || res.Steps["first"].Count < res.Logins {
		t.Errorf("steps %+v for %d logins", res.Steps, res.Logins)
	}
	if p := res.Login.P50MS; p < 2 || p > 50 {
		t.Errorf("login p50 %.2f ms, want about 2", p)
	}
	var text bytes.Buffer
	res.WriteText(&text)
	for _, want := range []string{"logins/s: ", "wrong_code", "first", "second", "p99 ms"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	res.WriteJSON(&js)
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["logins_per_s"].(float64) != res.LoginsPerS {
		t.Errorf("JSON output: %v %s", err, js.String())
	}
}

// spent is a flow whose every identity is spent: Ready waits past the end.
type spent struct{ scripted }

func (s *spent) Ready(ctx context.Context, vu int) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestRunReportsAWaitThatOutlastsTheRun: virtual users that wait for an
// identity through the whole measured time are reported as paced, not as a
// run where nothing happened.
func TestRunReportsAWaitThatOutlastsTheRun(t *testing.T) {
	f := &spent{}
	res, err := Run(context.Background(), Config{Flow: f, Concurrency: 3, Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Logins != 0 || f.calls.Load() != 0 {
		t.Fatalf("%d logins, %d calls, want none", res.Logins, f.calls.Load())
	}
	// Three users for 200 ms; the warm-up is not counted.
	if res.PacedS < 0.4 || res.PacedS > 0.61 {
		t.Errorf("paced %.3f s, want about 0.6", res.PacedS)
	}
	var text bytes.Buffer
	res.WriteText(&text)
	if !strings.Contains(text.String(), "add identities with --users") {
		t.Errorf("text output does not say what to do:\n%s", text.String())
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Concurrency: 1, Duration: time.Second},
		{Flow: &scripted{}, Concurrency: 0, Duration: time.Second},
		{Flow: &scripted{}, Concurrency: 1, Duration: 0},
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestErrorKind(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&KindError{Kind: "http_503", Err: errors.New("x")}, "http_503"},
		{context.DeadlineExceeded, "timeout"},
		{errors.New("boom"), "other"},
	} {
		if got := ErrorKind(tt.err); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestRunProbesTheServer(t *testing.T) {
	var calls atomic.Int64
	probe := func(context.Context) (float64, float64, error) {
		n := calls.Add(1)
		return float64(n) * 2, 64 << 20, nil // 2 s of CPU between the two reads
	}
	res, err := Run(context.Background(), Config{Flow: &scripted{}, Concurrency: 2, Duration: 200 * time.Millisecond, Probe: probe})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || res.ServerCPUS != 2 || res.ServerRSSMiB != 64 || res.Logins == 0 ||
		res.ServerCPUPerLogin != 2000/float64(res.Logins) {
		t.Fatalf("probe calls %d, result %+v", calls.Load(), res)
	}
	failing := func(context.Context) (float64, float64, error) { return 0, 0, errors.New("no metrics") }
	res, err = Run(context.Background(), Config{Flow: &scripted{}, Concurrency: 1, Duration: 100 * time.Millisecond, Probe: failing})
	if err != nil || res.ProbeError == "" || res.ServerCPUS != 0 {
		t.Fatalf("failing probe: %v %+v", err, res)
	}
}
