package qr_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/openmitid/openmitid/internal/qr"
)

// frame is a waiting screen frame as internal/web makes them.
const frame = "openmitid1.aZ3kq9Lm0PXvYtR2sDf8Wq.137.mCV9CoF17FfyGUxDY4CFyg"

func TestEncodeChoosesVersion(t *testing.T) {
	for _, tc := range []struct {
		data    string
		level   qr.Level
		version int
	}{
		// Capacities from ISO/IEC 18004:2015, Table 7: the most
		// characters a version holds, and one more.
		{strings.Repeat("a", 17), qr.L, 1},
		{strings.Repeat("a", 18), qr.L, 2},
		{strings.Repeat("a", 14), qr.M, 1},
		{strings.Repeat("a", 7), qr.H, 1},
		{strings.Repeat("a", 271), qr.L, 10},
		{strings.Repeat("a", 119), qr.H, 10},
		{strings.Repeat("a", 120), qr.H, 11},
		{strings.Repeat("a", 2953), qr.L, 40},
		{strings.Repeat("a", 2331), qr.M, 40},
		{strings.Repeat("a", 1663), qr.Q, 40},
		{strings.Repeat("a", 1273), qr.H, 40},
		{strings.Repeat("7", 41), qr.L, 1},
		{strings.Repeat("7", 42), qr.L, 2},
		{strings.Repeat("7", 17), qr.H, 1},
		{strings.Repeat("7", 7089), qr.L, 40},
		{strings.Repeat("7", 3057), qr.H, 40},
		{strings.Repeat("A", 25), qr.L, 1},
		{strings.Repeat("A", 26), qr.L, 2},
		{strings.Repeat("A", 10), qr.H, 1},
		{strings.Repeat("A", 4296), qr.L, 40},
		{strings.Repeat("A", 1852), qr.H, 40},
		// Version 9 holds 230 bytes at L; version 10's longer count
		// indicator must be accounted for when moving up.
		{strings.Repeat("a", 230), qr.L, 9},
		{strings.Repeat("a", 231), qr.L, 10},
		{"", qr.M, 1},
		{frame, qr.M, 4},
		{frame, qr.L, 4},
		{frame, qr.Q, 5},
		{frame, qr.H, 7},
	} {
		c, err := qr.Encode([]byte(tc.data), tc.level)
		if err != nil {
			t.Errorf("%d×%q at %v: %v", len(tc.data), tc.data[:min(1, len(tc.data))], tc.level, err)
			continue
		}
		if c.Version() != tc.version || c.Level() != tc.level {
			t.Errorf("%d×%q at %v: version %d level %v, want version %d",
				len(tc.data), tc.data[:min(1, len(tc.data))], tc.level, c.Version(), c.Level(), tc.version)
		}
		checkSymbol(t, c)
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  string
		level qr.Level
		err   error
		msg   string
	}{
		{"level below L", "x", qr.L - 1, qr.ErrLevel, "qr: unknown error correction level -1"},
		{"level above H", "x", qr.H + 1, qr.ErrLevel, "qr: unknown error correction level 4"},
		{"bytes over L", strings.Repeat("a", 2954), qr.L, qr.ErrTooLong, "qr: data too long for a QR Code: 2954 bytes in byte mode at level L, the most a version 40 symbol holds is 2953"},
		{"bytes over M", strings.Repeat("a", 2332), qr.M, qr.ErrTooLong, "2331"},
		{"bytes over Q", strings.Repeat("a", 1664), qr.Q, qr.ErrTooLong, "1663"},
		{"bytes over H", strings.Repeat("a", 1274), qr.H, qr.ErrTooLong, "1273"},
		{"digits over L", strings.Repeat("1", 7090), qr.L, qr.ErrTooLong, "numeric mode"},
		{"letters over H", strings.Repeat("Z", 1853), qr.H, qr.ErrTooLong, "alphanumeric mode"},
		{"far too long", strings.Repeat("a", 1<<20), qr.L, qr.ErrTooLong, "1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := qr.Encode([]byte(tc.data), tc.level)
			if c != nil {
				t.Errorf("returned a code with error %v", err)
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if !strings.HasPrefix(err.Error(), "qr: ") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q, want it to contain %q", err, tc.msg)
			}
		})
	}
}

func TestLevelString(t *testing.T) {
	for l, want := range map[qr.Level]string{qr.L: "L", qr.M: "M", qr.Q: "Q", qr.H: "H", 9: "Level(9)"} {
		if got := l.String(); got != want {
			t.Errorf("Level(%d).String() = %q, want %q", int(l), got, want)
		}
	}
}

// TestEveryVersion builds the fullest byte mode symbol of every version and
// level and checks its function patterns.
func TestEveryVersion(t *testing.T) {
	for v := 1; v <= 40; v++ {
		for level := qr.L; level <= qr.H; level++ {
			c, err := qr.Encode(bytes.Repeat([]byte{'x'}, byteCapacity(v, level)), level)
			if err != nil {
				t.Fatal(err)
			}
			if c.Version() != v {
				t.Errorf("%d-%v: got version %d", v, level, c.Version())
			}
			checkSymbol(t, c)
		}
	}
}

// byteCapacity is Table 7's byte mode capacity: the data codewords less the
// mode indicator and the character count indicator (8 or 16 bits).
func byteCapacity(v int, level qr.Level) int {
	count := 16
	if v < 10 {
		count = 8
	}
	return (8*dataCodewordTable[v][level] - 4 - count) / 8
}

// checkSymbol checks what every symbol must have (ISO/IEC 18004:2015, 6.3,
// 7.9, 7.10) by reading it through Black alone, and returns false if the
// symbol is wrong.
func checkSymbol(t testing.TB, c *qr.Code) bool {
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Helper()
		ok = false
		t.Errorf("%d-%v: %s", c.Version(), c.Level(), fmt.Sprintf(format, args...))
	}
	v, s := c.Version(), c.Size()
	if v < 1 || v > 40 || s != 17+4*v {
		fail("size %d for version %d", s, v)
		return false
	}
	// Finder patterns with their separators, read as Chebyshev rings.
	for _, o := range [][2]int{{3, 3}, {s - 4, 3}, {3, s - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := o[0]+dx, o[1]+dy
				if x < 0 || y < 0 || x >= s || y >= s {
					continue
				}
				d := max(dx, -dx, dy, -dy)
				if want := d <= 1 || d == 3; c.Black(x, y) != want {
					fail("finder pattern at (%d,%d): module (%d,%d) wrong", o[0], o[1], x, y)
				}
			}
		}
	}
	for i := 8; i < s-8; i++ {
		if c.Black(i, 6) != (i%2 == 0) || c.Black(6, i) != (i%2 == 0) {
			fail("timing pattern wrong at %d", i)
		}
	}
	if !c.Black(8, s-8) {
		fail("dark module (8, %d) is light", s-8)
	}
	pos := qr.AlignmentPositions(v)
	for i, y := range pos {
		for j, x := range pos {
			if (i == 0 && j == 0) || (i == 0 && j == len(pos)-1) || (i == len(pos)-1 && j == 0) {
				continue
			}
			if !c.Black(x, y) || c.Black(x+1, y) || c.Black(x, y-1) || !c.Black(x+2, y+2) || !c.Black(x-2, y) {
				fail("alignment pattern at (%d,%d) wrong", x, y)
			}
		}
	}
	// Format information, read from both copies (7.9.1),
	// listed here from bit 14 to bit 0.
	read := func(xy [][2]int) string {
		var b strings.Builder
		for _, p := range xy {
			b.WriteByte("01"[boolInt(c.Black(p[0], p[1]))])
		}
		return b.String()
	}
	first := read([][2]int{{0, 8}, {1, 8}, {2, 8}, {3, 8}, {4, 8}, {5, 8}, {7, 8}, {8, 8},
		{8, 7}, {8, 5}, {8, 4}, {8, 3}, {8, 2}, {8, 1}, {8, 0}})
	second := read([][2]int{{8, s - 1}, {8, s - 2}, {8, s - 3}, {8, s - 4}, {8, s - 5}, {8, s - 6}, {8, s - 7},
		{s - 8, 8}, {s - 7, 8}, {s - 6, 8}, {s - 5, 8}, {s - 4, 8}, {s - 3, 8}, {s - 2, 8}, {s - 1, 8}})
	if c.Mask() < 0 || c.Mask() > 7 {
		fail("mask %d", c.Mask())
	} else if want := formatTable[c.Level()][c.Mask()]; first != want || second != want {
		fail("format information %s and %s, Table C.1 has %s for mask %d", first, second, want, c.Mask())
	}
	// Version information (7.10): bit i at the upper right in
	// row i/3, column s-11+i%3, and transposed at the lower left.
	if v >= 7 {
		var upper, lower [18]byte
		for i := 0; i < 18; i++ {
			upper[17-i] = "01"[boolInt(c.Black(s-11+i%3, i/3))]
			lower[17-i] = "01"[boolInt(c.Black(i/3, s-11+i%3))]
		}
		if string(upper[:]) != versionTable[v] || string(lower[:]) != versionTable[v] {
			fail("version information %s and %s, Table D.1 has %s", upper[:], lower[:], versionTable[v])
		}
	}
	// The quiet zone is light.
	for i := -4; i < s+4; i++ {
		if c.Black(i, -1) || c.Black(-1, i) || c.Black(i, s) || c.Black(s, i) {
			fail("module outside the symbol is dark")
			break
		}
	}
	return ok
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestEncodeIsDeterministic(t *testing.T) {
	a, err := qr.Encode([]byte(frame), qr.M)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := qr.Encode([]byte(frame), qr.M)
	if !sameModules(a, b) {
		t.Fatal("two encodings of one frame differ")
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, n := range []int{60, 200} {
		data := []byte(strings.Repeat(frame, 4)[:n])
		b.Run(fmt.Sprintf("%dB-M", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := qr.Encode(data, qr.M); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestEncodeConcurrently runs Encode from many goroutines, as the waiting
// page's handlers do, and checks that each gets the symbol a lone call
// makes; under -race it also checks the shared templates.
func TestEncodeConcurrently(t *testing.T) {
	inputs := []string{frame, "1", strings.Repeat("Q", 400), strings.Repeat("z", 1000)}
	want := make([]*qr.Code, len(inputs))
	for i, in := range inputs {
		c, err := qr.Encode([]byte(in), qr.M)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = c
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for k := 0; k < 20; k++ {
				i := (g + k) % len(inputs)
				c, err := qr.Encode([]byte(inputs[i]), qr.M)
				if err != nil {
					t.Error(err)
					return
				}
				if !sameModules(c, want[i]) {
					t.Errorf("input %d: concurrent encoding differs", i)
					return
				}
			}
		})
	}
	wg.Wait()
}

func sameModules(a, b *qr.Code) bool {
	if a.Size() != b.Size() {
		return false
	}
	for y := 0; y < a.Size(); y++ {
		for x := 0; x < a.Size(); x++ {
			if a.Black(x, y) != b.Black(x, y) {
				return false
			}
		}
	}
	return true
}
