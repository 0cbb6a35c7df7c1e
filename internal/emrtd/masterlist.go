package emrtd

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrMalformedMasterList is returned, wrapped, for a master list that is
// not a CMS SignedData with CscaMasterList content (ICAO 9303 part 12,
// section 9).
var ErrMalformedMasterList = errors.New("emrtd: malformed CSCA master list")

// ErrMasterListSignature is returned, wrapped, when a master list's
// signature does not verify with its signer certificate, or that certificate
// was not issued by a CSCA in the list.
var ErrMasterListSignature = errors.New("emrtd: CSCA master list signature does not verify")

// maxMasterListCertificates bounds a master list; ICAO's holds some 700.
const maxMasterListCertificates = 4096

// MasterList is a parsed ICAO CSCA master list.
type MasterList struct {
	certs        []*Certificate
	signer       *Certificate
	signerIssuer *Certificate
	skipped      int
}

// Certificates returns the CSCA certificates the list carries.
func (m *MasterList) Certificates() []*Certificate { return append([]*Certificate(nil), m.certs...) }

// Signer returns the master list signer certificate.
func (m *MasterList) Signer() *Certificate { return m.signer }

// SignerIssuer returns the CSCA certificate, from the list itself, that
// issued the signer certificate.
func (m *MasterList) SignerIssuer() *Certificate { return m.signerIssuer }

// ParseMasterList parses an ICAO CSCA master list (ICAO 9303 part 12,
// section 9): a CMS SignedData whose content, of type id-icao-cscaMasterList
// (2.23.136.1.1.2), is
//
//	CscaMasterList ::= SEQUENCE { version INTEGER (v0), certList SET OF Certificate }
//
// It verifies the signature with the embedded master list signer
// certificate, and that certificate's signature by a CSCA contained in the
// list (the issuing state's own). That proves the list is whole and was
// signed by a key one of its own CSCAs vouches for; it does not prove that
// this state is the one the operator meant to trust, nor does it check
// validity dates. An operator importing a master list should compare
// [MasterList.SignerIssuer] against a fingerprint obtained out of band.
// Certificates in the list that this package cannot parse (unsupported
// curves, malformed encodings, which real lists contain) are skipped; the
// count is returned by Skipped.
func ParseMasterList(der []byte) (*MasterList, error) {
	if len(der) > maxCSCAFile {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedMasterList, len(der), maxCSCAFile)
	}
	sd, err := parseSignedData(der, ErrMalformedMasterList)
	if err != nil {
		return nil, err
	}
	if !sd.contentType.Equal(oidCSCAMasterList) {
		return nil, fmt.Errorf("%w: eContentType %v is not id-icao-cscaMasterList", ErrMalformedMasterList, sd.contentType)
	}
	signer, err := sd.signerCertificate(ErrMalformedMasterList)
	if err != nil {
		return nil, err
	}
	if err := sd.verify(signer, ErrMasterListSignature); err != nil {
		return nil, err
	}
	in := cryptobyte.String(sd.content)
	var seq, set cryptobyte.String
	var version int64
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!seq.ReadASN1(&set, cbasn1.SET) || !seq.Empty() || version != 0 {
		return nil, fmt.Errorf("%w: content is not CscaMasterList { v0, SET OF Certificate }", ErrMalformedMasterList)
	}
	ml := &MasterList{signer: signer}
	for n := 0; !set.Empty(); n++ {
		if n == maxMasterListCertificates {
			return nil, fmt.Errorf("%w: more than %d certificates", ErrMalformedMasterList, maxMasterListCertificates)
		}
		var certDER cryptobyte.String
		if !set.ReadASN1Element(&certDER, cbasn1.SEQUENCE) {
			return nil, fmt.Errorf("%w: certificate %d is not a SEQUENCE", ErrMalformedMasterList, n)
		}
		c, err := ParseCertificate(certDER)
		if err != nil {
			ml.skipped++
			continue
		}
		ml.certs = append(ml.certs, c)
	}
	var issuers TrustList
	for _, c := range ml.certs {
		if c.IsCA {
			issuers.certs = append(issuers.certs, c)
		}
	}
	for _, ca := range issuers.issuersOf(signer) {
		if signer.CheckSignatureFrom(ca) == nil {
			ml.signerIssuer = ca
			break
		}
	}
	if ml.signerIssuer == nil {
		return nil, fmt.Errorf("%w: signer %q was issued by no CSCA in the list", ErrMasterListSignature, signer.Subject)
	}
	return ml, nil
}

// Skipped returns how many certificates of the list could not be parsed.
func (m *MasterList) Skipped() int { return m.skipped }

// BuildMasterList writes a CSCA master list holding certs, signed by s for
// the master list signer certificate signer (ICAO 9303 part 12, section 9).
// It is for generating test data; digest is the SignerInfo's digest algorithm.
func BuildMasterList(certs []*Certificate, signer *Certificate, s Signer, digest crypto.Hash) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, c := range sortedDER(certs) {
				b.AddBytes(c)
			}
		})
	})
	content, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return buildSignedData(oidCSCAMasterList, content, signer, digest, s, true)
}

// sortedDER returns the certificates' encodings in DER SET OF order
// (X.690, section 11.6).
func sortedDER(certs []*Certificate) [][]byte {
	out := make([][]byte, len(certs))
	for i, c := range certs {
		out[i] = c.Raw
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out
}
