package testchip

import (
	"crypto/sha1"
	"encoding/asn1"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// name is a distinguished name as ICAO 9303 part 12, section 7.1.1.2, wants
// it for CSCA and document signer certificates: country first.
type name struct {
	Country, Organization, OrganizationalUnit, CommonName string
}

var (
	oidCountry    = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrg        = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrgUnit    = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSKI        = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidKeyUsage   = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasic      = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidAKI        = asn1.ObjectIdentifier{2, 5, 29, 35}
)

func (n name) der() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		add := func(oid asn1.ObjectIdentifier, tag cbasn1.Tag, v string) {
			if v == "" {
				return
			}
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oid)
					b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(v)) })
				})
			})
		}
		add(oidCountry, cbasn1.PrintableString, n.Country)
		add(oidOrg, cbasn1.UTF8String, n.Organization)
		add(oidOrgUnit, cbasn1.UTF8String, n.OrganizationalUnit)
		add(oidCommonName, cbasn1.UTF8String, n.CommonName)
	})
	return b.BytesOrPanic()
}

// certTemplate is what a test certificate says.
type certTemplate struct {
	serial              int64
	subject             name
	notBefore, notAfter time.Time
	isCA                bool
}

// keyID is the subject key identifier of RFC 5280, section 4.2.1.2,
// method 1: SHA-1 of the public key bits.
func keyID(pub *emrtd.PublicKey, explicit bool) []byte {
	spki := cryptobyte.String(pub.MarshalPKIX(explicit))
	var seq cryptobyte.String
	var bits asn1.BitString
	spki.ReadASN1(&seq, cbasn1.SEQUENCE)
	seq.SkipASN1(cbasn1.SEQUENCE)
	seq.ReadASN1BitString(&bits)
	h := sha1.Sum(bits.Bytes)
	return h[:]
}

// issueCertificate writes an X.509 v3 certificate (RFC 5280) for pub,
// issued by issuer (nil for self-signed, then signed by its own key) with
// the extensions ICAO 9303 part 12, section 7.1.1.3, requires: authority
// and subject key identifiers, key usage (keyCertSign and cRLSign for a
// CSCA, digitalSignature for a document signer) and, for a CSCA, basic
// constraints.
func issueCertificate(t certTemplate, pub *emrtd.PublicKey, explicit bool, issuer *emrtd.Certificate, s emrtd.Signer) (*emrtd.Certificate, error) {
	ski := keyID(pub, explicit)
	issuerName, aki := t.subject.der(), ski
	if issuer != nil {
		issuerName, aki = issuer.RawSubject, issuer.SubjectKeyID
	}
	addTime := func(b *cryptobyte.Builder, tm time.Time) {
		if tm.Year() < 2050 {
			b.AddASN1UTCTime(tm.UTC())
		} else {
			b.AddASN1GeneralizedTime(tm.UTC())
		}
	}
	ext := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, critical bool, value func(*cryptobyte.Builder)) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			if critical {
				b.AddASN1Boolean(true)
			}
			b.AddASN1(cbasn1.OCTET_STRING, value)
		})
	}
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(2) })
		b.AddASN1BigInt(big.NewInt(t.serial))
		b.AddBytes(s.AlgorithmIdentifier())
		b.AddBytes(issuerName)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, t.notBefore)
			addTime(b, t.notAfter)
		})
		b.AddBytes(t.subject.der())
		b.AddBytes(pub.MarshalPKIX(explicit))
		b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				ext(b, oidAKI, false, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(aki) })
					})
				})
				ext(b, oidSKI, false, func(b *cryptobyte.Builder) { b.AddASN1OctetString(ski) })
				ext(b, oidKeyUsage, true, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
						if t.isCA {
							b.AddBytes([]byte{1, 0x06}) // keyCertSign (5), cRLSign (6)
						} else {
							b.AddBytes([]byte{7, 0x80}) // digitalSignature (0)
						}
					})
				})
				if t.isCA {
					ext(b, oidBasic, true, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1Boolean(true)
							b.AddASN1Int64(0)
						})
					})
				}
			})
		})
	})
	tbsDER, err := tbs.Bytes()
	if err != nil {
		return nil, err
	}
	sig, err := s.Sign(tbsDER)
	if err != nil {
		return nil, err
	}
	var cert cryptobyte.Builder
	cert.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddBytes(s.AlgorithmIdentifier())
		b.AddASN1BitString(sig)
	})
	der, err := cert.Bytes()
	if err != nil {
		return nil, err
	}
	return emrtd.ParseCertificate(der)
}
