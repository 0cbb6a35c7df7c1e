package fido_test

import (
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
)

// BenchmarkFinishLogin measures the verification of one assertion: decoding the session and the
// response, the checks, go-webauthn's verification and the ES256 signature. FinishLogin keeps no
// state, so the same session and response verify every time.
func BenchmarkFinishLogin(b *testing.B) {
	s, _ := newService(b)
	k := softkey.New(seeded(1))
	u := register(b, s, anna(), k)
	opts, sess, err := s.BeginLogin(u)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := k.Assert(opts, testOrigin)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := s.FinishLogin(u, sess, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFinishLoginParallel measures verifications per second on all cores.
func BenchmarkFinishLoginParallel(b *testing.B) {
	s, _ := newService(b)
	k := softkey.New(seeded(1))
	u := register(b, s, anna(), k)
	opts, sess, err := s.BeginLogin(u)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := k.Assert(opts, testOrigin)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.FinishLogin(u, sess, resp); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkBeginLogin measures making the options and the session.
func BenchmarkBeginLogin(b *testing.B) {
	s, _ := newService(b)
	u := register(b, s, anna(), softkey.New(seeded(1)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, _, err := s.BeginLogin(u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFinishRegistration measures the verification of a "none" registration.
func BenchmarkFinishRegistration(b *testing.B) {
	s, _ := newService(b)
	u := anna()
	opts, sess, err := s.BeginRegistration(u)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := softkey.New(seeded(1)).Register(opts, testOrigin)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := s.FinishRegistration(u, sess, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSoftkeyAssert measures the client side the load benchmark spends per chip login.
func BenchmarkSoftkeyAssert(b *testing.B) {
	s, _ := newService(b)
	k := softkey.New(seeded(1))
	u := register(b, s, anna(), k)
	opts, _, err := s.BeginLogin(u)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := k.Assert(opts, testOrigin); err != nil {
			b.Fatal(err)
		}
	}
}
