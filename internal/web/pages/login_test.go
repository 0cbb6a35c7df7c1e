package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/web/pages"
)

// TestLoginWithoutJavaScript logs in with a code display through the forms
// alone, as a browser without JavaScript would: user ID, password, code, and
// the done page that sends the browser on to the service provider.
func TestLoginWithoutJavaScript(t *testing.T) {
	g := newRig(t)
	p := g.person(t, "code_display")
	b := g.browser(t)
	b.header.Set("Accept-Language", "en")
	id, pg := b.start("substantial", "sp:42")
	pg.mustState(t, "identify")

	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
	pg.mustState(t, "password")
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"password": p.Password}), http.StatusSeeOther)
	pg.mustState(t, "code")
	csrf := csrfOf(pg)
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"code": g.code(t, p)}), http.StatusSeeOther)
	pg.mustState(t, "done")

	f, ok := g.finisher.last()
	if !ok || f.ID != id || f.State != "done" || f.AuthRequest != "sp:42" {
		t.Fatalf("the Finisher was asked about %+v", f)
	}
	onward := pg.doc.control(t, "link", "Continue").attr["href"]
	u, err := url.Parse(onward)
	if err != nil || !strings.HasPrefix(onward, spCallback+"?") || u.Query().Get("flow") != id || u.Query().Get("state") != "done" {
		t.Fatalf("Continue goes to %q", onward)
	}
	var refresh string
	for _, m := range pg.doc.tags("meta") {
		if strings.EqualFold(m.attr["http-equiv"], "refresh") && !m.hidden() {
			refresh = m.attr["content"]
		}
	}
	if refresh != "0;url="+onward {
		t.Fatalf("meta refresh %q, want 0;url=%s", refresh, onward)
	}
	if pg.header.Get("Content-Security-Policy") != pages.CSP {
		t.Errorf("CSP %q", pg.header.Get("Content-Security-Policy"))
	}
	// The flow is finished: posting into it again shows it as it is.
	again := b.follow(b.do("POST", "/login/"+id, url.Values{"csrf": {csrf}, "step": {"cancel"}}), http.StatusSeeOther)
	again.mustState(t, "done")
}

// csrfOf is the CSRF token a page's forms carry.
func csrfOf(pg *page) string {
	for _, in := range pg.doc.tags("input") {
		if in.attr["name"] == "csrf" {
			return in.attr["value"]
		}
	}
	return ""
}
