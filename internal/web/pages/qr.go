package pages

import (
	"bytes"
	"net/http"

	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/qr"
	"github.com/openmitid/openmitid/internal/web"
)

// qrImage is GET /login/{flow}/qr.svg: the QR code the app scans now, while
// the flow waits for it. The frame changes every second (internal/approval),
// so the image is never cached; the waiting page's script fetches a new one
// each time the flow's events say so. A flow that does not wait for the app,
// or is not this browser's, has no image.
func (p *Pages) qrImage(w http.ResponseWriter, r *http.Request) {
	f, _, err := p.load(r)
	if err != nil || f.State != authn.StateWaitingForApp {
		w.Header().Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	v, err := p.engine.View(r.Context(), f)
	if err != nil {
		p.log.Error("pages: the QR frame", "flow", f.ID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	code, err := qr.Encode([]byte(v.QR), qr.M)
	var buf bytes.Buffer
	if err == nil {
		// The label is the image's name inside the SVG; the page's <img>
		// carries its own, with the 4-digit code.
		err = code.SVG(&buf, qr.SVGOptions{Label: p.language(w, r).T("waiting.qr_label")})
	}
	if err != nil {
		p.log.Error("pages: encoding the QR frame", "flow", f.ID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", web.DefaultCSP)
	w.Write(buf.Bytes())
}
