package password_test

import (
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/password"
)

// BenchmarkHashOWASP measures one argon2id hash at the production parameters on one goroutine
// (the latency a password login adds).
func BenchmarkHashOWASP(b *testing.B) {
	h := newHasher(b, password.OWASP)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkHashOWASPParallel measures hashes per second on all cores through one Hasher (the
// password logins per second a node can serve), with its default concurrency bound.
func BenchmarkHashOWASPParallel(b *testing.B) {
	h := newHasher(b, password.OWASP)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash("correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
