package testchip

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/internal/ecmath"
)

// Algorithm is a key and signature algorithm of the test PKI.
type Algorithm string

// The algorithms a CSCA, a document signer or a chip may use here.
const (
	RSA             Algorithm = "rsa"             // RSA-2048, PKCS #1 v1.5 with SHA-256
	RSAPSS          Algorithm = "rsa-pss"         // RSA-2048, RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32
	ECDSAP256       Algorithm = "ecdsa-p256"      // ECDSA on P-256 with SHA-256
	BrainpoolP256r1 Algorithm = "brainpoolP256r1" // ECDSA on brainpoolP256r1 with SHA-256, explicit domain parameters as German certificates
	BrainpoolP384r1 Algorithm = "brainpoolP384r1" // ECDSA on brainpoolP384r1 with SHA-384, explicit domain parameters
	RSA1024         Algorithm = "rsa-1024"        // RSA-1024, for active authentication as most passports have it
)

// DSAlgorithms are the document signer algorithms of the demo PKI.
var DSAlgorithms = []Algorithm{RSA, RSAPSS, ECDSAP256, BrainpoolP256r1}

// privateKey is a test key: RSA, or a scalar on a curve.
type privateKey struct {
	alg   Algorithm
	rsa   *rsa.PrivateKey
	curve *ecmath.Curve
	d     *big.Int
}

func (a Algorithm) curve() *ecmath.Curve {
	switch a {
	case ECDSAP256:
		return ecmath.P256
	case BrainpoolP256r1:
		return ecmath.BrainpoolP256r1
	case BrainpoolP384r1:
		return ecmath.BrainpoolP384r1
	}
	return nil
}

func (a Algorithm) hash() crypto.Hash {
	if a == BrainpoolP384r1 {
		return crypto.SHA384
	}
	return crypto.SHA256
}

// explicit reports whether keys of a are written with explicit parameters.
func (a Algorithm) explicit() bool { return a == BrainpoolP256r1 || a == BrainpoolP384r1 }

// generateKey makes a key for alg from r, deterministically: Go's own key
// generation ignores the reader it is given since Go 1.26, so RSA primes
// are searched for here with math/big.
func generateKey(alg Algorithm, r io.Reader) (*privateKey, error) {
	switch alg {
	case RSA, RSAPSS:
		k, err := generateRSA(2048, r)
		return &privateKey{alg: alg, rsa: k}, err
	case RSA1024:
		k, err := generateRSA(1024, r)
		return &privateKey{alg: alg, rsa: k}, err
	}
	c := alg.curve()
	if c == nil {
		return nil, fmt.Errorf("testchip: unknown algorithm %q", alg)
	}
	buf := make([]byte, c.ScalarLen()+16)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	d := new(big.Int).SetBytes(buf)
	d.Mod(d, new(big.Int).Sub(c.N, big.NewInt(1)))
	d.Add(d, big.NewInt(1))
	return &privateKey{alg: alg, curve: c, d: d}, nil
}

func generateRSA(bits int, r io.Reader) (*rsa.PrivateKey, error) {
	e := big.NewInt(65537)
	one := big.NewInt(1)
	prime := func() (*big.Int, error) {
		buf := make([]byte, bits/16)
		for {
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, err
			}
			buf[0] |= 0xC0 // two top bits: the product has exactly `bits` bits
			buf[len(buf)-1] |= 1
			p := new(big.Int).SetBytes(buf)
			if p.ProbablyPrime(20) && new(big.Int).GCD(nil, nil, e, new(big.Int).Sub(p, one)).Cmp(one) == 0 {
				return p, nil
			}
		}
	}
	for {
		p, err := prime()
		if err != nil {
			return nil, err
		}
		q, err := prime()
		if err != nil {
			return nil, err
		}
		if p.Cmp(q) == 0 {
			continue
		}
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		k := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537},
			D:         new(big.Int).ModInverse(e, phi),
			Primes:    []*big.Int{p, q},
		}
		k.Precompute()
		if err := k.Validate(); err != nil {
			return nil, err
		}
		return k, nil
	}
}

func (k *privateKey) public() *emrtd.PublicKey {
	if k.rsa != nil {
		return emrtd.NewRSAPublicKey(&k.rsa.PublicKey)
	}
	x, y := k.curve.ScalarBaseMult(k.d)
	pub, err := emrtd.NewECPublicKey(k.curve.Name, k.curve.MarshalPoint(x, y))
	if err != nil {
		// d is in [1, N-1], so d·G is a point of the curve.
		panic(err)
	}
	return pub
}

// chipKey returns the key as the emrtd package's chip key.
func (k *privateKey) chipKey() (*emrtd.ChipKey, error) {
	if k.rsa != nil {
		return emrtd.NewRSAChipKey(k.rsa), nil
	}
	return emrtd.NewECChipKey(k.curve.Name, k.d.Bytes())
}

// pemBlock writes the key as a PKCS #8 "PRIVATE KEY" PEM block.
func (k *privateKey) pemBlock() ([]byte, error) {
	ck, err := k.chipKey()
	if err != nil {
		return nil, err
	}
	der, err := ck.MarshalPKCS8()
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Algorithm": string(k.alg)}, Bytes: der}), nil
}

// parsePrivateKey reads what pemBlock wrote.
func parsePrivateKey(b []byte) (*privateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("testchip: no PRIVATE KEY PEM block")
	}
	alg := Algorithm(block.Headers["Algorithm"])
	if alg == RSA || alg == RSAPSS || alg == RSA1024 {
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("testchip: RSA algorithm with a non-RSA key")
		}
		return &privateKey{alg: alg, rsa: rk}, nil
	}
	c := alg.curve()
	if c == nil {
		return nil, fmt.Errorf("testchip: unknown algorithm %q", alg)
	}
	// PrivateKeyInfo { 0, AlgorithmIdentifier, OCTET STRING { ECPrivateKey { 1, d, ... } } }
	in := cryptobyte.String(block.Bytes)
	var seq, algo, inner, ecKey cryptobyte.String
	var v int64
	var d []byte
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) ||
		!seq.ReadASN1(&algo, cbasn1.SEQUENCE) || !seq.ReadASN1(&inner, cbasn1.OCTET_STRING) ||
		!inner.ReadASN1(&ecKey, cbasn1.SEQUENCE) || !ecKey.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) ||
		!ecKey.ReadASN1Bytes(&d, cbasn1.OCTET_STRING) {
		return nil, errors.New("testchip: malformed EC private key")
	}
	return &privateKey{alg: alg, curve: c, d: new(big.Int).SetBytes(d)}, nil
}

// signer makes the signatures of alg with k, as an [emrtd.Signer].
type signer struct {
	k   *privateKey
	alg Algorithm
}

var (
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSASSAPSS       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
)

func (s signer) AlgorithmIdentifier() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		switch s.alg {
		case RSA, RSA1024:
			b.AddASN1ObjectIdentifier(oidSHA256WithRSA)
			b.AddASN1NULL()
		case RSAPSS:
			// RFC 4055, section 3.1: SHA-256, MGF1 with SHA-256, salt 32.
			sha256ID := func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidSHA256)
					b.AddASN1NULL()
				})
			}
			b.AddASN1ObjectIdentifier(oidRSASSAPSS)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), sha256ID)
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidMGF1)
						sha256ID(b)
					})
				})
				b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1Int64(32)
				})
			})
		case BrainpoolP384r1:
			b.AddASN1ObjectIdentifier(oidECDSAWithSHA384)
		default:
			b.AddASN1ObjectIdentifier(oidECDSAWithSHA256)
		}
	})
	return b.BytesOrPanic()
}

func (s signer) Sign(msg []byte) ([]byte, error) {
	h := s.alg.hash()
	hh := h.New()
	hh.Write(msg)
	digest := hh.Sum(nil)
	switch s.alg {
	case RSA, RSA1024:
		return rsa.SignPKCS1v15(nil, s.k.rsa, h, digest)
	case RSAPSS:
		return signPSS(s.k.rsa, h, digest, msg)
	}
	r, sv := ecmath.Sign(s.k.curve, s.k.d, digest)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(sv)
	})
	return b.Bytes()
}

// signPSS makes an RSASSA-PSS signature (RFC 8017, section 8.1.1) with a
// salt derived from the message, so that signatures are reproducible (Go's
// rsa.SignPSS draws its salt from the system's randomness). The RSA
// operation is plain math/big: test keys only.
func signPSS(k *rsa.PrivateKey, h crypto.Hash, digest, msg []byte) ([]byte, error) {
	hLen := h.Size()
	salt := h.New()
	salt.Write([]byte("testchip PSS salt"))
	salt.Write(msg)
	s := salt.Sum(nil)[:hLen]
	emBits := k.N.BitLen() - 1
	emLen := (emBits + 7) / 8
	// EMSA-PSS-ENCODE, RFC 8017, section 9.1.1.
	mp := h.New()
	mp.Write(make([]byte, 8))
	mp.Write(digest)
	mp.Write(s)
	hash := mp.Sum(nil)
	db := make([]byte, emLen-hLen-1)
	db[len(db)-len(s)-1] = 1
	copy(db[len(db)-len(s):], s)
	mask := mgf1(h, hash, len(db))
	for i := range db {
		db[i] ^= mask[i]
	}
	db[0] &= 0xFF >> (8*emLen - emBits)
	em := append(append(db, hash...), 0xBC)
	sig := new(big.Int).Exp(new(big.Int).SetBytes(em), k.D, k.N)
	return sig.FillBytes(make([]byte, (k.N.BitLen()+7)/8)), nil
}

func mgf1(h crypto.Hash, seed []byte, n int) []byte {
	var out []byte
	for c := uint32(0); len(out) < n; c++ {
		hh := h.New()
		hh.Write(seed)
		hh.Write([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
		out = hh.Sum(out)
	}
	return out[:n]
}
