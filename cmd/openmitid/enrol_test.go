package main_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/testbin"
)

// enrolServer is `openmitid serve --demo` with a face-verification service
// that says every face matches, so that nobody has to play the caseworker.
func enrolServer(t *testing.T, dir string) *testbin.Server {
	t.Helper()
	faces := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]string
		if json.NewDecoder(r.Body).Decode(&req) != nil || req["reference_image"] == "" || req["probe_image"] == "" {
			http.Error(w, "bad request", 400)
			return
		}
		io.WriteString(w, `{"match": true, "score": 0.97, "liveness": true}`)
	}))
	t.Cleanup(faces.Close)
	srv := testbin.Serve(t, dir, nil, "--demo", "--face-verifier", faces.URL)
	// internal/server mounts enrolment; a server built before it does
	// answers 404 here.
	resp, err := http.Post(srv.URL+"/app/v1/enrolments", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		t.Skip("the server does not mount the enrolment API yet (internal/server/server.go)")
	}
	return srv
}

func addPerson(t *testing.T, base, name, birthdate string) string {
	t.Helper()
	code, m := postJSON(t, base+"/testtool/v1/persons", "", map[string]any{"name": name, "birthdate": birthdate})
	if code != http.StatusCreated {
		t.Fatalf("test tool: %d %v", code, m)
	}
	return m["cpr"].(string)
}

// TestEnrolPassportCommand: `testdata passport` makes a passport, and
// `app enrol-passport` enrols with it against `serve --demo`; the identity
// then logs in with `app approve`. A tampered DG1, a rogue CSCA, a cloned
// chip and a 12-year-old are refused, each with its reason.
func TestEnrolPassportCommand(t *testing.T) {
	dir := t.TempDir()
	srv := enrolServer(t, dir)
	run := func(args ...string) testbin.Result { return testbin.Run(t, dir, nil, args...) }

	// A --face-verifier that is neither review nor a URL stops the server at once.
	if r := run("serve", "--addr", testbin.FreeAddr(t), "--db", "sqlite:other.db", "--demo", "--face-verifier", "revue"); r.Code != 1 ||
		!strings.Contains(r.Stderr, `openmitid serve: --face-verifier: face: "revue" is neither "review" nor the http(s) URL`) {
		t.Fatalf("a bad --face-verifier: %+v", r)
	}

	cprNo := addPerson(t, srv.URL, "Anna Marie Hansen", "1990-01-02")
	r := run("testdata", "passport", "--out", "anna.json", "--name", "Anna Marie Hansen", "--birthdate", "1990-01-02", "--face-out", "anna.jpg")
	if r.Code != 0 || !strings.Contains(r.Stdout, "HANSEN ANNA MARIE") {
		t.Fatalf("testdata passport: %+v", r)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "anna.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		MRZ   string            `json:"mrz"`
		Files map[string]string `json:"files"`
		AAKey string            `json:"aa_key"`
	}
	if err := json.Unmarshal(raw, &dump); err != nil || dump.AAKey == "" || dump.Files["DG1"] == "" || dump.Files["DG2"] == "" ||
		dump.Files["DG15"] == "" || dump.Files["SOD"] == "" || !strings.HasPrefix(dump.MRZ, "P<DNKHANSEN<<ANNA<MARIE") {
		t.Fatalf("the dump is not CONTRACT.md's: %v %s", err, raw[:min(200, len(raw))])
	}
	if fi, _ := os.Stat(filepath.Join(dir, "anna.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("the dump, which holds the chip's key, is %v", fi.Mode().Perm())
	}

	enrol := func(passport, face, cprNo, userID, state string) testbin.Result {
		return run("app", "enrol-passport", "--server", srv.URL, "--passport", passport, "--selfie", face, "--cpr", cprNo,
			"--user-id", userID, "--password", "correct horse battery", "--pin", "1234", "--state", state, "--wait", "30s")
	}
	r = enrol("anna.json", "anna.jpg", cprNo, "anna.hansen", "anna.state")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Enrolled: user ID anna.hansen, level substantial") {
		t.Fatalf("enrol-passport: %+v", r)
	}
	code, body := get(t, srv.URL+"/testtool/v1/identities/anna.hansen")
	if code != 200 || !strings.Contains(body, `"state":"active"`) || !strings.Contains(body, `"ial":"substantial"`) || !strings.Contains(body, `"kind":"app"`) {
		t.Fatalf("identity: %d %s", code, body)
	}
	// A second enrolment of the same person is refused.
	r = enrol("anna.json", "anna.jpg", cprNo, "anna.two", "anna2.state")
	if r.Code != 1 || !strings.Contains(r.Stderr, "already_enrolled") {
		t.Fatalf("second enrolment: %+v", r)
	}

	// The identity logs in with the app it enrolled.
	f := startFlow(t, srv.URL)
	m := f.step(t, map[string]any{"step": "identify", "user_id": "anna.hansen"})
	if m["state"] != "waiting_for_app" {
		t.Fatalf("identify: %v", m)
	}
	r = run("app", "approve", "--state", "anna.state", "--pin", "1234", "--binding", m["binding_code"].(string), "--wait", "10s")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Approved.") {
		t.Fatalf("approve: %+v", r)
	}
	if m := f.get(t); m["state"] != "done" || m["level"] != "substantial" {
		t.Fatalf("login: %v", m)
	}

	// Refusals.
	tampered := strings.Replace(string(raw), dump.Files["DG1"], tamperB64(t, dump.Files["DG1"]), 1)
	if err := os.WriteFile(filepath.Join(dir, "tampered.json"), []byte(tampered), 0o600); err != nil {
		t.Fatal(err)
	}
	bo := addPerson(t, srv.URL, "Bo Jensen", "1985-05-05")
	kidBorn := time.Now().AddDate(-12, -2, 0).Format(time.DateOnly)
	kid := addPerson(t, srv.URL, "Lille Jensen", kidBorn)
	for _, tt := range []struct {
		name, flags    string
		passport, cpr  string
		name2, born    string
		code, sentence string
	}{
		{name: "tampered DG1", passport: "tampered.json", cpr: cprNo, code: "document_tampered", sentence: "has been changed"},
		{name: "rogue CSCA", flags: "--rogue-csca", name2: "Bo Jensen", born: "1985-05-05", cpr: bo, code: "document_signer_unknown", sentence: "not issued by an authority we can check"},
		{name: "cloned chip", flags: "--clone-chip", name2: "Bo Jensen", born: "1985-05-05", cpr: bo, code: "chip_authentication_failed", sentence: "did not prove that it is genuine"},
		{name: "12 years old", name2: "Lille Jensen", born: kidBorn, cpr: kid, code: "too_young", sentence: "at least 13 years old"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			passport, face := tt.passport, "anna.jpg"
			if passport == "" {
				base := strings.ReplaceAll(tt.name, " ", "-")
				passport, face = base+".json", base+".jpg"
				args := []string{"testdata", "passport", "--out", passport, "--name", tt.name2, "--birthdate", tt.born, "--face-out", face}
				if tt.flags != "" {
					args = append(args, tt.flags)
				}
				if r := run(args...); r.Code != 0 {
					t.Fatalf("testdata passport: %+v", r)
				}
			}
			r := enrol(passport, face, tt.cpr, "refused.person", strings.ReplaceAll(tt.name, " ", "-")+".state")
			if r.Code != 1 || !strings.Contains(r.Stderr, tt.code) || !strings.Contains(r.Stderr, tt.sentence) {
				t.Fatalf("enrol-passport: %+v", r)
			}
			if _, err := os.Stat(filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".state")); err == nil {
				t.Error("a state file was written for a refused enrolment")
			}
		})
	}
	if code, _ := get(t, srv.URL+"/testtool/v1/identities/refused.person"); code != 404 {
		t.Errorf("a refused enrolment left an identity: %d", code)
	}
}

// tamperB64 changes one byte near the end of a base64 file, inside DG1's MRZ.
func tamperB64(t *testing.T, b64 string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 1
	return base64.StdEncoding.EncodeToString(b)
}

// TestTestdataPassportCommand: the flags, and mistakes refused as usage errors.
func TestTestdataPassportCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) testbin.Result { return testbin.Run(t, dir, nil, args...) }
	r := run("testdata", "passport", "--out", "p.json", "--name", "Jürgen Müller", "--birthdate", "1961-07-01", "--face-out", "f.jpg",
		"--nationality", "DEU", "--document-number", "c01x00t47", "--expiry", "2031-01-31", "--sex", "M")
	if r.Code != 0 {
		t.Fatalf("%+v", r)
	}
	f, _ := os.Open(filepath.Join(dir, "p.json"))
	d, err := emrtd.ParseDump(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	m, err := emrtd.ParseMRZ(d.MRZ)
	if err != nil || m.Surname != "MUELLER" || m.GivenNames != "JUERGEN" || m.Nationality != "DEU" || m.DocumentNumber != "C01X00T47" ||
		m.DateOfExpiry != "310131" || m.Sex != emrtd.SexMale || m.DateOfBirth != "610701" {
		t.Fatalf("MRZ %+v, %v", m, err)
	}
	face, _ := os.ReadFile(filepath.Join(dir, "f.jpg"))
	portrait, err := emrtd.ParseDG2(d.Files["DG2"])
	if err != nil || string(portrait.Image) != string(face) {
		t.Fatalf("--face-out is not DG2's portrait: %v", err)
	}
	// Not again without --force.
	if r := run("testdata", "passport", "--out", "p.json", "--name", "A B", "--birthdate", "1961-07-01", "--face-out", "f.jpg"); r.Code != 1 || !strings.Contains(r.Stderr, "--force") {
		t.Fatalf("overwrite: %+v", r)
	}
	for _, args := range [][]string{
		{"--name", "A B", "--birthdate", "1961-07-01", "--face-out", "x.jpg"},                     // no --out
		{"--out", "x.json", "--name", "Cher", "--birthdate", "1961-07-01", "--face-out", "x.jpg"}, // one name
		{"--out", "x.json", "--name", "A B", "--birthdate", "01-07-1961", "--face-out", "x.jpg"},  // date
		{"--out", "x.json", "--name", "A B", "--birthdate", "1961-07-01", "--face-out", "x.jpg", "--sex", "Q"},
		{"--out", "x.json", "--name", "A B", "--birthdate", "1961-07-01", "--face-out", "x.jpg", "--bogus"},
	} {
		if r := run(append([]string{"testdata", "passport"}, args...)...); r.Code != 2 || r.Stderr == "" || strings.Contains(r.Stderr, "goroutine") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// TestAdminCSCA: import certificates and a master list into the trust list,
// print the master list's signer for comparison, refuse what is not a CSCA,
// and list the result.
func TestAdminCSCA(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) testbin.Result { return testbin.Run(t, dir, nil, args...) }
	if _, err := pki.CreateKEKFile(filepath.Join(dir, "openmitid.kek"), nil); err != nil {
		t.Fatal(err)
	}
	if r := run("migrate"); r.Code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	testdata := func(p string) string {
		abs, err := filepath.Abs(filepath.Join("..", "..", "internal", "emrtd", "testdata", p))
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	if r := run("admin", "csca", "list"); r.Code != 0 || !strings.Contains(r.Stdout, "The trust list is empty") {
		t.Fatalf("list empty: %+v", r)
	}
	r := run("admin", "csca", "import", testdata("pki/csca.pem"))
	if r.Code != 0 || !strings.Contains(r.Stdout, "1 CSCA certificates added") {
		t.Fatalf("import PEM: %+v", r)
	}
	r = run("admin", "csca", "import", testdata("masterlist/demo-masterlist.der"))
	if r.Code != 0 || !strings.Contains(r.Stdout, "its signature verifies") || !strings.Contains(r.Stdout, "EC:39:92:6B") ||
		!strings.Contains(r.Stdout, "2 CSCA certificates added to the trust list (1 already in it)") {
		t.Fatalf("import master list: %+v", r)
	}
	// All or nothing: a document signer among the files adds none of them.
	r = run("admin", "csca", "import", testdata("masterlist/demo-masterlist.der"), testdata("pki/ds-rsa.pem"))
	if r.Code != 1 || !strings.Contains(r.Stderr, "not a CSCA certificate") {
		t.Fatalf("import a DS: %+v", r)
	}
	r = run("admin", "csca", "import", testdata("masterlist/tampered-masterlist.der"))
	if r.Code != 1 || !strings.Contains(r.Stderr, "signature does not verify") {
		t.Fatalf("import a tampered master list: %+v", r)
	}
	if r := run("admin", "csca", "import"); r.Code != 2 {
		t.Fatalf("no files: %+v", r)
	}
	r = run("admin", "csca", "list")
	if r.Code != 0 || !strings.Contains(r.Stdout, "3 CSCA certificates.") || !strings.Contains(r.Stdout, "C=DE, O=csca-brainpool-state") {
		t.Fatalf("list: %+v", r)
	}
	if r := run("audit", "verify"); r.Code != 0 {
		t.Fatalf("audit: %+v", r)
	}
}

// TestEnrolPassportChipAuthentication: a passport without DG15 enrols by
// chip authentication through the built binary, its cloned twin, whose
// chip lacks DG14's private key, is refused, and reactivation takes one too.
func TestEnrolPassportChipAuthentication(t *testing.T) {
	dir := t.TempDir()
	srv := enrolServer(t, dir)
	run := func(args ...string) testbin.Result { return testbin.Run(t, dir, nil, args...) }
	enrol := func(passport, face, cprNo, userID, state string) testbin.Result {
		return run("app", "enrol-passport", "--server", srv.URL, "--passport", passport, "--selfie", face, "--cpr", cprNo,
			"--user-id", userID, "--password", "correct horse battery", "--pin", "1234", "--state", state, "--wait", "30s")
	}

	if r := run("testdata", "passport", "--out", "x.json", "--name", "Ea Holm", "--birthdate", "1990-01-02", "--face-out", "x.jpg",
		"--chip-authentication", "rsa"); r.Code != 2 || !strings.Contains(r.Stderr, `--chip-authentication "rsa": want 3des or aes128`) {
		t.Fatalf("a bad --chip-authentication: %+v", r)
	}

	cprNo := addPerson(t, srv.URL, "Ea Holm", "1991-03-04")
	for _, tt := range []struct {
		name, ca, clone string
		wantCode        int
		want            string
	}{
		// The clone comes first: its refusal leaves the person free to
		// enrol with the genuine passport.
		{"aes128 cloned", "aes128", "--clone-chip", 1, "chip_authentication_failed"},
		{"aes128", "aes128", "", 0, "Enrolled: user ID ea.holm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"testdata", "passport", "--out", "ea.json", "--name", "Ea Holm", "--birthdate", "1991-03-04",
				"--face-out", "ea.jpg", "--chip-authentication", tt.ca, "--force"}
			if tt.clone != "" {
				args = append(args, tt.clone)
			}
			if r := run(args...); r.Code != 0 || !strings.Contains(r.Stdout, "proves itself genuine by chip authentication (aes128)") {
				t.Fatalf("testdata passport: %+v", r)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "ea.json"))
			if err != nil {
				t.Fatal(err)
			}
			var dump struct {
				Files map[string]string `json:"files"`
				AAKey string            `json:"aa_key"`
				CAKey string            `json:"ca_key"`
			}
			if err := json.Unmarshal(raw, &dump); err != nil || dump.Files["DG15"] != "" || dump.AAKey != "" || dump.CAKey == "" || dump.Files["DG14"] == "" {
				t.Fatalf("a chip-authentication-only dump: %v %s", err, raw[:min(200, len(raw))])
			}
			r := enrol("ea.json", "ea.jpg", cprNo, "ea.holm", strings.ReplaceAll(tt.name, " ", "-")+".state")
			if r.Code != tt.wantCode || !strings.Contains(r.Stdout+r.Stderr, tt.want) {
				t.Fatalf("enrol-passport: %+v", r)
			}
		})
	}
	// The phone is lost; the MitID comes back by reactivation with a chip
	// that does 3DES chip authentication.
	if r := run("app", "block", "--state", "aes128.state", "--pin", "1234"); r.Code != 0 {
		t.Fatalf("block: %+v", r)
	}
	if r := run("testdata", "passport", "--out", "ea3.json", "--name", "Ea Holm", "--birthdate", "1991-03-04",
		"--face-out", "ea3.jpg", "--chip-authentication", "3des"); r.Code != 0 {
		t.Fatalf("testdata passport: %+v", r)
	}
	r := run("app", "reactivate-passport", "--server", srv.URL, "--passport", "ea3.json", "--selfie", "ea3.jpg",
		"--cpr", cprNo, "--pin", "5678", "--state", "new.state", "--wait", "30s")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Reactivated: user ID ea.holm") {
		t.Fatalf("reactivate-passport: %+v", r)
	}
}
