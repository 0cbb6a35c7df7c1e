package bench_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/openmitid/openmitid/internal/bench"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// startServer runs a --demo node in this process on engine's database and
// returns its URL, its database URL and its key file.
func startServer(t *testing.T, engine store.Engine) (base, dsn, kek string) {
	t.Helper()
	dsn, kek = newDatabase(t, engine)
	return serveOn(t, dsn, kek), dsn, kek
}

// newDatabase returns a fresh database URL and a key file for it.
func newDatabase(t *testing.T, engine store.Engine) (dsn, kek string) {
	t.Helper()
	dsn = storetest.DSN(t, engine)
	kek = filepath.Join(t.TempDir(), "openmitid.kek")
	if _, err := pki.CreateKEKFile(kek, nil); err != nil {
		t.Fatal(err)
	}
	return dsn, kek
}

// serveOn runs a --demo node in this process on the database.
func serveOn(t *testing.T, dsn, kek string) (base string) {
	base, _ = serveNode(t, dsn, kek)
	return base
}

func serveNode(t *testing.T, dsn, kek string) (base string, srv *server.Server) {
	return serveNodeAs(t, dsn, kek, "127.0.0.1")
}

// serveNodeAs runs a node whose issuer names host (a name such as localhost
// for chips: an IP address cannot be a WebAuthn relying party).
func serveNodeAs(t *testing.T, dsn, kek, host string) (base string, srv *server.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base = "http://" + net.JoinHostPort(host, port)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err = server.New(ctx, server.Config{DB: dsn, Issuer: base, Demo: true, KEKFile: kek,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	return base, srv
}

func eachEngine(t *testing.T, fn func(t *testing.T, engine store.Engine)) {
	for _, e := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(e), func(t *testing.T) { fn(t, e) })
	}
}

// runFlow runs a flow for about five seconds (a password login under the race
// detector on a busy 2-core machine can take more than two) and insists on logins and no
// errors.
func runFlow(t *testing.T, f bench.Flow, conc, users int) *bench.Result {
	t.Helper()
	res, err := bench.Run(context.Background(), bench.Config{Flow: f, Concurrency: conc, Users: users,
		Duration: 5 * time.Second, Warmup: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Logins == 0 || res.TotalErrors() != 0 {
		t.Fatalf("%s: %d logins, errors %v %v", f.Name(), res.Logins, res.Errors, res.ErrorSample)
	}
	return res
}

func TestFlowsAgainstAServer(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine store.Engine) {
		base, _, _ := startServer(t, engine)
		for _, tt := range []struct {
			method string
			steps  []string
		}{
			{bench.MethodApp, []string{"authorize", "identify", "app", "callback", "token"}},
			{bench.MethodCodeDisplay, []string{"authorize", "identify", "password", "code", "callback", "token"}},
		} {
			t.Run(tt.method, func(t *testing.T) {
				f, err := bench.NewOpenMitID(bench.OpenMitIDOptions{Server: base, Method: tt.method, CheckIDToken: true})
				if err != nil {
					t.Fatal(err)
				}
				f.SetConcurrency(3)
				res := runFlow(t, f, 3, 6)
				for _, s := range tt.steps {
					if res.Steps[s].Count < res.Logins {
						t.Errorf("step %s measured %d times for %d logins", s, res.Steps[s].Count, res.Logins)
					}
				}
				t.Logf("%s on %s: %.1f logins/s, login p50 %.1f ms", tt.method, engine, res.LoginsPerS, res.Login.P50MS)
			})
		}
	})
}

func TestLoadedIdentitiesLogIn(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine store.Engine) {
		dsn, kek := newDatabase(t, engine)
		ctx := context.Background()
		spec, err := bench.LoadIdentities(ctx, bench.LoaderOptions{DSN: dsn, KEKFile: kek, Count: 250, Batch: 100})
		if err != nil {
			t.Fatal(err)
		}
		// A second run into the same database: other people, other user IDs.
		spec2, err := bench.LoadIdentities(ctx, bench.LoaderOptions{DSN: dsn, KEKFile: kek, Count: 30, Batch: 100,
			Authenticators: []string{bench.MethodCodeDisplay}})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "users.json")
		if err := spec.Write(path); err != nil {
			t.Fatal(err)
		}
		back, err := bench.ReadLoadSpec(path)
		if err != nil || back.Count != 250 || back.Password != spec.Password {
			t.Fatalf("users file read back: %+v, %v", back, err)
		}
		base := serveOn(t, dsn, kek)
		for _, tt := range []struct {
			spec   *bench.LoadSpec
			method string
		}{
			{back, bench.MethodApp},
			{back, bench.MethodCodeDisplay},
			{spec2, bench.MethodCodeDisplay},
		} {
			f, err := bench.NewOpenMitID(bench.OpenMitIDOptions{Server: base, Method: tt.method, Users: tt.spec, CheckIDToken: true})
			if err != nil {
				t.Fatal(err)
			}
			f.SetConcurrency(3)
			res := runFlow(t, f, 3, 20)
			t.Logf("loaded identities, %s on %s: %.1f logins/s", tt.method, engine, res.LoginsPerS)
		}
		// A service provider registered for ES256 ID tokens, logged in to by
		// identities of their own: the app run above may have spent the ones
		// it drew (10 approval requests per app per 10 minutes), and two draws
		// from one users file overlap one time in twelve here.
		spec3, err := bench.LoadIdentities(ctx, bench.LoaderOptions{DSN: dsn, KEKFile: kek, Count: 20, Batch: 100,
			Authenticators: []string{bench.MethodApp}})
		if err != nil {
			t.Fatal(err)
		}
		p, err := server.OpenPlatform(ctx, dsn, server.PlatformOptions{KEKFile: kek})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		c := &oidc.Client{ID: "bench-es256", Name: "Bench", AuthMethod: zoidc.AuthMethodBasic, RedirectURIs: []string{"http://127.0.0.1/bench"},
			Scopes: []string{"openid"}, MinLevel: nsis.Low, IDTokenAlg: "ES256", SecretHash: oidc.HashSecret("s3cret/+"), CreatedAt: now, UpdatedAt: now}
		if err := p.DB.InsertClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		p.Close()
		f, err := bench.NewOpenMitID(bench.OpenMitIDOptions{Server: base, Method: bench.MethodApp, Users: spec3, CheckIDToken: true,
			ClientID: c.ID, ClientSecret: "s3cret/+", RedirectURI: "http://127.0.0.1/bench"})
		if err != nil {
			t.Fatal(err)
		}
		f.SetConcurrency(2)
		runFlow(t, f, 2, 20)

		// The app-only flow refuses identities without an app.
		f, _ = bench.NewOpenMitID(bench.OpenMitIDOptions{Server: base, Method: bench.MethodApp, Users: spec2})
		if err := f.Setup(ctx, 3); err == nil {
			t.Error("the app flow took identities without an app")
		}
	})
}

func TestReadLoadSpecRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"not json":     "hello",
		"other format": `{"format": "x", "count": 3, "user_id_prefix": "a.", "seed": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`,
		"no count":     `{"format": "openmitid-bench-users/1", "user_id_prefix": "a.", "seed": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`,
		"short seed":   `{"format": "openmitid-bench-users/1", "count": 3, "user_id_prefix": "a.", "seed": "AAAA"}`,
	} {
		p := filepath.Join(dir, "f.json")
		os.WriteFile(p, []byte(body), 0o600)
		if s, err := bench.ReadLoadSpec(p); err == nil || s != nil {
			t.Errorf("%s: %+v, %v", name, s, err)
		}
	}
}

// TestCommitsPerLogin counts the write transactions of one whole login: on
// SQLite, with its one writer and an fsync per commit, they bound the rate
// more than the CPU does (docs/performance.md). A change that adds one shows
// here.
func TestCommitsPerLogin(t *testing.T) {
	dsn, kek := newDatabase(t, store.SQLite)
	base, srv := serveNode(t, dsn, kek)
	for _, tt := range []struct {
		method string
		max    int64
	}{{bench.MethodApp, 8}, {bench.MethodCodeDisplay, 10}} {
		f, err := bench.NewOpenMitID(bench.OpenMitIDOptions{Server: base, Method: tt.method})
		if err != nil {
			t.Fatal(err)
		}
		f.SetConcurrency(1)
		if err := f.Setup(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		var commits atomic.Int64
		srv.Platform().DB.SetBeforeCommitHook(func() {
			commits.Add(1)
			if os.Getenv("BENCH_DEBUG_COMMITS") != "" {
				pc := make([]uintptr, 40)
				n := runtime.Callers(3, pc)
				fr := runtime.CallersFrames(pc[:n])
				var names []string
				for {
					f, more := fr.Next()
					if strings.Contains(f.Function, "openmitid/internal/") && !strings.Contains(f.Function, "internal/store.") {
						names = append(names, f.Function[strings.LastIndex(f.Function, "/")+1:])
					}
					if !more || len(names) == 3 {
						break
					}
				}
				t.Log(tt.method, names)
			}
		})
		const logins = 2
		for range logins {
			if err := f.Login(context.Background(), 0, discard{}); err != nil {
				t.Fatal(err)
			}
		}
		srv.Platform().DB.SetBeforeCommitHook(nil)
		per := commits.Load() / logins
		t.Logf("%s: %d commits per login", tt.method, per)
		if per > tt.max {
			t.Errorf("%s: %d commits per login, at most %d expected", tt.method, per, tt.max)
		}
	}
}

type discard struct{}

func (discard) Step(string, time.Duration) {}

func TestChipFlow(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine store.Engine) {
		dsn, kek := newDatabase(t, engine)
		base, _ := serveNodeAs(t, dsn, kek, "localhost")
		f, err := bench.NewOpenMitID(bench.OpenMitIDOptions{Server: base, Method: bench.MethodChip, CheckIDToken: true})
		if err != nil {
			t.Fatal(err)
		}
		f.SetConcurrency(3)
		res := runFlow(t, f, 3, 3)
		if res.Steps["chip"].Count < res.Logins {
			t.Errorf("chip step measured %d times for %d logins", res.Steps["chip"].Count, res.Logins)
		}
		// Loaded identities have no chips.
		g, _ := bench.NewOpenMitID(bench.OpenMitIDOptions{Server: base, Method: bench.MethodChip,
			Users: &bench.LoadSpec{Format: bench.LoadSpecFormat, Count: 10, UserIDPrefix: "x.", Seed: make([]byte, 32),
				Authenticators: []string{"app", "code_display"}}})
		if err := g.Setup(context.Background(), 3); err == nil {
			t.Error("the chip flow took loaded identities, which have no chips")
		}
	})
}
