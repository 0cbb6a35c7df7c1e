// Package qr encodes QR Code symbols (model 2) as specified by ISO/IEC
// 18004:2015, for the animated code on the login page's waiting screen that
// the MitID app scans.
//
// [Encode] picks the smallest version that holds the data at the requested
// error correction level, in numeric, alphanumeric or byte mode, and the mask
// with the lowest penalty. A [Code] is read module by module with
// [Code.Black] or drawn as SVG with [Code.SVG].
//
// Encoding a 60-character frame takes about 0.1 ms: the parts of the symbol
// that depend on the version alone are built once per version and shared,
// and the mask penalties are computed without allocating. Encode is safe
// for concurrent use.
//
// # On the waiting page
//
// A frame of about 60 characters at level [M] is a version 4 symbol, 33
// modules and 41 with the quiet zone; up to 62 characters stay at version 4.
// Give the image a fixed size in CSS, 246 px (6 px a module) or more, so the
// layout does not move when a longer frame needs version 5, and so a phone
// held at arm's length still sees at least 5 px a module. Use one
// [SVGOptions.Label] for every frame, such as "QR-kode til MitID-appen": the
// frames change every second, so the image must not be in an ARIA live
// region, and its name must not change with them.
package qr

import (
	"errors"
	"fmt"
)

// Level is an error correction level (ISO/IEC 18004:2015, 5.1 f and 7.5.1):
// the share of codewords that can be restored. Higher levels make larger
// symbols for the same data.
type Level int8

const (
	L Level = iota // about 7% of codewords can be restored
	M              // about 15%; the level for the login page
	Q              // about 25%
	H              // about 30%
)

// String returns "L", "M", "Q" or "H".
func (l Level) String() string {
	if l < L || l > H {
		return fmt.Sprintf("Level(%d)", int8(l))
	}
	return string("LMQH"[l])
}

var (
	// ErrLevel is returned, wrapped, for a Level other than L, M, Q and H.
	ErrLevel = errors.New("qr: unknown error correction level")
	// ErrTooLong is returned, wrapped, when the data does not fit in a
	// version 40 symbol at the requested level (ISO/IEC 18004:2015,
	// Table 7). A lower level holds more.
	ErrTooLong = errors.New("qr: data too long for a QR Code")
)

// Code is an encoded QR Code symbol. Its zero value is not a symbol; make
// one with [Encode].
type Code struct {
	version int
	level   Level
	mask    int
	size    int
	modules []byte // row-major, 1 for dark
}

// Encode returns the QR Code symbol for data at the given error correction
// level (ISO/IEC 18004:2015, clause 7). It uses the densest of numeric,
// alphanumeric and byte mode that holds every byte of data (7.3), the
// smallest version from 1 to 40 with room for it (Table 7), and the data mask
// with the lowest penalty score (7.8.3). Bytes are encoded as they are;
// readers take byte mode data to be ISO/IEC 8859-1 or guess, so data that
// must survive every reader is ASCII. Empty data makes a valid, empty symbol.
//
// Encode returns an error wrapping [ErrLevel] for an unknown level and one
// wrapping [ErrTooLong] for data no version 40 symbol at that level holds.
func Encode(data []byte, level Level) (*Code, error) {
	if level < L || level > H {
		return nil, fmt.Errorf("%w %d; use qr.L, qr.M, qr.Q or qr.H", ErrLevel, level)
	}
	m := chooseMode(data)
	version := 0
	for v := 1; v <= 40; v++ {
		if capacity(m, v, level) >= len(data) {
			version = v
			break
		}
	}
	if version == 0 {
		return nil, fmt.Errorf("%w: %d bytes in %s mode at level %v, the most a version 40 symbol holds is %d",
			ErrTooLong, len(data), m, level, capacity(m, 40, level))
	}

	l := layout(version, level)
	codewords := interleave(dataCodewords(data, m, version, l.data), l)
	t := templates[version]()
	n := t.size * t.size

	// One allocation holds the three working grids: the unmasked symbol, a
	// masked candidate and its columns for the penalty rules. The result
	// has its own, so the Code does not keep the others alive.
	work := make([]byte, 3*n)
	placed, scratch, transposed := work[:n:n], work[n:2*n:2*n], work[2*n:]
	modules := make([]byte, n)

	// Place the bits unmasked (7.7.3). Data modules past the last codeword
	// are the remainder bits and stay 0.
	copy(placed, t.base)
	for k, idx := range t.order[:8*len(codewords)] {
		placed[idx] = codewords[k>>3] >> (7 - uint(k&7)) & 1
	}

	// Try every mask (7.8.2) and keep the first with the lowest penalty;
	// ties go to the lower reference, so that a frame always encodes the
	// same way. The format and version information areas, dark module
	// included, stay light while scoring, as 7.8.3.1 has it.
	best, bestScore := 0, -1
	for mask := 0; mask < 8; mask++ {
		copy(scratch, placed)
		applyMask(scratch, t, mask)
		if s := penalty(scratch, t.size, transposed); bestScore < 0 || s < bestScore {
			best, bestScore = mask, s
		}
	}

	copy(modules, placed)
	applyMask(modules, t, best)
	drawFormat(modules, t.size, formatInfo(level, best), nil)
	if version >= 7 {
		drawVersion(modules, t.size, versionInfo(version), nil)
	}
	return &Code{version: version, level: level, mask: best, size: t.size, modules: modules}, nil
}

// capacity is the number of characters of mode m a symbol of the version
// and level holds (7.4.10, Table 7): what is left of the data codewords after
// the mode and character count indicators, in whole characters. The
// terminator may be cut short or left out when the data fill the symbol
// (7.4.9), so it takes no room here.
func capacity(m mode, version int, level Level) int {
	bits := 8*layout(version, level).data - 4 - countBits(m, version)
	var n int
	switch m {
	case modeNumeric:
		n = 3*(bits/10) + [10]int{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}[bits%10]
	case modeAlphanumeric:
		n = 2 * (bits / 11)
		if bits%11 >= 6 {
			n++
		}
	default:
		n = bits / 8
	}
	return min(n, 1<<countBits(m, version)-1)
}

func (m mode) String() string {
	switch m {
	case modeNumeric:
		return "numeric"
	case modeAlphanumeric:
		return "alphanumeric"
	default:
		return "byte"
	}
}

// Size returns the number of modules on each side of the symbol, 17 + 4 ×
// version (ISO/IEC 18004:2015, 6.3.1), without the quiet zone.
func (c *Code) Size() int { return c.size }

// Black reports whether the module in column x, row y is dark; (0, 0) is the
// upper left corner (ISO/IEC 18004:2015, 6.3.1). Modules outside the symbol,
// such as those of the quiet zone, are light.
func (c *Code) Black(x, y int) bool {
	if x < 0 || y < 0 || x >= c.size || y >= c.size {
		return false
	}
	return c.modules[y*c.size+x] != 0
}

// Version returns the symbol's version, 1 to 40 (ISO/IEC 18004:2015, 6.3.1).
func (c *Code) Version() int { return c.version }

// Level returns the symbol's error correction level (ISO/IEC 18004:2015,
// 7.5.1).
func (c *Code) Level() Level { return c.level }

// Mask returns the data mask pattern reference, 0 to 7, that Encode chose
// (ISO/IEC 18004:2015, 7.8.2); it is also written in the format information.
func (c *Code) Mask() int { return c.mask }
