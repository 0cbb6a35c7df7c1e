// Package ecmath implements arithmetic and ECDSA on short Weierstrass curves
// over prime fields with math/big, for the curves crypto/ecdsa does not
// offer: the brainpool curves of RFC 5639, which passports' document signer,
// CSCA and active-authentication keys commonly use (BSI TR-03111).
//
// None of this is constant time. That is acceptable for what the server does
// with it, verifying signatures: every input (the public key, the message,
// the signature) is public. [Sign] leaks its private key through timing and
// exists only for the synthetic passports of tests and demos, whose keys are
// test keys; never use it for a key that matters.
package ecmath

import (
	"crypto/elliptic"
	"encoding/asn1"
	"errors"
	"math/big"
)

// Curve is y² = x³ + ax + b over GF(p), with a base point G of prime order N
// and cofactor H.
type Curve struct {
	Name    string
	OID     asn1.ObjectIdentifier
	P, A, B *big.Int
	Gx, Gy  *big.Int
	N       *big.Int
	H       int
	// Std is the crypto/elliptic curve for the NIST curves, so that their
	// signatures are verified by crypto/ecdsa; nil for the others.
	Std elliptic.Curve
}

func hexInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		// The arguments are the constants below, which are valid hex: a
		// typo there fails every test at package initialisation.
		panic("ecmath: bad constant " + s)
	}
	return n
}

func brainpool(name string, oidLast int, p, a, b, gx, gy, n string) *Curve {
	return &Curve{
		Name: name, OID: asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, oidLast},
		P: hexInt(p), A: hexInt(a), B: hexInt(b), Gx: hexInt(gx), Gy: hexInt(gy), N: hexInt(n), H: 1,
	}
}

func nist(name string, oid asn1.ObjectIdentifier, c elliptic.Curve) *Curve {
	params := c.Params()
	return &Curve{
		Name: name, OID: oid,
		P: params.P, A: new(big.Int).Sub(params.P, big.NewInt(3)), B: params.B,
		Gx: params.Gx, Gy: params.Gy, N: params.N, H: 1, Std: c,
	}
}

// The domain parameters of RFC 5639, section 3 (the "r1" random curves).
var (
	BrainpoolP224r1 = brainpool("brainpoolP224r1", 5,
		"D7C134AA264366862A18302575D1D787B09F075797DA89F57EC8C0FF",
		"68A5E62CA9CE6C1C299803A6C1530B514E182AD8B0042A59CAD29F43",
		"2580F63CCFE44138870713B1A92369E33E2135D266DBB372386C400B",
		"0D9029AD2C7E5CF4340823B2A87DC68C9E4CE3174C1E6EFDEE12C07D",
		"58AA56F772C0726F24C6B89E4ECDAC24354B9E99CAA3F6D3761402CD",
		"D7C134AA264366862A18302575D0FB98D116BC4B6DDEBCA3A5A7939F")
	BrainpoolP256r1 = brainpool("brainpoolP256r1", 7,
		"A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377",
		"7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9",
		"26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6",
		"8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262",
		"547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997",
		"A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7")
	BrainpoolP320r1 = brainpool("brainpoolP320r1", 9,
		"D35E472036BC4FB7E13C785ED201E065F98FCFA6F6F40DEF4F92B9EC7893EC28FCD412B1F1B32E27",
		"3EE30B568FBAB0F883CCEBD46D3F3BB8A2A73513F5EB79DA66190EB085FFA9F492F375A97D860EB4",
		"520883949DFDBC42D3AD198640688A6FE13F41349554B49ACC31DCCD884539816F5EB4AC8FB1F1A6",
		"43BD7E9AFB53D8B85289BCC48EE5BFE6F20137D10A087EB6E7871E2A10A599C710AF8D0D39E20611",
		"14FDD05545EC1CC8AB4093247F77275E0743FFED117182EAA9C77877AAAC6AC7D35245D1692E8EE1",
		"D35E472036BC4FB7E13C785ED201E065F98FCFA5B68F12A32D482EC7EE8658E98691555B44C59311")
	BrainpoolP384r1 = brainpool("brainpoolP384r1", 11,
		"8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123ACD3A729901D1A71874700133107EC53",
		"7BC382C63D8C150C3C72080ACE05AFA0C2BEA28E4FB22787139165EFBA91F90F8AA5814A503AD4EB04A8C7DD22CE2826",
		"04A8C7DD22CE28268B39B55416F0447C2FB77DE107DCD2A62E880EA53EEB62D57CB4390295DBC9943AB78696FA504C11",
		"1D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10E8E826E03436D646AAEF87B2E247D4AF1E",
		"8ABE1D7520F9C2A45CB1EB8E95CFD55262B70B29FEEC5864E19C054FF99129280E4646217791811142820341263C5315",
		"8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7CF3AB6AF6B7FC3103B883202E9046565")
	BrainpoolP512r1 = brainpool("brainpoolP512r1", 13,
		"AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA703308717D4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3",
		"7830A3318B603B89E2327145AC234CC594CBDD8D3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CA",
		"3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CADC083E67984050B75EBAE5DD2809BD638016F723",
		"81AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D0098EFF3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F822",
		"7DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F8111B2DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD80892",
		"AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330870553E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069")

	P224 = nist("P-224", asn1.ObjectIdentifier{1, 3, 132, 0, 33}, elliptic.P224())
	P256 = nist("P-256", asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, elliptic.P256())
	P384 = nist("P-384", asn1.ObjectIdentifier{1, 3, 132, 0, 34}, elliptic.P384())
	P521 = nist("P-521", asn1.ObjectIdentifier{1, 3, 132, 0, 35}, elliptic.P521())
)

// Curves lists every curve this package knows, which are all the curves
// keys may use: explicit domain parameters must equal one of them.
var Curves = []*Curve{BrainpoolP224r1, BrainpoolP256r1, BrainpoolP320r1, BrainpoolP384r1, BrainpoolP512r1, P224, P256, P384, P521}

// ByOID returns the known curve with the given named-curve OID, or nil.
func ByOID(oid asn1.ObjectIdentifier) *Curve {
	for _, c := range Curves {
		if c.OID.Equal(oid) {
			return c
		}
	}
	return nil
}

// ByParameters returns the known curve with exactly these domain parameters,
// or nil. Keys with explicit parameters (RFC 3279, section 2.3.5), as German
// document signer and CSCA certificates carry them, are accepted only when
// the parameters are those of a known curve: letting a certificate choose its
// own curve invites weak or maliciously crafted ones (as in CVE-2020-0601).
func ByParameters(p, a, b, gx, gy, n *big.Int, h int) *Curve {
	for _, c := range Curves {
		if c.P.Cmp(p) == 0 && c.A.Cmp(a) == 0 && c.B.Cmp(b) == 0 && c.Gx.Cmp(gx) == 0 &&
			c.Gy.Cmp(gy) == 0 && c.N.Cmp(n) == 0 && (h == 0 || h == c.H) {
			return c
		}
	}
	return nil
}

// ByteLen is the length in bytes of a field element and of a scalar.
func (c *Curve) ByteLen() int { return (c.P.BitLen() + 7) / 8 }

// ScalarLen is the length in bytes of a scalar modulo N.
func (c *Curve) ScalarLen() int { return (c.N.BitLen() + 7) / 8 }

// IsOnCurve reports whether (x, y) is a point of the curve other than the
// point at infinity, with coordinates reduced modulo p.
func (c *Curve) IsOnCurve(x, y *big.Int) bool {
	if x == nil || y == nil || x.Sign() < 0 || y.Sign() < 0 || x.Cmp(c.P) >= 0 || y.Cmp(c.P) >= 0 {
		return false
	}
	return c.rhs(x).Cmp(new(big.Int).Mod(new(big.Int).Mul(y, y), c.P)) == 0
}

// rhs computes x³ + ax + b mod p.
func (c *Curve) rhs(x *big.Int) *big.Int {
	r := new(big.Int).Mul(x, x)
	r.Mul(r, x)
	r.Add(r, new(big.Int).Mul(c.A, x))
	r.Add(r, c.B)
	return r.Mod(r, c.P)
}

var errPoint = errors.New("ecmath: not a point of the curve")

// UnmarshalPoint decodes an uncompressed (04 || x || y) or compressed
// (02/03 || x) point (SEC 1, section 2.3.4) and checks that it is on the
// curve. The point at infinity is refused.
func (c *Curve) UnmarshalPoint(b []byte) (x, y *big.Int, err error) {
	l := c.ByteLen()
	switch {
	case len(b) == 1+2*l && b[0] == 4:
		x = new(big.Int).SetBytes(b[1 : 1+l])
		y = new(big.Int).SetBytes(b[1+l:])
	case len(b) == 1+l && (b[0] == 2 || b[0] == 3):
		x = new(big.Int).SetBytes(b[1:])
		if x.Cmp(c.P) >= 0 {
			return nil, nil, errPoint
		}
		y = new(big.Int).ModSqrt(c.rhs(x), c.P)
		if y == nil {
			return nil, nil, errPoint
		}
		if y.Bit(0) != uint(b[0]&1) {
			y.Sub(c.P, y)
		}
	default:
		return nil, nil, errors.New("ecmath: point encoding is neither compressed nor uncompressed for this curve")
	}
	if !c.IsOnCurve(x, y) {
		return nil, nil, errPoint
	}
	return x, y, nil
}

// MarshalPoint encodes a point uncompressed: 04 || x || y.
func (c *Curve) MarshalPoint(x, y *big.Int) []byte {
	l := c.ByteLen()
	out := make([]byte, 1+2*l)
	out[0] = 4
	x.FillBytes(out[1 : 1+l])
	y.FillBytes(out[1+l:])
	return out
}

// point is an affine point; nil coordinates stand for the point at infinity.
type point struct{ x, y *big.Int }

func (c *Curve) add(p, q point) point {
	if p.x == nil {
		return q
	}
	if q.x == nil {
		return p
	}
	if p.x.Cmp(q.x) == 0 {
		if p.y.Cmp(q.y) != 0 || p.y.Sign() == 0 {
			return point{} // P + (-P)
		}
		return c.double(p)
	}
	// λ = (y2 - y1) / (x2 - x1)
	num := new(big.Int).Sub(q.y, p.y)
	den := new(big.Int).Sub(q.x, p.x)
	den.Mod(den, c.P)
	l := num.Mul(num, den.ModInverse(den, c.P))
	l.Mod(l, c.P)
	return c.finish(l, p, q.x)
}

func (c *Curve) double(p point) point {
	if p.x == nil || p.y.Sign() == 0 {
		return point{}
	}
	// λ = (3x² + a) / 2y
	num := new(big.Int).Mul(p.x, p.x)
	num.Mul(num, big.NewInt(3))
	num.Add(num, c.A)
	den := new(big.Int).Lsh(p.y, 1)
	den.Mod(den, c.P)
	l := num.Mul(num, den.ModInverse(den, c.P))
	l.Mod(l, c.P)
	return c.finish(l, p, p.x)
}

// finish computes x3 = λ² - x1 - x2, y3 = λ(x1 - x3) - y1.
func (c *Curve) finish(l *big.Int, p point, x2 *big.Int) point {
	x3 := new(big.Int).Mul(l, l)
	x3.Sub(x3, p.x)
	x3.Sub(x3, x2)
	x3.Mod(x3, c.P)
	y3 := new(big.Int).Sub(p.x, x3)
	y3.Mul(y3, l)
	y3.Sub(y3, p.y)
	y3.Mod(y3, c.P)
	return point{x3, y3}
}

// ScalarMult computes k·(x, y) by double and add; it returns nil coordinates
// for the point at infinity.
func (c *Curve) ScalarMult(x, y, k *big.Int) (*big.Int, *big.Int) {
	var r point
	base := point{x, y}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = c.double(r)
		if k.Bit(i) == 1 {
			r = c.add(r, base)
		}
	}
	return r.x, r.y
}

// ScalarBaseMult computes k·G.
func (c *Curve) ScalarBaseMult(k *big.Int) (*big.Int, *big.Int) { return c.ScalarMult(c.Gx, c.Gy, k) }

// Add computes (x1, y1) + (x2, y2), with nil coordinates for infinity.
func (c *Curve) Add(x1, y1, x2, y2 *big.Int) (*big.Int, *big.Int) {
	r := c.add(point{x1, y1}, point{x2, y2})
	return r.x, r.y
}
