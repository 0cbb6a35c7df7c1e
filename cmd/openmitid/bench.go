package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/bench"
)

// runBench is `openmitid bench` (CONTRACT.md): whole logins against a running
// server, or the password hash's bound with --hash.
func runBench(args []string) error {
	fs := newFlags("bench", "bench --server URL --flow app|code_display|chip --duration D --concurrency N [--users N] [--users-file FILE] [--warmup D] [--client ID --client-secret S] [--peer-ory FILE [--rounds N] [--peer-users N]] [--json]\n       openmitid bench --hash --duration D [--json]")
	server := fs.String("server", env("OPENMITID_ISSUER", "http://127.0.0.1:8080"), "the server's issuer URL (env OPENMITID_ISSUER)")
	flow := fs.String("flow", "app", "what to log in with: app, code_display or chip (a software FIDO2 key from the test tool; the issuer's host must be a name such as localhost)")
	duration := fs.Duration("duration", 30*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", 5*time.Second, "how long to log in before measuring")
	concurrency := fs.Int("concurrency", 16, "virtual users, each doing one login after another")
	users := fs.Int("users", 0, "identities to log in as (default: the concurrency; each virtual user gets its own; more for code_display, whose codes are one per 30 s)")
	usersFile := fs.String("users-file", "", "log in as the identities of this `FILE`, written by openmitid testdata identities --out, instead of making them through the test tool")
	checkID := fs.Bool("check-id-token", true, "verify each ID token's signature, issuer, audience and nonce")
	client := fs.String("client", bench.DemoClient, "the service provider's client_id (client_secret_basic)")
	secret := fs.String("client-secret", env("OPENMITID_BENCH_CLIENT_SECRET", ""), "its secret (env OPENMITID_BENCH_CLIENT_SECRET; the demo client's when --client is demo)")
	redirect := fs.String("redirect-uri", bench.DemoRedirect, "a redirect URI registered for the client (never visited)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	peerOry := fs.String("peer-ory", "", "also drive ORY Kratos + Hydra (a password + TOTP login, docs/performance.md) described by this JSON file of bench.OryConfig, alternating with --flow in one run, and print the ratio")
	peerUsers := fs.Int("peer-users", 0, "with --peer-ory: users to make in Kratos (default 4 per virtual user; Kratos takes a TOTP code again, so the peer needs no pacing)")
	rounds := fs.Int("rounds", 1, "with --peer-ory: measure each side this many times, alternating")
	hash := fs.Bool("hash", false, "measure the password hash (argon2id at the server's parameters) on all cores instead, and print hashes/s")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *duration <= 0 || *warmup < 0 {
		return usageError{"--duration must be positive and --warmup not negative"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *hash {
		p := password.OWASP
		rate := password.Throughput(ctx, p, *duration)
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(map[string]any{"hashes_per_s": rate, "cores": runtime.GOMAXPROCS(0),
				"memory_kib": p.Memory, "time": p.Time, "threads": p.Threads, "duration_s": duration.Seconds()})
		}
		fmt.Printf("argon2id m=%d KiB t=%d p=%d on %d cores for %s\nhashes/s: %.1f\n", p.Memory, p.Time, p.Threads,
			runtime.GOMAXPROCS(0), *duration, rate)
		return nil
	}

	if *concurrency < 1 {
		return usageError{"--concurrency must be at least 1"}
	}
	if *flow != bench.MethodApp && *flow != bench.MethodCodeDisplay && *flow != bench.MethodChip {
		return usageError{fmt.Sprintf("--flow %q: want app, code_display or chip", *flow)}
	}
	opt := bench.OpenMitIDOptions{Server: *server, Method: *flow, CheckIDToken: *checkID, Log: os.Stderr,
		RedirectURI: *redirect}
	if *client != bench.DemoClient {
		if *secret == "" {
			return usageError{"--client other than demo needs --client-secret"}
		}
		opt.ClientID, opt.ClientSecret = *client, *secret
	}
	if *usersFile != "" {
		spec, err := bench.ReadLoadSpec(*usersFile)
		if err != nil {
			return err
		}
		opt.Users = spec
	}
	f, err := bench.NewOpenMitID(opt)
	if err != nil {
		return usageError{err.Error()}
	}
	n := *users
	if n == 0 {
		n = *concurrency
	}
	if n < *concurrency {
		return usageError{fmt.Sprintf("--users %d is fewer than --concurrency %d: each virtual user needs an identity of its own", n, *concurrency)}
	}
	f.SetConcurrency(*concurrency)
	fmt.Fprintf(os.Stderr, "setting up %d identities for %s, then %s warm-up and %s measured with %d virtual users\n",
		n, f.Name(), *warmup, *duration, *concurrency)
	cfg := bench.Config{Flow: f, Concurrency: *concurrency, Users: n, Duration: *duration,
		Warmup: *warmup, Progress: os.Stderr, ProgressEvery: 10 * time.Second, Probe: f.ProbeMetrics}
	if *peerOry == "" {
		res, err := bench.Run(ctx, cfg)
		if err != nil {
			return err
		}
		if *asJSON {
			return res.WriteJSON(os.Stdout)
		}
		return res.WriteText(os.Stdout)
	}
	if *rounds < 1 {
		return usageError{"--rounds must be at least 1"}
	}
	oc, err := readOryConfig(*peerOry)
	if err != nil {
		return err
	}
	peer := bench.NewOryFlow(oc)
	peerCfg := cfg
	peerCfg.Flow, peerCfg.Probe = &setupOnce{Flow: peer}, nil
	if peerCfg.Users = *peerUsers; peerCfg.Users == 0 {
		peerCfg.Users = 4 * *concurrency
	}
	if peerCfg.Users < *concurrency {
		return usageError{fmt.Sprintf("--peer-users %d is fewer than --concurrency %d", peerCfg.Users, *concurrency)}
	}
	cfg.Flow = &setupOnce{Flow: f}
	return sideBySide(ctx, cfg, peerCfg, *rounds, *asJSON)
}

// setupOnce makes a flow's users before its first round only.
type setupOnce struct {
	bench.Flow
	done bool
}

func (s *setupOnce) Setup(ctx context.Context, users int) error {
	if s.done {
		return nil
	}
	s.done = true
	return s.Flow.Setup(ctx, users)
}

// Ready keeps the wrapped flow's pacing (bench.Pacer), if it has one.
func (s *setupOnce) Ready(ctx context.Context, vu int) error {
	if p, ok := s.Flow.(bench.Pacer); ok {
		return p.Ready(ctx, vu)
	}
	return nil
}

func readOryConfig(path string) (bench.OryConfig, error) {
	var oc bench.OryConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return oc, err
	}
	if err := json.Unmarshal(b, &oc); err != nil {
		return oc, fmt.Errorf("--peer-ory %s: %v", path, err)
	}
	if oc.KratosPublic == "" || oc.KratosAdmin == "" || oc.HydraPublic == "" || oc.HydraAdmin == "" || oc.ClientID == "" {
		return oc, usageError{fmt.Sprintf("--peer-ory %s: KratosPublic, KratosAdmin, HydraPublic, HydraAdmin and ClientID are required", path)}
	}
	return oc, nil
}

// sideBySide measures OpenMitID's flow and the peer's in turn, rounds
// times, so that whatever else the machine does falls on both alike, and
// prints each result and the ratio of their login rates per round.
func sideBySide(ctx context.Context, ours, peer bench.Config, rounds int, asJSON bool) error {
	type round struct {
		OpenMitID *bench.Result `json:"openmitid"`
		Peer      *bench.Result `json:"peer"`
		Ratio     float64       `json:"ratio_logins_per_s"`
	}
	var all []round
	for i := 1; i <= rounds; i++ {
		var r round
		var err error
		if r.OpenMitID, err = bench.Run(ctx, ours); err != nil {
			return fmt.Errorf("round %d, %s: %w", i, ours.Flow.Name(), err)
		}
		if r.Peer, err = bench.Run(ctx, peer); err != nil {
			return fmt.Errorf("round %d, %s: %w", i, peer.Flow.Name(), err)
		}
		if r.Peer.LoginsPerS > 0 {
			r.Ratio = r.OpenMitID.LoginsPerS / r.Peer.LoginsPerS
		}
		all = append(all, r)
		if !asJSON {
			fmt.Printf("== round %d of %d\n", i, rounds)
			if err := r.OpenMitID.WriteText(os.Stdout); err != nil {
				return err
			}
			if err := r.Peer.WriteText(os.Stdout); err != nil {
				return err
			}
			fmt.Printf("ratio (%s / %s, logins/s): %.2f\n\n", r.OpenMitID.Flow, r.Peer.Flow, r.Ratio)
		}
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"rounds": all})
	}
	return nil
}
