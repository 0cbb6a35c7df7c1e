//go:build unix

package fido_test

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU reports the process's CPU time (user and system) per operation from now until the
// returned function is called, as "cpu-ns/op". On a busy machine the wall time of ns/op also
// counts the time spent waiting for a core; the CPU time is what a login costs.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
