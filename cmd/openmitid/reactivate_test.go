package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/testbin"
)

// TestReactivatePassportCommand: a person enrolled with the passport loses
// the phone and blocks the MitID; `app reactivate-passport` with the same
// passport gets it back on a new phone with the same user ID, and the lost
// phone's app no longer works. While the app works, reactivation is refused.
func TestReactivatePassportCommand(t *testing.T) {
	dir := t.TempDir()
	srv := enrolServer(t, dir)
	run := func(args ...string) testbin.Result { return testbin.Run(t, dir, nil, args...) }

	cprNo := addPerson(t, srv.URL, "Bodil Marie Holm", "1970-03-04")
	if r := run("testdata", "passport", "--out", "bodil.json", "--name", "Bodil Marie Holm", "--birthdate", "1970-03-04", "--face-out", "bodil.jpg"); r.Code != 0 {
		t.Fatalf("testdata passport: %+v", r)
	}
	if r := run("app", "enrol-passport", "--server", srv.URL, "--passport", "bodil.json", "--selfie", "bodil.jpg", "--cpr", cprNo,
		"--user-id", "bodil.holm", "--password", "correct horse battery", "--pin", "1234", "--state", "lost.state", "--wait", "30s",
		"--email", "bodil@example.dk"); r.Code != 0 {
		t.Fatalf("enrol-passport: %+v", r)
	}
	if code, body := get(t, srv.URL+"/testtool/v1/identities/bodil.holm"); code != 200 || !strings.Contains(body, `"email":"bodil@example.dk"`) {
		t.Fatalf("the contact address given at enrolment: %d %s", code, body)
	}
	reactivate := func(state string, extra ...string) testbin.Result {
		return run(append([]string{"app", "reactivate-passport", "--server", srv.URL, "--passport", "bodil.json", "--selfie", "bodil.jpg",
			"--cpr", cprNo, "--pin", "5678", "--state", state, "--wait", "30s"}, extra...)...)
	}
	// The app works: no reactivation.
	if r := reactivate("early.state"); r.Code != 1 || !strings.Contains(r.Stderr, "has_authenticator") {
		t.Fatalf("reactivation while the app works: %+v", r)
	}
	// The phone is lost: the MitID is blocked (here from the phone itself, before it went).
	if r := run("app", "block", "--state", "lost.state", "--pin", "1234"); r.Code != 0 {
		t.Fatalf("block: %+v", r)
	}
	if r := run("app", "reactivate-passport", "--server", srv.URL, "--passport", "bodil.json", "--selfie", "bodil.jpg",
		"--cpr", cprNo, "--pin", "5678", "--state", "new.state", "--user-id", "x"); r.Code != 2 {
		t.Fatalf("--user-id given to reactivate-passport: %+v", r)
	}
	r := reactivate("new.state", "--password", "a brand new passphrase")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Reactivated: user ID bodil.holm") {
		t.Fatalf("reactivate-passport: %+v", r)
	}
	code, body := get(t, srv.URL+"/testtool/v1/identities/bodil.holm")
	if code != 200 || !strings.Contains(body, `"state":"active"`) || strings.Count(body, `"kind":"app"`) != 1 {
		t.Fatalf("identity after reactivation: %d %s", code, body)
	}

	// The new phone logs in; the lost one is refused.
	f := startFlow(t, srv.URL)
	m := f.step(t, map[string]any{"step": "identify", "user_id": "bodil.holm"})
	if m["state"] != "waiting_for_app" {
		t.Fatalf("identify: %v", m)
	}
	if r := run("app", "approve", "--state", "lost.state", "--pin", "1234", "--binding", m["binding_code"].(string), "--wait", "2s"); r.Code != 1 ||
		!strings.Contains(r.Stderr, "device_blocked") {
		t.Fatalf("the lost phone: %+v", r)
	}
	if r := run("app", "approve", "--state", "new.state", "--pin", "5678", "--binding", m["binding_code"].(string), "--wait", "10s"); r.Code != 0 {
		t.Fatalf("the new phone: %+v", r)
	}
	if v := f.get(t); v["state"] != "done" {
		t.Fatalf("login after reactivation: %v", v)
	}
	// The person is told (the log sender, address masked).
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.Log(), "reactivated") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if log := srv.Log(); !strings.Contains(log, "msg=notification") || !strings.Contains(log, "b…@example.dk") || strings.Contains(log, "bodil@example.dk") {
		t.Fatalf("no notification of the reactivation in the log:\n%s", log)
	}
	// The new password works, and the old one does not (a login at level low, by password alone).
	for pw, want := range map[string]string{"a brand new passphrase": "done", "correct horse battery": "wrong_password"} {
		code, m := postJSON(t, srv.URL+"/authn/v1/flows", "", map[string]any{"client_id": "demo", "level": "low"})
		if code != 201 {
			t.Fatalf("flow: %d %v", code, m)
		}
		g := &cliFlow{url: srv.URL + "/authn/v1/flows/" + m["flow_id"].(string), id: m["flow_id"].(string), token: m["flow_token"].(string)}
		if m := g.step(t, map[string]any{"step": "identify", "user_id": "bodil.holm", "method": "password"}); m["state"] != "password" {
			t.Fatalf("identify for a password: %v", m)
		}
		m = g.step(t, map[string]any{"step": "password", "password": pw})
		if m["state"] != want && m["error"] != want {
			t.Fatalf("password %q: %v, want %s", pw, m, want)
		}
	}
}
