package emrtd

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"fmt"
	"math/big"
	"sort"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SecurityInfos is what DG14 says about the chip's security protocols
// (ICAO 9303 part 10, section 4.7.14; part 11, section 9.2).
type SecurityInfos struct {
	// ActiveAuthentication is the ActiveAuthenticationInfo, present when the
	// chip does active authentication with ECDSA (part 11, section 9.2.9).
	ActiveAuthentication *ActiveAuthenticationInfo
	// ChipAuthentication lists the ChipAuthenticationInfos (part 11,
	// section 9.2.5).
	ChipAuthentication []ChipAuthenticationInfo
	// ChipAuthenticationKeys lists the ChipAuthenticationPublicKeyInfos
	// (part 11, section 9.2.6).
	ChipAuthenticationKeys []ChipAuthenticationPublicKeyInfo
	// Other lists the protocols of SecurityInfos this package does not read
	// (PACE, terminal authentication, ...).
	Other []asn1.ObjectIdentifier
}

// ActiveAuthenticationInfo names the signature algorithm of ECDSA active
// authentication (ICAO 9303 part 11, section 9.2.9).
type ActiveAuthenticationInfo struct {
	Version            int
	SignatureAlgorithm asn1.ObjectIdentifier // ecdsa-plain-SHA* of BSI TR-03111
	Hash               crypto.Hash           // the hash that algorithm names
}

// ChipAuthenticationInfo announces a chip authentication protocol.
type ChipAuthenticationInfo struct {
	Protocol asn1.ObjectIdentifier // id-CA-DH-* or id-CA-ECDH-*
	Version  int
	KeyID    *big.Int // nil when absent
}

// ChipAuthenticationPublicKeyInfo holds a chip authentication public key.
type ChipAuthenticationPublicKeyInfo struct {
	Protocol  asn1.ObjectIdentifier // id-PK-DH or id-PK-ECDH
	PublicKey []byte                // the SubjectPublicKeyInfo, DER
	KeyID     *big.Int              // nil when absent
}

// maxSecurityInfos bounds how many SecurityInfo entries DG14 may hold; real
// chips have fewer than ten.
const maxSecurityInfos = 64

// ParseDG14 parses the DG14 file: tag 6E holding SecurityInfos, a DER SET
// OF SecurityInfo (ICAO 9303 part 10, section 4.7.14). It reads the
// active authentication and chip authentication entries and lists the others
// by protocol.
func ParseDG14(b []byte) (*SecurityInfos, error) {
	if len(b) > maxDGSize {
		return nil, fmt.Errorf("%w: DG14 of %d bytes, more than %d", ErrLDS, len(b), maxDGSize)
	}
	outer, err := expectTLV(b, DG14.Tag(), "DG14", ErrLDS)
	if err != nil {
		return nil, err
	}
	in := cryptobyte.String(outer.Value)
	var set cryptobyte.String
	if !in.ReadASN1(&set, cbasn1.SET) || !in.Empty() {
		return nil, fmt.Errorf("%w: DG14 content is not one DER SET OF SecurityInfo", ErrLDS)
	}
	si := &SecurityInfos{}
	for n := 0; !set.Empty(); n++ {
		if n == maxSecurityInfos {
			return nil, fmt.Errorf("%w: DG14 holds more than %d SecurityInfos", ErrLDS, maxSecurityInfos)
		}
		var info cryptobyte.String
		var protocol asn1.ObjectIdentifier
		if !set.ReadASN1(&info, cbasn1.SEQUENCE) || !info.ReadASN1ObjectIdentifier(&protocol) {
			return nil, fmt.Errorf("%w: DG14 SecurityInfo %d is not SEQUENCE { OID, ... }", ErrLDS, n)
		}
		bad := func(what string) error {
			return fmt.Errorf("%w: DG14 SecurityInfo %d (%v): %s", ErrLDS, n, protocol, what)
		}
		switch {
		case protocol.Equal(oidActiveAuth):
			if si.ActiveAuthentication != nil {
				return nil, bad("second ActiveAuthenticationInfo")
			}
			var version int64
			var alg asn1.ObjectIdentifier
			if !info.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !info.ReadASN1ObjectIdentifier(&alg) || !info.Empty() {
				return nil, bad("ActiveAuthenticationInfo is not { version, signatureAlgorithm }")
			}
			if version != 1 {
				return nil, bad(fmt.Sprintf("ActiveAuthenticationInfo version %d, want 1", version))
			}
			aa := &ActiveAuthenticationInfo{Version: int(version), SignatureAlgorithm: alg}
			for _, s := range signatureOIDs {
				if s.oid.Equal(alg) && s.scheme == schemeECDSAPlain {
					aa.Hash = s.hash
				}
			}
			if aa.Hash == 0 {
				return nil, fmt.Errorf("%w: DG14 active authentication algorithm %v is not ecdsa-plain-SHA*", ErrUnsupportedAlgorithm, alg)
			}
			si.ActiveAuthentication = aa
		case isPrefix(oidCADH, protocol) || isPrefix(oidCAECDH, protocol):
			var version int64
			ca := ChipAuthenticationInfo{Protocol: protocol}
			if !info.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
				return nil, bad("ChipAuthenticationInfo lacks its version")
			}
			ca.Version = int(version)
			if !info.Empty() {
				ca.KeyID = new(big.Int)
				if !info.ReadASN1Integer(ca.KeyID) || !info.Empty() {
					return nil, bad("ChipAuthenticationInfo keyId")
				}
			}
			si.ChipAuthentication = append(si.ChipAuthentication, ca)
		case protocol.Equal(oidPKDH) || protocol.Equal(oidPKECDH):
			var spki cryptobyte.String
			pk := ChipAuthenticationPublicKeyInfo{Protocol: protocol}
			if !info.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
				return nil, bad("ChipAuthenticationPublicKeyInfo lacks its SubjectPublicKeyInfo")
			}
			pk.PublicKey = spki
			if !info.Empty() {
				pk.KeyID = new(big.Int)
				if !info.ReadASN1Integer(pk.KeyID) || !info.Empty() {
					return nil, bad("ChipAuthenticationPublicKeyInfo keyId")
				}
			}
			si.ChipAuthenticationKeys = append(si.ChipAuthenticationKeys, pk)
		default:
			si.Other = append(si.Other, protocol)
		}
	}
	return si, nil
}

// EncodeDG14 writes a DG14 file with the given SecurityInfos (ICAO 9303
// part 10, section 4.7.14): the ActiveAuthenticationInfo, if any, naming
// ecdsa-plain with its hash, as a chip doing ECDSA active authentication
// must have (part 11, section 9.2.9), then the chip authentication entries.
// Other protocols are not written.
func EncodeDG14(si *SecurityInfos) ([]byte, error) {
	var alg asn1.ObjectIdentifier
	if aa := si.ActiveAuthentication; aa != nil {
		for _, s := range signatureOIDs {
			if s.scheme == schemeECDSAPlain && s.hash == aa.Hash {
				alg = s.oid
			}
		}
		if alg == nil {
			return nil, fmt.Errorf("%w: no ecdsa-plain algorithm for %v", ErrUnsupportedAlgorithm, aa.Hash)
		}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		// DER sorts SET OF by encoding; the builder below adds in a fixed
		// order that the sort afterwards puts right.
		var elems [][]byte
		add := func(f func(b *cryptobyte.Builder)) {
			var e cryptobyte.Builder
			e.AddASN1(cbasn1.SEQUENCE, f)
			elems = append(elems, e.BytesOrPanic())
		}
		if alg != nil {
			add(func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidActiveAuth)
				b.AddASN1Int64(1)
				b.AddASN1ObjectIdentifier(alg)
			})
		}
		for _, ca := range si.ChipAuthentication {
			add(func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(ca.Protocol)
				b.AddASN1Int64(int64(ca.Version))
				if ca.KeyID != nil {
					b.AddASN1BigInt(ca.KeyID)
				}
			})
		}
		for _, pk := range si.ChipAuthenticationKeys {
			add(func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(pk.Protocol)
				b.AddBytes(pk.PublicKey)
				if pk.KeyID != nil {
					b.AddASN1BigInt(pk.KeyID)
				}
			})
		}
		sort.Slice(elems, func(i, j int) bool { return bytes.Compare(elems[i], elems[j]) < 0 })
		for _, e := range elems {
			b.AddBytes(e)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLDS, err)
	}
	return AppendTLV(nil, DG14.Tag(), der), nil
}
