package emrtd

import (
	"errors"
	"fmt"
)

// ErrTLV is returned, wrapped, for a BER-TLV data object that is not well
// formed: a length running past its input, an indefinite or over-long length,
// a tag of more than three bytes, or nesting deeper than [MaxTLVDepth].
var ErrTLV = errors.New("emrtd: malformed BER-TLV")

const (
	// MaxTLVDepth is how deep TLV.Children lets constructed objects nest.
	// The deepest LDS structure, DG2's biometric data block inside its
	// biometric information template inside its group template, is four
	// levels deep (ICAO 9303 part 10, section 4.7.2).
	MaxTLVDepth = 8
	// maxTLVObjects bounds how many sibling objects one value may hold, so
	// that a file of two-byte objects cannot make a parser allocate a slice
	// entry per two bytes of input.
	maxTLVObjects = 1024
)

// TLV is one BER-TLV data object of the LDS (ICAO 9303 part 10, section 4.4,
// after ISO/IEC 7816-4). Value aliases the parsed input.
type TLV struct {
	Tag   uint32 // the tag bytes, big-endian: 0x5F1F for tag 5F 1F
	Value []byte
	depth int
}

// Constructed reports whether the tag says the value holds further objects.
func (t TLV) Constructed() bool {
	first := t.Tag
	for first > 0xFF {
		first >>= 8
	}
	return first&0x20 != 0
}

// ParseTLV parses b as exactly one BER-TLV object: bytes after it are an
// error, since an LDS file is one object.
func ParseTLV(b []byte) (TLV, error) {
	t, rest, err := readTLV(b, 0)
	if err != nil {
		return TLV{}, err
	}
	if len(rest) != 0 {
		return TLV{}, fmt.Errorf("%w: %d bytes after the object with tag %X", ErrTLV, len(rest), t.Tag)
	}
	return t, nil
}

// ParseTLVs parses b as a sequence of BER-TLV objects.
func ParseTLVs(b []byte) ([]TLV, error) { return readTLVs(b, 0) }

// Children parses the value of a constructed object as a sequence of
// objects, one level deeper; it refuses to go past [MaxTLVDepth].
func (t TLV) Children() ([]TLV, error) {
	if !t.Constructed() {
		return nil, fmt.Errorf("%w: tag %X is primitive and has no children", ErrTLV, t.Tag)
	}
	if t.depth+1 > MaxTLVDepth {
		return nil, fmt.Errorf("%w: nesting deeper than %d levels", ErrTLV, MaxTLVDepth)
	}
	return readTLVs(t.Value, t.depth+1)
}

func readTLVs(b []byte, depth int) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		if len(out) == maxTLVObjects {
			return nil, fmt.Errorf("%w: more than %d objects in one value", ErrTLV, maxTLVObjects)
		}
		t, rest, err := readTLV(b, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

func readTLV(b []byte, depth int) (TLV, []byte, error) {
	if len(b) == 0 {
		return TLV{}, nil, fmt.Errorf("%w: no tag: input is empty", ErrTLV)
	}
	// Tag: ISO/IEC 7816-4, section 5.2.2.1. Low five bits all set means
	// more tag bytes follow, each with bit 8 set except the last.
	tag := uint32(b[0])
	i := 1
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return TLV{}, nil, fmt.Errorf("%w: tag %X is cut off", ErrTLV, tag)
			}
			if i == 3 {
				return TLV{}, nil, fmt.Errorf("%w: tag starting %X is longer than 3 bytes", ErrTLV, tag)
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if tag == 0 || tag == 0xFF {
		return TLV{}, nil, fmt.Errorf("%w: tag %02X is not a valid first tag byte", ErrTLV, tag)
	}
	// Length: ISO/IEC 7816-4, section 5.2.2.2. Short form up to 127,
	// long form 81 to 84 followed by that many bytes. 80 (indefinite) is
	// not DER and has no place in the LDS.
	if i >= len(b) {
		return TLV{}, nil, fmt.Errorf("%w: object with tag %X has no length", ErrTLV, tag)
	}
	n := int(b[i])
	i++
	if n >= 0x80 {
		k := n & 0x7F
		if k == 0 || k > 4 {
			return TLV{}, nil, fmt.Errorf("%w: length byte %02X of tag %X: want 00-7F or 81-84", ErrTLV, b[i-1], tag)
		}
		if len(b)-i < k {
			return TLV{}, nil, fmt.Errorf("%w: length of tag %X is cut off", ErrTLV, tag)
		}
		var l uint64
		for _, c := range b[i : i+k] {
			l = l<<8 | uint64(c)
		}
		i += k
		if l > uint64(len(b)-i) {
			return TLV{}, nil, fmt.Errorf("%w: tag %X claims %d bytes, only %d follow", ErrTLV, tag, l, len(b)-i)
		}
		n = int(l)
	} else if n > len(b)-i {
		return TLV{}, nil, fmt.Errorf("%w: tag %X claims %d bytes, only %d follow", ErrTLV, tag, n, len(b)-i)
	}
	return TLV{Tag: tag, Value: b[i : i+n : i+n], depth: depth}, b[i+n:], nil
}

// AppendTLV appends a BER-TLV object with the given tag and value to dst,
// with the shortest length encoding (DER).
func AppendTLV(dst []byte, tag uint32, value []byte) []byte {
	switch {
	case tag > 0xFFFF:
		dst = append(dst, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		dst = append(dst, byte(tag>>8), byte(tag))
	default:
		dst = append(dst, byte(tag))
	}
	n := len(value)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xFF:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xFFFFFF:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, value...)
}

// expectTLV parses b as one object with the given tag; errors wrap
// sentinel, the error of the file being read, and name it as what.
func expectTLV(b []byte, tag uint32, what string, sentinel error) (TLV, error) {
	t, err := ParseTLV(b)
	if err != nil {
		return TLV{}, fmt.Errorf("%w: %s: %w", sentinel, what, nested(err))
	}
	if t.Tag != tag {
		return TLV{}, fmt.Errorf("%w: %s starts with tag %X, want %X", sentinel, what, t.Tag, tag)
	}
	return t, nil
}
