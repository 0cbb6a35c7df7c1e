package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config is what [Run] does.
type Config struct {
	Flow        Flow
	Concurrency int           // virtual users, each doing one login after another
	Users       int           // identities Setup makes (at least Concurrency for flows that need it)
	Duration    time.Duration // the measured time
	Warmup      time.Duration // logins before the clock starts, not counted
	// Probe, when set, reads the server's CPU seconds used so far and its
	// resident memory (e.g. from its /metrics); the runner calls it when the
	// measured time starts and ends, to report the server's CPU per login.
	Probe func(ctx context.Context) (cpuSeconds, rssBytes float64, err error)
	// Progress, when set, gets a line every ProgressEvery of the measured time.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// A Pacer is a [Flow] that must sometimes wait before it can start a login,
// such as a code display with no unused code in the current time window. The
// runner calls Ready before it starts the login's clock, so the wait is not
// counted as latency; it is reported as time paced.
type Pacer interface {
	Ready(ctx context.Context, vu int) error
}

// Result is what a run measured.
type Result struct {
	Flow        string                `json:"flow"`
	Concurrency int                   `json:"concurrency"`
	Users       int                   `json:"users"`
	Duration    time.Duration         `json:"-"`
	Seconds     float64               `json:"duration_s"`
	SetupS      float64               `json:"setup_s"`
	Logins      uint64                `json:"logins"`
	LoginsPerS  float64               `json:"logins_per_s"`
	Errors      map[string]uint64     `json:"errors"`
	ErrorSample map[string]string     `json:"error_samples,omitempty"`
	PacedS      float64               `json:"paced_s"`
	Login       Percentile            `json:"login"`
	Steps       map[string]Percentile `json:"steps"`
	StepOrder   []string              `json:"step_order"`
	GOMAXPROCS  int                   `json:"gomaxprocs"`
	// The server's CPU time in the measured time, per login, and its
	// resident memory at the end, when Config.Probe could read them.
	ServerCPUS        float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPerLogin float64 `json:"server_cpu_ms_per_login,omitempty"`
	ServerRSSMiB      float64 `json:"server_rss_mib,omitempty"`
	// The load generator's own CPU (this process) per login in the measured
	// time: with it on the server's machine, the two share the cores.
	ClientCPUPerLogin float64 `json:"client_cpu_ms_per_login,omitempty"`
	ProbeError        string  `json:"probe_error,omitempty"`
}

// Percentile summarises one histogram in milliseconds, with its rate.
type Percentile struct {
	Count  uint64  `json:"count"`
	PerS   float64 `json:"per_s"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P95MS  float64 `json:"p95_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

func summarise(h *Histogram, secs float64) Percentile {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	p := Percentile{Count: h.Count(), MeanMS: ms(h.Mean()), P50MS: ms(h.Quantile(0.50)), P95MS: ms(h.Quantile(0.95)),
		P99MS: ms(h.Quantile(0.99)), MaxMS: ms(h.Max())}
	if secs > 0 {
		p.PerS = float64(h.Count()) / secs
	}
	return p
}

// vuStats is one virtual user's tallies, merged at the end (no locks while
// measuring).
type vuStats struct {
	pending []stepTime // the current login's steps, kept if the login counts
	login   Histogram
	steps   map[string]*Histogram
	order   []string
	errors  map[string]uint64
	sample  map[string]string
	paced   time.Duration
}

type stepTime struct {
	name string
	d    time.Duration
}

// Step implements [Recorder].
func (s *vuStats) Step(name string, d time.Duration) {
	s.pending = append(s.pending, stepTime{name, d})
}

// keep adds the current login's steps to the tallies.
func (s *vuStats) keep() {
	for _, st := range s.pending {
		h := s.steps[st.name]
		if h == nil {
			h = &Histogram{}
			s.steps[st.name] = h
			s.order = append(s.order, st.name)
		}
		h.Record(st.d)
	}
}

// ErrorKind returns the kind of a failed login's error: a [KindError]'s kind,
// "timeout" for a deadline, or "other".
func ErrorKind(err error) string {
	var ke *KindError
	if errors.As(err, &ke) && ke.Kind != "" {
		return ke.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "other"
}

// Run calls cfg.Flow's Setup, then runs cfg.Concurrency virtual users, each
// logging in again and again, for the warm-up and then for cfg.Duration. A
// login counts when it ends inside the measured time; logins still running
// when it ends are finished (so the server is not left with half-done
// flows) but not counted; those that started in the warm-up and end in the
// measured time are. It returns an error only when Setup fails or the
// configuration is unusable; failed logins are counted by kind.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Flow == nil || cfg.Concurrency < 1 || cfg.Duration <= 0 || cfg.Warmup < 0 {
		return nil, fmt.Errorf("bench: need a flow, concurrency ≥ 1 and a duration > 0 (got %d, %s)", cfg.Concurrency, cfg.Duration)
	}
	if cfg.Users < 1 {
		cfg.Users = cfg.Concurrency
	}
	setupStart := time.Now()
	if err := cfg.Flow.Setup(ctx, cfg.Users); err != nil {
		return nil, fmt.Errorf("bench: setup of %s: %w", cfg.Flow.Name(), err)
	}
	setup := time.Since(setupStart)

	stats := make([]*vuStats, cfg.Concurrency)
	for i := range stats {
		stats[i] = &vuStats{steps: map[string]*Histogram{}, errors: map[string]uint64{}, sample: map[string]string{}}
	}
	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	measureTo := measureFrom.Add(cfg.Duration)
	pacer, _ := cfg.Flow.(Pacer)
	// Logins in flight at the end are given a while to finish, then cut.
	lctx, cancel := context.WithDeadline(ctx, measureTo.Add(30*time.Second))
	defer cancel()
	// Waiting to start a login ends with the measured time.
	rctx, rcancel := context.WithDeadline(ctx, measureTo)
	defer rcancel()
	var wg sync.WaitGroup
	for vu, st := range stats {
		wg.Go(func() {
			for {
				now := time.Now()
				if !now.Before(measureTo) || lctx.Err() != nil {
					return
				}
				counting := !now.Before(measureFrom)
				if pacer != nil {
					p0 := time.Now()
					if err := pacer.Ready(rctx, vu); err != nil {
						// The measured time ended while it waited: that
						// wait, as far as it fell in the measured time,
						// is paced too (or a run whose identities are all
						// spent would report nothing at all).
						from, to := p0, time.Now()
						if from.Before(measureFrom) {
							from = measureFrom
						}
						if to.After(measureTo) {
							to = measureTo
						}
						if to.After(from) {
							st.paced += to.Sub(from)
						}
						return
					}
					if counting {
						st.paced += time.Since(p0)
					}
					if !time.Now().Before(measureTo) {
						return
					}
				}
				st.pending = st.pending[:0]
				t0 := time.Now()
				err := cfg.Flow.Login(lctx, vu, st)
				end := time.Now()
				// A login counts when it ends inside the measured time,
				// whenever it started: in a steady state as many are cut at
				// the start as at the end, so the rate is not biased.
				if end.Before(measureFrom) || end.After(measureTo) {
					continue
				}
				st.keep()
				if err != nil {
					k := ErrorKind(err)
					st.errors[k]++
					if _, ok := st.sample[k]; !ok {
						st.sample[k] = oneLine(err.Error())
					}
					continue
				}
				st.login.Record(end.Sub(t0))
			}
		})
	}
	if cfg.Progress != nil && cfg.ProgressEvery > 0 {
		go progress(lctx, cfg, measureFrom, measureTo)
	}
	type probe struct {
		cpu, rss float64
		err      error
	}
	probes := make(chan probe, 2)
	selfCPU := make(chan time.Duration, 2)
	go func() {
		for _, at := range []time.Time{measureFrom, measureTo} {
			time.Sleep(time.Until(at))
			selfCPU <- processCPU()
		}
	}()
	if cfg.Probe != nil {
		go func() {
			for _, at := range []time.Time{measureFrom, measureTo} {
				time.Sleep(time.Until(at))
				var p probe
				p.cpu, p.rss, p.err = cfg.Probe(ctx)
				probes <- p
			}
		}()
	}
	wg.Wait()

	secs := cfg.Duration.Seconds()
	res := &Result{Flow: cfg.Flow.Name(), Concurrency: cfg.Concurrency, Users: cfg.Users, Duration: cfg.Duration,
		Seconds: secs, SetupS: setup.Seconds(), Errors: map[string]uint64{}, ErrorSample: map[string]string{},
		Steps: map[string]Percentile{}, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	var login Histogram
	steps := map[string]*Histogram{}
	var paced time.Duration
	for _, st := range stats {
		login.Merge(&st.login)
		for _, name := range st.order {
			if steps[name] == nil {
				steps[name] = &Histogram{}
				res.StepOrder = append(res.StepOrder, name)
			}
			steps[name].Merge(st.steps[name])
		}
		for k, n := range st.errors {
			res.Errors[k] += n
			if _, ok := res.ErrorSample[k]; !ok {
				res.ErrorSample[k] = st.sample[k]
			}
		}
		paced += st.paced
	}
	res.Logins = login.Count()
	res.LoginsPerS = float64(res.Logins) / secs
	res.Login = summarise(&login, secs)
	for name, h := range steps {
		res.Steps[name] = summarise(h, secs)
	}
	res.PacedS = paced.Seconds()
	if c0, c1 := <-selfCPU, <-selfCPU; res.Logins > 0 && c1 > c0 {
		res.ClientCPUPerLogin = float64((c1 - c0).Microseconds()) / 1000 / float64(res.Logins)
	}
	if cfg.Probe != nil {
		p0, p1 := <-probes, <-probes
		if err := errors.Join(p0.err, p1.err); err != nil {
			res.ProbeError = oneLine(err.Error())
		} else {
			res.ServerCPUS = p1.cpu - p0.cpu
			res.ServerRSSMiB = p1.rss / (1 << 20)
			if res.Logins > 0 {
				res.ServerCPUPerLogin = res.ServerCPUS * 1000 / float64(res.Logins)
			}
		}
	}
	return res, nil
}

func progress(ctx context.Context, cfg Config, from, to time.Time) {
	t := time.NewTicker(cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.After(to) {
				return
			}
			if now.Before(from) {
				fmt.Fprintf(cfg.Progress, "warming up (%s left)\n", from.Sub(now).Round(time.Second))
				continue
			}
			fmt.Fprintf(cfg.Progress, "%s of %s\n", now.Sub(from).Round(time.Second), cfg.Duration)
		}
	}
}

// TotalErrors returns the number of failed logins.
func (r *Result) TotalErrors() uint64 {
	var n uint64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// WriteText writes the result for a person: logins/s first (the line scripts
// grep for, CONTRACT.md), then latency per step and errors by kind.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "flow: %s, %d virtual users, %d identities, %s measured (setup %.1f s, GOMAXPROCS %d)\n",
		r.Flow, r.Concurrency, r.Users, r.Duration, r.SetupS, r.GOMAXPROCS)
	fmt.Fprintf(&b, "logins/s: %.1f\n", r.LoginsPerS)
	fmt.Fprintf(&b, "logins: %d, errors: %d\n", r.Logins, r.TotalErrors())
	if r.ServerCPUS > 0 {
		fmt.Fprintf(&b, "server: %.2f s CPU, %.2f ms CPU per login (%.0f logins/s per core at that cost), %.0f MiB resident\n",
			r.ServerCPUS, r.ServerCPUPerLogin, 1000/r.ServerCPUPerLogin, r.ServerRSSMiB)
	}
	if r.ClientCPUPerLogin > 0 {
		fmt.Fprintf(&b, "load generator: %.2f ms CPU per login\n", r.ClientCPUPerLogin)
	}
	if r.ServerCPUS <= 0 && r.ProbeError != "" {
		fmt.Fprintf(&b, "server: not measured (%s)\n", r.ProbeError)
	}
	if r.PacedS >= 0.1 {
		fmt.Fprintf(&b, "paced: %.1f s of virtual users' time waited for an identity that may log in (a code display gives a code per 30 s, an app 10 requests per 10 minutes): add identities with --users\n", r.PacedS)
	}
	fmt.Fprintf(&b, "\n%-10s %8s %9s %9s %9s %9s %9s %9s\n", "step", "count", "per s", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms")
	row := func(name string, p Percentile) {
		fmt.Fprintf(&b, "%-10s %8d %9.1f %9.2f %9.2f %9.2f %9.2f %9.2f\n", name, p.Count, p.PerS, p.MeanMS, p.P50MS, p.P95MS, p.P99MS, p.MaxMS)
	}
	for _, name := range r.StepOrder {
		row(name, r.Steps[name])
	}
	row("login", r.Login)
	if len(r.Errors) > 0 {
		b.WriteString("\nerrors by kind:\n")
		kinds := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			fmt.Fprintf(&b, "  %-20s %8d  e.g. %s\n", k, r.Errors[k], r.ErrorSample[k])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the result as one JSON object.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
