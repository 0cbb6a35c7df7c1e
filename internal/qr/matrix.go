package qr

import "sync"

// The symbol's modules: function patterns (ISO/IEC 18004:2015, 6.3), the
// codeword placement (7.7), format information (7.9) and version
// information (7.10).
//
// Grids are row-major []byte of size×size with 1 for a dark module, so that
// masking is an XOR and the penalty rules can compare modules directly.

// template is everything about a symbol that depends on its version only.
// It is built once per version and shared by every code of that version,
// which is what makes encoding a frame cheap.
type template struct {
	size     int
	base     []byte  // the function patterns; format and version areas light
	function []bool  // modules that carry no data bits
	order    []int32 // the data modules in placement order (7.7.3)
}

// templates[v] builds and caches the template of version v on first use.
var templates = func() (t [41]func() *template) {
	for v := 1; v <= 40; v++ {
		t[v] = sync.OnceValue(func() *template { return newTemplate(v) })
	}
	return t
}()

func newTemplate(version int) *template {
	size := 17 + 4*version
	t := &template{
		size:     size,
		base:     make([]byte, size*size),
		function: make([]bool, size*size),
	}
	set := func(x, y int, dark bool) {
		i := y*size + x
		t.function[i] = true
		if dark {
			t.base[i] = 1
		}
	}

	// Finder patterns and their separators (6.3.3, 6.3.4): concentric
	// squares, dark at Chebyshev distance 0, 1 and 3 from the centre, light
	// at 2, and the light separator at 4 where it falls inside the symbol.
	for _, c := range [3][2]int{{3, 3}, {size - 4, 3}, {3, size - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || y < 0 || x >= size || y >= size {
					continue
				}
				d := max(abs(dx), abs(dy))
				set(x, y, d != 2 && d != 4)
			}
		}
	}

	// Timing patterns (6.3.5): row 6 and column 6 alternate between the
	// separators, dark on even coordinates.
	for i := 8; i < size-8; i++ {
		set(i, 6, i%2 == 0)
		set(6, i, i%2 == 0)
	}

	// Alignment patterns (6.3.6): 5×5, dark at distance 0 and 2, at every
	// pair of Table E.1 positions except the three finder corners.
	pos := alignmentPositions[version]
	for i, cy := range pos {
		for j, cx := range pos {
			last := len(pos) - 1
			if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}

	// Reserve the format information area (7.9.1, with the dark module)
	// and, from version 7, the version information areas (7.10). They stay
	// light until the mask is chosen, because the mask penalty is evaluated
	// without them (7.8.3.1).
	reserve := func(i int) { t.function[i] = true }
	drawFormat(t.base, size, 0, reserve)
	if version >= 7 {
		drawVersion(t.base, size, 0, reserve)
	}

	// Codeword placement (7.7.3): two-module-wide columns from the right,
	// alternately upwards and downwards, right module before left; the
	// vertical timing pattern is skipped as a whole column.
	t.order = make([]int32, 0, 8*totalCodewords[version]+7)
	upward := true
	for right := size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		for k := 0; k < size; k++ {
			y := k
			if upward {
				y = size - 1 - k
			}
			for x := right; x >= right-1; x-- {
				if i := y*size + x; !t.function[i] {
					t.order = append(t.order, int32(i))
				}
			}
		}
		upward = !upward
	}
	// Table 1 gives 0, 3, 4 or 7 remainder bits beyond the codewords. This
	// cannot fail: TestEveryVersion encodes every version and would panic
	// here if the function patterns or Table 1 were wrong.
	if r := len(t.order) - 8*totalCodewords[version]; r < 0 || r > 7 {
		panic("qr: internal error: data modules of the template disagree with Table 1")
	}
	return t
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// formatInfo is the 15-bit format information for a level and mask
// (7.9.1): the level's two bits and the mask's three, a BCH(15,5) code of
// them with generator x^10 + x^8 + x^5 + x^4 + x^2 + x + 1, and the XOR
// mask 101010000010010 so that the word is never all zero.
func formatInfo(level Level, mask int) uint32 {
	// Table 12: L 01, M 00, Q 11, H 10.
	data := uint32([4]uint8{L: 0b01, M: 0b00, Q: 0b11, H: 0b10}[level])<<3 | uint32(mask)
	return (data<<10 | bchRemainder(data<<10, 0b10100110111, 10)) ^ 0b101010000010010
}

// versionInfo is the 18-bit version information (7.10): the six-bit
// version and a BCH(18,6) code of it with generator x^12 + x^11 + x^10 +
// x^9 + x^8 + x^5 + x^2 + 1. It is not masked.
func versionInfo(version int) uint32 {
	data := uint32(version)
	return data<<12 | bchRemainder(data<<12, 0b1111100100101, 12)
}

// bchRemainder returns v modulo the generator g of degree deg over GF(2).
func bchRemainder(v, g uint32, deg int) uint32 {
	for i := 31; i >= deg; i-- {
		if v>>uint(i)&1 != 0 {
			v ^= g << uint(i-deg)
		}
	}
	return v
}

// drawFormat writes the 15 format bits twice (7.9.1): bit 14 is
// the most significant. Around the upper left finder pattern bits 0 to 7
// run down column 8 from the top edge (skipping the timing row) and bits 8
// to 14 along row 8 towards the left edge; the second copy puts bits 0 to 7 along row 8 below the upper
// right finder and bits 8 to 14 down column 8 beside the lower left one.
// The dark module above those is drawn too: 7.9.1 places it with the
// format information, and like it, it stays light while masks are scored.
// mark, if not nil, is called with every index instead of writing.
func drawFormat(g []byte, size int, bits uint32, mark func(int)) {
	put := func(x, y int, dark uint32) {
		i := y*size + x
		if mark != nil {
			mark(i)
			return
		}
		g[i] = byte(dark & 1)
	}
	for b := 0; b <= 5; b++ {
		put(8, b, bits>>b)
	}
	put(8, 7, bits>>6)
	put(8, 8, bits>>7)
	put(7, 8, bits>>8)
	for b := 9; b <= 14; b++ {
		put(14-b, 8, bits>>b)
	}
	for b := 0; b <= 7; b++ {
		put(size-1-b, 8, bits>>b)
	}
	for b := 8; b <= 14; b++ {
		put(8, size-15+b, bits>>b)
	}
	put(8, size-8, 1)
}

// drawVersion writes the 18 version bits twice (7.10): a 6×3
// block above the lower left finder pattern and its transpose, a 3×6 block
// left of the upper right one. Bit 0, the least significant, is in the
// block's corner nearest the symbol's upper left. mark is as for drawFormat.
func drawVersion(g []byte, size int, bits uint32, mark func(int)) {
	for b := 0; b < 18; b++ {
		a, c := size-11+b%3, b/3
		for _, i := range [2]int{c*size + a, a*size + c} {
			if mark != nil {
				mark(i)
				continue
			}
			g[i] = byte(bits >> uint(b) & 1)
		}
	}
}
