package emrtd

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrMalformedCertificate is returned, wrapped, for a certificate that is
// not a DER X.509 v1 or v3 certificate this package can read.
var ErrMalformedCertificate = errors.New("emrtd: malformed certificate")

// maxCertificateSize bounds one certificate. Document signer and CSCA
// certificates are one to three kilobytes (ICAO 9303 part 12, section 7).
const maxCertificateSize = 32 << 10

// KeyUsage is the key usage extension's bits (RFC 5280, section 4.2.1.3),
// with the same values as crypto/x509's.
type KeyUsage int

// Key usage bits, in the order of RFC 5280, section 4.2.1.3.
const (
	KeyUsageDigitalSignature KeyUsage = 1 << iota
	KeyUsageContentCommitment
	KeyUsageKeyEncipherment
	KeyUsageDataEncipherment
	KeyUsageKeyAgreement
	KeyUsageCertSign
	KeyUsageCRLSign
)

// Certificate is a parsed X.509 certificate of the eMRTD PKI: a CSCA, a
// document signer or a master list signer (ICAO 9303 part 12, section 7).
// Unlike crypto/x509 it accepts keys on brainpool curves and with explicit
// domain parameters. Its fields must not be modified.
type Certificate struct {
	Raw                     []byte // the whole DER certificate
	RawTBSCertificate       []byte
	RawSubject, RawIssuer   []byte
	RawSubjectPublicKeyInfo []byte
	SerialNumber            *big.Int
	Subject, Issuer         string // RFC 4514-like: "C=DE, O=bund, CN=csca-germany"
	NotBefore, NotAfter     time.Time
	PublicKey               *PublicKey
	SubjectKeyID            []byte
	AuthorityKeyID          []byte
	IsCA                    bool     // basic constraints cA
	KeyUsage                KeyUsage // zero when the extension is absent
	HasKeyUsage             bool

	subjectKey, issuerKey string // canonical names for comparison
	sigAlg                signatureAlgorithm
	signature             []byte
}

// SignatureAlgorithm describes the algorithm the issuer signed with, for
// logs: "SHA-256-ECDSA".
func (c *Certificate) SignatureAlgorithm() string { return c.sigAlg.String() }

// ParseCertificate parses one DER certificate (RFC 5280, section 4.1). It
// rejects trailing data, unknown critical extensions (RFC 5280, section 4.2),
// a signature algorithm in the TBSCertificate different from the outer one,
// and keys this package cannot verify with (see [ParsePublicKey]).
func ParseCertificate(der []byte) (*Certificate, error) {
	if len(der) > maxCertificateSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedCertificate, len(der), maxCertificateSize)
	}
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrMalformedCertificate, what) }
	c := &Certificate{Raw: der}
	in := cryptobyte.String(der)
	var cert, tbsElement, tbs, outerAlg cryptobyte.String
	var sig asn1.BitString
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad("not one DER SEQUENCE")
	}
	if !cert.ReadASN1Element(&tbsElement, cbasn1.SEQUENCE) || !cert.ReadASN1Element(&outerAlg, cbasn1.SEQUENCE) ||
		!cert.ReadASN1BitString(&sig) || !cert.Empty() || sig.BitLength%8 != 0 {
		return nil, bad("not SEQUENCE { TBSCertificate, AlgorithmIdentifier, BIT STRING }")
	}
	c.RawTBSCertificate = tbsElement
	c.signature = sig.Bytes
	if !tbsElement.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, bad("TBSCertificate is not a SEQUENCE")
	}
	version := int64(0)
	var v cryptobyte.String
	var hasVersion bool
	if !tbs.ReadOptionalASN1(&v, &hasVersion, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		hasVersion && (!v.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !v.Empty()) {
		return nil, bad("version")
	}
	if version != 0 && version != 2 {
		return nil, bad(fmt.Sprintf("version %d: want v1 or v3", version+1))
	}
	c.SerialNumber = new(big.Int)
	var innerAlg, issuer, validity, subject, spki cryptobyte.String
	if !tbs.ReadASN1Integer(c.SerialNumber) || !tbs.ReadASN1Element(&innerAlg, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !tbs.ReadASN1(&validity, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) || !tbs.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return nil, bad("TBSCertificate fields")
	}
	if !bytes.Equal(innerAlg, outerAlg) {
		return nil, bad("signature algorithm in TBSCertificate differs from the outer one (RFC 5280, section 4.1.1.2)")
	}
	var err error
	if c.sigAlg, err = parseSignatureAlgorithm(outerAlg, 0, ErrMalformedCertificate); err != nil {
		return nil, err
	}
	c.RawIssuer, c.RawSubject, c.RawSubjectPublicKeyInfo = issuer, subject, spki
	if c.Issuer, c.issuerKey, err = parseName(issuer); err != nil {
		return nil, err
	}
	if c.Subject, c.subjectKey, err = parseName(subject); err != nil {
		return nil, err
	}
	if c.NotBefore, err = readTime(&validity); err != nil {
		return nil, err
	}
	if c.NotAfter, err = readTime(&validity); err != nil {
		return nil, err
	}
	if !validity.Empty() {
		return nil, bad("validity has trailing data")
	}
	if c.PublicKey, err = ParsePublicKey(spki); err != nil {
		return nil, err
	}
	// issuerUniqueID [1] and subjectUniqueID [2] are obsolete; skip them.
	if !tbs.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific()) || !tbs.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific()) {
		return nil, bad("unique identifiers")
	}
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(3).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, bad("extensions or trailing data in TBSCertificate")
	}
	if hasExts {
		if version != 2 {
			return nil, bad("extensions in a v1 certificate")
		}
		if err := c.parseExtensions(exts); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, fmt.Errorf("%w: bad UTCTime", ErrMalformedCertificate)
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, fmt.Errorf("%w: bad GeneralizedTime", ErrMalformedCertificate)
		}
	default:
		return t, fmt.Errorf("%w: validity time is neither UTCTime nor GeneralizedTime", ErrMalformedCertificate)
	}
	return t, nil
}

// knownExtensions are the extensions ICAO 9303 part 12, section 7.1.1, lists
// for CSCA, document signer and master list signer certificates. One of them
// marked critical is accepted even where this package does not enforce it;
// any other critical extension makes the certificate unusable.
var knownExtensions = []asn1.ObjectIdentifier{
	oidExtSubjectKeyID, oidExtKeyUsage, oidExtPrivateKeyUsage, oidExtSubjectAltName, oidExtIssuerAltName,
	oidExtBasicConstraints, oidExtNameConstraints, oidExtCRLDistribution, oidExtPolicies,
	oidExtAuthorityKeyID, oidExtExtKeyUsage, oidNameChange, oidDocumentTypeList,
}

func (c *Certificate) parseExtensions(exts cryptobyte.String) error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrMalformedCertificate, what) }
	var seq cryptobyte.String
	if !exts.ReadASN1(&seq, cbasn1.SEQUENCE) || !exts.Empty() {
		return bad("extensions are not a SEQUENCE")
	}
	seen := map[string]bool{}
	for !seq.Empty() {
		var ext, value cryptobyte.String
		var oid asn1.ObjectIdentifier
		var critical bool
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
			!readOptionalBoolean(&ext, &critical) ||
			!ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return bad("extension is not SEQUENCE { OID, BOOLEAN, OCTET STRING }")
		}
		if seen[oid.String()] {
			return bad(fmt.Sprintf("extension %v appears twice (RFC 5280, section 4.2)", oid))
		}
		seen[oid.String()] = true
		switch {
		case oid.Equal(oidExtSubjectKeyID):
			if !value.ReadASN1Bytes(&c.SubjectKeyID, cbasn1.OCTET_STRING) || !value.Empty() {
				return bad("subject key identifier")
			}
		case oid.Equal(oidExtAuthorityKeyID):
			var aki cryptobyte.String
			var has bool
			var id cryptobyte.String
			// keyIdentifier is [0] IMPLICIT OCTET STRING (RFC 5280, section 4.2.1.1).
			if !value.ReadASN1(&aki, cbasn1.SEQUENCE) || !value.Empty() ||
				!aki.ReadOptionalASN1(&id, &has, cbasn1.Tag(0).ContextSpecific()) {
				return bad("authority key identifier")
			}
			if has {
				c.AuthorityKeyID = id
			}
		case oid.Equal(oidExtBasicConstraints):
			var bc cryptobyte.String
			if !value.ReadASN1(&bc, cbasn1.SEQUENCE) || !value.Empty() ||
				!readOptionalBoolean(&bc, &c.IsCA) {
				return bad("basic constraints")
			}
			var pathLen int64
			if !bc.Empty() && !bc.ReadASN1Int64WithTag(&pathLen, cbasn1.INTEGER) || !bc.Empty() {
				return bad("basic constraints path length")
			}
		case oid.Equal(oidExtKeyUsage):
			var bits asn1.BitString
			if !value.ReadASN1BitString(&bits) || !value.Empty() {
				return bad("key usage")
			}
			for i := 0; i < 9; i++ {
				if bits.At(i) != 0 {
					c.KeyUsage |= 1 << i
				}
			}
			c.HasKeyUsage = true
		default:
			if critical && !oidIn(oid, knownExtensions) {
				return fmt.Errorf("%w: unknown critical extension %v", ErrMalformedCertificate, oid)
			}
		}
	}
	return nil
}

// readOptionalBoolean reads a BOOLEAN DEFAULT FALSE.
func readOptionalBoolean(s *cryptobyte.String, out *bool) bool {
	*out = false
	if !s.PeekASN1Tag(cbasn1.BOOLEAN) {
		return true
	}
	return s.ReadASN1Boolean(out)
}

func oidIn(oid asn1.ObjectIdentifier, list []asn1.ObjectIdentifier) bool {
	for _, o := range list {
		if o.Equal(oid) {
			return true
		}
	}
	return false
}

// CheckSignatureFrom verifies that parent's key signed c. It does not check
// validity dates or key usage: see [PassiveAuthenticate] for the chain rules.
func (c *Certificate) CheckSignatureFrom(parent *Certificate) error {
	if err := c.sigAlg.verify(parent.PublicKey, c.RawTBSCertificate, c.signature); err != nil {
		return fmt.Errorf("%w: %q signed by %q: %v", ErrCertificateSignature, c.Subject, parent.Subject, err)
	}
	return nil
}

// attributeNames are the short names RFC 4514, section 3, and ICAO 9303
// part 12, section 7.1.1.2, use for name attributes.
var attributeNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.5": "SERIALNUMBER", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
	"2.5.4.10": "O", "2.5.4.11": "OU", "0.9.2342.19200300.100.1.25": "DC", "1.2.840.113549.1.9.1": "E",
}

// parseName renders a Name for people and a canonical key for comparing
// names as RFC 5280, section 7.1, asks in the common case: attribute values
// compared case-insensitively with inner white space collapsed, whatever
// string type encodes them (issuers do not always reuse their CSCA's).
func parseName(der []byte) (display, key string, err error) {
	in := cryptobyte.String(der)
	var rdns cryptobyte.String
	if !in.ReadASN1(&rdns, cbasn1.SEQUENCE) || !in.Empty() {
		return "", "", fmt.Errorf("%w: Name is not a SEQUENCE", ErrMalformedCertificate)
	}
	var parts, keys []string
	for !rdns.Empty() {
		var set cryptobyte.String
		if !rdns.ReadASN1(&set, cbasn1.SET) {
			return "", "", fmt.Errorf("%w: RDN is not a SET", ErrMalformedCertificate)
		}
		for !set.Empty() {
			var atv, value cryptobyte.String
			var oid asn1.ObjectIdentifier
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) ||
				!atv.ReadAnyASN1(&value, &tag) || !atv.Empty() {
				return "", "", fmt.Errorf("%w: AttributeTypeAndValue", ErrMalformedCertificate)
			}
			s, ok := decodeDirectoryString(tag, value)
			if !ok {
				return "", "", fmt.Errorf("%w: name attribute %v has an unreadable string", ErrMalformedCertificate, oid)
			}
			name, known := attributeNames[oid.String()]
			if !known {
				name = oid.String()
			}
			parts = append(parts, name+"="+s)
			keys = append(keys, oid.String()+"="+strings.ToLower(strings.Join(strings.Fields(s), " ")))
		}
	}
	return strings.Join(parts, ", "), strings.Join(keys, "\x00"), nil
}

func decodeDirectoryString(tag cbasn1.Tag, v []byte) (string, bool) {
	switch tag {
	case cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String, cbasn1.Tag(26) /* VisibleString */ :
		return string(v), true
	case cbasn1.T61String:
		// Read as Latin-1, which is what issuers who use it mean in practice.
		r := make([]rune, len(v))
		for i, b := range v {
			r[i] = rune(b)
		}
		return string(r), true
	case cbasn1.Tag(30): // BMPString, UCS-2 big-endian
		if len(v)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(v)/2)
		for i := range u {
			u[i] = uint16(v[2*i])<<8 | uint16(v[2*i+1])
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}
