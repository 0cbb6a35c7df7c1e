package qr

// Hooks into the encoder's internals for the tests of package qr_test, which
// check each step against the standard's worked example and tables.

// ECCodewords returns the n error correction codewords of data (7.5.2).
func ECCodewords(data []byte, n int) []byte {
	ec := make([]byte, n)
	ecCodewords(data, ec)
	return ec
}

// DataCodewords returns the data codewords, before error correction, that
// Encode would put in a symbol for data at level.
func DataCodewords(data []byte, level Level) (version int, codewords []byte) {
	c, err := Encode(data, level)
	if err != nil {
		panic(err)
	}
	m := chooseMode(data)
	return c.version, dataCodewords(data, m, c.version, layout(c.version, level).data)
}

// FinalMessage interleaves data, which must have the length of the data
// codewords of version and level, and adds error correction (7.6).
func FinalMessage(data []byte, version int, level Level) []byte {
	return interleave(data, layout(version, level))
}

// BlockStructure returns a symbol's error correction blocks in the terms of
// Table 9: count × (total codewords c, data codewords k) for each group.
func BlockStructure(version int, level Level) (n1, c1, k1, n2, c2, k2 int) {
	l := layout(version, level)
	n1, k1 = l.shortBlocks, l.shortData
	n2, k2 = l.blocks-l.shortBlocks, l.shortData+1
	return n1, k1 + l.ec, k1, n2, k2 + l.ec, k2
}

// FormatInfo and VersionInfo are the BCH-coded words of 7.9 and 7.10.
func FormatInfo(level Level, mask int) uint32 { return formatInfo(level, mask) }
func VersionInfo(version int) uint32          { return versionInfo(version) }

// AlignmentPositions returns Table E.1's row for version.
func AlignmentPositions(version int) []int { return alignmentPositions[version] }

// MaskScores returns the penalty (7.8.3.1) of each of the eight masks for
// the symbol Encode makes of data, scored as Encode scores them.
func MaskScores(data []byte, level Level) [8]int {
	c, err := Encode(data, level)
	if err != nil {
		panic(err)
	}
	t := templates[c.version]()
	g := make([]byte, len(c.modules))
	var scores [8]int
	for m := range scores {
		copy(g, c.modules)
		// Undo Encode's mask, apply m, and clear the format and version
		// areas, which Encode scores light.
		applyMask(g, t, c.mask)
		applyMask(g, t, m)
		light := func(i int) { g[i] = 0 }
		drawFormat(g, t.size, 0, light)
		if c.version >= 7 {
			drawVersion(g, t.size, 0, light)
		}
		scores[m] = penalty(g, t.size, make([]byte, len(g)))
	}
	return scores
}
