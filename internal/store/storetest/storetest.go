// Package storetest opens throwaway databases for tests: a SQLite file in the
// test's temporary directory, and a schema of its own on the PostgreSQL server
// named by OPENMITID_TEST_POSTGRES, dropped when the test ends.
//
// Without OPENMITID_TEST_POSTGRES the PostgreSQL half is skipped, except when
// CI=true, where it fails: CI must run both engines.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/store"
)

// Env is a migrated database with its keys, ready for a test.
type Env struct {
	DB     *store.DB
	Keys   *pki.Keyring
	Sealer *audit.Sealer
	DSN    string // the URL that opens the same database (with its schema)
	KEK    *pki.KEK
}

// Options tune the databases [Each] and [Open] make.
type Options struct {
	Now func() time.Time
}

// Each runs fn as two subtests, "sqlite" and "postgres", each with a database
// of its own.
func Each(t *testing.T, fn func(t *testing.T, env Env), opts ...Options) {
	t.Helper()
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			fn(t, Open(t, engine, opts...))
		})
	}
}

// PostgresURL returns the server URL for tests, skipping the test when none is
// configured outside CI.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("OPENMITID_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("OPENMITID_TEST_POSTGRES is not set: on CI the PostgreSQL tests must run")
		}
		t.Skip("OPENMITID_TEST_POSTGRES is not set")
	}
	return u
}

// DSN returns a database URL for a fresh, empty, unmigrated database of the
// engine, removed when the test ends.
func DSN(t testing.TB, engine store.Engine) string {
	t.Helper()
	if engine == store.SQLite {
		return "sqlite:" + t.TempDir() + "/openmitid.db" + os.Getenv("OPENMITID_TEST_SQLITE_OPTIONS")
	}
	base := PostgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("creating schema on %s: %v", base, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated database of the engine with a fresh keyring bound to
// it and the audit key set, closed when the test ends.
func Open(t testing.TB, engine store.Engine, opts ...Options) Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	dsn := DSN(t, engine)
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{Now: o.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	kek, err := pki.NewKEK(nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := pki.NewKeyring(kek)
	if err := keys.Bind(ctx, db); err != nil {
		t.Fatal(err)
	}
	mk, err := keys.Secret(ctx, db, "audit-mac", 32)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := audit.NewSealer(mk)
	if err != nil {
		t.Fatal(err)
	}
	db.SetAuditSealer(sealer)
	return Env{DB: db, Keys: keys, Sealer: sealer, DSN: dsn, KEK: kek}
}
