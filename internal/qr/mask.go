package qr

// Data masking: ISO/IEC 18004:2015, 7.8.

// masked reports whether data mask pattern m (7.8.2, Table 10) inverts the
// module in row i, column j.
func masked(m, i, j int) bool {
	switch m {
	case 0:
		return (i+j)%2 == 0
	case 1:
		return i%2 == 0
	case 2:
		return j%3 == 0
	case 3:
		return (i+j)%3 == 0
	case 4:
		return (i/2+j/3)%2 == 0
	case 5:
		return i*j%2+i*j%3 == 0
	case 6:
		return (i*j%2+i*j%3)%2 == 0
	default:
		return ((i+j)%2+i*j%3)%2 == 0
	}
}

// applyMask inverts the data modules of g that mask m selects. Function
// patterns are never masked (7.8.1).
func applyMask(g []byte, t *template, m int) {
	for _, idx := range t.order {
		i, j := int(idx)/t.size, int(idx)%t.size
		if masked(m, i, j) {
			g[idx] ^= 1
		}
	}
}

// The penalty weights of 7.8.3.1, Table 11.
const (
	penaltyN1 = 3
	penaltyN2 = 3
	penaltyN3 = 40
	penaltyN4 = 10
)

// quiet is the number of light modules the finder-like rule looks for on
// either side of a 1:1:3:1:1 pattern, and the width of the quiet zone (6.3.8)
// that surrounds every symbol: beyond the edge a reader sees light modules,
// so the rule counts the edge as four light modules.
const quiet = 4

// penalty scores a masked symbol by the four rules of 7.8.3.1; the mask with
// the lowest score is chosen. scratch must hold size×size bytes; it lets
// the columns be scored as contiguous lines without allocating.
func penalty(g []byte, size int, scratch []byte) int {
	score := 0
	cols := scratch[:size*size]
	for i := 0; i < size; i++ {
		row := g[i*size : (i+1)*size]
		score += linePenalty(row)
		for j, v := range row {
			cols[j*size+i] = v
		}
	}
	for j := 0; j < size; j++ {
		score += linePenalty(cols[j*size : (j+1)*size])
	}

	// Rule 2: N2 for every 2×2 block of one colour; blocks may overlap.
	// The test is arithmetic rather than && so that random data does not
	// defeat the branch predictor: this loop runs eight times per symbol.
	dark, blocks := 0, 0
	for i := 0; i < size; i++ {
		row := g[i*size : (i+1)*size]
		for _, v := range row {
			dark += int(v)
		}
		if i+1 == size {
			break
		}
		next := g[(i+1)*size : (i+2)*size]
		for j := 0; j+1 < size; j++ {
			v := row[j]
			blocks += int(1 ^ ((v ^ row[j+1]) | (v ^ next[j]) | (v ^ next[j+1])))
		}
	}
	score += penaltyN2 * blocks

	// Rule 4: N4 for every full 5% by which the dark share departs from 50%.
	total := size * size
	k := abs(20*dark-10*total) / total
	return score + penaltyN4*k
}

// linePenalty applies rules 1 and 3 to one row or column.
func linePenalty(line []byte) int {
	score := 0
	run, prev := 0, byte(2)
	// w holds the last modules seen, the newest in bit 0; it starts at zero
	// because the quiet zone before the line is light.
	var w uint32
	for _, v := range line {
		// Rule 1: N1 + (n-5) for every run of n ≥ 5 modules of one
		// colour, counted as the run grows: N1 when it reaches 5, then 1
		// for each further module. Written so that the colour change
		// needs no branch.
		run++
		if v != prev {
			run = 1
		}
		prev = v
		if run >= 5 {
			score++
			if run == 5 {
				score += penaltyN1 - 1
			}
		}
		w = w<<1 | uint32(v)
		score += finderLike(w)
	}
	// The quiet zone after the line is light too.
	for range quiet {
		w <<= 1
		score += finderLike(w)
	}
	return score
}

// finderLike is rule 3 at one position: N3 if the modules up to the newest
// one in w end dark-light-dark-dark-dark-light-dark (1:1:3:1:1, the finder
// pattern's profile) with four light modules before or after it. A pattern
// with light on both sides counts once: the second test skips patterns the
// first one counted four modules earlier.
func finderLike(w uint32) int {
	const (
		lightThenPattern = 0b0000_1011101
		patternThenLight = 0b1011101_0000
		window           = 1<<11 - 1
		fourBefore       = 0b1111 << 11
	)
	switch {
	case w&window == lightThenPattern:
		return penaltyN3
	case w&window == patternThenLight && w&fourBefore != 0:
		return penaltyN3
	}
	return 0
}
