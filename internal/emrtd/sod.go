package emrtd

import (
	"crypto"
	"fmt"
	"sort"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxSODSize bounds the SOD file. An SOD is a few kilobytes: the hashes of
// at most 16 data groups and one certificate.
const maxSODSize = 64 << 10

// SOD is a parsed document security object (ICAO 9303 part 10, section
// 4.6.2): the data group hashes and the document signer certificate. Parsing
// verifies nothing cryptographic; [PassiveAuthenticate] does.
type SOD struct {
	sd     *signedData
	ds     *Certificate
	hash   crypto.Hash
	hashes map[DG][]byte
	ldsVer string // "0107" and so on for a version 1 LDS security object; "" for version 0
}

// ParseSOD parses the SOD file: tag 77 holding a CMS ContentInfo with a
// SignedData (RFC 5652) whose encapsulated content is an LDSSecurityObject
// (eContentType id-icao-mrtd-security-ldsSecurityObject, 2.23.136.1.1.1),
// one SignerInfo, and the document signer certificate it identifies. It
// refuses an LDS security object listing a data group twice, or outside 1 to
// 16, or with a hash of the wrong length. Errors wrap [ErrMalformedSOD] or,
// for algorithms it cannot check, [ErrUnsupportedAlgorithm].
func ParseSOD(b []byte) (*SOD, error) {
	if len(b) > maxSODSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedSOD, len(b), maxSODSize)
	}
	outer, err := expectTLV(b, tagSOD, "SOD", ErrMalformedSOD)
	if err != nil {
		return nil, err
	}
	sd, err := parseSignedData(outer.Value, ErrMalformedSOD)
	if err != nil {
		return nil, err
	}
	if !sd.contentType.Equal(oidLDSSecurityObject) {
		return nil, fmt.Errorf("%w: eContentType %v is not id-icao-mrtd-security-ldsSecurityObject", ErrMalformedSOD, sd.contentType)
	}
	s := &SOD{sd: sd, hashes: map[DG][]byte{}}
	if s.ds, err = sd.signerCertificate(ErrMalformedSOD); err != nil {
		return nil, err
	}
	if err := s.parseLDSSecurityObject(sd.content); err != nil {
		return nil, err
	}
	return s, nil
}

// parseLDSSecurityObject reads (ICAO 9303 part 10, section 4.6.2.3):
//
//	LDSSecurityObject ::= SEQUENCE {
//	    version LDSSecurityObjectVersion,       -- v0(0), v1(1)
//	    hashAlgorithm DigestAlgorithmIdentifier,
//	    dataGroupHashValues SEQUENCE SIZE (2..ub-DataGroups) OF DataGroupHash,
//	    ldsVersionInfo LDSVersionInfo OPTIONAL } -- present exactly in v1
func (s *SOD) parseLDSSecurityObject(der []byte) error {
	fail := func(what string) error { return fmt.Errorf("%w: LDSSecurityObject: %s", ErrMalformedSOD, what) }
	in := cryptobyte.String(der)
	var seq, hashAlg, values cryptobyte.String
	var version int64
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !seq.ReadASN1Element(&hashAlg, cbasn1.SEQUENCE) ||
		!seq.ReadASN1(&values, cbasn1.SEQUENCE) {
		return fail("not SEQUENCE { version, hashAlgorithm, dataGroupHashValues }")
	}
	var err error
	if s.hash, err = parseHashAlgorithm(hashAlg, ErrMalformedSOD); err != nil {
		return err
	}
	switch version {
	case 0:
		if !seq.Empty() {
			return fail("version 0 with data after the hashes")
		}
	case 1:
		var info cryptobyte.String
		var lds, unicode []byte
		if !seq.ReadASN1(&info, cbasn1.SEQUENCE) || !seq.Empty() ||
			!info.ReadASN1Bytes(&lds, cbasn1.PrintableString) || !info.ReadASN1Bytes(&unicode, cbasn1.PrintableString) || !info.Empty() {
			return fail("version 1 without LDSVersionInfo { ldsVersion, unicodeVersion }")
		}
		s.ldsVer = string(lds)
	default:
		return fail(fmt.Sprintf("version %d, want 0 or 1", version))
	}
	for !values.Empty() {
		var dgh cryptobyte.String
		var n int64
		var h []byte
		if !values.ReadASN1(&dgh, cbasn1.SEQUENCE) || !dgh.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) ||
			!dgh.ReadASN1Bytes(&h, cbasn1.OCTET_STRING) || !dgh.Empty() {
			return fail("a DataGroupHash is not SEQUENCE { INTEGER, OCTET STRING }")
		}
		if n < 1 || n > 16 {
			return fail(fmt.Sprintf("data group number %d outside 1 to 16", n))
		}
		if _, dup := s.hashes[DG(n)]; dup {
			return fail(fmt.Sprintf("%v listed twice", DG(n)))
		}
		if len(h) != s.hash.Size() {
			return fail(fmt.Sprintf("%v hash of %d bytes, %v makes %d", DG(n), len(h), s.hash, s.hash.Size()))
		}
		s.hashes[DG(n)] = h
	}
	if len(s.hashes) == 0 {
		return fail("no data group hashes")
	}
	return nil
}

// HashAlgorithm returns the hash the data groups are hashed with.
func (s *SOD) HashAlgorithm() crypto.Hash { return s.hash }

// DataGroups returns the data groups the SOD lists, in order.
func (s *SOD) DataGroups() []DG {
	dgs := make([]DG, 0, len(s.hashes))
	for dg := range s.hashes {
		dgs = append(dgs, dg)
	}
	sort.Slice(dgs, func(i, j int) bool { return dgs[i] < dgs[j] })
	return dgs
}

// Hash returns the hash the SOD lists for dg, or nil.
func (s *SOD) Hash(dg DG) []byte { return s.hashes[dg] }

// DocumentSigner returns the document signer certificate embedded in the SOD.
func (s *SOD) DocumentSigner() *Certificate { return s.ds }

// SignatureAlgorithm describes the SOD's signature algorithm for logs.
func (s *SOD) SignatureAlgorithm() string { return s.sd.signer.sigAlg.String() }

// LDSVersion returns the LDS version of a version 1 security object, such
// as "0108", or "" for version 0.
func (s *SOD) LDSVersion() string { return s.ldsVer }

// BuildSOD writes an SOD file (ICAO 9303 part 10, section 4.6.2) for the
// given data group files: a version 0 LDSSecurityObject with their hashes,
// signed by s for the document signer certificate ds, over signed attributes
// when signedAttrs is set (as ICAO recommends) or over the security object
// itself. It is for generating test passports.
func BuildSOD(hash crypto.Hash, files map[DG][]byte, ds *Certificate, s Signer, signedAttrs bool) ([]byte, error) {
	hashOID := oidByHash(hash)
	if hashOID == nil {
		return nil, fmt.Errorf("%w: hash %v", ErrUnsupportedAlgorithm, hash)
	}
	dgs := make([]DG, 0, len(files))
	for dg := range files {
		if dg < 1 || dg > 16 {
			return nil, fmt.Errorf("%w: data group number %d", ErrLDS, int(dg))
		}
		dgs = append(dgs, dg)
	}
	sort.Slice(dgs, func(i, j int) bool { return dgs[i] < dgs[j] })
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(hashOID) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, dg := range dgs {
				h := hash.New()
				h.Write(files[dg])
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Int64(int64(dg))
					b.AddASN1OctetString(h.Sum(nil))
				})
			}
		})
	})
	lso, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	cms, err := buildSignedData(oidLDSSecurityObject, lso, ds, hash, s, signedAttrs)
	if err != nil {
		return nil, err
	}
	return AppendTLV(nil, tagSOD, cms), nil
}
