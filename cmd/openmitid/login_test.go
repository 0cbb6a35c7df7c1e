package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/testbin"
)

// These tests drive `openmitid serve --demo` as a person with a terminal
// would: HTTP for the flow (as curl), oathtool for codes, `openmitid app` for
// the phone.

func oathtool(t *testing.T, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("oathtool is not installed; .ci/run installs it")
		}
		t.Skip("oathtool is not installed")
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		t.Fatalf("oathtool %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func postJSON(t *testing.T, url, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Flow-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(out, &m)
	return resp.StatusCode, m
}

type cliFlow struct {
	url, id, token string
}

func startFlow(t *testing.T, base string) *cliFlow {
	t.Helper()
	code, m := postJSON(t, base+"/authn/v1/flows", "", map[string]any{"client_id": "demo", "level": "substantial"})
	if code != 201 {
		t.Fatalf("flow: %d %v", code, m)
	}
	return &cliFlow{url: base + "/authn/v1/flows/" + m["flow_id"].(string), id: m["flow_id"].(string), token: m["flow_token"].(string)}
}

func (f *cliFlow) step(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	_, m := postJSON(t, f.url, f.token, body)
	return m
}

func (f *cliFlow) get(t *testing.T) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.url, nil)
	req.Header.Set("X-Flow-Token", f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return m
}

func TestCommandLineLogins(t *testing.T) {
	dir := t.TempDir()
	srv := testbin.Serve(t, dir, nil, "--demo")
	_, id := postJSON(t, srv.URL+"/testtool/v1/identities", "", map[string]any{"name": "Karen Blixen", "authenticators": []string{"app", "code_display"}})
	user, pw := id["user_id"].(string), id["password"].(string)
	secret := id["code_display"].(map[string]any)["secret"].(string)

	t.Run("password and code display", func(t *testing.T) {
		f := startFlow(t, srv.URL)
		f.step(t, map[string]any{"step": "identify", "user_id": user, "method": "code_display"})
		f.step(t, map[string]any{"step": "password", "password": pw})
		code := oathtool(t, "--totp", "-b", secret)
		if m := f.step(t, map[string]any{"step": "code", "code": code}); m["state"] != "done" || m["level"] != "substantial" {
			t.Fatalf("code display login: %v", m)
		}
		// The same code in a new login: refused.
		g := startFlow(t, srv.URL)
		g.step(t, map[string]any{"step": "identify", "user_id": user, "method": "code_display"})
		g.step(t, map[string]any{"step": "password", "password": pw})
		if m := g.step(t, map[string]any{"step": "code", "code": code}); m["error"] != "wrong_code" {
			t.Fatalf("replayed code: %v", m)
		}
		// Two more wrong codes lock the code display; the right one is refused then.
		g.step(t, map[string]any{"step": "code", "code": "000001"})
		if m := g.step(t, map[string]any{"step": "code", "code": "000002"}); m["error"] != "code_locked" {
			t.Fatalf("third wrong code: %v", m)
		}
		if m := g.step(t, map[string]any{"step": "code", "code": oathtool(t, "--totp", "-b", "-N", "now + 30 seconds", secret)}); m["error"] != "code_locked" {
			t.Fatalf("a right code while locked: %v", m)
		}
	})

	state := filepath.Join(dir, "phone.state")
	if r := testbin.Run(t, dir, nil, "app", "activate", "--server", srv.URL, "--code", id["app"].(map[string]any)["activation_code"].(string),
		"--pin", "1357", "--state", state); r.Code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	identify := func(t *testing.T) (*cliFlow, map[string]any) {
		f := startFlow(t, srv.URL)
		m := f.step(t, map[string]any{"step": "identify", "user_id": user})
		if m["state"] != "waiting_for_app" {
			t.Fatalf("identify: %v", m)
		}
		return f, m
	}

	t.Run("app with the right binding", func(t *testing.T) {
		f, m := identify(t)
		r := testbin.Run(t, dir, nil, "app", "approve", "--state", state, "--pin", "1357", "--binding", m["binding_code"].(string), "--wait", "10s")
		if r.Code != 0 || !strings.Contains(r.Stdout, "OpenMitID Demo") {
			t.Fatalf("approve: %+v", r)
		}
		if v := f.get(t); v["state"] != "done" || v["level"] != "substantial" {
			t.Fatalf("after approve: %v", v)
		}
	})
	t.Run("app with a QR frame", func(t *testing.T) {
		f, m := identify(t)
		r := testbin.Run(t, dir, nil, "app", "approve", "--state", state, "--pin", "1357", "--binding", m["qr"].(string), "--wait", "10s")
		if r.Code != 0 {
			t.Fatalf("approve: %+v", r)
		}
		if v := f.get(t); v["state"] != "done" {
			t.Fatalf("after approve: %v", v)
		}
	})
	t.Run("wrong binding", func(t *testing.T) {
		f, m := identify(t)
		wrong := "0000"
		if m["binding_code"] == wrong {
			wrong = "9999"
		}
		r := testbin.Run(t, dir, nil, "app", "approve", "--state", state, "--pin", "1357", "--binding", wrong, "--wait", "10s")
		if r.Code != 1 || !strings.Contains(r.Stderr, "does not match") {
			t.Fatalf("wrong binding: %+v", r)
		}
		if v := f.get(t); v["state"] != "waiting_for_app" {
			t.Fatalf("after a wrong binding: %v", v)
		}
		f.step(t, map[string]any{"step": "cancel"})
	})
	t.Run("no binding", func(t *testing.T) {
		f, _ := identify(t)
		r := testbin.Run(t, dir, nil, "app", "approve", "--state", state, "--pin", "1357", "--wait", "10s")
		if r.Code != 1 || !strings.Contains(r.Stderr, "Scan the QR code") {
			t.Fatalf("approve without binding: %+v", r)
		}
		if v := f.get(t); v["state"] != "waiting_for_app" {
			t.Fatalf("after an unbound approve: %v", v)
		}
		f.step(t, map[string]any{"step": "cancel"})
	})
	t.Run("wrong PIN", func(t *testing.T) {
		f, m := identify(t)
		r := testbin.Run(t, dir, nil, "app", "approve", "--state", state, "--pin", "2468", "--binding", m["binding_code"].(string), "--wait", "5s")
		if r.Code != 1 || !strings.Contains(r.Stderr, "wrong PIN") {
			t.Fatalf("wrong PIN: %+v", r)
		}
		if v := f.get(t); v["state"] != "waiting_for_app" {
			t.Fatalf("after a wrong PIN: %v", v)
		}
		f.step(t, map[string]any{"step": "cancel"})
	})
	t.Run("I did not start this", func(t *testing.T) {
		f, _ := identify(t)
		r := testbin.Run(t, dir, nil, "app", "approve", "--state", state, "--pin", "1357", "--report-fraud", "--wait", "10s")
		if r.Code != 0 {
			t.Fatalf("fraud report: %+v", r)
		}
		if v := f.get(t); v["state"] != "failed" || v["error"] != "fraud_reported" {
			t.Fatalf("after a fraud report: %v", v)
		}
	})
}

// TestImportedTokens: a vendor's PSKC file is imported, a token assigned by
// serial, and a code from it (computed by oathtool from the seed) logs in.
func TestImportedTokens(t *testing.T) {
	dir := t.TempDir()
	srv := testbin.Serve(t, dir, nil, "--demo")
	_, id := postJSON(t, srv.URL+"/testtool/v1/identities", "", map[string]any{"name": "Niels Bohr"})
	srv.Stop(t)
	pskc, _ := filepath.Abs("../../internal/authenticator/otp/testdata/pskc/gen-totp-aes128-batch.xml")
	r := testbin.Run(t, dir, nil, "admin", "tokens", "import", "--key", "Pre-shared-key=12345678901234567890123456789012", pskc)
	if r.Code != 0 || !strings.Contains(r.Stdout, "imported 3 code_display tokens") {
		t.Fatalf("import: %+v", r)
	}
	if r = testbin.Run(t, dir, nil, "admin", "tokens", "import", "--key", "Pre-shared-key=12345678901234567890123456789012", pskc); r.Code != 1 || !strings.Contains(r.Stderr, "in stock already") {
		t.Fatalf("importing twice: %+v", r)
	}
	if r = testbin.Run(t, dir, nil, "admin", "tokens", "import", "--key", "Pre-shared-key=00000000000000000000000000000000", pskc); r.Code != 1 {
		t.Fatalf("the wrong key: %+v", r)
	}
	if r = testbin.Run(t, dir, nil, "admin", "tokens", "assign", "--serial", "CD0000002", "--user-id", id["user_id"].(string)); r.Code != 0 {
		t.Fatalf("assign: %+v", r)
	}
	if r = testbin.Run(t, dir, nil, "admin", "tokens", "assign", "--serial", "CD0000002", "--user-id", id["user_id"].(string)); r.Code != 1 || !strings.Contains(r.Stderr, "assigned to someone") {
		t.Fatalf("assigning twice: %+v", r)
	}
	srv = testbin.Serve(t, dir, nil, "--demo")
	f := startFlow(t, srv.URL)
	f.step(t, map[string]any{"step": "identify", "user_id": id["user_id"], "method": "code_display"})
	f.step(t, map[string]any{"step": "password", "password": id["password"]})
	// CD0000002's seed, as the golden file of the PSKC generator gives it.
	code := oathtool(t, "--totp", "4d12fe4beba1816af92799c28c582800d7a3a63e")
	if m := f.step(t, map[string]any{"step": "code", "code": code}); m["state"] != "done" {
		t.Fatalf("login with the imported token: %v", m)
	}
}
