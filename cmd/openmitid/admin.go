package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func runVersion(args []string) error {
	fs := newFlags("version", "version")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	fmt.Printf("openmitid %s %s %s/%s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func runMigrate(args []string) error {
	fs := newFlags("migrate", "migrate [--db URL]")
	dsn := fs.String("db", env("OPENMITID_DB", defaultDB), "database: sqlite:PATH or postgres://… (env OPENMITID_DB)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ctx := context.Background()
	db, err := store.Open(ctx, *dsn, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	cur, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%s: schema at version %d\n", db.Redacted(), cur)
	return nil
}

func runAudit(args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return runAuditList(args[1:])
	}
	if len(args) == 0 || args[0] != "verify" {
		return usageError{"want: openmitid audit verify|list [--db URL] [--kek-file FILE]"}
	}
	fs := newFlags("audit verify", "audit verify [--db URL] [--kek-file FILE]")
	dsn := fs.String("db", env("OPENMITID_DB", defaultDB), "database: sqlite:PATH or postgres://… (env OPENMITID_DB)")
	kek := fs.String("kek-file", env("OPENMITID_KEK_FILE", ""), "key-encryption key file (the audit MAC key is sealed under it)")
	if err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	ctx := context.Background()
	p, err := server.OpenPlatform(ctx, *dsn, server.PlatformOptions{KEKFile: *kek})
	if err != nil {
		return err
	}
	defer p.Close()
	rep, err := p.DB.VerifyAudit(ctx, p.Sealer)
	if err != nil {
		return err
	}
	if !rep.OK() {
		for _, b := range rep.Breaks {
			fmt.Fprintf(os.Stderr, "BROKEN %s\n", b)
		}
		return fmt.Errorf("the audit log is broken: %d of 16 chains fail (first: %s)", len(rep.Breaks), rep.Breaks[0])
	}
	fmt.Printf("audit log intact: %d entries in 16 chains\n", rep.Entries)
	return nil
}
