// Package testbin builds the openmitid binary once per test process and runs
// it, so that tests check what users get: a real process, its exit status and
// its output, over real sockets.
package testbin

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Path returns the path of a freshly built openmitid binary (with the race
// detector when the tests run with it).
func Path(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "openmitid-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "openmitid")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/openmitid/openmitid/cmd/openmitid")
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), args...)
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var (
	plainOnce sync.Once
	plainPath string
	plainErr  error
)

// PlainPath returns the path of an openmitid binary built without the race
// detector even when the tests run with it: for tests that compare speeds,
// which the detector distorts (it slows Go code several times over, and some
// parts more than others).
func PlainPath(t testing.TB) string {
	t.Helper()
	if !raceEnabled {
		return Path(t)
	}
	plainOnce.Do(func() {
		dir, err := os.MkdirTemp("", "openmitid-bin-")
		if err != nil {
			plainErr = err
			return
		}
		plainPath = filepath.Join(dir, "openmitid")
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", plainPath, "github.com/openmitid/openmitid/cmd/openmitid")
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			plainErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if plainErr != nil {
		t.Fatal(plainErr)
	}
	return plainPath
}

// Result is a finished run.
type Result struct {
	Code   int
	Stdout string
	Stderr string
}

// Run runs the binary to completion in dir with extra environment.
func Run(t testing.TB, dir string, env []string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Path(t), args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running openmitid %v: %v", args, err)
	}
	return Result{Code: code, Stdout: out.String(), Stderr: errb.String()}
}

// cleanEnv drops the OPENMITID_ settings of the developer's shell so a test
// sees only what it sets.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPENMITID_") {
			env = append(env, kv)
		}
	}
	return env
}

// Server is a running `openmitid serve`.
type Server struct {
	URL    string
	Addr   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreeAddr returns a loopback address with a port nothing listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Serve starts `openmitid serve --addr <free port> args…` in dir and waits
// until /readyz answers 200. The server is stopped when the test ends.
func Serve(t testing.TB, dir string, env []string, args ...string) *Server {
	t.Helper()
	return ServeAt(t, FreeAddr(t), dir, env, args...)
}

// ServeAt is [Serve] on a given address, for a test that restarts a server
// where its clients expect it (after [Server.Kill], say).
func ServeAt(t testing.TB, addr, dir string, env []string, args ...string) *Server {
	t.Helper()
	return ServeBinary(t, Path(t), addr, dir, env, args...)
}

// ServeBinary is [ServeAt] with the binary at bin ([PlainPath], say).
func ServeBinary(t testing.TB, bin, addr, dir string, env []string, args ...string) *Server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	s := &Server{URL: "http://" + addr, Addr: addr, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	cmd.Stdout = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Stop(t)
		if t.Failed() {
			t.Logf("server log:\n%s", s.stderr.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("openmitid serve exited early (%v):\n%s", cmd.ProcessState, s.stderr.String())
		default:
		}
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("openmitid serve not ready after 60 s:\n%s", s.stderr.String())
	return nil
}

// PID returns the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns what the server wrote so far.
func (s *Server) Log() string { return s.stderr.String() }

// Stop sends SIGTERM and waits for the exit; it fails the test if the server
// does not stop within 30 seconds or exits non-zero.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("openmitid serve exited with %d after SIGTERM:\n%s", code, s.stderr.String())
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Errorf("openmitid serve did not stop within 30 s of SIGTERM")
	}
}

// Kill stops the server with SIGKILL.
func (s *Server) Kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}
