package ecmath_test

import (
	"crypto/sha256"
	"math/big"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd/internal/ecmath"
)

// TestDomainParameters checks each curve's constants against the properties
// RFC 5639 states for them: G lies on the curve, N·G is the point at
// infinity, and p and N are prime. A mistyped digit fails one of these.
func TestDomainParameters(t *testing.T) {
	for _, c := range ecmath.Curves {
		if !c.IsOnCurve(c.Gx, c.Gy) {
			t.Errorf("%s: G is not on the curve", c.Name)
		}
		if x, _ := c.ScalarBaseMult(c.N); x != nil {
			t.Errorf("%s: N·G is not the point at infinity", c.Name)
		}
		if !c.P.ProbablyPrime(20) || !c.N.ProbablyPrime(20) {
			t.Errorf("%s: p or N is not prime", c.Name)
		}
		if ecmath.ByOID(c.OID) != c || ecmath.ByParameters(c.P, c.A, c.B, c.Gx, c.Gy, c.N, 1) != c {
			t.Errorf("%s: not found by OID or parameters", c.Name)
		}
	}
}

func TestSignVerify(t *testing.T) {
	for _, c := range ecmath.Curves {
		d := new(big.Int).SetBytes(sha256.New().Sum([]byte(c.Name)))
		d.Mod(d, c.N)
		x, y := c.ScalarBaseMult(d)
		digest := sha256.Sum256([]byte("challenge"))
		r, s := ecmath.Sign(c, d, digest[:])
		if !ecmath.Verify(c, x, y, digest[:], r, s) {
			t.Errorf("%s: signature does not verify", c.Name)
		}
		r2, s2 := ecmath.Sign(c, d, digest[:])
		if r.Cmp(r2) != 0 || s.Cmp(s2) != 0 {
			t.Errorf("%s: Sign is not deterministic", c.Name)
		}
		bad := sha256.Sum256([]byte("other"))
		if ecmath.Verify(c, x, y, bad[:], r, s) {
			t.Errorf("%s: signature verifies for another digest", c.Name)
		}
		if ecmath.Verify(c, x, y, digest[:], s, r) {
			t.Errorf("%s: swapped r and s verify", c.Name)
		}
		if ecmath.Verify(c, x, y, digest[:], new(big.Int).Add(r, c.N), s) {
			t.Errorf("%s: r + N verifies", c.Name)
		}
		// Points round-trip compressed and uncompressed.
		enc := c.MarshalPoint(x, y)
		x2, y2, err := c.UnmarshalPoint(enc)
		if err != nil || x2.Cmp(x) != 0 || y2.Cmp(y) != 0 {
			t.Errorf("%s: uncompressed round trip: %v", c.Name, err)
		}
		comp := append([]byte{2 + byte(y.Bit(0))}, enc[1:1+c.ByteLen()]...)
		x3, y3, err := c.UnmarshalPoint(comp)
		if err != nil || x3.Cmp(x) != 0 || y3.Cmp(y) != 0 {
			t.Errorf("%s: compressed round trip: %v", c.Name, err)
		}
		enc[len(enc)-1] ^= 1
		if _, _, err := c.UnmarshalPoint(enc); err == nil {
			t.Errorf("%s: a point off the curve was accepted", c.Name)
		}
	}
}
