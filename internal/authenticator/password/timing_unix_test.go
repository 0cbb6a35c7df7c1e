//go:build unix

package password_test

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/password"
)

// cpuTime returns the CPU time this process has used. Unlike wall-clock time it does not grow when
// other processes load the machine, so the comparison below holds on a busy CI runner.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestVerifyDummyCostsTheSame measures, at the OWASP parameters (the cost being the subject), the
// CPU time of VerifyDummy against that of a real Verify: within 30% of each other, so that an
// unknown user ID costs what a known one does.
func TestVerifyDummyCostsTheSame(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	h := newHasher(t, password.OWASP, password.WithConcurrency(1))
	stored, err := h.Hash("the real password")
	if err != nil {
		t.Fatal(err)
	}
	var real, dummy time.Duration
	for range 5 {
		// Collect the previous run's 19 MiB first, so that neither is charged for the other's GC.
		runtime.GC()
		start := cpuTime(t)
		h.Verify("a guess", stored)
		real += cpuTime(t) - start
		runtime.GC()
		start = cpuTime(t)
		h.VerifyDummy("a guess")
		dummy += cpuTime(t) - start
	}
	t.Logf("CPU time of 5 Verify %v, of 5 VerifyDummy %v", real, dummy)
	if ratio := float64(dummy) / float64(real); ratio < 0.7 || ratio > 1.3 {
		t.Fatalf("VerifyDummy costs %v, Verify %v: not the same", dummy, real)
	}
}
