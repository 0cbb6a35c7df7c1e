package pages_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/web/i18n"
	"github.com/openmitid/openmitid/internal/web/pages"
)

// names are the accessible names of the controls in a language; the English
// ones are CONTRACT.md's.
type names struct {
	userID, password, code, cont, cancel, methods string
}

var namesIn = map[i18n.Lang]names{
	i18n.Danish:  {"Bruger-ID", "Adgangskode", "Kode", "Fortsæt", "Annuller", "Vælg en anden metode"},
	i18n.English: {"User ID", "Password", "Code", "Continue", "Cancel", "Choose another method"},
}

// checkPage checks what every login page must be: in its language, with the
// pages' headers, no inline script or style, every control named, every
// reference to an id resolvable, and no text missing from the catalogue.
func checkPage(t *testing.T, b *browser, pg *page, lang i18n.Lang) {
	t.Helper()
	if pg.doc == nil {
		t.Fatalf("%s: not HTML: %s", pg.url, pg.header.Get("Content-Type"))
	}
	h := pg.header
	for k, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": pages.CSP,
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s %q, want %q", pg.url, k, got, want)
		}
	}
	if v := h.Values("Content-Security-Policy"); len(v) != 1 {
		t.Errorf("%s: %d CSP headers", pg.url, len(v))
	}
	if strings.Contains(pg.body, "⟦") {
		t.Errorf("%s: a text is missing from the %s catalogue: %s", pg.url, lang, regexp.MustCompile(`⟦[^⟧]*⟧`).FindString(pg.body))
	}
	doc := pg.doc
	if html := doc.tags("html"); len(html) != 1 || html[0].attr["lang"] != string(lang) {
		t.Errorf("%s: <html lang> is not %s", pg.url, lang)
	}
	h1 := doc.tags("h1")
	if len(h1) != 1 || h1[0].textContent() == "" {
		t.Fatalf("%s: %d <h1>", pg.url, len(h1))
	}
	if title := doc.tags("title"); len(title) != 1 || !strings.Contains(title[0].textContent(), h1[0].textContent()) {
		t.Errorf("%s: the <title> does not name the page (%q)", pg.url, h1[0].textContent())
	}
	if len(doc.tags("main")) != 1 {
		t.Errorf("%s: no <main>", pg.url)
	}
	ids := map[string]bool{}
	for _, n := range doc.all(func(*node) bool { return true }) {
		if id := n.attr["id"]; id != "" {
			if ids[id] {
				t.Errorf("%s: id %q twice", pg.url, id)
			}
			ids[id] = true
		}
		for a := range n.attr {
			if a == "style" || strings.HasPrefix(a, "on") {
				t.Errorf("%s: <%s %s>: inline style or script, which the CSP refuses", pg.url, n.tag, a)
			}
		}
	}
	if len(doc.tags("style")) > 0 {
		t.Errorf("%s: a <style> element", pg.url)
	}
	for _, n := range doc.all(func(*node) bool { return true }) {
		for _, a := range []string{"aria-describedby", "aria-labelledby", "for"} {
			for _, id := range strings.Fields(n.attr[a]) {
				if !ids[id] {
					t.Errorf("%s: <%s %s=%q> names no element", pg.url, n.tag, a, id)
				}
			}
		}
	}
	for _, s := range doc.tags("script") {
		if s.attr["src"] == "" || s.textContent() != "" {
			t.Errorf("%s: an inline script", pg.url)
		}
	}
	for _, n := range doc.all(func(x *node) bool {
		return (x.tag == "input" && x.attr["type"] != "hidden") || x.tag == "button" || (x.tag == "a" && x.has("href")) || x.role() == "img"
	}) {
		if n.name(doc) == "" {
			t.Errorf("%s: <%s id=%q> has no accessible name", pg.url, n.tag, n.attr["id"])
		}
	}
	for _, in := range doc.tags("input") {
		if in.attr["type"] != "hidden" && in.attr["autocomplete"] == "" {
			t.Errorf("%s: input %s has no autocomplete", pg.url, in.attr["id"])
		}
	}
	for _, f := range doc.tags("form") {
		if f.attr["method"] == "post" && f.fields()["csrf"] == "" {
			t.Errorf("%s: form %s has no CSRF token", pg.url, f.attr["id"])
		}
	}
	for _, l := range doc.tags("link") {
		checkAsset(t, b, l.attr["href"])
	}
	for _, s := range doc.tags("script") {
		checkAsset(t, b, s.attr["src"])
	}
	if sw := doc.byID("lang-switch"); sw == nil || sw.attr["lang"] != string(lang.Other()) || sw.attr["href"] != "?lang="+string(lang.Other()) {
		t.Errorf("%s: no link to the other language", pg.url)
	}
}

func checkAsset(t *testing.T, b *browser, path string) {
	t.Helper()
	if !strings.HasPrefix(path, "/static/") {
		t.Errorf("an asset from %q", path)
		return
	}
	resp := b.get(path)
	if resp.status != 200 || !strings.Contains(resp.header.Get("Cache-Control"), "immutable") {
		t.Errorf("%s: %d %q", path, resp.status, resp.header.Get("Cache-Control"))
	}
}

// checkField checks a labelled input: its name, its autocomplete, and that it
// has focus when the page loads.
func checkField(t *testing.T, pg *page, name, autocomplete string) *node {
	t.Helper()
	role := "textbox"
	if autocomplete == "current-password" {
		role = "password"
	}
	in := pg.doc.control(t, role, name)
	if in.attr["autocomplete"] != autocomplete {
		t.Errorf("%s: %q has autocomplete %q, want %q", pg.url, name, in.attr["autocomplete"], autocomplete)
	}
	if !in.has("autofocus") {
		t.Errorf("%s: %q has no focus", pg.url, name)
	}
	return in
}

func TestEveryStateInBothLanguages(t *testing.T) {
	g := newRig(t)
	ctx := context.Background()
	for _, lang := range i18n.Langs() {
		t.Run(string(lang), func(t *testing.T) {
			n := namesIn[lang]
			p := g.person(t, "app", "code_display", "chip")
			app := g.activate(t, p)
			b := g.browser(t)
			b.header.Set("Accept-Language", map[i18n.Lang]string{i18n.Danish: "da-DK,da;q=0.9", i18n.English: "en-GB,en;q=0.8"}[lang])

			// Identify.
			id, pg := b.start("substantial", "sp:1")
			pg.mustState(t, "identify")
			checkPage(t, b, pg, lang)
			checkField(t, pg, n.userID, "username")
			pg.doc.control(t, "button", n.cont)
			pg.doc.control(t, "button", n.cancel)
			if !strings.Contains(pg.doc.byID("main").textContent(), "OpenMitID Demo") {
				t.Error("identify: the service provider's name is not shown")
			}

			// Waiting for the app: the app is the first method.
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
			pg.mustState(t, "waiting_for_app")
			checkPage(t, b, pg, lang)
			codes := pg.doc.all(func(x *node) bool { return x.has("data-binding-code") })
			if len(codes) != 1 || !regexp.MustCompile(`^[0-9]{4}$`).MatchString(codes[0].textContent()) {
				t.Fatalf("waiting: the binding code element: %d", len(codes))
			}
			binding := codes[0].textContent()
			qr := pg.doc.all(func(x *node) bool { return x.role() == "img" && strings.Contains(x.name(pg.doc), binding) })
			if len(qr) != 1 {
				t.Errorf("waiting: no QR image whose name gives the code %s to a screen reader", binding)
			}
			if st := pg.doc.byID("status"); st == nil || st.role() != "status" || st.textContent() == "" {
				t.Error("waiting: no live status region")
			}
			w := pg.doc.byID("waiting")
			if w == nil || w.attr["data-events"] != "/authn/v1/flows/"+id+"/events" || w.attr["data-page"] != "/login/"+id {
				t.Errorf("waiting: the script's hooks: %v", w)
			}
			refreshes := 0
			for _, m := range pg.doc.tags("meta") {
				if m.attr["http-equiv"] == "refresh" {
					refreshes++
					if !m.hidden() {
						t.Error("waiting: a meta refresh outside <noscript> would reload under the script")
					}
				}
			}
			if refreshes != 1 {
				t.Error("waiting: without JavaScript, nothing reloads the page for a fresh QR code")
			}
			checkEvents(t, b, w.attr["data-events"], w.attr["data-version"])
			pg.doc.control(t, "link", n.methods)
			pg.doc.control(t, "button", n.cancel)
			if !strings.Contains(pg.doc.byID("main").textContent(), "OpenMitID Demo") {
				t.Error("waiting: the service provider's name is not shown")
			}

			// Choose another method.
			pg = b.get(pg.doc.control(t, "link", n.methods).attr["href"])
			pg.mustState(t, "methods")
			checkPage(t, b, pg, lang)
			for _, m := range []authn.Method{authn.MethodApp, authn.MethodCodeDisplay, authn.MethodChip} {
				btn := pg.doc.control(t, "button", lang.T("method."+string(m)))
				if btn.attr["name"] != "method" || btn.attr["value"] != string(m) {
					t.Errorf("methods: the %s button posts %s=%s", m, btn.attr["name"], btn.attr["value"])
				}
				if (m == authn.MethodApp) != (btn.attr["aria-current"] == "true") {
					t.Errorf("methods: %s aria-current=%q", m, btn.attr["aria-current"])
				}
				if !strings.Contains(btn.description(pg.doc), lang.T("method."+string(m)+".desc")) {
					t.Errorf("methods: %s is not described", m)
				}
			}
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", lang.T("method.code_display")), nil), http.StatusSeeOther)

			// Password, then code.
			pg.mustState(t, "password")
			checkPage(t, b, pg, lang)
			checkField(t, pg, n.password, "current-password")
			pg.doc.control(t, "button", n.cont)
			pg.doc.control(t, "link", n.methods)
			pg.doc.control(t, "button", n.cancel)
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"password": p.Password}), http.StatusSeeOther)
			pg.mustState(t, "code")
			checkPage(t, b, pg, lang)
			in := checkField(t, pg, n.code, "one-time-code")
			if in.attr["inputmode"] != "numeric" {
				t.Error("code: not a numeric field")
			}
			if !strings.Contains(in.description(pg.doc), lang.T("code.hint.code_display")) {
				t.Error("code: the field is not described")
			}
			pg.doc.control(t, "button", n.cont)
			pg.doc.control(t, "link", n.methods)
			pg.doc.control(t, "button", n.cancel)

			// Done.
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"code": g.code(t, p)}), http.StatusSeeOther)
			pg.mustState(t, "done")
			checkPage(t, b, pg, lang)
			if href := pg.doc.control(t, "link", n.cont).attr["href"]; !strings.HasPrefix(href, spCallback) {
				t.Errorf("done: Continue goes to %q", href)
			}

			// The chip, on a flow that asks for low: the chip alone.
			_, pg = b.start("low", "sp:2")
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"user_id": p.UserID, "method": "chip"}), http.StatusSeeOther)
			pg.mustState(t, "chip")
			checkPage(t, b, pg, lang)
			form := pg.doc.byID("chip-form")
			var opts struct {
				PublicKey map[string]any `json:"publicKey"`
			}
			if err := json.Unmarshal([]byte(form.attr["data-webauthn"]), &opts); err != nil || opts.PublicKey["challenge"] == nil {
				t.Fatalf("chip: the WebAuthn options %q: %v", form.attr["data-webauthn"], err)
			}
			for _, a := range []string{"data-msg-touch", "data-msg-cancelled", "data-msg-unsupported", "data-msg-other", "data-error-prefix"} {
				if form.attr[a] == "" {
					t.Errorf("chip: no %s for the script", a)
				}
			}
			if r := pg.doc.byID("chip-error"); r == nil || r.role() != "alert" {
				t.Error("chip: no alert region for the script's errors")
			}
			btn := pg.doc.control(t, "button", n.cont)
			pg.doc.control(t, "link", n.methods)
			pg.doc.control(t, "button", n.cancel)
			// What the script does: answer the options and post the answer.
			answer, err := p.Chip.Assert([]byte(form.attr["data-webauthn"]), g.Issuer)
			if err != nil {
				t.Fatal(err)
			}
			pg = b.follow(b.submit(pg, btn, map[string]string{"webauthn": string(answer)}), http.StatusSeeOther)
			pg.mustState(t, "done")

			// An audio code reader's code page says so.
			q := g.person(t, "audio_code_reader")
			_, pg = b.start("substantial", "")
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"user_id": q.UserID}), http.StatusSeeOther)
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"password": q.Password}), http.StatusSeeOther)
			pg.mustState(t, "code")
			checkPage(t, b, pg, lang)
			if h1 := pg.doc.tags("h1")[0].textContent(); h1 != lang.T("code.title.audio_code_reader") {
				t.Errorf("audio code reader: heading %q", h1)
			}
			checkField(t, pg, n.code, "one-time-code")
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"code": g.code(t, q)}), http.StatusSeeOther)
			// No service provider waits for this flow: the login ends here.
			pg.mustState(t, "done")
			checkPage(t, b, pg, lang)
			if len(pg.doc.controls("link", n.cont)) != 0 || pg.doc.byID("lead").textContent() != lang.T("done.final") {
				t.Errorf("done without a service provider: %s", pg.doc.byID("main").textContent())
			}

			// Cancel from the waiting page: back to the service provider at once.
			_, pg = b.start("substantial", "sp:3")
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
			pg.mustState(t, "waiting_for_app")
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cancel), nil), http.StatusSeeOther)
			pg.mustState(t, "failed")
			checkPage(t, b, pg, lang)
			if href := pg.doc.control(t, "link", n.cont).attr["href"]; !strings.Contains(href, "error=cancelled") {
				t.Errorf("cancelled: Continue goes to %q", href)
			}

			// Approved in the app while the page waits: reloading shows done.
			_, pg = b.start("substantial", "sp:4")
			pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
			code := pg.doc.all(func(x *node) bool { return x.has("data-binding-code") })[0].textContent()
			if _, _, err := app.ApproveNext(ctx, time.Second, code, approval.Approve); err != nil {
				t.Fatal(err)
			}
			pg = b.get(pg.doc.control(t, "link", lang.T("waiting.reload")).attr["href"])
			pg.mustState(t, "done")
		})
	}
}

// TestFailurePages renders the page of every failure code in both
// languages: a title and an explanation of its own, the way back to the
// service provider, and "Try again" where trying again can help.
func TestFailurePages(t *testing.T) {
	g := newRig(t)
	b := g.browser(t)
	codes := []string{"flow_expired", "expired", "rejected", "fraud_reported", "binding_failed", "replaced",
		"cancelled", "identity_blocked", "level_not_reachable", "chip_blocked", "app_not_usable_yet"}
	retry := map[string]bool{"flow_expired": true, "expired": true, "rejected": true, "binding_failed": true,
		"replaced": true, "cancelled": true, "chip_blocked": true, "app_not_usable_yet": true}
	for _, lang := range i18n.Langs() {
		n := namesIn[lang]
		titles := map[string]bool{}
		for _, code := range append(codes, "something_new") {
			for _, sp := range []bool{true, false} {
				f := &authn.Flow{ID: "AAAAAAAAAAAAAAAAAAAAAA", State: authn.StateFailed, Error: code, ClientID: "demo",
					ClientName: "Den Danske Bank", Level: nsis.High, ExpiresAt: time.Now().Add(time.Minute)}
				if sp {
					f.AuthRequest = "sp:9"
				}
				w := httptest.NewRecorder()
				g.pages.RenderFlow(w, httptest.NewRequest("GET", "/login/"+f.ID, nil), lang, f)
				pg := &page{status: w.Code, header: w.Header(), body: w.Body.String(), url: lang.T("fail."+code+".title") + " " + string(lang)}
				pg.doc = parseHTML(t, pg.body)
				pg.mustState(t, "failed")
				checkPage(t, b, pg, lang)
				title := pg.doc.tags("h1")[0].textContent()
				lead := pg.doc.byID("lead").textContent()
				if code == "something_new" {
					if title != lang.T("fail.unknown.title") {
						t.Errorf("an unknown code: %q", title)
					}
					continue
				}
				if title != lang.T("fail."+code+".title") || lead == "" {
					t.Errorf("%s %s: %q / %q", lang, code, title, lead)
				}
				if code == "level_not_reachable" && !strings.Contains(lead, "Den Danske Bank") {
					t.Errorf("%s level_not_reachable does not name the service provider: %q", lang, lead)
				}
				titles[title] = true
				auto := code == "cancelled" && sp
				if auto {
					// Cancelling goes straight back, like done.
					if href := pg.doc.control(t, "link", n.cont).attr["href"]; !strings.Contains(href, "error=cancelled") {
						t.Errorf("%s cancelled: Continue goes to %q", lang, href)
					}
					continue
				}
				if got := len(pg.doc.controls("button", lang.T("fail.retry"))) == 1; got != retry[code] || pages.Retryable(code) != retry[code] {
					t.Errorf("%s %s: Try again offered %v, want %v", lang, code, got, retry[code])
				}
				back := pg.doc.controls("link", lang.T("fail.back", "Den Danske Bank"))
				if sp != (len(back) == 1) {
					t.Errorf("%s %s (service provider %v): %d links back", lang, code, sp, len(back))
				}
				if sp && !strings.Contains(back[0].attr["href"], "error="+code) {
					t.Errorf("%s %s: back to %q", lang, code, back[0].attr["href"])
				}
				if !sp && pg.doc.byID("close") == nil {
					t.Errorf("%s %s without a service provider: no way forward", lang, code)
				}
			}
		}
		if len(titles) != len(codes) {
			t.Errorf("%s: %d failure codes share %d titles", lang, len(codes), len(titles))
		}
	}
}

// checkEvents opens the flow's server-sent events as the waiting page's script
// does (with the flow's cookie) and checks that the first event is the flow at
// the version the page was rendered at: the script moves on when it differs.
func checkEvents(t *testing.T, b *browser, path, version string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.g.URL+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var event string
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			var v struct {
				State   string `json:"state"`
				Version int64  `json:"version"`
			}
			if err := json.Unmarshal([]byte(d), &v); err != nil || event != "flow" || v.State != "waiting_for_app" || strconv.FormatInt(v.Version, 10) != version {
				t.Errorf("the first event: %s %s (page at version %s)", event, d, version)
			}
			return
		}
	}
	t.Errorf("no event: %v", sc.Err())
}
