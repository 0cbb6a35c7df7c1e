package main_test

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/internal/testbin"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeSQLiteFromNothing(t *testing.T) {
	dir := t.TempDir()
	srv := testbin.Serve(t, dir, nil)
	fi, err := os.Stat(filepath.Join(dir, "openmitid.kek"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file beside the database: %v, %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "openmitid.db")); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if !strings.Contains(resp.Header.Get(h), want) {
			t.Errorf("%s = %q, want %q", h, resp.Header.Get(h), want)
		}
	}
	if code, body := get(t, srv.URL+"/no/such/page"); code != 404 || !strings.Contains(body, `"error":"not_found"`) {
		t.Errorf("unknown route = %d %s", code, body)
	}
	_, metrics := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`openmitid_http_requests_total{code="200",method="GET",route="GET /readyz"}`,
		`openmitid_http_requests_total{code="404",method="GET",route="/"}`,
		`openmitid_http_request_duration_seconds_bucket{method="GET",route="GET /healthz"`,
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Second start: the same key file is used, nothing is made again.
	srv.Stop(t)
	before, _ := os.ReadFile(filepath.Join(dir, "openmitid.kek"))
	srv = testbin.Serve(t, dir, nil)
	after, _ := os.ReadFile(filepath.Join(dir, "openmitid.kek"))
	if string(before) != string(after) {
		t.Fatal("the key file changed on restart")
	}
	if strings.Contains(srv.Log(), "made a new key-encryption key") {
		t.Error("a second start made a new key")
	}
}

func TestServePostgres(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	dir := t.TempDir()
	kek := filepath.Join(dir, "pg.kek")
	if _, err := pki.CreateKEKFile(kek, nil); err != nil {
		t.Fatal(err)
	}
	srv := testbin.Serve(t, dir, []string{"OPENMITID_DB=" + dsn, "OPENMITID_KEK_FILE=" + kek})
	if code, _ := get(t, srv.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	srv.Stop(t)
	// The same database with another key is refused.
	other := filepath.Join(dir, "other.kek")
	pki.CreateKEKFile(other, nil)
	r := testbin.Run(t, dir, nil, "serve", "--addr", testbin.FreeAddr(t), "--db", dsn, "--kek-file", other)
	if r.Code != 1 || !strings.Contains(r.Stderr, "not the one this database was set up with") {
		t.Fatalf("another key: %+v", r)
	}
}

func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pg := storetest.PostgresURL(t)
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		msg  string
	}{
		{"no command", nil, nil, 2, ""},
		{"unknown command", nil, []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"bad flag", nil, []string{"serve", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"extra argument", nil, []string{"serve", "now"}, 2, `unexpected argument "now"`},
		{"bad boolean env", []string{"OPENMITID_DEMO=maybe"}, []string{"serve"}, 2, `OPENMITID_DEMO="maybe" is not a boolean`},
		{"bad number env", []string{"OPENMITID_ADDRESS_FAILURE_LIMIT=lots"}, []string{"serve"}, 2, `OPENMITID_ADDRESS_FAILURE_LIMIT="lots" is not a whole number`},
		{"no failures allowed", nil, []string{"serve", "--address-failure-limit", "0"}, 2, "--address-failure-limit 0: must be at least 1"},
		{"bad address", nil, []string{"serve", "--addr", "nonsense"}, 2, `--addr "nonsense"`},
		{"port in use", nil, []string{"serve", "--addr", busy.Addr().String()}, 1, "already in use"},
		{"unknown database", nil, []string{"serve", "--addr", testbin.FreeAddr(t), "--db", "mysql://x/y"}, 1, `unknown scheme "mysql"`},
		{"missing directory", nil, []string{"serve", "--addr", testbin.FreeAddr(t), "--db", "sqlite:/no/such/dir/x.db"}, 1, "does not exist"},
		{"unreachable database", nil, []string{"serve", "--addr", testbin.FreeAddr(t), "--db", "postgres://u:hunter2@127.0.0.1:1/x"}, 1, "cannot reach the database at postgres://u:xxxxx@127.0.0.1:1/x"},
		{"postgres without a key", nil, []string{"serve", "--addr", testbin.FreeAddr(t), "--db", pg}, 1, "--kek-file is required with PostgreSQL"},
		{"bad issuer", nil, []string{"serve", "--addr", testbin.FreeAddr(t), "--issuer", "ftp://x"}, 1, `--issuer "ftp://x"`},
		{"audit verify without subcommand", nil, []string{"audit"}, 2, "audit verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testbin.Run(t, dir, tt.env, tt.args...)
			if r.Code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", r.Code, tt.code, r.Stderr)
			}
			if tt.msg == "" {
				return
			}
			lines := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.msg) {
				t.Fatalf("stderr = %q; want one line containing %q", r.Stderr, tt.msg)
			}
			if strings.Contains(r.Stderr, "goroutine") || strings.Contains(r.Stderr, "hunter2") {
				t.Fatalf("stderr shows a stack or a password: %q", r.Stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "openmitid.kek")); err == nil {
		t.Error("a failed start made a key file")
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			dir := t.TempDir()
			dsn := storetest.DSN(t, engine)
			kek := filepath.Join(dir, "audit.kek")
			if _, err := pki.CreateKEKFile(kek, nil); err != nil {
				t.Fatal(err)
			}
			env := []string{"OPENMITID_DB=" + dsn, "OPENMITID_KEK_FILE=" + kek}
			// A real log: the server's first start records its signing keys,
			// and identities are made through the domain service.
			testbin.Serve(t, dir, env).Stop(t)
			ctx := context.Background()
			p, err := server.OpenPlatform(ctx, dsn, server.PlatformOptions{KEKFile: kek})
			if err != nil {
				t.Fatal(err)
			}
			h, _ := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, nil)
			key, _ := p.Keys.Secret(ctx, p.DB, "cpr-index", 32)
			ids, _ := identity.NewService(identity.Config{Store: p.DB, Log: p.DB, Keys: p.Keys, Hasher: h, Policy: password.CheckPolicy, CPRIndexKey: key})
			reg := cpr.NewSynthetic(cpr.DemoSeed, p.DB.Now())
			for i, person := range reg.All()[:5] {
				if _, err := ids.Create(ctx, identity.New{UserID: "audit.user" + string(rune('a'+i)), CPR: person.CPR,
					IAL: nsis.High, State: identity.Active}, "system"); err != nil {
					t.Fatal(err)
				}
			}
			p.Close()
			r := testbin.Run(t, dir, env, "audit", "verify")
			if r.Code != 0 || !strings.Contains(r.Stdout, "audit log intact: 7 entries") {
				t.Fatalf("intact log: %+v", r)
			}
			// Alter one entry as someone with database access would.
			raw := openRaw(t, engine, dsn)
			defer raw.Close()
			drop := "DROP TRIGGER audit_events_append_only_update"
			if engine == store.Postgres {
				drop = "DROP TRIGGER audit_events_append_only ON audit_events"
			}
			var chain, seq int
			if err := raw.QueryRow("SELECT chain, seq FROM audit_events WHERE action = 'identity.created' ORDER BY at LIMIT 1").Scan(&chain, &seq); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{drop, "UPDATE audit_events SET actor = 'operator:nobody' WHERE action = 'identity.created' AND chain = $1 AND seq = $2"} {
				if _, err := raw.Exec(s, append([]any{}, argsFor(s, chain, seq)...)...); err != nil {
					t.Fatal(err)
				}
			}
			r = testbin.Run(t, dir, env, "audit", "verify")
			want := regexp.MustCompile(`chain \d+, entry \d+ \(event [0-9a-f-]+, identity\.created, `)
			if r.Code != 1 || !want.MatchString(r.Stderr) || !strings.Contains(r.Stderr, "altered") {
				t.Fatalf("altered log: %+v", r)
			}
			if !strings.Contains(r.Stderr, "chain "+strconv.Itoa(chain)+", entry "+strconv.Itoa(seq)) {
				t.Fatalf("the report does not name chain %d entry %d: %s", chain, seq, r.Stderr)
			}
		})
	}
}

func argsFor(stmt string, chain, seq int) []any {
	if strings.Contains(stmt, "$1") {
		return []any{chain, seq}
	}
	return nil
}

func openRaw(t *testing.T, engine store.Engine, dsn string) *sql.DB {
	t.Helper()
	driver, name := "pgx", dsn
	if engine == store.SQLite {
		driver, name = "sqlite", strings.TrimPrefix(dsn, "sqlite:")
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	r := testbin.Run(t, dir, nil, "migrate", "--db", "sqlite:"+filepath.Join(dir, "m.db"))
	if r.Code != 0 || !strings.Contains(r.Stdout, "schema at version") {
		t.Fatalf("migrate: %+v", r)
	}
	// Migrating again is a no-op, and a server starts on it.
	if r = testbin.Run(t, dir, nil, "migrate", "--db", "sqlite:"+filepath.Join(dir, "m.db")); r.Code != 0 {
		t.Fatalf("second migrate: %+v", r)
	}
	testbin.Serve(t, dir, []string{"OPENMITID_DB=sqlite:" + filepath.Join(dir, "m.db")})
	if r = testbin.Run(t, dir, nil, "version"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "openmitid ") {
		t.Fatalf("version: %+v", r)
	}
}

func TestAdminClients(t *testing.T) {
	dir := t.TempDir()
	testbin.Serve(t, dir, nil).Stop(t)
	r := testbin.Run(t, dir, nil, "admin", "clients", "add", "--id", "skat", "--name", "Skattestyrelsen",
		"--redirect-uri", "https://skat.example/cb", "--scopes", "openid profile cpr", "--cpr", "--alg", "ES256")
	if r.Code != 0 || !strings.Contains(r.Stdout, "client_secret: ") {
		t.Fatalf("add: %+v", r)
	}
	bad := [][]string{
		{"--id", "x", "--name", "X", "--redirect-uri", "http://example.com/cb"},
		{"--id", "y", "--name", "Y", "--redirect-uri", "https://y.example/cb", "--scopes", "openid cpr"},
		{"--id", "z", "--name", "Z", "--redirect-uri", "https://z.example/cb", "--min-level", "extreme"},
		{"--id", "w", "--name", "W", "--redirect-uri", "https://w.example/cb", "--auth", "private_key_jwt"},
	}
	for _, b := range bad {
		if r := testbin.Run(t, dir, nil, append([]string{"admin", "clients", "add"}, b...)...); r.Code != 2 {
			t.Errorf("add %v: %+v", b, r)
		}
	}
	if r := testbin.Run(t, dir, nil, "admin", "clients", "add", "--id", "skat", "--name", "S", "--redirect-uri", "https://s.example/cb"); r.Code != 1 || !strings.Contains(r.Stderr, "exists") {
		t.Errorf("adding an existing id: %+v", r)
	}
	r = testbin.Run(t, dir, nil, "admin", "clients", "list")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Skattestyrelsen") || !strings.Contains(r.Stdout, "ES256") {
		t.Fatalf("list: %+v", r)
	}
	if r := testbin.Run(t, dir, nil, "admin", "clients", "remove", "--id", "skat"); r.Code != 0 {
		t.Fatalf("remove: %+v", r)
	}
	if r := testbin.Run(t, dir, nil, "admin", "clients", "remove", "--id", "skat"); r.Code != 1 {
		t.Fatalf("removing twice: %+v", r)
	}
}
