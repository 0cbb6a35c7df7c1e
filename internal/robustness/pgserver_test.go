package robustness_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/testbin"
)

// pgServer is a PostgreSQL server of the test's own, made with initdb in a
// temporary directory, so that stopping it disturbs no other test: the
// cluster in OPENMITID_TEST_POSTGRES is shared by every package's tests (and,
// on a developer's machine, by whoever else runs tests there).
type pgServer struct {
	bin  string // the directory holding initdb and pg_ctl
	data string
	port int
	as   string // the user the server runs as: postgres when the test runs as root
}

// startPostgres makes and starts a private server; it is stopped and removed
// when the test ends. Without PostgreSQL's server programs the test is
// skipped, except under CI=true, where that fails.
func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no PostgreSQL server programs in /usr/lib/postgresql/*/bin (install postgresql)")
		}
		t.Skip("no PostgreSQL server programs in /usr/lib/postgresql/*/bin")
	}
	slices.SortFunc(found, func(a, b string) int { return versionOf(a) - versionOf(b) })
	s := &pgServer{bin: filepath.Dir(found[len(found)-1])}
	dir, err := os.MkdirTemp("", "openmitid-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 { // initdb refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.as = "postgres"
	}
	s.data = filepath.Join(dir, "data")
	_, port, _ := strings.Cut(testbin.FreeAddr(t), ":")
	s.port, _ = strconv.Atoi(port)
	s.run(t, "initdb", "-D", s.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	s.Start(t)
	t.Cleanup(func() {
		// Whatever the test did, the server goes; "immediate" needs no clean state.
		s.pgctl("stop", "-m", "immediate")
	})
	return s
}

func versionOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// URL is the server's connection URL.
func (s *pgServer) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

func (s *pgServer) command(name string, args ...string) *exec.Cmd {
	prog := filepath.Join(s.bin, name)
	if s.as != "" {
		return exec.Command("runuser", append([]string{"-u", s.as, "--", prog}, args...)...)
	}
	return exec.Command(prog, args...)
}

func (s *pgServer) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := s.command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func (s *pgServer) pgctl(args ...string) ([]byte, error) {
	return s.command("pg_ctl", append([]string{"-D", s.data, "-w", "-t", "60"}, args...)...).CombinedOutput()
}

// Start starts the server and waits until it takes connections.
func (s *pgServer) Start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", s.port, filepath.Dir(s.data))
	if out, err := s.pgctl("-l", filepath.Join(filepath.Dir(s.data), "server.log"), "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(s.data), "server.log"))
		t.Fatalf("starting PostgreSQL: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server the way an administrator's restart does: "fast"
// ends every session at once and rolls back their transactions.
func (s *pgServer) Stop(t *testing.T) {
	t.Helper()
	if out, err := s.pgctl("stop", "-m", "fast"); err != nil {
		t.Fatalf("stopping PostgreSQL: %v\n%s", err, out)
	}
}
