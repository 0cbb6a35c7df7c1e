package qr

// From data to the final codeword sequence: ISO/IEC 18004:2015, 7.3 to 7.6.

// mode is a data mode of 7.3 with its mode indicator of Table 2 as value.
type mode uint8

const (
	modeNumeric      mode = 0b0001 // 7.4.4
	modeAlphanumeric mode = 0b0010 // 7.4.5
	modeByte         mode = 0b0100 // 7.4.6
)

// alphanumericValue maps a byte to its value in the alphanumeric mode's
// character set (7.4.5, Table 5), or -1 when the mode cannot hold it.
var alphanumericValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") {
		t[c] = int8(i)
	}
	return t
}()

// chooseMode returns the densest single mode that can hold all of data. The
// standard allows switching modes inside a symbol (7.2), but our frames are
// one kind of text throughout, so one segment loses nothing that matters and
// keeps the encoder small.
func chooseMode(data []byte) mode {
	m := modeNumeric
	for _, c := range data {
		switch {
		case c >= '0' && c <= '9':
		case alphanumericValue[c] >= 0:
			m = modeAlphanumeric
		default:
			return modeByte
		}
	}
	return m
}

// countBits is the length of the character count indicator (Table 3),
// which grows with the version.
func countBits(m mode, version int) int {
	i := 0
	switch {
	case version >= 27:
		i = 2
	case version >= 10:
		i = 1
	}
	switch m {
	case modeNumeric:
		return [3]int{10, 12, 14}[i]
	case modeAlphanumeric:
		return [3]int{9, 11, 13}[i]
	default:
		return [3]int{8, 16, 16}[i]
	}
}

// bitWriter appends bits, most significant first, to a byte slice of fixed
// length (7.4.10: codewords are filled from the most significant bit).
type bitWriter struct {
	buf []byte
	n   int // bits written
}

func (w *bitWriter) write(v uint, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if v>>uint(i)&1 != 0 {
			w.buf[w.n>>3] |= 0x80 >> uint(w.n&7)
		}
		w.n++
	}
}

// dataCodewords returns the data codewords of the symbol: one segment, the
// terminator, zero bits to the codeword boundary and the pad codewords
// (7.4.9 and 7.4.10). The caller has checked that the segment fits in
// capacity codewords.
func dataCodewords(data []byte, m mode, version, capacity int) []byte {
	w := bitWriter{buf: make([]byte, capacity)}
	w.write(uint(m), 4)
	w.write(uint(len(data)), countBits(m, version))
	switch m {
	case modeNumeric:
		// Groups of three digits become 10 bits; a last group of two or
		// one digits becomes 7 or 4 bits.
		for i := 0; i < len(data); i += 3 {
			g := data[i:min(i+3, len(data))]
			v := 0
			for _, c := range g {
				v = v*10 + int(c-'0')
			}
			w.write(uint(v), [4]int{0, 4, 7, 10}[len(g)])
		}
	case modeAlphanumeric:
		// Pairs become 45·first + second in 11 bits; a last single
		// character becomes 6 bits.
		for i := 0; i+1 < len(data); i += 2 {
			w.write(uint(45*int(alphanumericValue[data[i]])+int(alphanumericValue[data[i+1]])), 11)
		}
		if len(data)%2 == 1 {
			w.write(uint(alphanumericValue[data[len(data)-1]]), 6)
		}
	default:
		for _, c := range data {
			w.write(uint(c), 8)
		}
	}
	// The terminator is four zero bits, shortened when fewer remain; the
	// buffer is already zero, so skipping the bits writes them. Then the
	// last codeword is completed with zeros the same way.
	w.n = min(w.n+4, 8*capacity)
	w.n = (w.n + 7) &^ 7
	// The pad codewords 11101100 and 00010001 alternate to fill the rest.
	for i, pad := w.n/8, byte(0xec); i < capacity; i++ {
		w.buf[i] = pad
		pad ^= 0xec ^ 0x11
	}
	return w.buf
}

// interleave splits the data codewords into the blocks of Table 9, adds each
// block's error correction codewords, and returns the final message: the
// data codewords of all blocks taken column by column, then their error
// correction codewords the same way (7.6).
func interleave(data []byte, l blockLayout) []byte {
	out := make([]byte, 0, len(data)+l.blocks*l.ec)
	ec := make([]byte, l.blocks*l.ec)
	start := func(b int) int { // first data codeword of block b
		return b*l.shortData + max(0, b-l.shortBlocks)
	}
	for b := 0; b < l.blocks; b++ {
		end := start(b) + l.shortData
		if b >= l.shortBlocks {
			end++
		}
		ecCodewords(data[start(b):end], ec[b*l.ec:(b+1)*l.ec])
	}
	for i := 0; i <= l.shortData; i++ {
		for b := 0; b < l.blocks; b++ {
			// Only group 2 blocks have a codeword at index shortData.
			if i < l.shortData || b >= l.shortBlocks {
				out = append(out, data[start(b)+i])
			}
		}
	}
	for i := 0; i < l.ec; i++ {
		for b := 0; b < l.blocks; b++ {
			out = append(out, ec[b*l.ec+i])
		}
	}
	return out
}
