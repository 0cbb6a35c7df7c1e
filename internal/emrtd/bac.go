package emrtd

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// MRZInfo returns the MRZ information that Basic Access Control keys are
// derived from (ICAO 9303 part 11, section 9.7.2): the document number with
// fillers to nine characters, its check digit, the date of birth and its
// check digit, the date of expiry and its check digit. A document number
// longer than nine characters is used whole.
func (m *MRZ) MRZInfo() string {
	number := pad(m.DocumentNumber, 9)
	return number + string(CheckDigit(number)) +
		m.DateOfBirth + string(CheckDigit(m.DateOfBirth)) +
		m.DateOfExpiry + string(CheckDigit(m.DateOfExpiry))
}

// BACKeySeed computes Kseed, the first 16 bytes of SHA-1 over the MRZ
// information (ICAO 9303 part 11, section 9.7.2; appendix D.2).
func BACKeySeed(mrzInfo string) [16]byte {
	sum := sha1.Sum([]byte(mrzInfo))
	var k [16]byte
	copy(k[:], sum[:16])
	return k
}

// BACKeys are the two-key 3DES session keys of Basic Access Control.
type BACKeys struct {
	Enc [16]byte // KEnc, for encryption
	MAC [16]byte // KMAC, for the retail MAC
}

// DeriveBACKeys derives KEnc and KMAC from a key seed with the key
// derivation function of ICAO 9303 part 11, section 9.7.1: SHA-1 over the
// seed and a 32-bit counter (1 for encryption, 2 for MAC), the first 16
// bytes of which form two DES keys with their parity bits adjusted.
func DeriveBACKeys(seed [16]byte) BACKeys {
	return BACKeys{Enc: deriveDESKey(seed[:], 1), MAC: deriveDESKey(seed[:], 2)}
}

func deriveDESKey(seed []byte, counter uint32) [16]byte {
	d := make([]byte, 0, len(seed)+4)
	d = append(d, seed...)
	d = binary.BigEndian.AppendUint32(d, counter)
	h := sha1.Sum(d)
	var k [16]byte
	copy(k[:], h[:16])
	for i := range k {
		k[i] = withOddParity(k[i])
	}
	return k
}

// withOddParity sets the lowest bit of b so that b has an odd number of set
// bits, as DES keys require (FIPS 46-3).
func withOddParity(b byte) byte {
	b &^= 1
	if bits.OnesCount8(b)%2 == 0 {
		b |= 1
	}
	return b
}

// String hides the keys so that they do not end up in logs.
func (k BACKeys) String() string {
	return fmt.Sprintf("BACKeys{%d bytes hidden}", len(k.Enc)+len(k.MAC))
}
