package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

func TestParseDSN(t *testing.T) {
	good := []struct {
		in   string
		want store.Config
	}{
		{"sqlite:openmitid.db", store.Config{Engine: store.SQLite, Path: "openmitid.db", Synchronous: "full"}},
		{"sqlite:///var/lib/x.db", store.Config{Engine: store.SQLite, Path: "/var/lib/x.db", Synchronous: "full"}},
		{"sqlite:x.db?synchronous=normal", store.Config{Engine: store.SQLite, Path: "x.db", Synchronous: "normal"}},
		{"postgres://u:p@127.0.0.1:5432/db", store.Config{Engine: store.Postgres, URL: "postgres://u:p@127.0.0.1:5432/db"}},
		{"postgresql://127.0.0.1/db?sslmode=disable", store.Config{Engine: store.Postgres, URL: "postgresql://127.0.0.1/db?sslmode=disable"}},
	}
	for _, tt := range good {
		got, err := store.ParseDSN(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDSN(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "empty"},
		{"mysql://x/y", `unknown scheme "mysql"`},
		{"openmitid.db", `unknown scheme "openmitid.db"`},
		{"sqlite:", "needs a file path"},
		{"sqlite:x.db?synchronous=off", "synchronous"},
		{"sqlite:x.db?cache=shared", `unknown sqlite option "cache"`},
		{"postgres://", "has no host"},
		{"postgres://u:secret@host:notaport/db", "bad database URL"},
		{"postgres://u:secret@h/db?sslmode=bogus", "sslmode"},
	}
	for _, tt := range bad {
		got, err := store.ParseDSN(tt.in)
		if !errors.Is(err, store.ErrDSN) || !strings.Contains(err.Error(), tt.msg) || got != (store.Config{}) {
			t.Errorf("ParseDSN(%q) = %+v, %v; want ErrDSN mentioning %q", tt.in, got, err, tt.msg)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseDSN(%q) error leaks the password: %v", tt.in, err)
		}
	}
	c, _ := store.ParseDSN("postgres://u:secret@h/db")
	if strings.Contains(c.Redacted(), "secret") {
		t.Errorf("Redacted() = %q leaks the password", c.Redacted())
	}
}

func TestOpenFailsClearly(t *testing.T) {
	ctx := context.Background()
	_, err := store.Open(ctx, "sqlite:/nonexistent-dir/x.db", store.Options{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	// A port nothing listens on: refused at once, and the password is not shown.
	_, err = store.Open(ctx, "postgres://u:secret@127.0.0.1:1/db?connect_timeout=2", store.Options{})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the database") || strings.Contains(err.Error(), "secret") {
		t.Errorf("unreachable server: %v", err)
	}
}

func TestMigrateTwiceAndReady(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		if err := env.DB.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if err := env.DB.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		cur, target, err := env.DB.SchemaVersion(ctx)
		if err != nil || cur != target || cur < 1 {
			t.Fatalf("SchemaVersion = %d, %d, %v", cur, target, err)
		}
	})
}

func TestReadyBeforeMigrate(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			db, err := store.Open(context.Background(), storetest.DSN(t, engine), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Ready(context.Background()); !errors.Is(err, store.ErrNotMigrated) {
				t.Fatalf("Ready before migrating = %v, want ErrNotMigrated", err)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		if v, err := db.Setting(ctx, "absent"); v != nil || err != nil {
			t.Fatalf("absent setting = %q, %v", v, err)
		}
		// Many nodes racing to set the same setting all see the first value.
		var wg sync.WaitGroup
		got := make([][]byte, 8)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := db.SetSettingOnce(ctx, "race", []byte{byte(i)})
				if err != nil {
					t.Error(err)
				}
				got[i] = v
			}()
		}
		wg.Wait()
		for _, v := range got {
			if !bytes.Equal(v, got[0]) {
				t.Fatalf("SetSettingOnce answers differ: %v", got)
			}
		}
	})
}

func record(t *testing.T, env storetest.Env, identity string, n int) {
	t.Helper()
	err := env.DB.InTx(context.Background(), func(ctx context.Context) error {
		for i := range n {
			if err := env.DB.Record(ctx, audit.Event{Actor: "system", Action: "test.event", Identity: identity,
				Details: map[string]string{"i": fmt.Sprint(i)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuditOutsideTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		err := env.DB.Record(context.Background(), audit.Event{Actor: "system", Action: "x"})
		if !errors.Is(err, audit.ErrNoTransaction) {
			t.Fatalf("Record outside a transaction = %v", err)
		}
	})
}

func TestAuditRolledBackWithItsChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := env.DB.InTx(ctx, func(ctx context.Context) error {
			if _, err := env.DB.SetSettingOnce(ctx, "half", []byte("x")); err != nil {
				return err
			}
			if err := env.DB.Record(ctx, audit.Event{Actor: "system", Action: "test.half"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if v, _ := env.DB.Setting(ctx, "half"); v != nil {
			t.Error("the change of a rolled-back transaction was kept")
		}
		rep, err := env.DB.VerifyAudit(ctx, env.Sealer)
		if err != nil || !rep.OK() || rep.Entries != 0 {
			t.Errorf("after rollback: %+v, %v; want an empty, intact log", rep, err)
		}
	})
}

func TestAuditChainConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					record(t, env, fmt.Sprintf("identity-%d", (w*10+i)%5), 2)
				}
			}()
		}
		wg.Wait()
		rep, err := env.DB.VerifyAudit(context.Background(), env.Sealer)
		if err != nil || !rep.OK() || rep.Entries != 160 {
			t.Fatalf("VerifyAudit = %+v, %v; want 160 intact entries", rep, err)
		}
		evs, err := env.DB.AuditEvents(context.Background(), "identity-3", 100)
		if err != nil || len(evs) != 32 {
			t.Fatalf("AuditEvents = %d, %v; want 32", len(evs), err)
		}
	})
}

// tamper changes rows as someone with write access to the database would:
// first dropping the append-only triggers, which do not stop such a person.
func tamper(t *testing.T, env storetest.Env, stmts ...string) {
	t.Helper()
	raw := rawDB(t, env)
	defer raw.Close()
	drop := []string{"DROP TRIGGER audit_events_append_only_update", "DROP TRIGGER audit_events_append_only_delete"}
	if env.DB.Engine() == store.Postgres {
		drop = []string{"DROP TRIGGER audit_events_append_only ON audit_events"}
	}
	for _, s := range append(drop, stmts...) {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func rawDB(t *testing.T, env storetest.Env) *sql.DB {
	t.Helper()
	var (
		raw *sql.DB
		err error
	)
	if env.DB.Engine() == store.SQLite {
		raw, err = sql.Open("sqlite", strings.TrimPrefix(env.DSN, "sqlite:"))
	} else {
		raw, err = sql.Open("pgx", env.DSN)
	}
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestAuditTriggersRefuseChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		record(t, env, "a", 1)
		raw := rawDB(t, env)
		defer raw.Close()
		for _, s := range []string{"UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"} {
			if _, err := raw.Exec(s); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v; want refused as append-only", s, err)
			}
		}
	})
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	// Five events about one identity go to one chain, in one order.
	chain := audit.ChainFor("victim", "")
	tests := []struct {
		name  string
		stmts []string
		seq   int64
		msg   string
	}{
		{"altered", []string{fmt.Sprintf("UPDATE audit_events SET action = 'test.harmless' WHERE chain = %d AND seq = 3", chain)}, 3, "altered"},
		{"altered details", []string{fmt.Sprintf(`UPDATE audit_events SET details = '{"i":"9"}' WHERE chain = %d AND seq = 2`, chain)}, 2, "altered"},
		{"removed", []string{fmt.Sprintf("DELETE FROM audit_events WHERE chain = %d AND seq = 2", chain)}, 2, "missing"},
		{"removed last", []string{fmt.Sprintf("DELETE FROM audit_events WHERE chain = %d AND seq = 5", chain)}, 5, "end of the chain was removed"},
		{"renumbered after removal", []string{
			fmt.Sprintf("DELETE FROM audit_events WHERE chain = %d AND seq = 2", chain),
			fmt.Sprintf("UPDATE audit_events SET seq = seq - 1 WHERE chain = %d AND seq > 2", chain),
			fmt.Sprintf("UPDATE audit_chains SET seq = 4 WHERE chain = %d", chain),
		}, 2, "does not follow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, env storetest.Env) {
				ctx := context.Background()
				record(t, env, "victim", 5)
				record(t, env, "bystander", 3)
				if rep, err := env.DB.VerifyAudit(ctx, env.Sealer); err != nil || !rep.OK() {
					t.Fatalf("before tampering: %+v, %v", rep, err)
				}
				tamper(t, env, tt.stmts...)
				rep, err := env.DB.VerifyAudit(ctx, env.Sealer)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Breaks) != 1 || rep.Breaks[0].Chain != chain || rep.Breaks[0].Seq != tt.seq ||
					!strings.Contains(rep.Breaks[0].Reason, tt.msg) {
					t.Fatalf("breaks = %v; want one in chain %d at entry %d (%s)", rep.Breaks, chain, tt.seq, tt.msg)
				}
			})
		})
	}
}
