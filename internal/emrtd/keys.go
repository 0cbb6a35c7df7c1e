package emrtd

import (
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/openmitid/openmitid/internal/emrtd/internal/ecmath"
)

// ErrUnsupportedKey is returned, wrapped, for a public key this package
// cannot use: an algorithm other than RSA and ECDSA, a curve that is not one
// of the brainpool or NIST curves, or an RSA key outside 1024 to 8192 bits.
var ErrUnsupportedKey = errors.New("emrtd: unsupported public key")

// ErrMalformedKey is returned, wrapped, for a SubjectPublicKeyInfo that is
// not valid DER or whose key is invalid (a point off its curve, a negative
// modulus).
var ErrMalformedKey = errors.New("emrtd: malformed public key")

const (
	minRSABits = 1024 // ICAO 9303 part 12, section 5 allows no less for DS keys; active authentication keys of older passports are 1024-bit
	maxRSABits = 8192 // bounds the cost of one verification on hostile input
)

// PublicKey is an RSA or elliptic-curve public key as document signer, CSCA
// and active-authentication keys use (ICAO 9303 part 12, section 4; part 11,
// section 6.1). Elliptic-curve keys may be on the brainpool curves of
// RFC 5639 and may carry explicit domain parameters (RFC 3279, section
// 2.3.5), which crypto/x509 refuses.
type PublicKey struct {
	rsa      *rsa.PublicKey
	curve    *ecmath.Curve
	x, y     *big.Int
	explicit bool
}

// NewRSAPublicKey wraps an RSA public key.
func NewRSAPublicKey(k *rsa.PublicKey) *PublicKey { return &PublicKey{rsa: k} }

// RSA returns the RSA key, or nil for an elliptic-curve key.
func (k *PublicKey) RSA() *rsa.PublicKey { return k.rsa }

// Curve returns the name of the key's curve ("brainpoolP256r1", "P-256"),
// or "" for an RSA key.
func (k *PublicKey) Curve() string {
	if k.curve == nil {
		return ""
	}
	return k.curve.Name
}

// ExplicitParameters reports whether the key was encoded with explicit
// domain parameters rather than a named curve.
func (k *PublicKey) ExplicitParameters() bool { return k.explicit }

// Point returns the uncompressed encoding of an elliptic-curve key's point,
// or nil for an RSA key.
func (k *PublicKey) Point() []byte {
	if k.curve == nil {
		return nil
	}
	return k.curve.MarshalPoint(k.x, k.y)
}

// String describes the key for logs and errors: "RSA-2048",
// "ECDSA-brainpoolP256r1".
func (k *PublicKey) String() string {
	switch {
	case k == nil || k.rsa == nil && k.curve == nil:
		return "no key"
	case k.rsa != nil:
		return fmt.Sprintf("RSA-%d", k.rsa.N.BitLen())
	}
	return "ECDSA-" + k.curve.Name
}

// Equal reports whether k and other are the same key.
func (k *PublicKey) Equal(other *PublicKey) bool {
	if k == nil || other == nil {
		return k == other
	}
	if k.rsa != nil {
		return other.rsa != nil && k.rsa.N.Cmp(other.rsa.N) == 0 && k.rsa.E == other.rsa.E
	}
	return other.curve == k.curve && k.x.Cmp(other.x) == 0 && k.y.Cmp(other.y) == 0
}

// NewECPublicKey makes an elliptic-curve public key from a curve name (as
// [PublicKey.Curve] returns it) and an encoded point.
func NewECPublicKey(curve string, point []byte) (*PublicKey, error) {
	for _, c := range ecmath.Curves {
		if c.Name == curve {
			x, y, err := c.UnmarshalPoint(point)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
			}
			return &PublicKey{curve: c, x: x, y: y}, nil
		}
	}
	return nil, fmt.Errorf("%w: curve %q", ErrUnsupportedKey, curve)
}

// ParsePublicKey parses a DER SubjectPublicKeyInfo (RFC 5280, section
// 4.1.2.7) holding an RSA key (RFC 3279, section 2.3.1) or an elliptic-curve
// key (RFC 5480) given by a named curve or by explicit domain parameters,
// which must be those of a known curve (see [ecmath.ByParameters] for why).
func ParsePublicKey(spki []byte) (*PublicKey, error) {
	in := cryptobyte.String(spki)
	var seq, algo, params cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&algo, cbasn1.SEQUENCE) || !seq.ReadASN1BitString(&bits) || !seq.Empty() ||
		!algo.ReadASN1ObjectIdentifier(&oid) {
		return nil, fmt.Errorf("%w: SubjectPublicKeyInfo is not DER SEQUENCE { AlgorithmIdentifier, BIT STRING }", ErrMalformedKey)
	}
	params = algo
	if bits.BitLength%8 != 0 {
		return nil, fmt.Errorf("%w: public key BIT STRING has %d unused bits", ErrMalformedKey, 8-bits.BitLength%8)
	}
	switch {
	case oid.Equal(oidRSAEncryption):
		// RFC 3279, section 2.3.1: parameters NULL (some encoders omit it).
		if !params.Empty() {
			var null cryptobyte.String
			if !params.ReadASN1(&null, cbasn1.NULL) || !null.Empty() || !params.Empty() {
				return nil, fmt.Errorf("%w: rsaEncryption parameters are not NULL", ErrMalformedKey)
			}
		}
		return parseRSAPublicKey(bits.Bytes)
	case oid.Equal(oidECPublicKey):
		curve, explicit, err := parseECParameters(params)
		if err != nil {
			return nil, err
		}
		x, y, err := curve.UnmarshalPoint(bits.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s point: %v", ErrMalformedKey, curve.Name, err)
		}
		return &PublicKey{curve: curve, x: x, y: y, explicit: explicit}, nil
	}
	return nil, fmt.Errorf("%w: algorithm %v is neither rsaEncryption nor id-ecPublicKey", ErrUnsupportedKey, oid)
}

func parseRSAPublicKey(der []byte) (*PublicKey, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	n, e := new(big.Int), new(big.Int)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(n) || !seq.ReadASN1Integer(e) || !seq.Empty() {
		return nil, fmt.Errorf("%w: RSAPublicKey is not DER SEQUENCE { INTEGER, INTEGER }", ErrMalformedKey)
	}
	if n.Sign() <= 0 || e.Sign() <= 0 {
		return nil, fmt.Errorf("%w: RSA modulus or exponent is not positive", ErrMalformedKey)
	}
	if b := n.BitLen(); b < minRSABits || b > maxRSABits {
		return nil, fmt.Errorf("%w: RSA modulus of %d bits, want %d to %d", ErrUnsupportedKey, b, minRSABits, maxRSABits)
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		return nil, fmt.Errorf("%w: RSA exponent %v is not an odd number from 3 to 2^31-1", ErrUnsupportedKey, e)
	}
	return &PublicKey{rsa: &rsa.PublicKey{N: n, E: int(e.Int64())}}, nil
}

// parseECParameters reads ECParameters (RFC 3279, section 2.3.5): a named
// curve OID or explicit SpecifiedECDomain for a prime field.
func parseECParameters(params cryptobyte.String) (*ecmath.Curve, bool, error) {
	if params.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		var oid asn1.ObjectIdentifier
		if !params.ReadASN1ObjectIdentifier(&oid) || !params.Empty() {
			return nil, false, fmt.Errorf("%w: named curve is not one OBJECT IDENTIFIER", ErrMalformedKey)
		}
		c := ecmath.ByOID(oid)
		if c == nil {
			return nil, false, fmt.Errorf("%w: named curve %v", ErrUnsupportedKey, oid)
		}
		return c, false, nil
	}
	var spec, field, curve cryptobyte.String
	var version int64
	var fieldType asn1.ObjectIdentifier
	var a, b, base []byte
	p, n := new(big.Int), new(big.Int)
	if !params.ReadASN1(&spec, cbasn1.SEQUENCE) || !params.Empty() {
		return nil, false, fmt.Errorf("%w: EC parameters are neither a named curve nor explicit (implicitlyCA is not supported)", ErrUnsupportedKey)
	}
	if !spec.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!spec.ReadASN1(&field, cbasn1.SEQUENCE) || !field.ReadASN1ObjectIdentifier(&fieldType) {
		return nil, false, fmt.Errorf("%w: explicit EC parameters lack version or field", ErrMalformedKey)
	}
	if !fieldType.Equal(oidPrimeField) {
		return nil, false, fmt.Errorf("%w: explicit EC field type %v is not prime-field", ErrUnsupportedKey, fieldType)
	}
	if !field.ReadASN1Integer(p) || !field.Empty() ||
		!spec.ReadASN1(&curve, cbasn1.SEQUENCE) ||
		!curve.ReadASN1Bytes(&a, cbasn1.OCTET_STRING) || !curve.ReadASN1Bytes(&b, cbasn1.OCTET_STRING) {
		return nil, false, fmt.Errorf("%w: explicit EC parameters: bad prime or curve coefficients", ErrMalformedKey)
	}
	if !curve.Empty() && !curve.SkipASN1(cbasn1.BIT_STRING) || !curve.Empty() { // the optional seed
		return nil, false, fmt.Errorf("%w: explicit EC curve has data after its seed", ErrMalformedKey)
	}
	if !spec.ReadASN1Bytes(&base, cbasn1.OCTET_STRING) || !spec.ReadASN1Integer(n) {
		return nil, false, fmt.Errorf("%w: explicit EC parameters: bad base point or order", ErrMalformedKey)
	}
	cofactor := int64(0)
	if !spec.Empty() && !spec.ReadASN1Int64WithTag(&cofactor, cbasn1.INTEGER) || !spec.Empty() {
		return nil, false, fmt.Errorf("%w: explicit EC parameters: bad cofactor or trailing data", ErrMalformedKey)
	}
	if version < 1 || version > 3 {
		return nil, false, fmt.Errorf("%w: explicit EC parameters version %d", ErrMalformedKey, version)
	}
	// Find the curve by p, a, b and order, then check the base point in that
	// curve's own encoding (it may be compressed).
	av, bv := new(big.Int).SetBytes(a), new(big.Int).SetBytes(b)
	for _, c := range ecmath.Curves {
		if c.P.Cmp(p) != 0 || c.A.Cmp(av) != 0 || c.B.Cmp(bv) != 0 || c.N.Cmp(n) != 0 {
			continue
		}
		gx, gy, err := c.UnmarshalPoint(base)
		if err != nil {
			return nil, false, fmt.Errorf("%w: explicit EC base point: %v", ErrMalformedKey, err)
		}
		if ecmath.ByParameters(p, av, bv, gx, gy, n, int(cofactor)) != c {
			break
		}
		return c, true, nil
	}
	return nil, false, fmt.Errorf("%w: explicit EC parameters are not those of a known curve (brainpool r1 or NIST)", ErrUnsupportedKey)
}

// MarshalPKIX encodes k as a DER SubjectPublicKeyInfo. With explicit set, an
// elliptic-curve key is written with explicit domain parameters laid out as
// German document signer certificates have them: version 1, the prime field,
// a and b as octet strings of the field length without a seed, the base
// point uncompressed, the order and a cofactor of 1.
func (k *PublicKey) MarshalPKIX(explicit bool) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if k.rsa != nil {
				b.AddASN1ObjectIdentifier(oidRSAEncryption)
				b.AddASN1NULL()
				return
			}
			b.AddASN1ObjectIdentifier(oidECPublicKey)
			if !explicit {
				b.AddASN1ObjectIdentifier(k.curve.OID)
				return
			}
			c := k.curve
			l := c.ByteLen()
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidPrimeField)
					b.AddASN1BigInt(c.P)
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(c.A.FillBytes(make([]byte, l)))
					b.AddASN1OctetString(c.B.FillBytes(make([]byte, l)))
				})
				b.AddASN1OctetString(c.MarshalPoint(c.Gx, c.Gy))
				b.AddASN1BigInt(c.N)
				b.AddASN1Int64(int64(c.H))
			})
		})
		if k.rsa != nil {
			var inner cryptobyte.Builder
			inner.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1BigInt(k.rsa.N)
				b.AddASN1Int64(int64(k.rsa.E))
			})
			b.AddASN1BitString(inner.BytesOrPanic())
			return
		}
		b.AddASN1BitString(k.curve.MarshalPoint(k.x, k.y))
	})
	// The builder cannot fail: every value added is well formed (a curve
	// from ecmath.Curves, a positive modulus and exponent).
	return b.BytesOrPanic()
}
