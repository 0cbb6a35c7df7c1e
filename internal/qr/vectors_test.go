package qr_test

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/qr"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Known codewords, data and error correction.
var codewordVectors = []struct {
	source string
	data   string
	level  qr.Level
	dataCW string // hex
	ecCW   string // hex
}{
	{
		// ISO/IEC 18004:2015, Annex I: "01234567", 1-M, the
		// data and error correction codewords as printed in binary.
		source: "ISO/IEC 18004:2015 Annex I",
		data:   "01234567",
		level:  qr.M,
		dataCW: "10 20 0c 56 61 80 ec 11 ec 11 ec 11 ec 11 ec 11",
		ecCW:   "a5 24 d4 c1 ed 36 c7 87 2c 55",
	},
	{
		// The alphanumeric example of Thonky's QR Code Tutorial
		// (thonky.com/qr-code-tutorial), worked by hand there: "HELLO
		// WORLD", 1-M.
		source: "Thonky QR Code Tutorial",
		data:   "HELLO WORLD",
		level:  qr.M,
		dataCW: "20 5b 0b 78 d1 72 dc 4d 43 40 ec 11 ec 11 ec 11",
		ecCW:   "c4 23 27 77 eb d7 e7 e2 5d 17",
	},
	{
		// Byte mode, worked by hand from 7.4.6: 0100, count 00000010,
		// 'h' 01101000, 'i' 01101001, terminator 0000, then the pads.
		source: "hand computation",
		data:   "hi",
		level:  qr.H,
		dataCW: "40 26 86 90 ec 11 ec 11 ec",
	},
}

func TestCodewords(t *testing.T) {
	for _, v := range codewordVectors {
		t.Run(v.source, func(t *testing.T) {
			version, data := qr.DataCodewords([]byte(v.data), v.level)
			if version != 1 {
				t.Errorf("version %d, want 1", version)
			}
			if want := unhex(t, v.dataCW); !bytes.Equal(data, want) {
				t.Errorf("data codewords\n got % x\nwant % x", data, want)
			}
			if v.ecCW == "" {
				return
			}
			want := unhex(t, v.ecCW)
			if ec := qr.ECCodewords(data, len(want)); !bytes.Equal(ec, want) {
				t.Errorf("error correction codewords\n got % x\nwant % x", ec, want)
			}
			// A one-block symbol's final message is data then EC.
			if msg := qr.FinalMessage(data, 1, v.level); !bytes.Equal(msg, append(data, want...)) {
				t.Errorf("final message\n got % x\nwant % x % x", msg, data, want)
			}
		})
	}
}

// TestReedSolomonByHand checks the smallest case worked on paper: the
// generator of degree 2 is (x - 1)(x - α) = x² + 3x + 2 in GF(256), and
// the message 1 leaves x² mod g = 3x + 2.
func TestReedSolomonByHand(t *testing.T) {
	if ec := qr.ECCodewords([]byte{1}, 2); !bytes.Equal(ec, []byte{3, 2}) {
		t.Errorf("got % x, want 03 02", ec)
	}
	if ec := qr.ECCodewords([]byte{0, 0, 0}, 7); !bytes.Equal(ec, make([]byte, 7)) {
		t.Errorf("zero message: got % x, want zeros", ec)
	}
}

// gfMulSlow multiplies in GF(256) modulo x^8+x^4+x^3+x^2+1 bit by bit,
// independently of the encoder's tables.
func gfMulSlow(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		carry := a & 0x80
		a <<= 1
		if carry != 0 {
			a ^= 0x1d
		}
		b >>= 1
	}
	return p
}

// TestReedSolomonSyndromes checks every degree Table 9 uses: a codeword
// (data followed by error correction) is a multiple of the generator, so it
// vanishes at α^0 … α^(n-1) (Annex A).
func TestReedSolomonSyndromes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{7, 10, 13, 15, 16, 17, 18, 20, 22, 24, 26, 28, 30} {
		for range 20 {
			data := make([]byte, 1+rng.IntN(150))
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			cw := append(data, qr.ECCodewords(data, n)...)
			root := byte(1)
			for i := 0; i < n; i++ {
				var v byte // Horner's rule, highest coefficient first
				for _, c := range cw {
					v = gfMulSlow(v, root) ^ c
				}
				if v != 0 {
					t.Fatalf("degree %d, %d data codewords: codeword(α^%d) = %#x, want 0", n, len(data), i, v)
				}
				root = gfMulSlow(root, 2)
			}
		}
	}
}

// formatTable is ISO/IEC 18004:2015, Table C.1, "sequence after masking",
// rows by level, columns by mask pattern reference 000 to 111.
var formatTable = map[qr.Level][8]string{
	qr.L: {"111011111000100", "111001011110011", "111110110101010", "111100010011101", "110011000101111", "110001100011000", "110110001000001", "110100101110110"},
	qr.M: {"101010000010010", "101000100100101", "101111001111100", "101101101001011", "100010111111001", "100000011001110", "100111110010111", "100101010100000"},
	qr.Q: {"011010101011111", "011000001101000", "011111100110001", "011101000000110", "010010010110100", "010000110000011", "010111011011010", "010101111101101"},
	qr.H: {"001011010001001", "001001110111110", "001110011100111", "001100111010000", "000011101100010", "000001001010101", "000110100001100", "000100000111011"},
}

func TestFormatInformation(t *testing.T) {
	for level, row := range formatTable {
		for mask, want := range row {
			if got := strconv.FormatUint(uint64(qr.FormatInfo(level, mask)), 2); pad(got, 15) != want {
				t.Errorf("level %v mask %d: got %s, want %s", level, mask, pad(got, 15), want)
			}
		}
	}
}

// versionTable is ISO/IEC 18004:2015, Table D.1, "version information bit
// stream", for versions 7 to 40.
var versionTable = [...]string{
	7: "000111110010010100", "001000010110111100", "001001101010011001", "001010010011010011",
	"001011101111110110", "001100011101100010", "001101100001000111", "001110011000001101",
	"001111100100101000", "010000101101111000", "010001010001011101", "010010101000010111",
	"010011010100110010", "010100100110100110", "010101011010000011", "010110100011001001",
	"010111011111101100", "011000111011000100", "011001000111100001", "011010111110101011",
	"011011000010001110", "011100110000011010", "011101001100111111", "011110110101110101",
	"011111001001010000", "100000100111010101", "100001011011110000", "100010100010111010",
	"100011011110011111", "100100101100001011", "100101010000101110", "100110101001100100",
	"100111010101000001", "101000110001101001",
}

func TestVersionInformation(t *testing.T) {
	for v := 7; v <= 40; v++ {
		if got := pad(strconv.FormatUint(uint64(qr.VersionInfo(v)), 2), 18); got != versionTable[v] {
			t.Errorf("version %d: got %s, want %s", v, got, versionTable[v])
		}
	}
}

func pad(s string, n int) string { return strings.Repeat("0", n-len(s)) + s }

// dataCodewordTable is ISO/IEC 18004:2015, Table 7, "number of data
// codewords", for levels L, M, Q and H of versions 1 to 40.
var dataCodewordTable = [41][4]int{
	{}, {19, 16, 13, 9}, {34, 28, 22, 16}, {55, 44, 34, 26}, {80, 64, 48, 36},
	{108, 86, 62, 46}, {136, 108, 76, 60}, {156, 124, 88, 66}, {194, 154, 110, 86},
	{232, 182, 132, 100}, {274, 216, 154, 122}, {324, 254, 180, 140}, {370, 290, 206, 158},
	{428, 334, 244, 180}, {461, 365, 261, 197}, {523, 415, 295, 223}, {589, 453, 325, 253},
	{647, 507, 367, 283}, {721, 563, 397, 313}, {795, 627, 445, 341}, {861, 669, 485, 385},
	{932, 714, 512, 406}, {1006, 782, 568, 442}, {1094, 860, 614, 464}, {1174, 914, 664, 514},
	{1276, 1000, 718, 538}, {1370, 1062, 754, 596}, {1468, 1128, 808, 628}, {1531, 1193, 871, 661},
	{1631, 1267, 911, 701}, {1735, 1373, 985, 745}, {1843, 1455, 1033, 793}, {1955, 1541, 1115, 845},
	{2071, 1631, 1171, 901}, {2191, 1725, 1231, 961}, {2306, 1812, 1286, 986}, {2434, 1914, 1354, 1054},
	{2566, 1992, 1426, 1096}, {2702, 2102, 1502, 1142}, {2812, 2216, 1582, 1222}, {2956, 2334, 1666, 1276},
}

// TestBlockStructure checks the block structure derived from the
// encoder's tables against Table 7's data codeword counts for every version
// and level, and against rows of Table 9 as printed.
func TestBlockStructure(t *testing.T) {
	for v := 1; v <= 40; v++ {
		for level := qr.L; level <= qr.H; level++ {
			n1, c1, k1, n2, c2, k2 := qr.BlockStructure(v, level)
			if got, want := n1*k1+n2*k2, dataCodewordTable[v][level]; got != want {
				t.Errorf("%d-%v: %d data codewords, Table 7 says %d", v, level, got, want)
			}
			if c1-k1 != c2-k2 || n1 < 1 || n2 < 0 {
				t.Errorf("%d-%v: %d×(%d,%d) + %d×(%d,%d) is not a Table 9 row", v, level, n1, c1, k1, n2, c2, k2)
			}
		}
	}
	// ISO/IEC 18004:2015, Table 9: count × (c, k) of group 1 and group 2.
	for _, r := range []struct {
		v                      int
		level                  qr.Level
		n1, c1, k1, n2, c2, k2 int
	}{
		{1, qr.L, 1, 26, 19, 0, 27, 20},
		{5, qr.Q, 2, 33, 15, 2, 34, 16},
		{5, qr.H, 2, 33, 11, 2, 34, 12},
		{7, qr.H, 4, 39, 13, 1, 40, 14},
		{10, qr.M, 4, 69, 43, 1, 70, 44},
		{22, qr.H, 34, 37, 13, 0, 38, 14},
		{40, qr.L, 19, 148, 118, 6, 149, 119},
		{40, qr.H, 20, 45, 15, 61, 46, 16},
	} {
		n1, c1, k1, n2, c2, k2 := qr.BlockStructure(r.v, r.level)
		if n1 != r.n1 || c1 != r.c1 || k1 != r.k1 || n2 != r.n2 || (n2 > 0 && (c2 != r.c2 || k2 != r.k2)) {
			t.Errorf("%d-%v: %d×(%d,%d) + %d×(%d,%d), Table 9 says %d×(%d,%d) + %d×(%d,%d)",
				r.v, r.level, n1, c1, k1, n2, c2, k2, r.n1, r.c1, r.k1, r.n2, r.c2, r.k2)
		}
	}
}

// TestInterleaving checks 7.6 on 5-Q (Table 9: 2×(33,15) + 2×(34,16)): the
// data codewords are read across the four blocks, the group 2 blocks giving
// the last two alone, then the error correction codewords the same way.
func TestInterleaving(t *testing.T) {
	data := make([]byte, 62)
	for i := range data {
		data[i] = byte(i)
	}
	msg := qr.FinalMessage(data, 5, qr.Q)
	if len(msg) != 134 {
		t.Fatalf("%d codewords, want 134 (Table 1)", len(msg))
	}
	// Block starts: 0, 15, 30 and 46.
	head := []byte{0, 15, 30, 46, 1, 16, 31, 47}
	tail := []byte{14, 29, 44, 60, 45, 61}
	if !bytes.Equal(msg[:8], head) || !bytes.Equal(msg[56:62], tail) {
		t.Errorf("data order: % d … % d", msg[:8], msg[56:62])
	}
	// The first EC codeword of block 3 is that of data 30…45.
	if ec := qr.ECCodewords(data[30:46], 18); msg[62+2] != ec[0] || msg[62+4*17+2] != ec[17] {
		t.Errorf("EC codewords of block 3 are not in place")
	}
}

// TestAlignmentPositions checks Table E.1 against the rule Annex E states:
// the patterns start at the timing pattern (6), end 7 modules from the far
// edge, number ⌊v/7⌋ + 2 from version 2, and are evenly spaced by an even
// step except between the first two.
func TestAlignmentPositions(t *testing.T) {
	for v := 1; v <= 40; v++ {
		p := qr.AlignmentPositions(v)
		if v == 1 {
			if len(p) != 0 {
				t.Errorf("version 1 has alignment patterns %v", p)
			}
			continue
		}
		size := 17 + 4*v
		if len(p) != v/7+2 || p[0] != 6 || p[len(p)-1] != size-7 {
			t.Errorf("version %d: %v", v, p)
			continue
		}
		for i := 2; i < len(p); i++ {
			if step := p[i] - p[i-1]; step != p[len(p)-1]-p[len(p)-2] || step%2 != 0 {
				t.Errorf("version %d: uneven spacing in %v", v, p)
			}
		}
	}
}

// TestMaskPenalty checks the four penalty rules of 7.8.3.1 against the
// scores Sidney Cadot worked out for the Annex I symbol ("Suggested
// improvements for standard ISO/IEC 18004:2024(en)", May 2025), scoring
// with the format information area, dark module included, left light.
// Annex I's figure shows mask 010, which these scores do not choose; Cadot
// reports that mismatch in four of the standard's seven examples.
func TestMaskPenalty(t *testing.T) {
	want := [8]int{1153, 1250, 1160, 1128, 1214, 1243, 1153, 1133}
	if got := qr.MaskScores([]byte("01234567"), qr.M); got != want {
		t.Errorf("penalties %v, want %v", got, want)
	}
	c, err := qr.Encode([]byte("01234567"), qr.M)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mask() != 3 {
		t.Errorf("mask %d, want 3, the lowest penalty", c.Mask())
	}
}
