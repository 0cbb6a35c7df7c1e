package emrtd

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/openmitid/openmitid/internal/emrtd/internal/ecmath"
)

// ErrMalformedChipKey is returned, wrapped, for an active authentication
// private key that cannot be read.
var ErrMalformedChipKey = errors.New("emrtd: malformed chip private key")

// ChipKey is an active authentication private key as a chip holds it. A
// real chip never lets it out; synthetic passports hand it to the reference
// app so that it can answer challenges as the chip would (CONTRACT.md,
// "aa_key"). The server never holds one.
type ChipKey struct {
	rsa   *rsa.PrivateKey
	curve *ecmath.Curve
	d     *big.Int
	pub   *PublicKey
}

// NewRSAChipKey wraps an RSA private key.
func NewRSAChipKey(k *rsa.PrivateKey) *ChipKey {
	return &ChipKey{rsa: k, pub: &PublicKey{rsa: &k.PublicKey}}
}

// NewECChipKey makes an elliptic-curve chip key from a curve name (as
// [PublicKey.Curve] returns it) and a private scalar, big-endian.
func NewECChipKey(curve string, d []byte) (*ChipKey, error) {
	for _, c := range ecmath.Curves {
		if c.Name != curve {
			continue
		}
		k := new(big.Int).SetBytes(d)
		if k.Sign() == 0 || k.Cmp(c.N) >= 0 {
			return nil, fmt.Errorf("%w: private scalar out of range for %s", ErrMalformedChipKey, curve)
		}
		x, y := c.ScalarBaseMult(k)
		return &ChipKey{curve: c, d: k, pub: &PublicKey{curve: c, x: x, y: y}}, nil
	}
	return nil, fmt.Errorf("%w: curve %q", ErrUnsupportedKey, curve)
}

// Public returns the public key, as DG15 holds it.
func (k *ChipKey) Public() *PublicKey { return k.pub }

// ParseChipKey reads a PKCS #8 private key (RFC 5208): RSA, or elliptic
// curve on a named curve this package knows (brainpool included, which
// crypto/x509 cannot read).
func ParseChipKey(pkcs8 []byte) (*ChipKey, error) {
	in := cryptobyte.String(pkcs8)
	var seq, algo cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!seq.ReadASN1(&algo, cbasn1.SEQUENCE) || !algo.ReadASN1ObjectIdentifier(&oid) {
		return nil, fmt.Errorf("%w: not a PKCS #8 PrivateKeyInfo", ErrMalformedChipKey)
	}
	if oid.Equal(oidRSAEncryption) {
		k, err := x509.ParsePKCS8PrivateKey(pkcs8)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedChipKey, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: rsaEncryption key is not RSA", ErrMalformedChipKey)
		}
		return NewRSAChipKey(rk), nil
	}
	if !oid.Equal(oidECPublicKey) {
		return nil, fmt.Errorf("%w: private key algorithm %v", ErrUnsupportedKey, oid)
	}
	var curveOID asn1.ObjectIdentifier
	var inner, ecKey cryptobyte.String
	var d []byte
	var ecVersion int64
	if !algo.ReadASN1ObjectIdentifier(&curveOID) || !algo.Empty() ||
		!seq.ReadASN1(&inner, cbasn1.OCTET_STRING) ||
		!inner.ReadASN1(&ecKey, cbasn1.SEQUENCE) || !ecKey.ReadASN1Int64WithTag(&ecVersion, cbasn1.INTEGER) ||
		!ecKey.ReadASN1Bytes(&d, cbasn1.OCTET_STRING) || ecVersion != 1 {
		return nil, fmt.Errorf("%w: not an ECPrivateKey (RFC 5915) on a named curve", ErrMalformedChipKey)
	}
	c := ecmath.ByOID(curveOID)
	if c == nil {
		return nil, fmt.Errorf("%w: named curve %v", ErrUnsupportedKey, curveOID)
	}
	return NewECChipKey(c.Name, d)
}

// MarshalPKCS8 writes the key as PKCS #8 (RFC 5208), elliptic-curve keys as
// an RFC 5915 ECPrivateKey on their named curve, with the public key.
func (k *ChipKey) MarshalPKCS8() ([]byte, error) {
	if k.rsa != nil {
		return x509.MarshalPKCS8PrivateKey(k.rsa)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidECPublicKey)
			b.AddASN1ObjectIdentifier(k.curve.OID)
		})
		b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1OctetString(k.d.FillBytes(make([]byte, k.curve.ScalarLen())))
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1BitString(k.pub.Point())
				})
			})
		})
	})
	return b.Bytes()
}

// SignChallenge answers an active authentication challenge as a chip does
// (ICAO 9303 part 11, section 6.1): for RSA an ISO/IEC 9796-2 scheme 1
// signature with partial recovery over a random M1 (from rand) and the
// challenge, with SHA-1 and trailer BC; for an elliptic-curve key a plain
// ECDSA signature of the challenge with the hash DG14's
// ActiveAuthenticationInfo names.
//
// It is the chip's side, for synthetic passports and the reference app. The
// RSA private operation is plain math/big and the ECDSA one [ecmath.Sign]:
// neither is constant time, so never use it with a key that matters.
func SignChallenge(rand io.Reader, key *ChipKey, dg14 []byte, challenge [ChallengeSize]byte) ([]byte, error) {
	if key == nil || key.rsa == nil && key.curve == nil {
		return nil, fmt.Errorf("%w: no key", ErrMalformedChipKey)
	}
	if key.rsa != nil {
		n := key.rsa.N
		k := (n.BitLen() + 7) / 8
		if n.BitLen()%8 != 0 {
			return nil, fmt.Errorf("%w: RSA modulus of %d bits is not a whole number of bytes", ErrUnsupportedKey, n.BitLen())
		}
		h := crypto.SHA1
		m1 := make([]byte, k-2-h.Size())
		if _, err := io.ReadFull(rand, m1); err != nil {
			return nil, err
		}
		hh := h.New()
		hh.Write(m1)
		hh.Write(challenge[:])
		f := append([]byte{iso9796Header}, m1...)
		f = append(f, hh.Sum(nil)...)
		f = append(f, trailerSHA1)
		s := new(big.Int).Exp(new(big.Int).SetBytes(f), key.rsa.D, n)
		return s.FillBytes(make([]byte, k)), nil
	}
	infos, err := ParseDG14(dg14)
	if err != nil {
		return nil, err
	}
	if infos.ActiveAuthentication == nil {
		return nil, fmt.Errorf("%w: DG14 names no hash for ECDSA active authentication", ErrActiveAuthentication)
	}
	hh := infos.ActiveAuthentication.Hash.New()
	hh.Write(challenge[:])
	r, s := ecmath.Sign(key.curve, key.d, hh.Sum(nil))
	l := key.curve.ScalarLen()
	out := make([]byte, 2*l)
	r.FillBytes(out[:l])
	s.FillBytes(out[l:])
	return out, nil
}
