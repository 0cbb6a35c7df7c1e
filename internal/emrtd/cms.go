package emrtd

import (
	"bytes"
	"crypto"
	"crypto/subtle"
	"encoding/asn1"
	"fmt"
	"math/big"
	"sort"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxCMSCertificates bounds the certificates one SignedData may carry: an
// SOD carries its document signer certificate (ICAO 9303 part 10, section
// 4.6.2.2), a master list its signer's, sometimes with their issuers.
const maxCMSCertificates = 8

// signedData is the part of a CMS SignedData (RFC 5652, section 5) that the
// eMRTD PKI uses: encapsulated content, certificates, exactly one signer.
type signedData struct {
	contentType asn1.ObjectIdentifier
	content     []byte
	certs       []*Certificate
	signer      signerInfo
}

type signerInfo struct {
	issuer      []byte   // IssuerAndSerialNumber issuer Name, DER
	serial      *big.Int // IssuerAndSerialNumber serialNumber
	keyID       []byte   // or [0] SubjectKeyIdentifier
	digest      crypto.Hash
	signedAttrs []byte // DER SET OF Attribute as signed (tag 31), nil when absent
	attrType    asn1.ObjectIdentifier
	attrDigest  []byte
	sigAlg      signatureAlgorithm
	signature   []byte
}

// parseSignedData parses a DER ContentInfo holding a SignedData with one
// SignerInfo. Every error wraps bad.
func parseSignedData(der []byte, bad error) (*signedData, error) {
	fail := func(what string) error { return fmt.Errorf("%w: %s", bad, what) }
	in := cryptobyte.String(der)
	var ci, content, sdSeq cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, fail("ContentInfo is not one DER SEQUENCE")
	}
	if !ci.ReadASN1ObjectIdentifier(&ctype) || !ctype.Equal(oidSignedData) {
		return nil, fail("content type is not id-signedData")
	}
	if !ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() ||
		!content.ReadASN1(&sdSeq, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, fail("ContentInfo content is not [0] SignedData")
	}
	sd := &signedData{}
	var version int64
	var digestAlgs, encap, eContent, signerInfos cryptobyte.String
	if !sdSeq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !sdSeq.ReadASN1(&digestAlgs, cbasn1.SET) ||
		!sdSeq.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, fail("SignedData lacks version, digestAlgorithms or encapContentInfo")
	}
	if version < 1 || version > 5 {
		return nil, fail(fmt.Sprintf("SignedData version %d", version))
	}
	var has bool
	if !encap.ReadASN1ObjectIdentifier(&sd.contentType) ||
		!encap.ReadOptionalASN1(&eContent, &has, cbasn1.Tag(0).Constructed().ContextSpecific()) || !encap.Empty() || !has ||
		!eContent.ReadASN1Bytes(&sd.content, cbasn1.OCTET_STRING) || !eContent.Empty() {
		return nil, fail("encapContentInfo is not { eContentType, [0] OCTET STRING }")
	}
	var certSet cryptobyte.String
	if !sdSeq.ReadOptionalASN1(&certSet, &has, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, fail("certificates")
	}
	for !certSet.Empty() {
		if len(sd.certs) == maxCMSCertificates {
			return nil, fail(fmt.Sprintf("more than %d certificates", maxCMSCertificates))
		}
		var certDER cryptobyte.String
		if !certSet.ReadASN1Element(&certDER, cbasn1.SEQUENCE) {
			return nil, fail("a certificate is not a SEQUENCE (attribute certificates are not supported)")
		}
		c, err := ParseCertificate(certDER)
		if err != nil {
			return nil, fmt.Errorf("%w: embedded certificate: %w", bad, nested(err))
		}
		sd.certs = append(sd.certs, c)
	}
	if !sdSeq.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) { // crls
		return nil, fail("crls")
	}
	if !sdSeq.ReadASN1(&signerInfos, cbasn1.SET) || !sdSeq.Empty() {
		return nil, fail("signerInfos is not the last field, a SET")
	}
	var si cryptobyte.String
	if !signerInfos.ReadASN1(&si, cbasn1.SEQUENCE) || !signerInfos.Empty() {
		return nil, fail("want exactly one SignerInfo (ICAO 9303 part 10, section 4.6.2.2)")
	}
	if err := sd.signer.parse(si, bad); err != nil {
		return nil, err
	}
	return sd, nil
}

func (s *signerInfo) parse(si cryptobyte.String, bad error) error {
	fail := func(what string) error { return fmt.Errorf("%w: SignerInfo %s", bad, what) }
	var version int64
	if !si.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return fail("version")
	}
	switch {
	case si.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias cryptobyte.String
		s.serial = new(big.Int)
		var issuer cryptobyte.String
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(s.serial) || !ias.Empty() {
			return fail("IssuerAndSerialNumber")
		}
		s.issuer = issuer
	case si.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var id cryptobyte.String
		if !si.ReadASN1(&id, cbasn1.Tag(0).ContextSpecific()) {
			return fail("subjectKeyIdentifier")
		}
		s.keyID = id
	default:
		return fail("sid is neither IssuerAndSerialNumber nor [0] SubjectKeyIdentifier")
	}
	var digestAlg cryptobyte.String
	if !si.ReadASN1Element(&digestAlg, cbasn1.SEQUENCE) {
		return fail("digestAlgorithm")
	}
	var err error
	if s.digest, err = parseHashAlgorithm(digestAlg, bad); err != nil {
		return err
	}
	if si.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var attrs cryptobyte.String
		if !si.ReadASN1Element(&attrs, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return fail("signedAttrs")
		}
		// RFC 5652, section 5.4: the signature covers the DER encoding of
		// the SET OF Attribute, with the SET tag instead of [0] IMPLICIT.
		s.signedAttrs = append([]byte{0x31}, attrs[1:]...)
		if err := s.parseSignedAttrs(attrs, bad); err != nil {
			return err
		}
	}
	var sigAlg cryptobyte.String
	if !si.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) || !si.ReadASN1Bytes(&s.signature, cbasn1.OCTET_STRING) ||
		!si.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || !si.Empty() {
		return fail("signatureAlgorithm, signature or unsignedAttrs")
	}
	if s.sigAlg, err = parseSignatureAlgorithm(sigAlg, s.digest, bad); err != nil {
		return err
	}
	return nil
}

// parseSignedAttrs reads the content-type and message-digest attributes
// that RFC 5652, section 5.3, requires whenever signed attributes are
// present, each with exactly one value, and refuses duplicates.
func (s *signerInfo) parseSignedAttrs(attrs cryptobyte.String, bad error) error {
	fail := func(what string) error { return fmt.Errorf("%w: signed attributes: %s", bad, what) }
	var set cryptobyte.String
	if !attrs.ReadASN1(&set, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return fail("not [0] SET OF Attribute")
	}
	seen := map[string]bool{}
	for n := 0; !set.Empty(); n++ {
		if n == 32 {
			return fail("more than 32 attributes")
		}
		var attr, values cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !set.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return fail("an attribute is not SEQUENCE { OID, SET }")
		}
		if seen[oid.String()] {
			return fail(fmt.Sprintf("attribute %v appears twice", oid))
		}
		seen[oid.String()] = true
		switch {
		case oid.Equal(oidAttrContentType):
			if !values.ReadASN1ObjectIdentifier(&s.attrType) || !values.Empty() {
				return fail("content-type is not one OBJECT IDENTIFIER")
			}
		case oid.Equal(oidAttrMessageDigest):
			if !values.ReadASN1Bytes(&s.attrDigest, cbasn1.OCTET_STRING) || !values.Empty() {
				return fail("message-digest is not one OCTET STRING")
			}
		}
	}
	if s.attrType == nil || s.attrDigest == nil {
		return fail("content-type or message-digest missing (RFC 5652, section 5.3)")
	}
	return nil
}

// signerCertificate returns the embedded certificate that the SignerInfo
// identifies.
func (sd *signedData) signerCertificate(bad error) (*Certificate, error) {
	for _, c := range sd.certs {
		if sd.signer.keyID != nil && bytes.Equal(c.SubjectKeyID, sd.signer.keyID) ||
			sd.signer.serial != nil && c.SerialNumber.Cmp(sd.signer.serial) == 0 && sameName(c.RawIssuer, sd.signer.issuer) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: no embedded certificate matches the SignerInfo's signer identifier", bad)
}

// sameName compares two DER Names as parseName canonicalises them.
func sameName(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	_, ka, err1 := parseName(a)
	_, kb, err2 := parseName(b)
	return err1 == nil && err2 == nil && ka == kb
}

// verify checks the SignerInfo's signature with cert's key and, where there
// are signed attributes, that they name the content type and carry the
// content's digest (RFC 5652, section 5.4). Errors wrap sigErr.
func (sd *signedData) verify(cert *Certificate, sigErr error) error {
	s := &sd.signer
	msg := sd.content
	if s.signedAttrs != nil {
		if !s.attrType.Equal(sd.contentType) {
			return fmt.Errorf("%w: signed content-type %v differs from the encapsulated %v", sigErr, s.attrType, sd.contentType)
		}
		h := s.digest.New()
		h.Write(sd.content)
		if subtle.ConstantTimeCompare(h.Sum(nil), s.attrDigest) != 1 {
			return fmt.Errorf("%w: signed message-digest differs from the %v of the content", sigErr, s.digest)
		}
		msg = s.signedAttrs
	}
	if err := s.sigAlg.verify(cert.PublicKey, msg, s.signature); err != nil {
		return fmt.Errorf("%w: %v by %q: %v", sigErr, s.sigAlg, cert.Subject, err)
	}
	return nil
}

// Signer makes the signatures of an SOD, a master list or a certificate, as
// a document signer or CSCA would. It is the generator's side: the server
// never signs these.
type Signer interface {
	// AlgorithmIdentifier is the DER AlgorithmIdentifier of the signatures.
	AlgorithmIdentifier() []byte
	// Sign hashes message as the algorithm says and signs it.
	Sign(message []byte) ([]byte, error)
}

// buildSignedData writes a ContentInfo with a SignedData (RFC 5652, section
// 5) holding content, the signer's certificate, and one SignerInfo
// identified by issuer and serial number, signed by s over signed
// attributes (content-type and message-digest) when withAttrs is set or over
// the content itself otherwise.
func buildSignedData(contentType asn1.ObjectIdentifier, content []byte, cert *Certificate, digest crypto.Hash, s Signer, withAttrs bool) ([]byte, error) {
	digestOID := oidByHash(digest)
	if digestOID == nil {
		return nil, fmt.Errorf("%w: digest %v", ErrUnsupportedAlgorithm, digest)
	}
	addDigestAlg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(digestOID) })
	}
	var signedAttrs []byte
	msg := content
	if withAttrs {
		h := digest.New()
		h.Write(content)
		var typeAttr, digestAttr cryptobyte.Builder
		typeAttr.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidAttrContentType)
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(contentType) })
		})
		digestAttr.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidAttrMessageDigest)
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1OctetString(h.Sum(nil)) })
		})
		attrs := [][]byte{typeAttr.BytesOrPanic(), digestAttr.BytesOrPanic()}
		// DER orders the elements of a SET OF by their encodings (X.690,
		// section 11.6).
		sort.Slice(attrs, func(i, j int) bool { return bytes.Compare(attrs[i], attrs[j]) < 0 })
		var set cryptobyte.Builder
		set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, a := range attrs {
				b.AddBytes(a)
			}
		})
		signedAttrs = set.BytesOrPanic()
		msg = signedAttrs
	}
	sig, err := s.Sign(msg)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(3) // RFC 5652, section 5.1: 3 when eContentType is not id-data
				b.AddASN1(cbasn1.SET, addDigestAlg)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(contentType)
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1OctetString(content)
					})
				})
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddBytes(cert.Raw)
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(1) // sid is IssuerAndSerialNumber
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(cert.RawIssuer)
							b.AddASN1BigInt(cert.SerialNumber)
						})
						addDigestAlg(b)
						if signedAttrs != nil {
							// [0] IMPLICIT: the SET's content under another tag.
							set := cryptobyte.String(signedAttrs)
							var inner cryptobyte.String
							set.ReadASN1(&inner, cbasn1.SET)
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddBytes(inner)
							})
						}
						b.AddBytes(s.AlgorithmIdentifier())
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return b.Bytes()
}
