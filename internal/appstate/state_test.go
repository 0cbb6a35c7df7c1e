package appstate_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/appstate"
	"github.com/openmitid/openmitid/internal/authenticator/password"
)

// fast keeps argon2id cheap in tests; TestCreateUsesOWASP checks the default.
var fast = appstate.WithParams(password.Params{Memory: 64, Time: 1, Threads: 1})

var account = appstate.Account{
	Server: "https://idp.example", DeviceID: "dev_7Qx2mZ", UserID: "anna.hansen",
	Identity: "5f0c6e2e-7d2f-4c6a-9b1e-3f2d1c0b9a88",
}

const pin = "2580"

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// create writes a state file in a fresh directory and returns its path.
func create(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.json")
	if err := appstate.Create(path, account, key, pin, fast); err != nil {
		t.Fatal(err)
	}
	return path
}

// fields reads the state file as a generic JSON object.
func fields(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func rewrite(t *testing.T, path string, mutate func(m map[string]any)) {
	t.Helper()
	m := fields(t, path)
	mutate(m)
	b, _ := json.Marshal(m)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkFileOnly checks that path has mode 0600 and is alone in its directory:
// no temporary file was left behind.
func checkFileOnly(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		names := []string{}
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v", names)
	}
}

func TestRoundTrip(t *testing.T) {
	key := newKey(t)
	path := create(t, key)
	checkFileOnly(t, path)

	a, got, err := appstate.Unlock(path, pin)
	if err != nil {
		t.Fatal(err)
	}
	if a != account || !got.Equal(key) {
		t.Fatalf("Unlock = %+v, same key %v", a, got.Equal(key))
	}
	checkFileOnly(t, path)

	// The key is nowhere in the clear.
	raw, _ := os.ReadFile(path)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	d, _ := key.Bytes()
	for _, secret := range [][]byte{der, d} {
		for _, enc := range []func([]byte) string{
			func(b []byte) string { return string(b) },
			func(b []byte) string { m, _ := json.Marshal(b); return strings.Trim(string(m), `"`) }, // base64
		} {
			if bytes.Contains(raw, []byte(enc(secret))) {
				t.Fatal("the private key is in the file in the clear")
			}
		}
	}
	m := fields(t, path)
	if m["version"] != 1.0 || m["server"] != account.Server || m["device_id"] != account.DeviceID ||
		m["user_id"] != account.UserID || m["failed_pins"] != 0.0 || m["locked"] != false {
		t.Errorf("file %v", m)
	}
}

func TestCreateUsesOWASP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.json")
	if err := appstate.Create(path, account, newKey(t), pin); err != nil {
		t.Fatal(err)
	}
	k := fields(t, path)["kdf"].(map[string]any)
	salt, _ := k["salt"].(string)
	if k["name"] != "argon2id" || k["memory_kib"] != 19456.0 || k["time"] != 2.0 || k["threads"] != 1.0 || len(salt) != 24 {
		t.Errorf("kdf %v, want argon2id m=19456 t=2 p=1 and a 16-byte salt", k)
	}
	if _, _, err := appstate.Unlock(path, pin); err != nil {
		t.Fatal(err)
	}
}

func TestWrongPIN(t *testing.T) {
	path := create(t, newKey(t))
	for i, want := range []string{"wrong PIN (4 tries left)", "wrong PIN (3 tries left)"} {
		a, k, err := appstate.Unlock(path, "0000")
		if !errors.Is(err, appstate.ErrWrongPIN) || errors.Is(err, appstate.ErrAppLocked) || a != (appstate.Account{}) || k != nil {
			t.Fatalf("Unlock = %+v, %v, %v", a, k, err)
		}
		if err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		if n := fields(t, path)["failed_pins"]; n != float64(i+1) {
			t.Errorf("failed_pins = %v after %d", n, i+1)
		}
		checkFileOnly(t, path)
	}
	if _, _, err := appstate.Unlock(path, pin); err != nil {
		t.Fatal(err)
	}
	if n := fields(t, path)["failed_pins"]; n != 0.0 {
		t.Errorf("the right PIN left failed_pins = %v", n)
	}
}

func TestFiveWrongPINsLockAndWipe(t *testing.T) {
	path := create(t, newKey(t))
	// Four wrong, then the right one: not five in a row.
	for range appstate.MaxPINFailures - 1 {
		appstate.Unlock(path, "1111")
	}
	if _, _, err := appstate.Unlock(path, pin); err != nil {
		t.Fatalf("the right PIN after 4 wrong: %v", err)
	}
	before, _ := os.ReadFile(path)
	sealed := fields(t, path)["encrypted_key"].(string)

	for i := 1; i <= appstate.MaxPINFailures; i++ {
		_, k, err := appstate.Unlock(path, "1111")
		if k != nil || !errors.Is(err, appstate.ErrWrongPIN) {
			t.Fatalf("try %d: %v", i, err)
		}
		if locked := errors.Is(err, appstate.ErrAppLocked); locked != (i == appstate.MaxPINFailures) {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	m := fields(t, path)
	for _, gone := range []string{"kdf", "pin_check", "nonce", "encrypted_key"} {
		if _, ok := m[gone]; ok {
			t.Errorf("%s is still in the locked file", gone)
		}
	}
	if m["locked"] != true {
		t.Errorf("locked = %v", m["locked"])
	}
	after, _ := os.ReadFile(path)
	if bytes.Contains(after, []byte(sealed)) || bytes.Equal(before, after) {
		t.Error("the sealed key survived")
	}
	checkFileOnly(t, path)

	a, k, err := appstate.Unlock(path, pin)
	if !errors.Is(err, appstate.ErrAppLocked) || errors.Is(err, appstate.ErrWrongPIN) || k != nil || a != (appstate.Account{}) {
		t.Fatalf("the right PIN on a locked file: %+v, %v, %v", a, k, err)
	}
	if err.Error() != "the app is locked after 5 wrong PINs; activate it again" {
		t.Errorf("message %q", err)
	}
}

func TestTampered(t *testing.T) {
	flip := func(field string) func(m map[string]any) {
		return func(m map[string]any) {
			if field == "salt" {
				m = m["kdf"].(map[string]any)
			}
			b, err := base64.StdEncoding.DecodeString(m[field].(string))
			if err != nil {
				t.Fatal(err)
			}
			b[0] ^= 1
			m[field] = base64.StdEncoding.EncodeToString(b)
		}
	}
	set := func(field string, v any) func(m map[string]any) {
		return func(m map[string]any) { m[field] = v }
	}
	for _, tt := range []struct {
		name   string
		mutate func(m map[string]any)
		want   error // for the right PIN
	}{
		{"ciphertext", flip("encrypted_key"), appstate.ErrCorrupt},
		{"nonce", flip("nonce"), appstate.ErrCorrupt},
		{"server (bound as additional data)", set("server", "https://evil.example"), appstate.ErrCorrupt},
		{"device id", set("device_id", "dev_other"), appstate.ErrCorrupt},
		{"user id", set("user_id", "bob"), appstate.ErrCorrupt},
		{"identity", set("identity", "0b6e1a6d-55f4-4bb0-8f8a-2a4b3c5d6e7f"), appstate.ErrCorrupt},
		{"salt", flip("salt"), appstate.ErrWrongPIN},
		{"pin check", flip("pin_check"), appstate.ErrWrongPIN},
		{"version", set("version", 2), appstate.ErrCorrupt},
		{"unknown field", set("pin", "2580"), appstate.ErrCorrupt},
		{"no key", func(m map[string]any) { delete(m, "encrypted_key") }, appstate.ErrCorrupt},
		{"short nonce", set("nonce", "AAAA"), appstate.ErrCorrupt},
		{"failed_pins beyond the limit", set("failed_pins", 5), appstate.ErrCorrupt},
		{"negative failed_pins", set("failed_pins", -1), appstate.ErrCorrupt},
		{"1 TiB of memory", func(m map[string]any) { m["kdf"].(map[string]any)["memory_kib"] = 1 << 30 }, appstate.ErrCorrupt},
		{"another KDF", func(m map[string]any) { m["kdf"].(map[string]any)["name"] = "scrypt" }, appstate.ErrCorrupt},
		{"no server", set("server", ""), appstate.ErrCorrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := create(t, newKey(t))
			rewrite(t, path, tt.mutate)
			a, k, err := appstate.Unlock(path, pin)
			if !errors.Is(err, tt.want) || k != nil || a != (appstate.Account{}) {
				t.Fatalf("Unlock = %+v, %v, %v; want %v", a, k, err, tt.want)
			}
			if tt.want == appstate.ErrCorrupt && errors.Is(err, appstate.ErrWrongPIN) {
				t.Errorf("a damaged file reads as a wrong PIN: %v", err)
			}
		})
	}
}

func TestNotAStateFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"empty":     nil,
		"not JSON":  []byte("PIN=2580\n"),
		"two":       []byte(`{"version":1} {"version":1}`),
		"oversized": append([]byte(`{"version":1,"server":"`), bytes.Repeat([]byte("x"), 70<<10)...),
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, content, 0o600)
		if _, k, err := appstate.Unlock(path, pin); !errors.Is(err, appstate.ErrCorrupt) || k != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := appstate.Unlock(filepath.Join(dir, "missing"), pin); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestCreateRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.json")
	if err := os.WriteFile(path, []byte("someone else's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := appstate.CheckNew(path, false); !errors.Is(err, appstate.ErrExists) {
		t.Errorf("CheckNew: %v", err)
	}
	if err := appstate.Create(path, account, newKey(t), pin, fast); !errors.Is(err, appstate.ErrExists) {
		t.Fatalf("Create over a file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "someone else's\n" {
		t.Fatalf("the file was changed: %q", b)
	}
	if err := appstate.CheckNew(path, true); err != nil {
		t.Errorf("CheckNew with overwrite: %v", err)
	}
	key := newKey(t)
	if err := appstate.Create(path, account, key, pin, fast, appstate.Overwrite()); err != nil {
		t.Fatal(err)
	}
	checkFileOnly(t, path) // 0644 became 0600
	if _, k, err := appstate.Unlock(path, pin); err != nil || !k.Equal(key) {
		t.Fatalf("Unlock after overwrite: %v", err)
	}
	if err := appstate.CheckNew(filepath.Join(t.TempDir(), "no", "such", "dir", "app.json"), false); err == nil {
		t.Error("CheckNew: a missing directory passed")
	}
}

func TestCheckPIN(t *testing.T) {
	for _, good := range []string{"1234", "0000", "2580", "123456", "123456789012"} {
		if err := appstate.CheckPIN(good); err != nil {
			t.Errorf("CheckPIN(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"", "123", "1234567890123", "12a4", "12 34", " 1234", "-123", "١٢٣٤", "１２３４", "1234\n"} {
		err := appstate.CheckPIN(bad)
		if !errors.Is(err, appstate.ErrBadPIN) {
			t.Errorf("CheckPIN(%q) = %v", bad, err)
			continue
		}
		if len(bad) >= 3 && strings.Contains(err.Error(), bad) {
			t.Errorf("CheckPIN(%q) repeats the PIN: %v", bad, err)
		}
	}
}

func TestBadPINNeitherWritesNorCounts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.json")
	if err := appstate.Create(path, account, newKey(t), "123", fast); !errors.Is(err, appstate.ErrBadPIN) {
		t.Fatalf("Create with a 3-digit PIN: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a file was written")
	}
	path = create(t, newKey(t))
	if _, _, err := appstate.Unlock(path, "12ab"); !errors.Is(err, appstate.ErrBadPIN) {
		t.Fatalf("Unlock: %v", err)
	}
	if n := fields(t, path)["failed_pins"]; n != 0.0 {
		t.Errorf("a malformed PIN was counted: %v", n)
	}
}

func TestCreateRefuses(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, tt := range []struct {
		name string
		a    appstate.Account
		key  *ecdsa.PrivateKey
		opt  appstate.Option
	}{
		{"no key", account, nil, fast},
		{"P-384", account, p384, fast},
		{"no server", appstate.Account{DeviceID: "d", UserID: "u"}, newKey(t), fast},
		{"no device", appstate.Account{Server: "s", UserID: "u"}, newKey(t), fast},
		{"no user", appstate.Account{Server: "s", DeviceID: "d"}, newKey(t), fast},
		{"params out of bounds", account, newKey(t), appstate.WithParams(password.Params{Memory: 1 << 30, Time: 1, Threads: 1})},
	} {
		path := filepath.Join(t.TempDir(), "app.json")
		if err := appstate.Create(path, tt.a, tt.key, pin, tt.opt); err == nil {
			t.Errorf("%s: created", tt.name)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a file was written", tt.name)
		}
	}
}
