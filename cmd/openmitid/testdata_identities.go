package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/openmitid/openmitid/internal/bench"
)

// runTestdataIdentities is `openmitid testdata identities`: the bulk loader
// for the load benchmark.
func runTestdataIdentities(args []string) error {
	fs := newFlags("testdata identities", "testdata identities --db DSN --count N [--kek-file F] [--out FILE] [--authenticators app,code_display] [--batch N] [--force]")
	dsn, kek := platformFlags(fs)
	count := fs.Int("count", 0, "how many identities to make (required)")
	out := fs.String("out", "bench-users.json", "the users `FILE` for openmitid bench --users-file (it holds the keys to every identity made: keep it secret)")
	kinds := fs.String("authenticators", "app,code_display", "the authenticators each identity gets: app, code_display or both")
	batch := fs.Int("batch", 10000, "identities per transaction")
	force := fs.Bool("force", false, "replace an existing users file")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *count < 1 {
		return usageError{"--count N is required: how many identities to make"}
	}
	if *batch < 1 {
		return usageError{"--batch must be at least 1"}
	}
	if _, err := os.Stat(*out); err == nil && !*force {
		return fmt.Errorf("%s exists already; use --force to replace it", *out)
	}
	var auths []string
	for _, k := range strings.Split(*kinds, ",") {
		if k = strings.TrimSpace(k); k != bench.MethodApp && k != bench.MethodCodeDisplay {
			return usageError{fmt.Sprintf("--authenticators: %q is not app or code_display", k)}
		}
		auths = append(auths, k)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	spec, err := bench.LoadIdentities(ctx, bench.LoaderOptions{DSN: *dsn, KEKFile: *kek, Count: *count,
		Authenticators: auths, Batch: *batch, Log: os.Stderr})
	if err != nil {
		return err
	}
	if err := spec.Write(*out); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d identities, user IDs %s … %s\n", *out, spec.Count, spec.UserID(0), spec.UserID(spec.Count-1))
	return nil
}
