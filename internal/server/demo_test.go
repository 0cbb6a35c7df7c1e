package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/store"
)

// TestDemoServiceProvider: the demo logs in through the real protocol, as a
// separate client, and shows what it received.
func TestDemoServiceProvider(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "code_display")
	c := newRP(t, n, "demo", "", "")
	code, loc, body := c.get(t, "/demo/")
	if code != 200 || !strings.Contains(body, "Log ind med MitID") {
		t.Fatalf("demo home: %d %s", code, body)
	}
	code, loc, _ = c.get(t, "/demo/login?level=substantial")
	if code != http.StatusFound || !strings.Contains(loc, "/authorize?") || !strings.Contains(loc, "code_challenge=") {
		t.Fatalf("demo login: %d %s", code, loc)
	}
	u, _ := url.Parse(loc)
	if u.Query().Get("acr_values") != "https://data.gov.dk/concept/core/nsis/Substantial" {
		t.Fatalf("the demo asked for %v", u.Query())
	}
	code, loc, _ = c.get(t, n.URL+u.RequestURI())
	_, loc, _ = c.get(t, loc)
	f := c.flowAt(t, loc)
	id := f.ID
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "code_display"})
	f.step(t, map[string]any{"step": "password", "password": p.Password})
	f.step(t, map[string]any{"step": "code", "code": totp(t, p.TOTPSecret, n.clock.Now())})
	loc = "/authorize/finish/" + id
	for i := 0; i < 6 && loc != "/demo/"; i++ {
		if code, loc, body = c.get(t, strings.Replace(loc, n.Issuer, n.URL, 1)); code != http.StatusFound && code != http.StatusSeeOther {
			t.Fatalf("step %d: %d %s", i, code, body)
		}
		loc = strings.Replace(loc, n.Issuer, "", 1)
	}
	code, _, body = c.get(t, "/demo/")
	for _, want := range []string{"Velkommen", `data-claim="loa">https://data.gov.dk/concept/core/nsis/Substantial`, `data-claim="amr">password, code_token`, "Log ud"} {
		if !strings.Contains(body, want) {
			t.Errorf("the demo after login lacks %q:\n%s", want, body)
		}
	}
}
