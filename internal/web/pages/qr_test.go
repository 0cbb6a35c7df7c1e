package pages_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/qr"
	"github.com/openmitid/openmitid/internal/web"
	"github.com/openmitid/openmitid/internal/web/i18n"
)

// TestQRImage fetches the waiting page's QR code: the frame of this second,
// never cached, a new one each second, and one the app can bind with.
func TestQRImage(t *testing.T) {
	g := newRig(t)
	p := g.person(t, "app")
	app := g.activate(t, p)
	b := g.browser(t)
	id, pg := b.start("substantial", "sp:1")
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Fortsæt"), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
	pg.mustState(t, "waiting_for_app")
	img := pg.doc.byID("qr-image")
	if img == nil || img.attr["src"] != "/login/"+id+"/qr.svg" || img.attr["data-src"] != img.attr["src"] {
		t.Fatalf("the QR image: %v", img)
	}

	frame := func() string { // what the flow API says the browser shows now
		t.Helper()
		resp := b.get("/authn/v1/flows/" + id)
		var v struct {
			QR string `json:"qr"`
		}
		if err := json.Unmarshal([]byte(resp.body), &v); err != nil || !strings.HasPrefix(v.QR, "openmitid1.") {
			t.Fatalf("the flow API: %d %s", resp.status, resp.body)
		}
		return v.QR
	}
	svg := func(frame string) string {
		t.Helper()
		c, err := qr.Encode([]byte(frame), qr.M)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := c.SVG(&buf, qr.SVGOptions{Label: i18n.Danish.T("waiting.qr_label")}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}

	first := b.get(img.attr["src"])
	if first.status != 200 || first.header.Get("Content-Type") != "image/svg+xml" || first.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("qr.svg: %d %v", first.status, first.header)
	}
	if csp := first.header.Get("Content-Security-Policy"); csp != web.DefaultCSP {
		t.Errorf("qr.svg: CSP %q", csp)
	}
	if first.body != svg(frame()) {
		t.Fatalf("qr.svg is not this second's frame:\n%.200s", first.body)
	}
	g.clock.Add(time.Second)
	second := b.get(img.attr["src"] + "?n=1")
	now := frame()
	if second.body == first.body || second.body != svg(now) {
		t.Error("a second later, qr.svg is not the new frame")
	}
	// The app scans it: the binding holds, and the login is done.
	if _, _, err := app.ApproveNext(context.Background(), time.Second, now, approval.Approve); err != nil {
		t.Fatal(err)
	}
	b.get("/login/"+id).mustState(t, "done")
	// A flow that no longer waits has no QR code.
	if resp := b.get(img.attr["src"]); resp.status != http.StatusNotFound || resp.header.Get("Cache-Control") != "no-store" {
		t.Errorf("qr.svg of a done flow: %d %q", resp.status, resp.header.Get("Cache-Control"))
	}
}
