package appclient_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/pkg/appclient"
)

// TestScanCopyChecksFingerprint: the old app shows the key the server says
// the new phone has, and refuses an answer whose fingerprint is not that
// key's (a server, or a path to it, that would have the person approve one
// key while showing another).
func TestScanCopyChecksFingerprint(t *testing.T) {
	newKey := testKey(t)
	pub, _ := appclient.EncodePublicKey(&newKey.PublicKey)
	der, _ := decodeStd(pub)
	sum := sha256.Sum256(der)
	const qr = "openmitid-copy1.0b6c1c8e-6a3c-4c1e-9d1f-2a7b0e3c4d5e.BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
	for _, tc := range []struct {
		name, fingerprint string
		ok                bool
	}{
		{"right", hex.EncodeToString(sum[:]), true},
		{"wrong", strings.Repeat("0", 64), false},
		{"empty", "", false},
	} {
		body, _ := json.Marshal(map[string]string{"copy_id": "c1", "device_name": "Pixel 9", "public_key": pub,
			"key_fingerprint": tc.fingerprint, "created_at": "2026-11-24T12:00:00Z", "expires_at": "2026-11-24T12:03:00Z"})
		c := &canned{status: 200, body: string(body)}
		cl := newClient(t, c, "")
		o, err := cl.ScanCopy(context.Background(), qr)
		if (err == nil) != tc.ok {
			t.Fatalf("%s fingerprint: %+v, %v", tc.name, o, err)
		}
		req, sent := c.last(t)
		if req.URL.Path != "/mitid/app/v1/copies/scan" || !strings.Contains(string(sent), qr) {
			t.Errorf("sent %s %s", req.URL.Path, sent)
		}
		if !tc.ok {
			continue
		}
		// The approval signs the copy as shown: id, key, name.
		c.body = `{"copy_id":"c1","state":"approved","expires_at":"2026-11-24T12:03:00Z","device_id":"d2","usable_from":"2026-11-24T13:00:00Z","level":"substantial"}`
		st, err := cl.ApproveCopy(context.Background(), o)
		if err != nil || st.State != "approved" || st.DeviceID != "d2" {
			t.Fatalf("approve: %+v, %v", st, err)
		}
		_, sent = c.last(t)
		var in map[string]string
		if err := json.Unmarshal(sent, &in); err != nil || in["qr"] != qr {
			t.Fatalf("approve sent %s", sent)
		}
		verify(t, &testKey(t).PublicKey, appclient.CopyApprovalMessage("c1", der, "Pixel 9"), in["signature"])
	}
	// Not a copy QR code: refused before anything is sent.
	c := &canned{status: 200, body: "{}"}
	if _, err := newClient(t, c, "").ScanCopy(context.Background(), "openmitid1.x.1.y"); err == nil || len(c.reqs) != 0 {
		t.Errorf("a login QR frame: %v, %d requests", err, len(c.reqs))
	}
}

func decodeStd(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
