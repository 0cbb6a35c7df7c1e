package testchip

import (
	"crypto/sha256"
	"encoding/binary"
)

// stream is a deterministic byte stream: SHA-256 in counter mode over a
// seed and a label. It makes test keys and passports reproducible from a
// seed; it is not a cryptographic random generator for anything real.
type stream struct {
	seed    []byte
	counter uint64
	buf     []byte
}

func newStream(seed, label string) *stream {
	h := sha256.Sum256([]byte("openmitid testchip\x00" + seed + "\x00" + label))
	return &stream{seed: h[:]}
}

func (s *stream) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(s.buf) == 0 {
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], s.counter)
			s.counter++
			h := sha256.Sum256(append(append([]byte{}, s.seed...), c[:]...))
			s.buf = h[:]
		}
		k := copy(p, s.buf)
		p, s.buf = p[k:], s.buf[k:]
	}
	return n, nil
}

func (s *stream) intn(n int) int {
	var b [8]byte
	s.Read(b[:])
	return int(binary.BigEndian.Uint64(b[:]) % uint64(n))
}
