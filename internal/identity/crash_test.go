package identity_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// The child side of TestCrashLeavesNoHalfWrittenIdentity: it creates
// identities, printing "ACK <uuid>" after each commit; in "in-transaction" mode
// it stops the 21st inside its transaction, after every write and before the
// commit, printing "INTX", and waits to be killed.
func TestMain(m *testing.M) {
	if os.Getenv("OPENMITID_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	os.Exit(m.Run())
}

func crashChild() {
	ctx := context.Background()
	p, err := server.OpenPlatform(ctx, os.Getenv("OPENMITID_CRASH_DSN"), server.PlatformOptions{KEKFile: os.Getenv("OPENMITID_CRASH_KEK")})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	h, _ := password.NewHasher(cheap, nil)
	key, _ := p.Keys.Secret(ctx, p.DB, "cpr-index", 32)
	s, err := identity.NewService(identity.Config{Store: p.DB, Log: p.DB, Keys: p.Keys, Hasher: h, Policy: password.CheckPolicy, CPRIndexKey: key})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	stopAt := os.Getenv("OPENMITID_CRASH_MODE") == "in-transaction"
	for i := 0; ; i++ {
		n, _ := cpr.Make(time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i), 1000+i%1000)
		if stopAt && i == 20 {
			// The next identity is written whole, its audit event sealed into
			// the chain and the chain head moved; then the process is killed
			// before the commit.
			p.DB.SetBeforeCommitHook(func() {
				fmt.Println("INTX")
				select {}
			})
		}
		id, err := s.Create(ctx, identity.New{UserID: fmt.Sprintf("crash.%06d", i), CPR: n, IAL: nsis.High, State: identity.Active}, "system")
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("ACK", id.UUID)
	}
}

func TestCrashLeavesNoHalfWrittenIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, mode := range []string{"between-writes", "in-transaction"} {
		for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
			t.Run(mode+"/"+string(engine), func(t *testing.T) {
				dsn := storetest.DSN(t, engine)
				kekFile := filepath.Join(t.TempDir(), "test.kek")
				if _, err := pki.CreateKEKFile(kekFile, nil); err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				p, err := server.OpenPlatform(ctx, dsn, server.PlatformOptions{KEKFile: kekFile, Migrate: true})
				if err != nil {
					t.Fatal(err)
				}
				p.Close()

				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "OPENMITID_CRASH_CHILD=1", "OPENMITID_CRASH_DSN="+dsn,
					"OPENMITID_CRASH_KEK="+kekFile, "OPENMITID_CRASH_MODE="+mode)
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				var acked []string
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					line := sc.Text()
					if strings.HasPrefix(line, "ERR") {
						t.Fatalf("child: %s", line)
					}
					if id, ok := strings.CutPrefix(line, "ACK "); ok {
						acked = append(acked, id)
					}
					if (mode == "between-writes" && len(acked) == 40) || line == "INTX" {
						break
					}
				}
				// SIGKILL: no deferred function, no rollback, no close runs.
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()

				p, err = server.OpenPlatform(ctx, dsn, server.PlatformOptions{KEKFile: kekFile, Migrate: true})
				if err != nil {
					t.Fatalf("reopening after the crash: %v", err)
				}
				defer p.Close()
				for _, u := range acked {
					id, err := p.DB.IdentityByUUID(ctx, u)
					if err != nil {
						t.Fatalf("acknowledged identity %s lost: %v", u, err)
					}
					if _, err := p.DB.IdentityByUserIDKey(ctx, identity.UserIDKey(id.UserID)); err != nil {
						t.Fatalf("acknowledged identity %s lost its user ID: %v", u, err)
					}
					if evs, _ := p.DB.AuditEvents(ctx, u, 10); len(evs) != 1 || evs[0].Action != "identity.created" {
						t.Fatalf("acknowledged identity %s has events %v", u, evs)
					}
				}
				if _, err := p.DB.IdentityByUserIDKey(ctx, "crash.000020"); mode == "in-transaction" && err == nil {
					t.Fatal("the identity of the killed transaction was kept")
				}
				// Every identity there is has its event, and no event lacks its identity.
				rep, err := p.DB.VerifyAudit(ctx, p.Sealer)
				if err != nil || !rep.OK() {
					t.Fatalf("audit after the crash: %+v, %v", rep, err)
				}
				var identities int64
				if err := p.DB.ReadSnapshot(ctx, func(ctx context.Context) error {
					return countIdentities(ctx, p.DB, &identities)
				}); err != nil {
					t.Fatal(err)
				}
				if identities != rep.Entries || identities < int64(len(acked)) {
					t.Fatalf("%d identities, %d audit events, %d acknowledged: a change without its event or the reverse",
						identities, rep.Entries, len(acked))
				}
				t.Logf("%d acknowledged, %d stored, audit intact", len(acked), identities)
			})
		}
	}
}

func countIdentities(ctx context.Context, db *store.DB, n *int64) error {
	c, err := db.CountIdentities(ctx)
	*n = c
	return err
}
