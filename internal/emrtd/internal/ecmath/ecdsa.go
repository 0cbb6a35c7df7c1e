package ecmath

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha512"
	"math/big"
)

// hashToInt converts a digest to an integer modulo-ready for N as ECDSA
// prescribes (SEC 1, section 4.1.3, step 5; BSI TR-03111, section 4.2.1.1):
// the leftmost bits, as many as N has.
func (c *Curve) hashToInt(digest []byte) *big.Int {
	bits := c.N.BitLen()
	if len(digest)*8 > bits {
		digest = digest[:(bits+7)/8]
	}
	e := new(big.Int).SetBytes(digest)
	if excess := len(digest)*8 - bits; excess > 0 {
		e.Rsh(e, uint(excess))
	}
	return e
}

// Verify reports whether (r, s) is an ECDSA signature of digest by the
// public key (x, y) (BSI TR-03111, section 4.2.1.2). The caller has checked
// that (x, y) is on the curve. For the NIST curves it defers to crypto/ecdsa.
func Verify(c *Curve, x, y *big.Int, digest []byte, r, s *big.Int) bool {
	if r == nil || s == nil || r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(c.N) >= 0 || s.Cmp(c.N) >= 0 {
		return false
	}
	if !c.IsOnCurve(x, y) {
		return false
	}
	if c.Std != nil {
		return ecdsa.Verify(&ecdsa.PublicKey{Curve: c.Std, X: x, Y: y}, digest, r, s)
	}
	e := c.hashToInt(digest)
	w := new(big.Int).ModInverse(s, c.N)
	u1 := new(big.Int).Mul(e, w)
	u1.Mod(u1, c.N)
	u2 := new(big.Int).Mul(r, w)
	u2.Mod(u2, c.N)
	x1, y1 := c.ScalarBaseMult(u1)
	x2, y2 := c.ScalarMult(x, y, u2)
	px, _ := c.Add(x1, y1, x2, y2)
	if px == nil {
		return false
	}
	px.Mod(px, c.N)
	return px.Cmp(r) == 0
}

// Sign makes an ECDSA signature of digest with the private key d, with a
// nonce derived from d and the digest by HMAC-SHA-512 so that the same
// inputs give the same signature (deterministic like RFC 6979, though not
// its exact construction). It is not constant time: for test keys only, see
// the package documentation.
func Sign(c *Curve, d *big.Int, digest []byte) (r, s *big.Int) {
	e := c.hashToInt(digest)
	key := d.FillBytes(make([]byte, c.ScalarLen()))
	nMinus1 := new(big.Int).Sub(c.N, big.NewInt(1))
	for counter := byte(0); ; counter++ {
		mac := hmac.New(sha512.New, key)
		mac.Write(digest)
		mac.Write([]byte{counter})
		stream := mac.Sum(nil)
		mac.Reset()
		mac.Write(stream)
		stream = append(stream, mac.Sum(nil)...) // 128 bytes: enough for 512-bit N with a negligible bias
		k := new(big.Int).SetBytes(stream)
		k.Mod(k, nMinus1)
		k.Add(k, big.NewInt(1))
		kx, _ := c.ScalarBaseMult(k)
		r = new(big.Int).Mod(kx, c.N)
		if r.Sign() == 0 {
			continue
		}
		s = new(big.Int).Mul(r, d)
		s.Add(s, e)
		s.Mul(s, new(big.Int).ModInverse(k, c.N))
		s.Mod(s, c.N)
		if s.Sign() != 0 {
			return r, s
		}
	}
}
