package emrtd

import (
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1" // SHA-1 is still common in issued passports' SODs and active authentication
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/openmitid/openmitid/internal/emrtd/internal/ecmath"
)

// ErrUnsupportedAlgorithm is returned, wrapped, for a signature or hash
// algorithm this package does not implement.
var ErrUnsupportedAlgorithm = errors.New("emrtd: unsupported algorithm")

// errBadSignature is what signatureAlgorithm.verify returns; callers wrap it
// into the sentinel of what was being verified.
var errBadSignature = errors.New("signature does not verify")

type sigScheme int

const (
	schemePKCS1v15   sigScheme = iota + 1 // RSASSA-PKCS1-v1_5, RFC 8017, section 8.2
	schemePSS                             // RSASSA-PSS, RFC 8017, section 8.1; RFC 4055
	schemeECDSA                           // ECDSA with a DER Ecdsa-Sig-Value, RFC 5480
	schemeECDSAPlain                      // ECDSA with r || s, BSI TR-03111, section 5.2.1
)

// signatureAlgorithm is a parsed AlgorithmIdentifier of a signature.
type signatureAlgorithm struct {
	scheme  sigScheme
	hash    crypto.Hash
	saltLen int // PSS only
}

func (a signatureAlgorithm) String() string {
	switch a.scheme {
	case schemePKCS1v15:
		return a.hash.String() + "-RSA-PKCS1v15"
	case schemePSS:
		return fmt.Sprintf("%s-RSA-PSS(salt %d)", a.hash, a.saltLen)
	case schemeECDSA:
		return a.hash.String() + "-ECDSA"
	case schemeECDSAPlain:
		return a.hash.String() + "-ECDSA-plain"
	}
	return "unknown"
}

var signatureOIDs = []struct {
	oid    asn1.ObjectIdentifier
	scheme sigScheme
	hash   crypto.Hash
}{
	{oidSHA1WithRSA, schemePKCS1v15, crypto.SHA1},
	{oidSHA224WithRSA, schemePKCS1v15, crypto.SHA224},
	{oidSHA256WithRSA, schemePKCS1v15, crypto.SHA256},
	{oidSHA384WithRSA, schemePKCS1v15, crypto.SHA384},
	{oidSHA512WithRSA, schemePKCS1v15, crypto.SHA512},
	{oidECDSAWithSHA1, schemeECDSA, crypto.SHA1},
	{oidECDSAWithSHA224, schemeECDSA, crypto.SHA224},
	{oidECDSAWithSHA256, schemeECDSA, crypto.SHA256},
	{oidECDSAWithSHA384, schemeECDSA, crypto.SHA384},
	{oidECDSAWithSHA512, schemeECDSA, crypto.SHA512},
	{oidECDSAPlainSHA1, schemeECDSAPlain, crypto.SHA1},
	{oidECDSAPlainSHA224, schemeECDSAPlain, crypto.SHA224},
	{oidECDSAPlainSHA256, schemeECDSAPlain, crypto.SHA256},
	{oidECDSAPlainSHA384, schemeECDSAPlain, crypto.SHA384},
	{oidECDSAPlainSHA512, schemeECDSAPlain, crypto.SHA512},
}

// parseSignatureAlgorithm reads a signature AlgorithmIdentifier. In a CMS
// SignerInfo the signature algorithm may be plain rsaEncryption, the hash
// then being the SignerInfo's digest algorithm, given as digest (RFC 3370,
// section 3.2); elsewhere digest is 0 and rsaEncryption is refused. Errors
// in the encoding wrap bad, the sentinel of what is being parsed.
func parseSignatureAlgorithm(der []byte, digest crypto.Hash, bad error) (signatureAlgorithm, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1ObjectIdentifier(&oid) {
		return signatureAlgorithm{}, fmt.Errorf("%w: signature AlgorithmIdentifier is not DER", bad)
	}
	params := seq
	// Parameters are absent or NULL for the PKCS #1 v1.5 and ECDSA OIDs.
	nullOrAbsent := func() bool {
		if params.Empty() {
			return true
		}
		var null cryptobyte.String
		return params.ReadASN1(&null, cbasn1.NULL) && null.Empty() && params.Empty()
	}
	for _, s := range signatureOIDs {
		if s.oid.Equal(oid) {
			if !nullOrAbsent() {
				return signatureAlgorithm{}, fmt.Errorf("%w: %v has parameters other than NULL", bad, oid)
			}
			return signatureAlgorithm{scheme: s.scheme, hash: s.hash}, nil
		}
	}
	switch {
	case oid.Equal(oidRSAEncryption) && digest != 0:
		if !nullOrAbsent() {
			return signatureAlgorithm{}, fmt.Errorf("%w: rsaEncryption has parameters other than NULL", bad)
		}
		return signatureAlgorithm{scheme: schemePKCS1v15, hash: digest}, nil
	case oid.Equal(oidECPublicKey) && digest != 0:
		// Some issuers name the key algorithm, not the signature algorithm,
		// in the SignerInfo; the digest algorithm then gives the hash.
		return signatureAlgorithm{scheme: schemeECDSA, hash: digest}, nil
	case oid.Equal(oidRSASSAPSS):
		return parsePSSParameters(params, bad)
	}
	return signatureAlgorithm{}, fmt.Errorf("%w: signature algorithm %v", ErrUnsupportedAlgorithm, oid)
}

// parsePSSParameters reads RSASSA-PSS-params (RFC 4055, section 3.1). Go's
// crypto/rsa uses the message hash for MGF1 too, so parameters naming
// another MGF1 hash, or a trailer field other than 1, are refused.
func parsePSSParameters(params cryptobyte.String, bad error) (signatureAlgorithm, error) {
	var seq cryptobyte.String
	if !params.ReadASN1(&seq, cbasn1.SEQUENCE) || !params.Empty() {
		return signatureAlgorithm{}, fmt.Errorf("%w: RSASSA-PSS parameters are not a SEQUENCE", bad)
	}
	a := signatureAlgorithm{scheme: schemePSS, hash: crypto.SHA1, saltLen: 20}
	mgfHash := crypto.SHA1
	var err error
	var hashAlg, mgfAlg, salt, trailer cryptobyte.String
	var has bool
	if !seq.ReadOptionalASN1(&hashAlg, &has, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return a, fmt.Errorf("%w: RSASSA-PSS hashAlgorithm", bad)
	}
	if has {
		if a.hash, err = parseHashAlgorithm(hashAlg, bad); err != nil {
			return a, err
		}
	}
	if !seq.ReadOptionalASN1(&mgfAlg, &has, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return a, fmt.Errorf("%w: RSASSA-PSS maskGenAlgorithm", bad)
	}
	if has {
		var mgf, inner cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !mgfAlg.ReadASN1(&mgf, cbasn1.SEQUENCE) || !mgfAlg.Empty() || !mgf.ReadASN1ObjectIdentifier(&oid) ||
			!mgf.ReadASN1Element(&inner, cbasn1.SEQUENCE) || !mgf.Empty() {
			return a, fmt.Errorf("%w: RSASSA-PSS maskGenAlgorithm is not MGF1 with a hash", bad)
		}
		if !oid.Equal(oidMGF1) {
			return a, fmt.Errorf("%w: RSASSA-PSS mask generation %v is not MGF1", ErrUnsupportedAlgorithm, oid)
		}
		if mgfHash, err = parseHashAlgorithm(inner, bad); err != nil {
			return a, err
		}
	}
	var saltLen int64 = 20
	if !seq.ReadOptionalASN1(&salt, &has, cbasn1.Tag(2).Constructed().ContextSpecific()) ||
		has && (!salt.ReadASN1Int64WithTag(&saltLen, cbasn1.INTEGER) || !salt.Empty()) {
		return a, fmt.Errorf("%w: RSASSA-PSS saltLength", bad)
	}
	trailerField := int64(1)
	if !seq.ReadOptionalASN1(&trailer, &has, cbasn1.Tag(3).Constructed().ContextSpecific()) ||
		has && (!trailer.ReadASN1Int64WithTag(&trailerField, cbasn1.INTEGER) || !trailer.Empty()) || !seq.Empty() {
		return a, fmt.Errorf("%w: RSASSA-PSS trailerField or trailing data", bad)
	}
	if mgfHash != a.hash {
		return a, fmt.Errorf("%w: RSASSA-PSS with hash %v but MGF1 hash %v", ErrUnsupportedAlgorithm, a.hash, mgfHash)
	}
	if trailerField != 1 || saltLen < 0 || saltLen > 512 {
		return a, fmt.Errorf("%w: RSASSA-PSS trailer field %d, salt length %d", ErrUnsupportedAlgorithm, trailerField, saltLen)
	}
	a.saltLen = int(saltLen)
	return a, nil
}

// parseHashAlgorithm reads a hash AlgorithmIdentifier, parameters absent or
// NULL (RFC 5754, section 2).
func parseHashAlgorithm(in cryptobyte.String, bad error) (crypto.Hash, error) {
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1ObjectIdentifier(&oid) {
		return 0, fmt.Errorf("%w: hash AlgorithmIdentifier is not DER", bad)
	}
	if !seq.Empty() {
		var null cryptobyte.String
		if !seq.ReadASN1(&null, cbasn1.NULL) || !null.Empty() || !seq.Empty() {
			return 0, fmt.Errorf("%w: hash algorithm %v has parameters other than NULL", bad, oid)
		}
	}
	h, ok := hashByOID(oid)
	if !ok {
		return 0, fmt.Errorf("%w: hash algorithm %v", ErrUnsupportedAlgorithm, oid)
	}
	return h, nil
}

// verify checks sig over msg by pub.
func (a signatureAlgorithm) verify(pub *PublicKey, msg, sig []byte) error {
	h := a.hash.New()
	h.Write(msg)
	digest := h.Sum(nil)
	switch a.scheme {
	case schemePKCS1v15, schemePSS:
		if pub.rsa == nil {
			return fmt.Errorf("%w: %v signature by an %v key", ErrUnsupportedAlgorithm, a, pub)
		}
		var err error
		if a.scheme == schemePSS {
			err = rsa.VerifyPSS(pub.rsa, a.hash, digest, sig, &rsa.PSSOptions{SaltLength: a.saltLen, Hash: a.hash})
		} else {
			err = rsa.VerifyPKCS1v15(pub.rsa, a.hash, digest, sig)
		}
		if err != nil {
			return errBadSignature
		}
		return nil
	case schemeECDSA, schemeECDSAPlain:
		if pub.curve == nil {
			return fmt.Errorf("%w: %v signature by an %v key", ErrUnsupportedAlgorithm, a, pub)
		}
		var r, s *big.Int
		if a.scheme == schemeECDSA {
			r, s = parseECDSASignature(sig)
		} else {
			r, s = parsePlainECDSASignature(pub.curve, sig)
		}
		if r == nil || !ecmath.Verify(pub.curve, pub.x, pub.y, digest, r, s) {
			return errBadSignature
		}
		return nil
	}
	return fmt.Errorf("%w: %v", ErrUnsupportedAlgorithm, a)
}

// parseECDSASignature reads Ecdsa-Sig-Value ::= SEQUENCE { r, s INTEGER }
// (RFC 5480, section 2.2.3; RFC 3279, section 2.2.3); nil for bad DER.
func parseECDSASignature(sig []byte) (r, s *big.Int) {
	in := cryptobyte.String(sig)
	var seq cryptobyte.String
	r, s = new(big.Int), new(big.Int)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Integer(r) || !seq.ReadASN1Integer(s) || !seq.Empty() {
		return nil, nil
	}
	return r, s
}

// parsePlainECDSASignature reads r || s, each as long as the order of the
// curve (BSI TR-03111, section 5.2.1); nil for the wrong length.
func parsePlainECDSASignature(c *ecmath.Curve, sig []byte) (r, s *big.Int) {
	l := c.ScalarLen()
	if len(sig) != 2*l {
		return nil, nil
	}
	return new(big.Int).SetBytes(sig[:l]), new(big.Int).SetBytes(sig[l:])
}
