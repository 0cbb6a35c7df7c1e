package app_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/pkg/appclient"
)

const goodID = "0b6c1c8e-6a3c-4c1e-9d1f-2a7b0e3c4d5e"

var goodSecret = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

func TestParseCopyQR(t *testing.T) {
	id, secret, err := app.ParseCopyQR(" openmitid-copy1." + goodID + "." + goodSecret + "\n")
	if err != nil || id != goodID || !bytes.Equal(secret, bytes.Repeat([]byte{7}, 32)) {
		t.Fatalf("%q %x %v", id, secret, err)
	}
	for _, bad := range []string{
		"",
		"openmitid-copy1.",
		"openmitid1." + goodID + "." + goodSecret,                                                  // a login QR frame
		"openmitid-copy2." + goodID + "." + goodSecret,                                             // another version
		"openmitid-copy1." + goodID,                                                                // no secret
		"openmitid-copy1." + goodID + "." + goodSecret[:40],                                        // short secret
		"openmitid-copy1." + goodID + "." + goodSecret + "AA",                                      // long secret
		"openmitid-copy1." + goodID + "." + goodSecret + "=",                                       // padded
		"openmitid-copy1." + goodID + "." + strings.ToUpper(goodSecret[:1]) + "+" + goodSecret[2:], // not base64url
		"openmitid-copy1.not-a-uuid." + goodSecret,
		"openmitid-copy1." + strings.ReplaceAll(goodID, "-", "") + "." + goodSecret, // a UUID without dashes
		"openmitid-copy1.{" + goodID + "}." + goodSecret,
		"openmitid-copy1." + goodID + "." + goodSecret + "." + goodSecret,
		"openmitid-copy1." + goodID + "." + strings.Repeat("A", 300),
	} {
		if id, secret, err := app.ParseCopyQR(bad); !errors.Is(err, app.ErrCopyBadQR) || id != "" || secret != nil {
			t.Errorf("%q: %q %x %v", bad, id, secret, err)
		}
	}
}

func FuzzParseCopyQR(f *testing.F) {
	f.Add("openmitid-copy1." + goodID + "." + goodSecret)
	f.Add("openmitid-copy1." + goodID + ".")
	f.Add("openmitid1.x.1.y")
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := app.ParseCopyQR(s)
		if err != nil {
			if id != "" || secret != nil {
				t.Fatalf("error with results: %q %x", id, secret)
			}
			return
		}
		if len(secret) != 32 || len(id) != 36 {
			t.Fatalf("%q: id %q, %d-byte secret", s, id, len(secret))
		}
		// What parses is what the server makes: prefix, id, base64url secret.
		again := "openmitid-copy1." + id + "." + base64.RawURLEncoding.EncodeToString(secret)
		if id2, s2, err := app.ParseCopyQR(again); err != nil || id2 != id || !bytes.Equal(s2, secret) {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

// The client and the server compute the signed messages each by their own
// code, from docs/app-api.md: they must agree byte for byte.
func TestCopyMessagesAgree(t *testing.T) {
	key := []byte("a key's DER")
	if a, b := app.CopyApprovalMessage("id", key, "Pixel"), appclient.CopyApprovalMessage("id", key, "Pixel"); !bytes.Equal(a, b) {
		t.Errorf("approval message: server %q, client %q", a, b)
	}
	if a, b := app.CopyProofMessage("anna", "PUB"), appclient.CopyProofMessage("anna", "PUB"); !bytes.Equal(a, b) {
		t.Errorf("proof message: server %q, client %q", a, b)
	}
	if want := "OMIDCPA1\nid\n" + app.KeyFingerprint(key) + "\nPixel"; string(app.CopyApprovalMessage("id", key, "Pixel")) != want {
		t.Errorf("approval message %q", app.CopyApprovalMessage("id", key, "Pixel"))
	}
}
