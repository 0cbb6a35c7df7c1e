package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/openmitid/openmitid/internal/server"
)

const defaultDB = "sqlite:openmitid.db"

func runServe(args []string) error {
	fs := newFlags("serve", "serve [flags]")
	var cfg server.Config
	fs.StringVar(&cfg.Addr, "addr", env("OPENMITID_ADDR", "127.0.0.1:8080"), "listen address (env OPENMITID_ADDR)")
	fs.StringVar(&cfg.DB, "db", env("OPENMITID_DB", defaultDB), "database: sqlite:PATH or postgres://… (env OPENMITID_DB)")
	fs.StringVar(&cfg.Issuer, "issuer", env("OPENMITID_ISSUER", ""), "issuer URL (env OPENMITID_ISSUER; default http:// + addr)")
	demo, err := envBool("OPENMITID_DEMO")
	if err != nil {
		return err
	}
	fs.BoolVar(&cfg.Demo, "demo", demo, "demo mode: synthetic register, demo service provider, test tool (env OPENMITID_DEMO)")
	fs.StringVar(&cfg.FaceVerifier, "face-verifier", env("OPENMITID_FACE_VERIFIER", "review"), "review, or the URL of a face-verification service (env OPENMITID_FACE_VERIFIER)")
	fs.StringVar(&cfg.KEKFile, "kek-file", env("OPENMITID_KEK_FILE", ""), "key-encryption key file (env OPENMITID_KEK_FILE; default beside the SQLite file; required with PostgreSQL)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", env("OPENMITID_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed (env OPENMITID_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.SMTPAddr, "smtp-addr", env("OPENMITID_SMTP_ADDR", ""), "host:port of the SMTP server for notifications (env OPENMITID_SMTP_ADDR; default: write them to the log)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", env("OPENMITID_SMTP_FROM", "noreply@localhost.localdomain"), "sender address of notifications (env OPENMITID_SMTP_FROM)")
	cfg.SMTPAuth = [2]string{os.Getenv("OPENMITID_SMTP_USERNAME"), os.Getenv("OPENMITID_SMTP_PASSWORD")}
	copyWait, err := envDuration("OPENMITID_COPY_WAIT", time.Hour)
	if err != nil {
		return err
	}
	fs.DurationVar(&cfg.CopyWait, "copy-wait", copyWait, "how long an app copied to a new phone waits before it can be used (env OPENMITID_COPY_WAIT)")
	failLimit, err := envInt("OPENMITID_ADDRESS_FAILURE_LIMIT", 100)
	if err != nil {
		return err
	}
	fs.IntVar(&cfg.AddressFailureLimit, "address-failure-limit", failLimit, "failed passwords and codes from one client address per 10 minutes before it is refused (env OPENMITID_ADDRESS_FAILURE_LIMIT)")
	pprofAddr := fs.String("pprof-addr", env("OPENMITID_PPROF_ADDR", ""), "serve Go's profiler on this loopback address, e.g. 127.0.0.1:6060 (env OPENMITID_PPROF_ADDR; off by default)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if cfg.AddressFailureLimit < 1 {
		return usageError{fmt.Sprintf("--address-failure-limit %d: must be at least 1", cfg.AddressFailureLimit)}
	}
	if cfg.CopyWait < 0 {
		return usageError{fmt.Sprintf("--copy-wait %v: must not be negative", cfg.CopyWait)}
	}
	log, err := newLogger()
	if err != nil {
		return err
	}
	cfg.Logger = log
	if *pprofAddr != "" {
		pl, err := servePprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer pl.Close()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Listen before opening the database, so that a port in use is reported
	// before anything is migrated or a key file is made.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return listenError(cfg.Addr, err)
	}
	defer ln.Close()
	if cfg.Issuer == "" {
		cfg.Issuer = "http://" + ln.Addr().String()
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	return srv.Serve(ctx, ln)
}

// envInt reads a whole-number environment variable, def when it is unset.
func envInt(name string, def int) (int, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, usageError{fmt.Sprintf("%s=%q is not a whole number", name, v)}
	}
	return n, nil
}

func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("cannot listen on %s: the address is already in use", addr)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("cannot listen on %s: permission denied", addr)
	}
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return usageError{fmt.Sprintf("--addr %q: %s", addr, ae.Err)}
	}
	return fmt.Errorf("cannot listen on %s: %v", addr, err)
}

// envDuration reads a duration from the environment, or def when unset.
func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, usageError{fmt.Sprintf("%s=%q: want a duration such as 1h", name, v)}
	}
	return d, nil
}
