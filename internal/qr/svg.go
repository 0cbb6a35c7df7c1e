package qr

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
)

// QuietZone is the width in modules of the light margin [Code.SVG] draws
// around the symbol, the minimum ISO/IEC 18004:2015, 6.3.8 requires. Readers
// find the finder patterns by the light border around them.
const QuietZone = 4

// SVGOptions says how [Code.SVG] draws a symbol.
type SVGOptions struct {
	// Label is the image's accessible name, written as aria-label: what
	// the code is for, not what it contains, for example "QR-kode til
	// MitID-appen". It is required: an unlabelled image is a WCAG 2.1
	// failure (1.1.1 Non-text Content).
	Label string
	// Size, if positive, is the width and height in CSS pixels. If zero,
	// the SVG has no width or height and takes the size the page's CSS
	// gives it; the viewBox keeps it square and sharp at any size.
	Size int
}

// errNoLabel is returned by SVG when SVGOptions.Label is empty.
var errNoLabel = errors.New("qr: SVGOptions.Label is empty; an image needs an accessible name")

// SVG writes the symbol as an SVG image with a light quiet zone of
// [QuietZone] modules (ISO/IEC 18004:2015, 6.3.8) and the dark modules as one
// path. The viewBox is in modules, so the image scales to any size, and
// shape-rendering="crispEdges" keeps module edges from being blurred into
// grey. The image has role="img" and aria-label set to opts.Label; it has no
// scripts, styles or external references, so it can be inlined into a page
// under a strict Content-Security-Policy. SVG returns an error for an empty
// Label or a negative Size, and any error of w.
func (c *Code) SVG(w io.Writer, opts SVGOptions) error {
	if opts.Label == "" {
		return errNoLabel
	}
	if opts.Size < 0 {
		return errors.New("qr: SVGOptions.Size is negative: " + strconv.Itoa(opts.Size))
	}
	full := strconv.Itoa(c.size + 2*QuietZone)
	var b bytes.Buffer
	b.Grow(256 + 6*c.size*c.size/2)
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `)
	b.WriteString(full + " " + full)
	b.WriteString(`"`)
	if opts.Size > 0 {
		s := strconv.Itoa(opts.Size)
		b.WriteString(` width="` + s + `" height="` + s + `"`)
	}
	b.WriteString(` role="img" aria-label="`)
	// EscapeText escapes quotes too, so the label cannot leave the
	// attribute.
	if err := xml.EscapeText(&b, []byte(opts.Label)); err != nil {
		return err
	}
	b.WriteString(`" shape-rendering="crispEdges">`)
	// The background is drawn, not left transparent, because the quiet
	// zone must be light on a dark page too.
	b.WriteString(`<rect width="` + full + `" height="` + full + `" fill="#fff"/>`)
	b.WriteString(`<path fill="#000" d="`)
	c.appendPath(&b)
	b.WriteString(`"/></svg>`)
	_, err := w.Write(b.Bytes())
	return err
}

// appendPath writes one closed rectangle per horizontal run of dark modules.
// Each starts with a relative move from the previous one's start, which keeps
// the numbers short: a 60-character frame's path is about 3 kB.
func (c *Code) appendPath(b *bytes.Buffer) {
	var num [20]byte
	px, py := 0, 0 // the previous rectangle's upper left corner
	first := true
	for y := 0; y < c.size; y++ {
		row := c.modules[y*c.size : (y+1)*c.size]
		for x := 0; x < c.size; {
			if row[x] == 0 {
				x++
				continue
			}
			run := 1
			for x+run < c.size && row[x+run] != 0 {
				run++
			}
			ax, ay := x+QuietZone, y+QuietZone
			if first {
				b.WriteByte('M')
				b.Write(strconv.AppendInt(num[:0], int64(ax), 10))
				b.WriteByte(' ')
				b.Write(strconv.AppendInt(num[:0], int64(ay), 10))
				first = false
			} else {
				b.WriteByte('m')
				b.Write(strconv.AppendInt(num[:0], int64(ax-px), 10))
				b.WriteByte(' ')
				b.Write(strconv.AppendInt(num[:0], int64(ay-py), 10))
			}
			r := strconv.AppendInt(num[:0], int64(run), 10)
			b.WriteByte('h')
			b.Write(r)
			b.WriteString("v1h-")
			b.Write(r)
			b.WriteByte('z')
			px, py = ax, ay
			x += run
		}
	}
}
