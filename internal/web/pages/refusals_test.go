package pages_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/web"
	"github.com/openmitid/openmitid/internal/web/i18n"
	"github.com/openmitid/openmitid/internal/web/pages"
)

// TestCSRF posts steps without the form's token, with a wrong one and with
// another flow's: each is refused with 403, and the flow has not moved.
func TestCSRF(t *testing.T) {
	g := newRig(t)
	p := g.person(t, "code_display")
	b := g.browser(t)
	id, pg := b.start("substantial", "")
	good := csrfOf(pg)
	other, otherPage := b.start("substantial", "")
	otherToken := csrfOf(otherPage)
	if good == "" || otherToken == "" || good == otherToken {
		t.Fatalf("CSRF tokens %q and %q", good, otherToken)
	}
	for name, token := range map[string]string{
		"none":             "",
		"wrong":            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"another flow's":   otherToken,
		"one byte changed": good[:len(good)-1] + string("AB"[strings.IndexByte("AB", good[len(good)-1])+1&1]),
		"too long":         strings.Repeat(good, 3),
	} {
		for _, step := range []url.Values{
			{"step": {"identify"}, "user_id": {p.UserID}},
			{"step": {"cancel"}},
			{"step": {"retry"}},
		} {
			form := url.Values{}
			for k, v := range step {
				form[k] = v
			}
			if token != "" {
				form.Set("csrf", token)
			}
			resp := b.do("POST", "/login/"+id, form)
			if resp.status != http.StatusForbidden || resp.state() != "forbidden" {
				t.Errorf("%s token, step %s: %d %s", name, step.Get("step"), resp.status, resp.state())
			}
			if resp.doc != nil && resp.doc.byID("back-to-login") == nil {
				t.Errorf("%s token: the refusal has no way back", name)
			}
		}
	}
	// Nothing moved: both flows still ask for the user ID.
	b.get("/login/"+id).mustState(t, "identify")
	b.get("/login/"+other).mustState(t, "identify")
	// The right token works.
	resp := b.do("POST", "/login/"+id, url.Values{"csrf": {good}, "step": {"identify"}, "user_id": {p.UserID}})
	b.follow(resp, http.StatusSeeOther).mustState(t, "password")
}

// TestCookie opens pages without the flow's cookie, with another flow's
// token, and with ids that are not ids: always "not found", never a flow.
func TestCookie(t *testing.T) {
	g := newRig(t)
	owner := g.browser(t)
	id, pg := owner.start("substantial", "sp:1")
	csrf := csrfOf(pg)
	otherID, _ := owner.start("substantial", "")
	var otherToken string
	for _, c := range owner.c.Jar.Cookies(mustURL(t, g.URL)) {
		if c.Name == web.FlowCookie(otherID) {
			otherToken = c.Value
		}
	}
	if otherToken == "" {
		t.Fatal("the browser got no flow cookie")
	}

	stranger := g.browser(t)
	notFound := func(name string, resp *page) {
		t.Helper()
		if resp.status != http.StatusNotFound || resp.state() != "not_found" {
			t.Errorf("%s: %d %s", name, resp.status, resp.state())
		}
		if strings.Contains(resp.body, "OpenMitID Demo") || strings.Contains(resp.body, id) {
			t.Errorf("%s: the page tells of the flow", name)
		}
	}
	notFound("no cookie", stranger.get("/login/"+id))
	notFound("no cookie, methods", stranger.get("/login/"+id+"/methods"))
	notFound("no cookie, POST", stranger.do("POST", "/login/"+id, url.Values{"csrf": {csrf}, "step": {"cancel"}}))
	if resp := stranger.get("/login/" + id + "/qr.svg"); resp.status != http.StatusNotFound {
		t.Errorf("no cookie, QR: %d", resp.status)
	}
	// Another flow's token under this flow's cookie name.
	stranger.c.Jar.SetCookies(mustURL(t, g.URL), []*http.Cookie{{Name: web.FlowCookie(id), Value: otherToken, Path: "/"}})
	notFound("another flow's token", stranger.get("/login/"+id))
	// The form's CSRF token is bound to the flow's own token, so posting with
	// another's is refused before the flow is even looked at.
	if resp := stranger.do("POST", "/login/"+id, url.Values{"csrf": {csrf}, "step": {"cancel"}}); resp.status != http.StatusForbidden ||
		strings.Contains(resp.body, "OpenMitID Demo") {
		t.Errorf("another flow's token, POST: %d", resp.status)
	}
	for _, bad := range []string{"nosuchflow", "%00", strings.Repeat("A", 65), "a.b", "..%2f"} {
		notFound("id "+bad, owner.get("/login/"+bad))
	}
	// The owner's flow did not move.
	owner.get("/login/"+id).mustState(t, "identify")
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestWrongPassword checks an error shown beside its field: the status, the
// text (not by colour alone), the link from the field, the alert and the
// focus; then the lock, with when to try again.
func TestWrongPassword(t *testing.T) {
	g := newRig(t)
	p := g.person(t, "code_display")
	for _, lang := range i18n.Langs() {
		n := namesIn[lang]
		b := g.browser(t)
		b.header.Set("Accept-Language", string(lang))
		_, pg := b.start("substantial", "")
		pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
		pg.mustState(t, "password")
		for try := 1; try <= 5; try++ {
			pg = b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"password": "not the password"})
			code, want := "wrong_password", http.StatusBadRequest
			if try == 5 {
				code, want = "password_locked", http.StatusForbidden
			}
			if pg.status != want {
				t.Fatalf("%s try %d: %d, want %d", lang, try, pg.status, want)
			}
			pg.mustState(t, "password")
			checkPage(t, b, pg, lang)
			in := pg.doc.control(t, "password", n.password)
			msg := pg.doc.byID("password-error")
			if msg == nil {
				t.Fatalf("%s try %d: no error beside the field", lang, try)
			}
			if in.attr["aria-invalid"] != "true" || in.attr["aria-describedby"] != "password-error" || !in.has("autofocus") {
				t.Errorf("%s try %d: the field %v", lang, try, in.attr)
			}
			if msg.role() != "alert" || !strings.HasPrefix(msg.textContent(), lang.T("error.prefix")) {
				t.Errorf("%s try %d: the error %q (role %s)", lang, try, msg.textContent(), msg.role())
			}
			if title := pg.doc.tags("title")[0].textContent(); !strings.HasPrefix(title, lang.T("title.error")+":") {
				t.Errorf("%s try %d: the title %q does not say there is an error", lang, try, title)
			}
			if in.attr["value"] != "" {
				t.Errorf("%s: the password was sent back in the page", lang)
			}
			if code == "password_locked" {
				if !strings.Contains(msg.textContent(), lang.Minutes(15)) {
					t.Errorf("%s: the lock does not say when to try again: %q", lang, msg.textContent())
				}
				if s, _ := strconv.Atoi(pg.header.Get("Retry-After")); s < 14*60 || s > 15*60 {
					t.Errorf("%s: Retry-After %q", lang, pg.header.Get("Retry-After"))
				}
			} else if !strings.Contains(msg.textContent(), lang.T("error.wrong_password")) {
				t.Errorf("%s: %q", lang, msg.textContent())
			}
		}
		// The lock shows on the page before anyone posts again, and counts down.
		g.clock.Add(4 * time.Minute)
		pg = b.get(pg.url)
		pg.mustState(t, "password")
		if msg := pg.doc.byID("password-error"); msg == nil || !strings.Contains(msg.textContent(), lang.Minutes(11)) {
			t.Errorf("%s: the lock on GET: %v", lang, msg)
		}
		// The lock outlives the flow (15 minutes against 10); a new flow
		// after it shows no lock.
		g.clock.Add(12 * time.Minute)
		_, pg = b.start("substantial", "")
		pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
		if pg.mustState(t, "password").doc.byID("password-error") != nil {
			t.Errorf("%s: the lock is still shown after it ended", lang)
		}
		pg = b.follow(b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"password": p.Password}), http.StatusSeeOther)
		pg.mustState(t, "code")
		// A code of the wrong form, then a wrong code: beside the code field.
		for _, c := range []struct{ code, key string }{{"12ab", "error.code_format"}, {"000000", "error.wrong_code"}} {
			if c.code == "000000" && g.code(t, p) == "000000" {
				continue
			}
			pg = b.submit(pg, pg.doc.control(t, "button", n.cont), map[string]string{"code": c.code})
			if pg.status != http.StatusBadRequest {
				t.Errorf("%s code %s: %d", lang, c.code, pg.status)
			}
			if msg := pg.doc.byID("code-error"); msg == nil || !strings.Contains(msg.textContent(), lang.T(c.key)) {
				t.Errorf("%s code %s: %v", lang, c.code, msg)
			}
			if in := pg.doc.control(t, "textbox", n.code); !in.has("autofocus") || in.attr["aria-invalid"] != "true" {
				t.Errorf("%s code %s: the field %v", lang, c.code, in.attr)
			}
		}
	}
}

func TestIdentifyErrors(t *testing.T) {
	g := newRig(t)
	b := g.browser(t)
	b.header.Set("Accept-Language", "en")
	_, pg := b.start("substantial", "")
	pg = b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"user_id": "   "})
	if pg.status != http.StatusBadRequest {
		t.Fatalf("an empty user ID: %d", pg.status)
	}
	in := pg.doc.control(t, "textbox", "User ID")
	if in.attr["aria-invalid"] != "true" || !strings.Contains(in.description(pg.doc), "Enter your user ID.") {
		t.Errorf("the field after an empty user ID: %v", in.attr)
	}
	// What was typed comes back in the field.
	long := strings.Repeat("ø", 65)
	pg = b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"user_id": long})
	if in := pg.doc.control(t, "textbox", "User ID"); in.attr["value"] != long || pg.status != http.StatusBadRequest {
		t.Errorf("a long user ID: %d %q", pg.status, in.attr["value"])
	}
	// A step the page does not have, and a method that does not exist, show
	// at the top of the page, with focus there.
	pg = b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"user_id": "someone", "method": "carrier-pigeon"})
	if top := pg.doc.byID("page-error"); pg.status != http.StatusBadRequest || top == nil || top.role() != "alert" || !top.has("autofocus") {
		t.Errorf("an unknown method: %d %v", pg.status, top)
	}
	if in := pg.doc.control(t, "textbox", "User ID"); in.has("autofocus") {
		t.Error("two elements have focus")
	}
	pg = b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"step": "teleport"})
	if pg.status != http.StatusBadRequest || pg.doc.byID("page-error") == nil {
		t.Errorf("an unknown step: %d", pg.status)
	}
	pg.mustState(t, "identify")
}

// TestStepsThatNoLongerFit posts a step twice (a double click, a second tab):
// the second shows the flow as it is, with no error.
func TestStepsThatNoLongerFit(t *testing.T) {
	g := newRig(t)
	p := g.person(t, "code_display")
	b := g.browser(t)
	_, pg := b.start("substantial", "")
	btn := pg.doc.control(t, "button", "Fortsæt")
	b.follow(b.submit(pg, btn, map[string]string{"user_id": p.UserID}), http.StatusSeeOther).mustState(t, "password")
	b.follow(b.submit(pg, btn, map[string]string{"user_id": p.UserID}), http.StatusSeeOther).mustState(t, "password")
	// The methods page of a flow that has not been identified is its page.
	id, _ := b.start("substantial", "")
	resp := b.get("/login/" + id + "/methods")
	if resp.status != http.StatusSeeOther || resp.header.Get("Location") != "/login/"+id {
		t.Errorf("methods before identify: %d %q", resp.status, resp.header.Get("Location"))
	}
}

// TestLanguage picks Danish by default, English when the browser asks for it,
// and follows ?lang= (remembered in a cookie) over both.
func TestLanguage(t *testing.T) {
	g := newRig(t)
	b := g.browser(t)
	id, pg := b.start("substantial", "")
	path := "/login/" + id
	lang := func(pg *page) string { return pg.doc.tags("html")[0].attr["lang"] }
	if lang(pg) != "da" {
		t.Fatalf("no Accept-Language: %s", lang(pg))
	}
	b.header.Set("Accept-Language", "de-DE,de;q=0.9")
	if pg = b.get(path); lang(pg) != "da" {
		t.Errorf("German: %s", lang(pg))
	}
	b.header.Set("Accept-Language", "en-US,en;q=0.9,da;q=0.8")
	if pg = b.get(path); lang(pg) != "en" {
		t.Errorf("English first: %s", lang(pg))
	}
	pg.doc.control(t, "textbox", "User ID")
	if pg = b.get(path + "?lang=da"); lang(pg) != "da" {
		t.Errorf("?lang=da over English: %s", lang(pg))
	}
	pg.doc.control(t, "textbox", "Bruger-ID")
	// Remembered without the parameter, over the header, also for POSTs.
	if pg = b.get(path); lang(pg) != "da" {
		t.Errorf("after ?lang=da: %s", lang(pg))
	}
	resp := b.submit(pg, pg.doc.control(t, "button", "Fortsæt"), map[string]string{"user_id": ""})
	if lang(resp) != "da" {
		t.Errorf("a POST after ?lang=da: %s", lang(resp))
	}
	var cookie *http.Cookie
	if pg = b.get(path + "?lang=en"); lang(pg) != "en" {
		t.Errorf("?lang=en: %s", lang(pg))
	}
	for _, c := range b.c.Jar.Cookies(mustURL(t, g.URL)) {
		if c.Name == pages.LangCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "en" {
		t.Fatalf("the language cookie: %v", cookie)
	}
	b.header.Del("Accept-Language")
	if pg = b.get(path + "?lang=klingon"); lang(pg) != "en" {
		t.Errorf("an unknown ?lang= changed the language: %s", lang(pg))
	}
	// The switch link goes to the other language.
	if pg = b.get(path + pg.doc.byID("lang-switch").attr["href"]); lang(pg) != "da" {
		t.Errorf("the switch link: %s", lang(pg))
	}
}

// TestRetry fails flows (cancelled, expired) and starts again from their
// pages: a new flow, for the same service provider, in the same browser.
func TestRetry(t *testing.T) {
	g := newRig(t)
	p := g.person(t, "code_display")
	b := g.browser(t)
	b.header.Set("Accept-Language", "en")

	id, pg := b.start("substantial", "")
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Cancel"), nil), http.StatusSeeOther)
	pg.mustState(t, "failed")
	if pg.doc.byID("close") == nil || pg.doc.tags("h1")[0].textContent() != "The login was cancelled" {
		t.Errorf("cancelled without a service provider: %s", pg.doc.byID("main").textContent())
	}
	resp := b.submit(pg, pg.doc.control(t, "button", "Try again"), nil)
	if resp.status != http.StatusSeeOther {
		t.Fatalf("Try again: %d", resp.status)
	}
	newID := strings.TrimPrefix(resp.header.Get("Location"), "/login/")
	if newID == id || newID == "" {
		t.Fatalf("Try again went to %q", resp.header.Get("Location"))
	}
	pg = b.follow(resp, http.StatusSeeOther).mustState(t, "identify")
	// The old flow's cookie is gone; the old flow is not found any more here.
	b.get("/login/"+id).mustState(t, "not_found")

	// A flow that ran out of time, for a service provider.
	id, pg = b.start("substantial", "sp:7")
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
	g.clock.Add(authn.FlowLifetime + time.Second)
	pg = b.get("/login/"+id).mustState(t, "failed")
	if h1 := pg.doc.tags("h1")[0].textContent(); h1 != "Time ran out" {
		t.Errorf("expired: %q", h1)
	}
	back := pg.doc.control(t, "link", "Back to OpenMitID Demo")
	if !strings.Contains(back.attr["href"], "error=flow_expired") {
		t.Errorf("expired: back to %q", back.attr["href"])
	}
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Try again"), nil), http.StatusSeeOther).mustState(t, "identify")
	// The new flow waits for the same authorization request: the Finisher
	// sends it where the failed one would have gone.
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"password": p.Password}), http.StatusSeeOther)
	csrf, doneAt := csrfOf(pg), pg.url
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"code": g.code(t, p)}), http.StatusSeeOther)
	pg.mustState(t, "done")
	f, _ := g.finisher.last()
	if f.AuthRequest != "sp:7" || f.ID == id || f.ClientID != "demo" || "/login/"+f.ID != doneAt {
		t.Errorf("the flow started again: %+v", f)
	}
	// A flow that is done cannot be started again: Try again shows it as it is.
	resp = b.do("POST", doneAt, url.Values{"csrf": {csrf}, "step": {"retry"}})
	if resp.status != http.StatusSeeOther || resp.header.Get("Location") != doneAt {
		t.Errorf("Try again on a done flow: %d %q", resp.status, resp.header.Get("Location"))
	}
}

func TestBegin(t *testing.T) {
	g := newRig(t)
	b := g.browser(t)
	resp := b.get("/test/start?reference_text=" + url.QueryEscape(strings.Repeat("x", authn.MaxReferenceText+1)))
	if resp.status != http.StatusBadRequest || resp.header.Get("Set-Cookie") != "" {
		t.Errorf("a reference text too long: %d %q", resp.status, resp.header.Get("Set-Cookie"))
	}
	resp = b.get("/test/start")
	var flowCookie *http.Cookie
	for _, c := range (&http.Response{Header: resp.header}).Cookies() {
		if strings.HasPrefix(c.Name, "omid_flow_") {
			flowCookie = c
		}
	}
	if flowCookie == nil || !flowCookie.HttpOnly || flowCookie.SameSite != http.SameSiteLaxMode || flowCookie.Secure {
		t.Fatalf("the flow cookie: %+v", flowCookie)
	}
	pg := b.follow(resp, http.StatusSeeOther)
	if strings.Contains(pg.body, flowCookie.Value) {
		t.Error("the flow token is in the page")
	}
}

// TestEveryErrorCodeHasText checks that each step error the engine answers
// (docs/contract.md) has a text of its own in both languages.
func TestEveryErrorCodeHasText(t *testing.T) {
	for _, code := range []string{"user_id_required", "password_required", "password_too_long", "wrong_password",
		"password_locked", "code_format", "wrong_code", "code_locked", "rate_limited", "chip_failed",
		"webauthn_required", "webauthn_too_large", "too_many_app_requests", "app_request_pending",
		"method_not_available", "unknown_method"} {
		for _, lang := range i18n.Langs() {
			if !lang.Has("error." + code) {
				t.Errorf("%s has no text for %s", lang, code)
			}
		}
	}
}

// TestChipErrors posts what a broken or refused chip ceremony would: the
// error shows at the top of the chip page, with focus, and a fresh challenge.
func TestChipErrors(t *testing.T) {
	g := newRig(t)
	p := g.person(t, "chip")
	b := g.browser(t)
	b.header.Set("Accept-Language", "en")
	_, pg := b.start("low", "")
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
	pg.mustState(t, "chip")
	options := pg.doc.byID("chip-form").attr["data-webauthn"]
	for _, c := range []struct {
		answer string
		status int
		key    string
	}{
		{"", http.StatusBadRequest, "error.webauthn_required"},         // no script
		{"not json", http.StatusBadRequest, "error.webauthn_required"}, //
		{`{"id":"x"}`, http.StatusBadRequest, "error.chip_failed"},     // a broken answer
	} {
		pg = b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"webauthn": c.answer})
		pg.mustState(t, "chip")
		top := pg.doc.byID("page-error")
		if pg.status != c.status || top == nil || !strings.Contains(top.textContent(), i18n.English.T(c.key)) || !top.has("autofocus") {
			t.Errorf("answer %q: %d %v", c.answer, pg.status, top)
		}
	}
	// The failed answer spent the challenge: the page has a new one, which works.
	fresh := pg.doc.byID("chip-form").attr["data-webauthn"]
	if fresh == options {
		t.Error("the challenge was not renewed after a failed answer")
	}
	answer, err := p.Chip.Assert([]byte(fresh), g.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	b.follow(b.submit(pg, pg.doc.control(t, "button", "Continue"), map[string]string{"webauthn": string(answer)}), http.StatusSeeOther).mustState(t, "done")
}

func TestOversizedForm(t *testing.T) {
	g := newRig(t)
	b := g.browser(t)
	id, pg := b.start("substantial", "")
	resp := b.do("POST", "/login/"+id, url.Values{"csrf": {csrfOf(pg)}, "step": {"identify"}, "user_id": {strings.Repeat("a", 100<<10)}})
	if resp.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 100 KiB form: %d", resp.status)
	}
	b.get("/login/"+id).mustState(t, "identify")
}
