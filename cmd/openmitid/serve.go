package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

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
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	log, err := newLogger()
	if err != nil {
		return err
	}
	cfg.Logger = log

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
