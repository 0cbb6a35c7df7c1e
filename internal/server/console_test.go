package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/operator"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// consoleBrowser is a browser at the operator console: a cookie jar, no
// automatic redirects, requests to the issuer's host as a browser sends them.
type consoleBrowser struct {
	n  *node
	hc *http.Client
}

func newConsoleBrowser(n *node) *consoleBrowser {
	jar, _ := cookiejar.New(nil)
	return &consoleBrowser{n: n, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *consoleBrowser) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return b.n.Issuer + u
	}
	return u
}

func (b *consoleBrowser) get(t *testing.T, u string) (int, string, string, http.Header) {
	t.Helper()
	resp, err := b.hc.Get(b.abs(u))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body), resp.Header
}

func (b *consoleBrowser) post(t *testing.T, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := b.hc.PostForm(b.abs(u), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// login logs in to the console as p, approving with p's app, and returns
// the status and body of the console's answer to the provider's redirect.
func (b *consoleBrowser) login(t *testing.T, p *person) (int, string) {
	t.Helper()
	code, loc, body, _ := b.get(t, "/operator/login")
	if code != http.StatusSeeOther || !strings.Contains(loc, "/authorize?") || !strings.Contains(loc, "code_challenge_method=S256") {
		t.Fatalf("console login: %d %s %s", code, loc, body)
	}
	for range 3 {
		if code, loc, body, _ = b.get(t, loc); !strings.Contains(loc, "/login/") {
			continue
		}
		break
	}
	if !strings.HasPrefix(loc, "/login/") {
		t.Fatalf("to the login pages: %d %s %s", code, loc, body)
	}
	id := strings.TrimPrefix(loc, "/login/")
	u, _ := url.Parse(b.n.Issuer)
	f := &flow{n: b.n, ID: id}
	for _, ck := range b.hc.Jar.Cookies(u) {
		if ck.Name == "omid_flow_"+id {
			f.Token = ck.Value
		}
	}
	if f.step(t, map[string]any{"step": "identify", "user_id": p.UserID}); f.state() == "waiting_for_app" {
		if _, _, err := p.app.ApproveNext(context.Background(), 5*time.Second, f.Last["binding_code"].(string), approval.Approve); err != nil {
			t.Fatal(err)
		}
	}
	code, loc, body, _ = b.get(t, "/authorize/finish/"+id)
	for i := 0; code == http.StatusFound && !strings.Contains(loc, "/operator/callback") && i < 3; i++ {
		code, loc, body, _ = b.get(t, loc)
	}
	if !strings.Contains(loc, "/operator/callback") {
		t.Fatalf("back to the console: %d %s %s", code, loc, body)
	}
	code, _, body, _ = b.get(t, loc)
	return code, body
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in %s", body)
	}
	return m[1]
}

func TestConsoleOverHTTP(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			n := newNode(t, engine)
			ctx := context.Background()
			p := n.srv.Platform()
			ids, err := server.IdentityService(ctx, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			ops, err := operator.NewService(p.DB, ids, p.DB, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			cw := n.person(t, "app")
			n.activate(t, cw)
			if _, err := ops.Add(ctx, cw.UUID, operator.Caseworker, "admin"); err != nil {
				t.Fatal(err)
			}

			// Without a session: the front page offers a login; pages send
			// the browser there; forms are refused.
			anon := newConsoleBrowser(n)
			if code, _, body, h := anon.get(t, "/operator/"); code != 200 || !strings.Contains(body, `href="/operator/login"`) ||
				strings.Contains(h.Get("Content-Security-Policy"), "script-src") || !strings.Contains(h.Get("Content-Security-Policy"), "form-action 'self'") {
				t.Fatalf("front page: %d %s", code, body)
			}
			if code, loc, _, _ := anon.get(t, "/operator/reviews"); code != http.StatusSeeOther || loc != "/operator/" {
				t.Fatalf("reviews without a session: %d %s", code, loc)
			}
			if code, _, _ := anon.post(t, "/operator/person", url.Values{"cpr": {"0101901234"}}); code != http.StatusForbidden {
				t.Fatalf("a form without a session: %d", code)
			}

			// Someone who is not an operator; an identity proofed at a low
			// level, whose login cannot reach substantial.
			stranger := n.person(t, "app")
			n.activate(t, stranger)
			if code, body := newConsoleBrowser(n).login(t, stranger); code != http.StatusForbidden || !strings.Contains(body, "Du er ikke sagsbehandler") {
				t.Fatalf("not an operator: %d %s", code, body)
			}
			_, lowM := n.post(t, "/testtool/v1/identities", nil, map[string]any{"authenticators": []string{"app"}, "ial": "low"})
			low := &person{UUID: lowM["uuid"].(string), UserID: lowM["user_id"].(string), ActivationCode: lowM["app"].(map[string]any)["activation_code"].(string)}
			n.activate(t, low)
			if _, err := ops.Add(ctx, low.UUID, operator.Caseworker, "admin"); err != nil {
				t.Fatal(err)
			}
			if code, body := newConsoleBrowser(n).login(t, low); code != http.StatusForbidden {
				t.Fatalf("an operator proofed at low: %d %s", code, body)
			}

			// The caseworker.
			b := newConsoleBrowser(n)
			if code, body := b.login(t, cw); code != 200 || !strings.Contains(body, `url=/operator/`) {
				t.Fatalf("login: %d %s", code, body)
			}
			for _, ck := range b.hc.Jar.Cookies(mustURL(n.Issuer + "/operator/")) {
				if ck.Name == "omid_operator" && len(ck.Value) < 40 {
					t.Errorf("session cookie %q is short", ck.Value)
				}
			}
			code, _, home, _ := b.get(t, "/operator/")
			if code != 200 || !strings.Contains(home, `id="find-form"`) || strings.Contains(home, "⟦") {
				t.Fatalf("home: %d %s", code, home)
			}
			csrf := csrfOf(t, home)
			for _, c := range []struct {
				name string
				form url.Values
				want int
			}{
				{"no CSRF token", url.Values{"cpr": {"0101901234"}}, http.StatusForbidden},
				{"a wrong CSRF token", url.Values{"cpr": {"0101901234"}, "csrf": {csrf + "x"}}, http.StatusForbidden},
				{"a bad CPR number", url.Values{"cpr": {"12345"}, "csrf": {csrf}}, http.StatusBadRequest},
			} {
				if code, _, body := b.post(t, "/operator/person", c.form); code != c.want {
					t.Errorf("%s: %d %s", c.name, code, body)
				}
			}
			// Another operator's session does not open a case of this one.
			if code, _, _, _ := b.get(t, "/operator/cases/nonexistent"); code != http.StatusNotFound {
				t.Errorf("an unknown case: %d", code)
			}

			// A passport enrolment waiting for a face review.
			en := &enrolNode{node: n}
			cprNo := en.addPerson(t, "Rie Review", "1979-09-09")
			e, st, err := en.enrol(t, demoPassport(t, "Rie Review", date(1979, 9, 9), testchip.Options{}), cprNo, nil)
			if err != nil || st.State != appclient.EnrolmentFaceReview {
				t.Fatalf("%+v, %v", st, err)
			}
			code, _, queue, _ := b.get(t, "/operator/reviews")
			if code != 200 || !strings.Contains(queue, "/operator/reviews/"+e.ID) {
				t.Fatalf("queue: %d %s", code, queue)
			}
			code, _, page, _ := b.get(t, "/operator/reviews/"+e.ID)
			if code != 200 || !strings.Contains(page, `id="portrait"`) || !strings.Contains(page, `id="selfie"`) || strings.Contains(page, "⟦") {
				t.Fatalf("review page: %d %s", code, page)
			}
			code, _, img, h := b.get(t, "/operator/reviews/"+e.ID+"/portrait")
			if code != 200 || h.Get("Content-Type") != "image/jpeg" || h.Get("Cache-Control") != "no-store" || !strings.HasPrefix(img, "\xff\xd8") {
				t.Fatalf("portrait: %d %v", code, h)
			}
			if code, _, _, _ := anon.get(t, "/operator/reviews/"+e.ID+"/selfie"); code != http.StatusSeeOther {
				t.Fatalf("the selfie without a session: %d", code)
			}
			// A JPEG 2000 portrait is not served; the page says why.
			sealed, err := p.DB.EnrolmentImages(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			sealed.PortraitType = "image/jp2"
			if err := p.DB.DeleteEnrolmentImages(ctx, e.ID); err != nil {
				t.Fatal(err)
			}
			if err := p.DB.PutEnrolmentImages(ctx, e.ID, sealed); err != nil {
				t.Fatal(err)
			}
			if _, _, page, _ = b.get(t, "/operator/reviews/"+e.ID); !strings.Contains(page, `id="jp2-notice"`) || strings.Contains(page, `id="portrait"`) {
				t.Fatalf("review page with a JPEG 2000 portrait: %s", page)
			}
			if code, _, _, _ := b.get(t, "/operator/reviews/"+e.ID+"/portrait"); code != http.StatusNotFound {
				t.Fatalf("a JPEG 2000 portrait served: %d", code)
			}
			if code, _, _ := b.post(t, "/operator/reviews/"+e.ID, url.Values{"decision": {"approve"}}); code != http.StatusForbidden {
				t.Fatalf("a decision without a CSRF token: %d", code)
			}
			if code, _, body := b.post(t, "/operator/reviews/"+e.ID, url.Values{"decision": {"approve"}, "csrf": {csrf}}); code != 200 {
				t.Fatalf("approve: %d %s", code, body)
			}
			if st, err := e.Status(ctx, "", 0); err != nil || st.State != appclient.EnrolmentReady {
				t.Fatalf("after the review: %+v, %v", st, err)
			}
			if code, _, _ := b.post(t, "/operator/reviews/"+e.ID, url.Values{"decision": {"reject"}, "csrf": {csrf}}); code != http.StatusNotFound {
				t.Fatalf("deciding twice: %d", code)
			}
			evs, err := p.DB.FindAuditEvents(ctx, "enrolment.face_reviewed", "", 10)
			if err != nil || len(evs) != 1 || evs[0].Actor != "operator:"+cw.UUID {
				t.Fatalf("the review audited: %+v, %v", evs, err)
			}

			// Enrolment in person over HTTP: refusals show on the page; a case
			// is its caseworker's and a supervisor's, nobody else's.
			newcomer := en.addPerson(t, "Ny Person", "1990-10-10")
			code, _, body := b.post(t, "/operator/person", url.Values{"cpr": {newcomer}, "csrf": {csrf}})
			if code != 200 || !strings.Contains(body, "Ny Person") || !strings.Contains(body, `id="document-form"`) {
				t.Fatalf("find: %d %s", code, body)
			}
			for _, c := range []struct {
				name string
				form url.Values
				want string
			}{
				{"expired", url.Values{"document_kind": {"passport"}, "document_number": {"AB123456"}, "document_expiry": {"2020-01-01"}}, "udløbet"},
				{"bad number", url.Values{"document_kind": {"passport"}, "document_number": {"x"}, "document_expiry": {"2031-01-01"}}, "dokumentnummer"},
				{"bad kind", url.Values{"document_kind": {"library"}, "document_number": {"AB123456"}, "document_expiry": {"2031-01-01"}}, "dokumentnummer"},
			} {
				c.form.Set("cpr", newcomer)
				c.form.Set("csrf", csrf)
				if code, _, body := b.post(t, "/operator/cases", c.form); code != http.StatusUnprocessableEntity || !strings.Contains(strings.ToLower(body), c.want) {
					t.Errorf("%s: %d %s", c.name, code, body)
				}
			}
			if code, _, body := b.post(t, "/operator/cases", url.Values{"cpr": {cw.CPR}, "csrf": {csrf}, "document_kind": {"passport"},
				"document_number": {"AB123456"}, "document_expiry": {"2031-01-01"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "har allerede MitID") {
				t.Errorf("someone with MitID: %d %s", code, body)
			}
			code, caseURL, body := b.post(t, "/operator/cases", url.Values{"cpr": {newcomer}, "csrf": {csrf}, "document_kind": {"driving_licence"},
				"document_number": {"DL998877"}, "document_expiry": {"2031-01-01"}})
			if code != http.StatusSeeOther || !strings.HasPrefix(caseURL, "/operator/cases/") {
				t.Fatalf("open: %d %s %s", code, caseURL, body)
			}
			if code, _, body, _ := b.get(t, caseURL); code != 200 || !strings.Contains(body, `id="questions-form"`) || !strings.Contains(body, `id="witness-form"`) {
				t.Fatalf("the case: %d %s", code, body)
			}
			if code, _, body := b.post(t, caseURL+"/answers", url.Values{"csrf": {csrf}}); code != http.StatusUnprocessableEntity {
				t.Fatalf("no answers: %d %s", code, body)
			}
			other := n.person(t, "app")
			n.activate(t, other)
			sup := n.person(t, "app")
			n.activate(t, sup)
			if _, err := ops.Add(ctx, other.UUID, operator.Caseworker, "admin"); err != nil {
				t.Fatal(err)
			}
			if _, err := ops.Add(ctx, sup.UUID, operator.Supervisor, "admin"); err != nil {
				t.Fatal(err)
			}
			ob, sb := newConsoleBrowser(n), newConsoleBrowser(n)
			ob.login(t, other)
			sb.login(t, sup)
			if code, _, _, _ := ob.get(t, caseURL); code != http.StatusNotFound {
				t.Errorf("another caseworker opens the case: %d", code)
			}
			if code, _, body, _ := sb.get(t, caseURL); code != 200 || !strings.Contains(body, "Ny Person") {
				t.Errorf("a supervisor opens the case: %d", code)
			}

			// Logging out ends the session; its CSRF token opens nothing.
			if code, _, _ := b.post(t, "/operator/logout", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
				t.Fatalf("logout: %d", code)
			}
			if code, _, _ := b.post(t, "/operator/person", url.Values{"cpr": {cprNo}, "csrf": {csrf}}); code != http.StatusForbidden {
				t.Fatalf("a form after logout: %d", code)
			}
		})
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }
