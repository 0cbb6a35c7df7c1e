package fido_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/fido"
)

// The credential of WebAuthn Level 3, §16.2 (test vectors, "none" attestation, ES256): its ID and
// COSE_Key, kept verbatim.
var (
	vectorCredentialID = mustHex("f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4")
	vectorPublicKey    = mustHex("a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func vectorCredential() fido.Credential {
	return fido.Credential{
		ID:              vectorCredentialID,
		PublicKey:       vectorPublicKey,
		AttestationType: "none",
		AAGUID:          make([]byte, 16),
		SignCount:       7,
		Transports:      []string{"usb", "nfc"},
	}
}

// TestStoredCredentialV1 reads testdata/credential-v1.json, a credential in the stored form of
// version 1, which every later version must go on reading, and checks that writing it back gives
// the same bytes.
func TestStoredCredentialV1(t *testing.T) {
	golden, err := os.ReadFile("testdata/credential-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	golden = bytes.TrimSpace(golden)
	c, err := fido.UnmarshalCredential(golden)
	if err != nil {
		t.Fatal(err)
	}
	if want := vectorCredential(); !reflect.DeepEqual(c, want) {
		t.Fatalf("UnmarshalCredential = %+v, want %+v", c, want)
	}
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, golden) {
		t.Fatalf("MarshalBinary =\n%s\nwant\n%s", b, golden)
	}
}

func TestCredentialRoundTrip(t *testing.T) {
	for _, c := range []fido.Credential{
		vectorCredential(),
		func() fido.Credential { c := vectorCredential(); c.Transports = nil; return c }(),
		func() fido.Credential { c := vectorCredential(); c.Transports = []string{}; return c }(),
		func() fido.Credential {
			c := vectorCredential()
			c.BackupEligible, c.BackupState, c.SignCount = true, true, 1<<32-1
			c.AAGUID = mustHex("2fc0579f811347eab116bb5a8db9202a")
			return c
		}(),
	} {
		b, err := c.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := fido.UnmarshalCredential(b)
		if err != nil {
			t.Fatalf("UnmarshalCredential(%s): %v", b, err)
		}
		if len(c.Transports) == 0 {
			c.Transports = nil
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("round trip of %s = %+v, want %+v", b, got, c)
		}
	}
}

func TestUnmarshalCredentialRefuses(t *testing.T) {
	golden, err := os.ReadFile("testdata/credential-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	good := string(bytes.TrimSpace(golden))
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("testdata/credential-v1.json lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"not JSON", "v=1"},
		{"array", "[]"},
		{"null", "null"},
		{"version 0", edit(`"v":1`, `"v":0`)},
		{"version 2", edit(`"v":1`, `"v":2`)},
		{"no version", edit(`"v":1,`, ``)},
		{"unknown member", edit(`"v":1,`, `"v":1,"uv":true,`)},
		{"trailing data", good + `{}`},
		{"ID not base64url", edit(`"id":"-R85`, `"id":"+R85`)},
		{"ID padded", edit(`S-Q"`, `S-Q="`)},
		{"ID in non-canonical base64url", edit(`S-Q"`, `S-R"`)},
		{"empty ID", edit(`"id":"-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q"`, `"id":""`)},
		{"ID too long", edit(`"id":"-R85HbTJsv3g6nAYnLo_tj9Xm6YSKzOtlP8-wzAIS-Q"`, `"id":"`+strings.Repeat("A", 1366)+`"`)},
		{"public key not base64url", edit(`"public_key":"pQ`, `"public_key":"p/`)},
		{"public key truncated", edit(`IlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiA"`, `"`)},
		{"public key empty", edit(`"public_key":"pQECAyYgASFYIK_voW-XypstI-uGzLZAmNINuQhWBi6yScM6m2cvJt9hIlggkwpWuHovymYzSwNFir-HlxfBLMaO1zKQry4mZHlrkiA"`, `"public_key":""`)},
		{"AAGUID not a UUID", edit(`"aaguid":"00000000-0000-0000-0000-000000000000"`, `"aaguid":"usb"`)},
		{"AAGUID missing", edit(`"aaguid":"00000000-0000-0000-0000-000000000000",`, ``)},
		{"sign count negative", edit(`"sign_count":7`, `"sign_count":-1`)},
		{"sign count over 32 bits", edit(`"sign_count":7`, `"sign_count":4294967296`)},
		{"backup state without eligibility", edit(`"backup_state":false`, `"backup_state":true`)},
		{"empty transport", edit(`["usb","nfc"]`, `["usb",""]`)},
		{"transports not strings", edit(`["usb","nfc"]`, `[1]`)},
		{"over 16 KiB", edit(`"transports":["usb","nfc"]`, `"transports":["`+strings.Repeat("u", 16<<10)+`"]`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := fido.UnmarshalCredential([]byte(tt.in))
			if err == nil || !reflect.DeepEqual(c, fido.Credential{}) {
				t.Fatalf("UnmarshalCredential = %+v, %v; want an error and nothing else", c, err)
			}
			if !strings.HasPrefix(err.Error(), "fido: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestMarshalBinaryRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *fido.Credential)
	}{
		{"no ID", func(c *fido.Credential) { c.ID = nil }},
		{"ID too long", func(c *fido.Credential) { c.ID = make([]byte, 1024) }},
		{"no public key", func(c *fido.Credential) { c.PublicKey = nil }},
		{"public key not COSE", func(c *fido.Credential) { c.PublicKey = []byte{0xa0} }},
		{"AAGUID of 15 bytes", func(c *fido.Credential) { c.AAGUID = make([]byte, 15) }},
		{"no AAGUID", func(c *fido.Credential) { c.AAGUID = nil }},
		{"backup state without eligibility", func(c *fido.Credential) { c.BackupState = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := vectorCredential()
			tt.edit(&c)
			if b, err := c.MarshalBinary(); err == nil || b != nil {
				t.Fatalf("MarshalBinary = %q, %v; want an error", b, err)
			}
		})
	}
}

// TestUserHandle checks that the user handle is the identity UUID's 16 bytes and nothing about
// the person (WebAuthn Level 3, §14.6.1).
func TestUserHandle(t *testing.T) {
	u := fido.User{IdentityUUID: "6f1c1a8e-0d52-4a8f-9a64-3f2b8f0f7a11", UserID: "anna1990", DisplayName: "Anna Jensen"}
	if got, want := u.WebAuthnID(), mustHex("6f1c1a8e0d524a8f9a643f2b8f0f7a11"); !bytes.Equal(got, want) {
		t.Fatalf("WebAuthnID = %x, want %x", got, want)
	}
	if u.WebAuthnName() != "anna1990" || u.WebAuthnDisplayName() != "Anna Jensen" {
		t.Errorf("names %q, %q", u.WebAuthnName(), u.WebAuthnDisplayName())
	}
	u.DisplayName = ""
	if u.WebAuthnDisplayName() != "anna1990" {
		t.Errorf("display name without a name = %q, want the user ID", u.WebAuthnDisplayName())
	}
	for _, bad := range []string{"", "anna1990", "0101901234", "6f1c1a8e-0d52-4a8f-9a64-3f2b8f0f7a1"} {
		u.IdentityUUID = bad
		if got := u.WebAuthnID(); got != nil {
			t.Errorf("WebAuthnID of identity UUID %q = %x, want nil", bad, got)
		}
	}
	u.IdentityUUID = "6f1c1a8e-0d52-4a8f-9a64-3f2b8f0f7a11"
	u.Credentials = []fido.Credential{vectorCredential()}
	if rs := u.WebAuthnCredentials(); len(rs) != 1 || !bytes.Equal(rs[0].ID, vectorCredentialID) ||
		rs[0].Authenticator.SignCount != 7 || string(rs[0].Transport[1]) != "nfc" {
		t.Errorf("WebAuthnCredentials = %+v", rs)
	}
}
