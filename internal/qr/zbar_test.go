package qr_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/openmitid/openmitid/internal/qr"
)

// The tests in this file decode what we encode with zbarimg (Debian's
// zbar-tools), a reader written independently of this package, from
// images like a camera would see them: 4 pixels per module, a quiet zone of
// 4 modules.

// zbarimg returns the reader's path. Outside CI a missing reader skips the
// test; in CI (CI=true, as .ci/run sets) it fails it, because the decoding
// tests are the ones that prove the symbols are readable.
func zbarimg(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zbarimg not found: CI must install Debian's zbar-tools")
		}
		t.Skip("zbarimg not found; apt-get install zbar-tools to run the decoding tests")
	}
	return path
}

// sample is one code to decode.
type sample struct {
	name    string
	data    []byte
	level   qr.Level
	version int // the version Encode must choose, or 0 for any
}

// writePGM renders c as a binary PGM image (Netpbm P5) at scale pixels per
// module with the quiet zone. PGM rather than PNG because zbarimg reads
// both and PGM needs no compression: under the race detector the PNG
// encoder took most of the test's time.
func writePGM(path string, c *qr.Code, scale int) error {
	modules := c.Size() + 2*qr.QuietZone
	n := modules * scale
	header := fmt.Sprintf("P5\n%d %d\n255\n", n, n)
	img := make([]byte, len(header)+n*n)
	copy(img, header)
	pix := img[len(header):]
	for my := 0; my < modules; my++ {
		row := pix[my*scale*n : (my*scale+1)*n]
		for mx := 0; mx < modules; mx++ {
			v := byte(255)
			if c.Black(mx-qr.QuietZone, my-qr.QuietZone) {
				v = 0
			}
			for k := 0; k < scale; k++ {
				row[mx*scale+k] = v
			}
		}
		for k := 1; k < scale; k++ {
			copy(pix[(my*scale+k)*n:], row)
		}
	}
	return os.WriteFile(path, img, 0o600)
}

var scanned = regexp.MustCompile(`scanned (\d+) barcode symbols from (\d+) images`)

// decodeAll encodes every sample, has zbarimg read them, and returns how
// many came back exactly. zbarimg reads a batch of images per run to keep
// the test fast; with -Sbinary it prints each symbol's bytes as they are,
// without separators, so a batch passes when the output is the samples'
// data in order and zbarimg reports one symbol per image. A batch that does
// not pass is read again image by image to name the failures.
func decodeAll(t *testing.T, samples []sample) int {
	t.Helper()
	zbar := zbarimg(t)
	dir := t.TempDir()
	files := make([]string, len(samples))
	codes := make([]*qr.Code, len(samples))
	// prepare encodes sample i and writes its image; it runs in the
	// batches' goroutines, so it reports with Errorf, not Fatalf.
	prepare := func(i int) bool {
		s := samples[i]
		c, err := qr.Encode(s.data, s.level)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			return false
		}
		if s.version != 0 && c.Version() != s.version {
			t.Errorf("%s: version %d, want %d", s.name, c.Version(), s.version)
		}
		if !checkSymbol(t, c) {
			t.Errorf("%s: malformed symbol", s.name)
			return false
		}
		codes[i] = c
		files[i] = filepath.Join(dir, strconv.Itoa(i)+".pgm")
		if err := writePGM(files[i], c, 4); err != nil {
			t.Errorf("%s: %v", s.name, err)
			return false
		}
		return true
	}

	run := func(files []string) (stdout []byte, symbols int) {
		args := append([]string{"--raw", "--nodbus", "-Sbinary", "-Sdisable", "-Sqrcode.enable"}, files...)
		cmd := exec.Command(zbar, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, _ := cmd.Output() // exit status 4 means some image had no symbol
		if m := scanned.FindSubmatch(stderr.Bytes()); m != nil {
			symbols, _ = strconv.Atoi(string(m[1]))
		}
		return out, symbols
	}

	const batch = 40
	var (
		mu      sync.Mutex
		decoded int
		wg      sync.WaitGroup
		sem     = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	for start := 0; start < len(samples); start += batch {
		end := min(start+batch, len(samples))
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() { // a batch of large images is tens of megabytes
				for _, f := range files[start:end] {
					if f != "" {
						os.Remove(f)
					}
				}
			}()
			for i := start; i < end; i++ {
				if !prepare(i) {
					return
				}
			}
			var want []byte
			for _, s := range samples[start:end] {
				want = append(want, s.data...)
			}
			out, symbols := run(files[start:end])
			if bytes.Equal(out, want) && symbols == end-start {
				mu.Lock()
				decoded += end - start
				mu.Unlock()
				return
			}
			for i := start; i < end; i++ {
				out, _ := run(files[i : i+1])
				mu.Lock()
				if bytes.Equal(out, samples[i].data) {
					decoded++
				} else {
					c := codes[i]
					t.Errorf("%s (%d bytes, %d-%v, mask %d): zbarimg read %q, want %q",
						samples[i].name, len(samples[i].data), c.Version(), c.Level(), c.Mask(), out, samples[i].data)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return decoded
}

// Alphabets of the random samples: each exercises a mode, and the frame
// alphabet is that of our frames (base64url and dots).
const (
	digits       = "0123456789"
	alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	frameChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
)

func randomData(rng *rand.Rand, n, kind int) []byte {
	b := make([]byte, n)
	for i := range b {
		switch kind {
		case 0: // any byte
			b[i] = byte(rng.Uint32())
		case 1: // printable ASCII
			b[i] = byte(' ' + rng.IntN(95))
		case 2:
			b[i] = frameChars[rng.IntN(len(frameChars))]
		case 3:
			b[i] = digits[rng.IntN(len(digits))]
		default:
			b[i] = alphanumeric[rng.IntN(len(alphanumeric))]
		}
	}
	return b
}

var kindNames = [5]string{"bytes", "ascii", "frame alphabet", "digits", "alphanumeric"}

// TestZbarRandom decodes random data of every length from 1 to 300 at every
// level, the kind of data rotating with the length so that every mode meets
// every level at many lengths.
func TestZbarRandom(t *testing.T) {
	zbarimg(t)
	rng := rand.New(rand.NewPCG(18004, 2015))
	step := 1
	if testing.Short() {
		step = 13
	}
	var samples []sample
	for n := 1; n <= 300; n += step {
		for level := qr.L; level <= qr.H; level++ {
			kind := (n + int(level)) % len(kindNames)
			samples = append(samples, sample{
				name:  fmt.Sprintf("%s of length %d at %v", kindNames[kind], n, level),
				data:  randomData(rng, n, kind),
				level: level,
			})
		}
	}
	decoded := decodeAll(t, samples)
	t.Logf("zbarimg decoded %d of %d random codes", decoded, len(samples))
}

// TestZbarFullest decodes the fullest symbol of every version and level in
// each mode: every table row, every character count indicator length and
// the version information of versions 7 to 40 are read back.
func TestZbarFullest(t *testing.T) {
	zbarimg(t)
	rng := rand.New(rand.NewPCG(40, 4))
	var samples []sample
	for v := 1; v <= 40; v++ {
		for level := qr.L; level <= qr.H; level++ {
			for kind, n := range fullestLengths(v, level) {
				if testing.Short() && kind != (v+int(level))%3 {
					continue
				}
				samples = append(samples, sample{
					name:    fmt.Sprintf("fullest %d-%v in %s", v, level, []string{"bytes", "digits", "alphanumeric"}[kind]),
					data:    randomData(rng, n, []int{0, 3, 4}[kind]),
					level:   level,
					version: v,
				})
			}
		}
	}
	decoded := decodeAll(t, samples)
	t.Logf("zbarimg decoded %d of %d fullest codes", decoded, len(samples))
}

// fullestLengths is how many bytes, digits and alphanumeric characters a
// version holds at a level (ISO/IEC 18004:2015, Table 7), worked out from
// the data codewords and the bit costs of 7.4.4 to 7.4.6.
func fullestLengths(v int, level qr.Level) [3]int {
	r := 0 // character count indicator lengths, Table 3
	if v >= 27 {
		r = 2
	} else if v >= 10 {
		r = 1
	}
	bits := 8*dataCodewordTable[v][level] - 4
	b := bits - [3]int{8, 16, 16}[r]
	n := bits - [3]int{10, 12, 14}[r]
	a := bits - [3]int{9, 11, 13}[r]
	digitsLen := 3 * (n / 10)
	switch {
	case n%10 >= 7:
		digitsLen += 2
	case n%10 >= 4:
		digitsLen++
	}
	alnumLen := 2 * (a / 11)
	if a%11 >= 6 {
		alnumLen++
	}
	return [3]int{b / 8, digitsLen, alnumLen}
}

// TestZbarFrames decodes frames exactly as the waiting screen makes them,
// at level M, with counters of one to four digits.
func TestZbarFrames(t *testing.T) {
	zbarimg(t)
	rng := rand.New(rand.NewPCG(1, 137))
	id := func() string { // 16 random bytes in unpadded base64url
		b := randomData(rng, 22, 2)
		return strings.NewReplacer(".", "A").Replace(string(b))
	}
	var samples []sample
	for i := 0; i < 60; i++ {
		f := fmt.Sprintf("openmitid1.%s.%d.%s", id(), []int{i % 10, 10 + i, 137 + i, 1000 + 97*i}[i%4], id())
		samples = append(samples, sample{name: "frame " + f, data: []byte(f), level: qr.M})
	}
	samples = append(samples, sample{name: "the issue's frame", data: []byte(frame), level: qr.M, version: 4})
	decoded := decodeAll(t, samples)
	t.Logf("zbarimg decoded %d of %d frames", decoded, len(samples))
}
