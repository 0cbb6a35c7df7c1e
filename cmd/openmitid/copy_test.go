package main_test

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/notify/smtptest"
	"github.com/openmitid/openmitid/internal/testbin"
)

// TestCopyCommands: `app copy-start` on a new phone shows a QR code and waits;
// `app copy-approve` on the old phone approves it; the new app is refused
// while it waits (--copy-wait 5s here) and logs in afterwards; the person is
// told (the log sender: no --smtp-addr).
func TestCopyCommands(t *testing.T) {
	dir := t.TempDir()
	srv := testbin.Serve(t, dir, nil, "--demo", "--copy-wait", "5s")
	run := func(args ...string) testbin.Result { return testbin.Run(t, dir, nil, args...) }

	code, id := postJSON(t, srv.URL+"/testtool/v1/identities", "", map[string]any{"authenticators": []string{"app"},
		"email": "anna@example.dk", "user_id": "anna.copy"})
	if code != http.StatusCreated {
		t.Fatalf("test tool: %d %v", code, id)
	}
	if r := run("app", "activate", "--server", srv.URL, "--code", id["app"].(map[string]any)["activation_code"].(string),
		"--pin", "1357", "--state", "old.state", "--name", "Old phone"); r.Code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	if r := run("app", "copy-approve", "--state", "old.state", "--pin", "1357", "--qr", "openmitid1.x.1.y"); r.Code != 2 || !strings.Contains(r.Stderr, "not a MitID copy QR code") {
		t.Fatalf("a login QR code given to copy-approve: %+v", r)
	}

	// The new phone starts and waits.
	start := exec.Command(testbin.Path(t), "app", "copy-start", "--server", srv.URL, "--user-id", "anna.copy",
		"--pin", "2468", "--state", "new.state", "--name", "New phone")
	start.Dir = dir
	var startErr bytes.Buffer
	start.Stderr = &startErr
	out, err := start.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := start.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { start.Process.Kill(); start.Wait() })
	lines := bufio.NewScanner(out)
	var shown strings.Builder
	payload := ""
	for payload == "" && lines.Scan() {
		shown.WriteString(lines.Text() + "\n")
		if p, ok := strings.CutPrefix(lines.Text(), "QR: "); ok {
			payload = p
		}
	}
	if !strings.HasPrefix(payload, "openmitid-copy1.") || !strings.Contains(shown.String(), "copy-approve") {
		t.Fatalf("copy-start showed:\n%s%s", shown.String(), startErr.String())
	}

	// The old phone approves.
	r := run("app", "copy-approve", "--state", "old.state", "--pin", "1357", "--qr", payload)
	if r.Code != 0 || !strings.Contains(r.Stdout, `"New phone"`) || !strings.Contains(r.Stdout, "Approved") {
		t.Fatalf("copy-approve: %+v", r)
	}
	done := make(chan error, 1)
	go func() {
		for lines.Scan() {
			shown.WriteString(lines.Text() + "\n")
		}
		done <- start.Wait()
	}()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(shown.String(), "Copied: user ID anna.copy") {
			t.Fatalf("copy-start ended with %v:\n%s%s", err, shown.String(), startErr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("copy-start did not end after the approval:\n%s", shown.String())
	}
	approvedAt := time.Now()
	// The same QR code again: refused.
	if r := run("app", "copy-approve", "--state", "old.state", "--pin", "1357", "--qr", payload); r.Code != 1 || !strings.Contains(r.Stderr, "already_used") {
		t.Fatalf("the QR code used twice: %+v", r)
	}

	// Before the wait: the new app is refused.
	f := startFlow(t, srv.URL)
	m := f.step(t, map[string]any{"step": "identify", "user_id": "anna.copy"})
	if m["state"] != "waiting_for_app" {
		t.Fatalf("identify: %v", m)
	}
	r = run("app", "approve", "--state", "new.state", "--pin", "2468", "--binding", m["binding_code"].(string), "--wait", "2s")
	if r.Code != 1 || !strings.Contains(r.Stderr, "device_not_usable_yet") {
		t.Fatalf("the new app before its wait: %+v", r)
	}
	if v := f.get(t); v["state"] != "waiting_for_app" {
		t.Fatalf("the login after the refusal: %v", v)
	}
	// After it: the new app approves the same login.
	time.Sleep(time.Until(approvedAt.Add(5*time.Second + 500*time.Millisecond)))
	r = run("app", "approve", "--state", "new.state", "--pin", "2468", "--binding", m["binding_code"].(string), "--wait", "5s")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Approved.") {
		t.Fatalf("the new app after its wait: %+v", r)
	}
	if v := f.get(t); v["state"] != "done" {
		t.Fatalf("the login with the new app: %v", v)
	}

	// The person was told (the log sender writes the message, address masked).
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.Log(), "msg=notification") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	log := srv.Log()
	if !strings.Contains(log, "msg=notification") || !strings.Contains(log, "a…@example.dk") || strings.Contains(log, "anna@example.dk") ||
		!strings.Contains(log, "New phone") {
		t.Fatalf("no notification in the server's log:\n%s", log)
	}
}

// TestServeNotificationFlags: bad --copy-wait and --smtp-* values stop the
// server with a clear line.
func TestServeNotificationFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--copy-wait", "-1s"}, 2, "--copy-wait -1s: must not be negative"},
		{[]string{"--copy-wait", "soon"}, 2, "copy-wait"},
		{[]string{"--smtp-addr", "mail.example.dk"}, 1, `--smtp-addr "mail.example.dk": want host:port`},
		{[]string{"--smtp-addr", "127.0.0.1:25", "--smtp-from", "not an address"}, 1, `--smtp-from "not an address": want a plain e-mail address`},
	} {
		args := append([]string{"serve", "--addr", testbin.FreeAddr(t), "--db", "sqlite:flags.db"}, tc.args...)
		if r := testbin.Run(t, dir, nil, args...); r.Code != tc.code || !strings.Contains(r.Stderr, tc.want) || strings.Contains(r.Stderr, "goroutine") {
			t.Errorf("%v: %+v", tc.args, r)
		}
	}
}

// TestCopyNoticeBySMTP: with --smtp-addr, the notice of a copy reaches an SMTP
// server as an e-mail in Danish and English to the contact address.
func TestCopyNoticeBySMTP(t *testing.T) {
	dir := t.TempDir()
	mail := smtptest.Start(t, nil)
	srv := testbin.Serve(t, dir, []string{"OPENMITID_SMTP_FROM=noreply@mitid.example"}, "--demo", "--smtp-addr", mail.Addr())
	run := func(args ...string) testbin.Result { return testbin.Run(t, dir, nil, args...) }
	code, id := postJSON(t, srv.URL+"/testtool/v1/identities", "", map[string]any{"authenticators": []string{"app"},
		"email": "carl@example.dk", "user_id": "carl.copy"})
	if code != http.StatusCreated {
		t.Fatalf("test tool: %d %v", code, id)
	}
	if r := run("app", "activate", "--server", srv.URL, "--code", id["app"].(map[string]any)["activation_code"].(string),
		"--pin", "1357", "--state", "old.state", "--name", "Old phone"); r.Code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	start := exec.Command(testbin.Path(t), "app", "copy-start", "--server", srv.URL, "--user-id", "carl.copy",
		"--pin", "2468", "--state", "new.state", "--name", "Carl's new phone")
	start.Dir = dir
	out, _ := start.StdoutPipe()
	if err := start.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { start.Process.Kill(); start.Wait() })
	lines := bufio.NewScanner(out)
	payload := ""
	for payload == "" && lines.Scan() {
		if p, ok := strings.CutPrefix(lines.Text(), "QR: "); ok {
			payload = p
		}
	}
	if r := run("app", "copy-approve", "--state", "old.state", "--pin", "1357", "--qr", payload); r.Code != 0 {
		t.Fatalf("copy-approve: %+v", r)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(mail.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	msgs := mail.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].To, "carl@example.dk") || !strings.Contains(msgs[0].From, "noreply@mitid.example") {
		t.Fatalf("messages: %+v\n%s", msgs, srv.Log())
	}
	m, err := netmail.ReadMessage(strings.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if subject != "Ny MitID-app tilføjet / New MitID app added" || !bytes.Contains(body, []byte(`"Carl's new phone"`)) ||
		!bytes.Contains(body, []byte(`"Old phone"`)) || !bytes.Contains(body, []byte("Var det ikke dig")) {
		t.Fatalf("the e-mail: %q\n%s", subject, body)
	}
	if strings.Contains(srv.Log(), "carl@example.dk") {
		t.Error("the address is in the server's log")
	}
	if code, metrics := get(t, srv.URL+"/metrics"); code != 200 || !strings.Contains(metrics, `openmitid_outbox_attempts_total{outcome="sent"} 1`) {
		t.Errorf("metrics: %d, no sent message counted", code)
	}
}
