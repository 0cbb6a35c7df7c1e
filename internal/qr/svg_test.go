package qr_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/openmitid/openmitid/internal/qr"
)

// svgDoc is what TestSVG reads back from an SVG.
type svgDoc struct {
	XMLName        xml.Name
	ViewBox        string     `xml:"viewBox,attr"`
	Width          string     `xml:"width,attr"`
	Height         string     `xml:"height,attr"`
	Role           string     `xml:"role,attr"`
	AriaLabel      string     `xml:"aria-label,attr"`
	ShapeRendering string     `xml:"shape-rendering,attr"`
	Attrs          []xml.Attr `xml:",any,attr"`
	Rects          []struct {
		Width  string `xml:"width,attr"`
		Height string `xml:"height,attr"`
		Fill   string `xml:"fill,attr"`
	} `xml:"rect"`
	Paths []struct {
		Fill string `xml:"fill,attr"`
		D    string `xml:"d,attr"`
	} `xml:"path"`
	Other []struct{ XMLName xml.Name } `xml:",any"`
}

func TestSVG(t *testing.T) {
	label := `QR-kode til MitID-appen "<script>alert('x')</script>" & æøå`
	for _, tc := range []struct {
		data  string
		level qr.Level
		size  int
	}{
		{frame, qr.M, 0},
		{frame, qr.M, 240},
		{"1", qr.L, 0},
		{strings.Repeat("x", 1000), qr.H, 0}, // version 36, with version information
	} {
		c, err := qr.Encode([]byte(tc.data), tc.level)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := c.SVG(&b, qr.SVGOptions{Label: label, Size: tc.size}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		var doc svgDoc
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("not XML: %v\n%s", err, out)
		}
		full := c.Size() + 2*qr.QuietZone
		if doc.XMLName.Space != "http://www.w3.org/2000/svg" || doc.XMLName.Local != "svg" {
			t.Errorf("root element %v", doc.XMLName)
		}
		if want := fmt.Sprintf("0 0 %d %d", full, full); doc.ViewBox != want {
			t.Errorf("viewBox %q, want %q", doc.ViewBox, want)
		}
		wantSize := ""
		if tc.size > 0 {
			wantSize = strconv.Itoa(tc.size)
		}
		if doc.Width != wantSize || doc.Height != wantSize {
			t.Errorf("width %q height %q, want %q", doc.Width, doc.Height, wantSize)
		}
		if doc.Role != "img" || doc.AriaLabel != label || doc.ShapeRendering != "crispEdges" {
			t.Errorf("role %q aria-label %q shape-rendering %q", doc.Role, doc.AriaLabel, doc.ShapeRendering)
		}
		// Nothing a Content-Security-Policy would block or a page would
		// have to trust: no scripts, styles, event handlers or links.
		for _, bad := range []string{"<script", "<style", "style=", "href", "<foreignObject", "<image", "url(", " on"} {
			if strings.Contains(out, bad) {
				t.Errorf("SVG contains %q", bad)
			}
		}
		if len(doc.Rects) != 1 || len(doc.Paths) != 1 || len(doc.Other) != 0 {
			t.Fatalf("want one rect and one path, got %s", out)
		}
		// The light background covers the quiet zone even on a dark page.
		if r := doc.Rects[0]; r.Fill != "#fff" || r.Width != strconv.Itoa(full) || r.Height != r.Width {
			t.Errorf("background %+v, want white %d×%d", r, full, full)
		}
		if doc.Paths[0].Fill != "#000" {
			t.Errorf("path fill %q, want black", doc.Paths[0].Fill)
		}
		// The path covers exactly the dark modules, shifted by the quiet
		// zone.
		dark := rasterize(t, doc.Paths[0].D, full)
		for y := 0; y < full; y++ {
			for x := 0; x < full; x++ {
				if want := c.Black(x-qr.QuietZone, y-qr.QuietZone); dark[y][x] != want {
					t.Fatalf("module (%d,%d): path %v, symbol %v", x, y, dark[y][x], want)
				}
			}
		}
	}
}

// rasterize fills the unit squares inside a path made of axis-parallel
// closed rectangles, counting how often each square is covered: the SVG
// must not draw a module twice, which would show as overlap seams in some
// renderers.
func rasterize(t *testing.T, d string, n int) [][]bool {
	t.Helper()
	grid := make([][]bool, n)
	for i := range grid {
		grid[i] = make([]bool, n)
	}
	// Split "M4 4h7v1h-7zm0 1h1…" into commands and numbers.
	var tokens []string
	for i := 0; i < len(d); {
		switch c := d[i]; {
		case unicode.IsLetter(rune(c)):
			tokens = append(tokens, string(c))
			i++
		case c == ' ' || c == ',':
			i++
		default:
			j := i + 1
			for j < len(d) && (d[j] >= '0' && d[j] <= '9') {
				j++
			}
			tokens = append(tokens, d[i:j])
			i = j
		}
	}
	num := func(k int) int {
		if k >= len(tokens) {
			t.Fatalf("path ends early: %q", d)
		}
		v, err := strconv.Atoi(tokens[k])
		if err != nil {
			t.Fatalf("path token %q: %v", tokens[k], err)
		}
		return v
	}
	var x, y, sx, sy int // current point and subpath start
	var corners [][2]int
	for k := 0; k < len(tokens); {
		cmd := tokens[k]
		k++
		switch cmd {
		case "M", "m":
			nx, ny := num(k), num(k+1)
			k += 2
			if cmd == "m" {
				nx, ny = x+nx, y+ny
			}
			x, y, sx, sy = nx, ny, nx, ny
			corners = [][2]int{{x, y}}
		case "h":
			x += num(k)
			k++
			corners = append(corners, [2]int{x, y})
		case "v":
			y += num(k)
			k++
			corners = append(corners, [2]int{x, y})
		case "z":
			if len(corners) != 4 {
				t.Fatalf("subpath at (%d,%d) is not a rectangle: %v", sx, sy, corners)
			}
			x0, y0 := min(corners[0][0], corners[2][0]), min(corners[0][1], corners[2][1])
			x1, y1 := max(corners[0][0], corners[2][0]), max(corners[0][1], corners[2][1])
			for yy := y0; yy < y1; yy++ {
				for xx := x0; xx < x1; xx++ {
					if xx < 0 || yy < 0 || xx >= n || yy >= n {
						t.Fatalf("rectangle outside the viewBox: (%d,%d)", xx, yy)
					}
					if grid[yy][xx] {
						t.Fatalf("module (%d,%d) drawn twice", xx, yy)
					}
					grid[yy][xx] = true
				}
			}
			x, y = sx, sy
		default:
			t.Fatalf("unexpected path command %q in %q", cmd, d)
		}
	}
	return grid
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestSVGRejects(t *testing.T) {
	c, err := qr.Encode([]byte(frame), qr.M)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		w    io.Writer
		opts qr.SVGOptions
		want string
	}{
		{"no label", &bytes.Buffer{}, qr.SVGOptions{}, "qr: SVGOptions.Label is empty"},
		{"negative size", &bytes.Buffer{}, qr.SVGOptions{Label: "x", Size: -1}, "qr: SVGOptions.Size is negative: -1"},
		{"writer fails", failingWriter{}, qr.SVGOptions{Label: "x"}, "disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.SVG(tc.w, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if b, ok := tc.w.(*bytes.Buffer); ok && b.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", b.Len())
			}
		})
	}
}

// TestSVGSize keeps the frame's SVG small enough to send every second.
func TestSVGSize(t *testing.T) {
	c, err := qr.Encode([]byte(frame), qr.M)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.SVG(&b, qr.SVGOptions{Label: "QR-kode til MitID-appen"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("a %d-character frame: version %d, %d bytes of SVG", len(frame), c.Version(), b.Len())
	if b.Len() > 6000 {
		t.Errorf("SVG of %d bytes", b.Len())
	}
}

func BenchmarkSVG(b *testing.B) {
	c, err := qr.Encode([]byte(frame), qr.M)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := c.SVG(&buf, qr.SVGOptions{Label: "QR-kode til MitID-appen"}); err != nil {
			b.Fatal(err)
		}
	}
}
