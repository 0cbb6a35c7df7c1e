package emrtd

import (
	"fmt"
	"strconv"
	"strings"
)

// DG is a data group number of the logical data structure, 1 to 16
// (ICAO 9303 part 10, section 4.6.3).
type DG int

// The data groups this package reads.
const (
	DG1  DG = 1  // the MRZ
	DG2  DG = 2  // the encoded face
	DG14 DG = 14 // security options: chip authentication, active authentication algorithm
	DG15 DG = 15 // the active authentication public key
)

// String returns "DG1" to "DG16".
func (d DG) String() string { return "DG" + strconv.Itoa(int(d)) }

// ParseDGName reads a data group name, "DG1" to "DG16", as the passport dump
// format names its files.
func ParseDGName(s string) (DG, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "DG"))
	if err != nil || !strings.HasPrefix(s, "DG") || n < 1 || n > 16 || s != DG(n).String() {
		return 0, fmt.Errorf("%w: %q is not a data group name DG1 to DG16", ErrLDS, s)
	}
	return DG(n), nil
}

// dgTags are the LDS1 tags of the data group files, DG1 to DG16 (ICAO 9303
// part 10, section 4.6.3, table 30). A file must start with its own tag: a
// file given as one data group but tagged as another is substituted.
var dgTags = [17]uint32{0, 0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70}

// Tag returns the LDS tag of the data group's file, or 0 for a number
// outside 1 to 16.
func (d DG) Tag() uint32 {
	if d < 1 || d > 16 {
		return 0
	}
	return dgTags[d]
}

// Tags of the other elementary files and of DG1's and DG2's content.
const (
	tagCOM      = 0x60
	tagSOD      = 0x77
	tagMRZ      = 0x5F1F
	tagBIT      = 0x7F61 // biometric information group template
	tagBITEntry = 0x7F60 // biometric information template
	tagBHT      = 0xA1   // biometric header template
	tagBDB      = 0x5F2E // biometric data block
	tagBDBEnc   = 0x7F2E // biometric data block, enciphered
	tagCount    = 0x02   // number of instances
)

// maxDGSize bounds every data group file, as the passport dump format does
// (256 KiB); a DG2 portrait is 15 to 30 KiB in practice.
const maxDGSize = 256 << 10

// ParseDG1 parses the DG1 file, tag 61 holding the MRZ as data element
// 5F1F (ICAO 9303 part 10, section 4.7.1), and the MRZ in it (see
// [ParseMRZ]).
func ParseDG1(b []byte) (*MRZ, error) {
	if len(b) > maxDGSize {
		return nil, fmt.Errorf("%w: DG1 of %d bytes, more than %d", ErrLDS, len(b), maxDGSize)
	}
	outer, err := expectTLV(b, DG1.Tag(), "DG1", ErrLDS)
	if err != nil {
		return nil, err
	}
	mrz, err := expectTLV(outer.Value, tagMRZ, "DG1 content", ErrLDS)
	if err != nil {
		return nil, err
	}
	if l := len(mrz.Value); l != 88 && l != 90 {
		return nil, fmt.Errorf("%w: DG1 MRZ of %d characters, want 88 (TD3) or 90 (TD1)", ErrLDS, l)
	}
	return ParseMRZ(string(mrz.Value))
}

// EncodeDG1 writes the DG1 file for m: the MRZ lines concatenated, without
// line ends, in data element 5F1F inside tag 61 (ICAO 9303 part 10, section
// 4.7.1).
func EncodeDG1(m *MRZ) ([]byte, error) {
	s, err := m.Encode()
	if err != nil {
		return nil, err
	}
	return AppendTLV(nil, DG1.Tag(), AppendTLV(nil, tagMRZ, []byte(strings.ReplaceAll(s, "\n", "")))), nil
}

// ParseDG15 parses the DG15 file, tag 6F holding the active authentication
// public key as a SubjectPublicKeyInfo (ICAO 9303 part 10, section 4.7.15;
// part 11, section 6.1), RSA or elliptic curve, see [ParsePublicKey].
func ParseDG15(b []byte) (*PublicKey, error) {
	if len(b) > maxDGSize {
		return nil, fmt.Errorf("%w: DG15 of %d bytes, more than %d", ErrLDS, len(b), maxDGSize)
	}
	outer, err := expectTLV(b, DG15.Tag(), "DG15", ErrLDS)
	if err != nil {
		return nil, err
	}
	return ParsePublicKey(outer.Value)
}

// EncodeDG15 writes the DG15 file for an active authentication key, with
// explicit domain parameters for an elliptic-curve key if explicit is set.
func EncodeDG15(k *PublicKey, explicit bool) []byte {
	return AppendTLV(nil, DG15.Tag(), k.MarshalPKIX(explicit))
}
