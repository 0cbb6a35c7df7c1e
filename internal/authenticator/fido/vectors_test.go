package fido_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/fido"
)

// TestSpecVectors runs the test vectors of WebAuthn Level 3, §16, kept verbatim in
// testdata/webauthn3-*.txt, through both ceremonies, and checks each outcome the file names.
// The spec's challenges are fixed, so the service reads them as its randomness.
func TestSpecVectors(t *testing.T) {
	files, err := filepath.Glob("testdata/webauthn3-*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 7 {
		t.Fatalf("%d vector files, want 7", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			v := readVector(t, file)
			u := fido.User{IdentityUUID: "3c9a6e1f-5b2d-4f0e-8a7c-1d2e3f405162", UserID: "vector"}

			s := vectorService(t, v.hex("registration_challenge"))
			_, sess, err := s.BeginRegistration(u)
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.FinishRegistration(u, sess, vectorResponse(t, v, map[string]string{
				"clientDataJSON":    "registration_client_data_json",
				"attestationObject": "registration_attestation_object",
			}))
			checkOutcome(t, "registration", v["registration_want"], c, err)
			if err == nil && (!bytes.Equal(c.ID, v.hex("credential_id")) || !bytes.Equal(c.PublicKey, v.hex("credential_public_key")) ||
				c.AttestationType != v["registration_attestation_type"]) {
				t.Errorf("registered credential %x with key %x, attestation type %q; want the vector's", c.ID, c.PublicKey, c.AttestationType)
			}

			u.Credentials = []fido.Credential{{
				ID:             v.hex("credential_id"),
				PublicKey:      v.hex("credential_public_key"),
				AAGUID:         make([]byte, 16),
				BackupEligible: v["credential_backup_eligible"] == "true",
				BackupState:    v["credential_backup_state"] == "true",
			}}
			s = vectorService(t, v.hex("authentication_challenge"))
			_, sess, err = s.BeginLogin(u)
			if err != nil {
				t.Fatal(err)
			}
			c, err = s.FinishLogin(u, sess, vectorResponse(t, v, map[string]string{
				"clientDataJSON":    "authentication_client_data_json",
				"authenticatorData": "authentication_authenticator_data",
				"signature":         "authentication_signature",
			}))
			checkOutcome(t, "authentication", v["authentication_want"], c, err)
			if err == nil && c.SignCount != 0 {
				t.Errorf("sign count %d after the vector's zero counter", c.SignCount)
			}
		})
	}
}

// vector is a test vector file: "name: value" lines; lines starting with # are comments.
type vector map[string]string

func readVector(t *testing.T, file string) vector {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := vector{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("%s: line %q", file, line)
		}
		v[name] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v vector) hex(name string) []byte {
	b, err := hex.DecodeString(v[name])
	if err != nil || len(b) == 0 {
		panic("vector member " + name + " is not hex")
	}
	return b
}

// vectorService is a service for the vectors' relying party whose next challenge is challenge.
func vectorService(t *testing.T, challenge []byte) *fido.Service {
	t.Helper()
	if len(challenge) != 32 {
		t.Fatalf("challenge of %d bytes; the service makes 32", len(challenge))
	}
	s, err := fido.New(fido.Config{RPID: "example.org", RPName: "Example", Origins: []string{"https://example.org"},
		Rand: bytes.NewReader(challenge)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// vectorResponse makes the PublicKeyCredential JSON of a ceremony from the vector's members,
// members mapping a member of "response" to the vector's name for it.
func vectorResponse(t *testing.T, v vector, members map[string]string) []byte {
	t.Helper()
	id := b64.EncodeToString(v.hex("credential_id"))
	r := map[string]string{}
	for member, name := range members {
		r[member] = b64.EncodeToString(v.hex(name))
	}
	b, err := json.Marshal(map[string]any{"id": id, "rawId": id, "type": "public-key", "response": r})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkOutcome(t *testing.T, ceremony, want string, c fido.Credential, err error) {
	t.Helper()
	switch {
	case want == "ok" && err != nil:
		t.Errorf("%s: %v, want it accepted", ceremony, err)
	case want != "ok" && fido.Code(err) != want:
		t.Errorf("%s: %v (code %q), want %s", ceremony, err, fido.Code(err), want)
	case want != "ok":
		wantRefusal(t, c, err, err)
	}
}
