package pages

import "net/http"

// qrAvailable says whether the waiting page shows the QR code; until the QR
// encoder (internal/qr) is in, it shows a placeholder and the 4-digit code.
const qrAvailable = false

// qrImage is GET /login/{flow}/qr.svg: the QR frame to scan now.
func (p *Pages) qrImage(w http.ResponseWriter, r *http.Request) {
	http.NotFound(w, r)
}
