package qr

// The numbers in this file are the standard's tables, kept as data so that a
// reader can hold them against the printed pages. Each is checked by the tests
// against a second source: the module count of the symbol we actually build,
// the capacities of ISO/IEC 18004:2015 Table 7, and the arithmetic rule that
// Annex E describes for alignment pattern positions.

// totalCodewords[v] is the number of codewords (data and error correction) in
// a version v symbol: ISO/IEC 18004:2015, Table 1, column "Data modules
// except (C)" divided by 8. The remaining 0, 3, 4 or 7 modules are
// remainder bits (7.7.3).
var totalCodewords = [41]int{0,
	26, 44, 70, 100, 134, 172, 196, 242, 292, 346,
	404, 466, 532, 581, 655, 733, 815, 901, 991, 1085,
	1156, 1258, 1364, 1474, 1588, 1706, 1828, 1921, 2051, 2185,
	2323, 2465, 2611, 2761, 2876, 3034, 3196, 3362, 3532, 3706,
}

// ecCodewordsPerBlock[level][v] is the number of error correction codewords
// in each block of a version v symbol: ISO/IEC 18004:2015, Table 9, the "c"
// minus "k" of every row. Within one version and level every block has the
// same number of error correction codewords; only the data codewords differ
// by one between the two groups.
var ecCodewordsPerBlock = [4][41]int{
	L: {0,
		7, 10, 15, 20, 26, 18, 20, 24, 30, 18,
		20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
		28, 28, 30, 30, 26, 28, 30, 30, 30, 30,
		30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
	M: {0,
		10, 16, 26, 18, 24, 16, 18, 22, 22, 26,
		30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
		26, 28, 28, 28, 28, 28, 28, 28, 28, 28,
		28, 28, 28, 28, 28, 28, 28, 28, 28, 28},
	Q: {0,
		13, 22, 18, 26, 18, 24, 18, 22, 20, 24,
		28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
		28, 30, 30, 30, 30, 28, 30, 30, 30, 30,
		30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
	H: {0,
		17, 28, 22, 16, 22, 28, 26, 26, 24, 28,
		24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
		30, 24, 30, 30, 30, 30, 30, 30, 30, 30,
		30, 30, 30, 30, 30, 30, 30, 30, 30, 30},
}

// ecBlocks[level][v] is the number of error correction blocks (both groups
// together) of a version v symbol: ISO/IEC 18004:2015, Table 9, the sum of
// the "number of error correction blocks" column of each level.
var ecBlocks = [4][41]int{
	L: {0,
		1, 1, 1, 1, 1, 2, 2, 2, 2, 4,
		4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
		8, 9, 9, 10, 12, 12, 12, 13, 14, 15,
		16, 17, 18, 19, 19, 20, 21, 22, 24, 25},
	M: {0,
		1, 1, 1, 2, 2, 4, 4, 4, 5, 5,
		5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
		17, 17, 18, 20, 21, 23, 25, 26, 28, 29,
		31, 33, 35, 37, 38, 40, 43, 45, 47, 49},
	Q: {0,
		1, 1, 2, 2, 4, 4, 6, 6, 8, 8,
		8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
		23, 23, 25, 27, 29, 34, 34, 35, 38, 40,
		43, 45, 48, 51, 53, 56, 59, 62, 65, 68},
	H: {0,
		1, 1, 2, 4, 4, 4, 5, 6, 8, 8,
		11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
		25, 34, 30, 32, 35, 37, 40, 42, 45, 48,
		51, 54, 57, 60, 63, 66, 70, 74, 77, 81},
}

// alignmentPositions[v] are the row and column coordinates of the centres of
// the alignment patterns of a version v symbol: ISO/IEC 18004:2015, Annex E,
// Table E.1. Patterns are placed at every combination of two of these
// coordinates except the three that would overlap a finder pattern.
var alignmentPositions = [41][]int{
	1:  nil,
	2:  {6, 18},
	3:  {6, 22},
	4:  {6, 26},
	5:  {6, 30},
	6:  {6, 34},
	7:  {6, 22, 38},
	8:  {6, 24, 42},
	9:  {6, 26, 46},
	10: {6, 28, 50},
	11: {6, 30, 54},
	12: {6, 32, 58},
	13: {6, 34, 62},
	14: {6, 26, 46, 66},
	15: {6, 26, 48, 70},
	16: {6, 26, 50, 74},
	17: {6, 30, 54, 78},
	18: {6, 30, 56, 82},
	19: {6, 30, 58, 86},
	20: {6, 34, 62, 90},
	21: {6, 28, 50, 72, 94},
	22: {6, 26, 50, 74, 98},
	23: {6, 30, 54, 78, 102},
	24: {6, 28, 54, 80, 106},
	25: {6, 32, 58, 84, 110},
	26: {6, 30, 58, 86, 114},
	27: {6, 34, 62, 90, 118},
	28: {6, 26, 50, 74, 98, 122},
	29: {6, 30, 54, 78, 102, 126},
	30: {6, 26, 52, 78, 104, 130},
	31: {6, 30, 56, 82, 108, 134},
	32: {6, 34, 60, 86, 112, 138},
	33: {6, 30, 58, 86, 114, 142},
	34: {6, 34, 62, 90, 118, 146},
	35: {6, 30, 54, 78, 102, 126, 150},
	36: {6, 24, 50, 76, 102, 128, 154},
	37: {6, 28, 54, 80, 106, 132, 158},
	38: {6, 32, 58, 84, 110, 136, 162},
	39: {6, 26, 54, 82, 110, 138, 166},
	40: {6, 30, 58, 86, 114, 142, 170},
}

// blockLayout describes how a symbol's codewords split into error correction
// blocks (ISO/IEC 18004:2015, 7.5.2 and Table 9): short blocks (group 1)
// come first, then long blocks (group 2) with one more data codeword each.
type blockLayout struct {
	blocks      int // both groups
	shortBlocks int // group 1
	shortData   int // data codewords in a group 1 block; group 2 has one more
	ec          int // error correction codewords in every block
	data        int // data codewords in the symbol
}

// layout derives the block structure of Table 9 from the three numbers
// above. Table 9 is built the same way: the codewords are shared out as evenly
// as the block count allows, and the blocks that get one codeword more form
// group 2.
func layout(version int, level Level) blockLayout {
	total := totalCodewords[version]
	n := ecBlocks[level][version]
	ec := ecCodewordsPerBlock[level][version]
	return blockLayout{
		blocks:      n,
		shortBlocks: n - total%n,
		shortData:   total/n - ec,
		ec:          ec,
		data:        total - n*ec,
	}
}
