package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/web"
)

// chromium returns the path of a Chromium to run headless, skipping the test
// where there is none (CI installs Debian's chromium for the browser tests).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH")
	return ""
}

// adoptURL is a URL that hands the browser's flow to a fresh Chromium.
func (b *browser) adoptURL(id, lang string) string {
	b.t.Helper()
	for _, c := range b.c.Jar.Cookies(mustURL(b.t, b.g.URL)) {
		if c.Name == web.FlowCookie(id) {
			return b.g.URL + "/test/adopt?" + url.Values{"flow": {id}, "token": {c.Value}, "lang": {lang}}.Encode()
		}
	}
	b.t.Fatal("the browser has no cookie for the flow")
	return ""
}

// dumpDOM loads u in headless Chromium and returns the DOM once the page has
// settled or wait has passed, with what the console said.
func dumpDOM(t *testing.T, bin, u string, wait time.Duration) (dom, console string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
		fmt.Sprintf("--virtual-time-budget=%d", wait.Milliseconds()), "--dump-dom", u)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	var lines []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "CONSOLE") || strings.Contains(l, "Refused") {
			lines = append(lines, l)
		}
	}
	return string(out), strings.Join(lines, "\n")
}

// TestWaitingPageInChromium runs the waiting page's script in a real browser
// under the pages' CSP: it listens to the flow's events, swaps in a new QR
// frame each second, and moves on by itself once the app has approved.
func TestWaitingPageInChromium(t *testing.T) {
	bin := chromium(t)
	g := newRig(t)
	g.adopt = true
	p := g.person(t, "app")
	app := g.activate(t, p)
	b := g.browser(t)
	id, pg := b.start("substantial", "")
	pg = b.follow(b.submit(pg, pg.doc.control(t, "button", "Fortsæt"), map[string]string{"user_id": p.UserID}), http.StatusSeeOther)
	code := pg.doc.byID("binding-code").textContent()

	// Approved in the app: the page moves on by itself.
	frame := regexp.MustCompile(`^/login/` + id + `/qr\.svg\?n=[0-9]+$`)
	frames := func() int {
		n := 0
		for _, u := range g.requests() {
			if frame.MatchString(u) {
				n++
			}
		}
		return n
	}
	approved := make(chan error, 1)
	go func() {
		// Approve once the page is open and has fetched a fresh QR frame
		// (or after 15 s, and the test fails below).
		for deadline := time.Now().Add(15 * time.Second); frames() < 2 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		_, _, err := app.ApproveNext(context.Background(), 5*time.Second, code, approval.Approve)
		approved <- err
	}()
	dom, console := dumpDOM(t, bin, b.adoptURL(id, "en"), 20*time.Second)
	if err := <-approved; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dom, `<body data-state="done">`) || !strings.Contains(dom, `lang="en"`) {
		i := strings.Index(dom, "<body")
		t.Errorf("the page did not move on: %.300s", dom[max(i, 0):])
	}
	if console != "" {
		t.Errorf("the console:\n%s", console)
	}
	// While it waited, the script fetched a new QR frame each second.
	if n := frames(); n < 2 {
		t.Errorf("the script fetched %d new QR frames: %v", n, g.requests())
	}
}
