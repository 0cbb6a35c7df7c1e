package appclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/pkg/appclient"
)

func TestNormalizeActivationCode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ABCD-EFGH-JKLM-NPQR", "ABCDEFGHJKLMNPQR"},
		{"abcd-efgh-jklm-npqr", "ABCDEFGHJKLMNPQR"},
		{"abcd efgh jklm npqr", "ABCDEFGHJKLMNPQR"},
		{"  Abcd-eFgh jklm--NPQR\n", "ABCDEFGHJKLMNPQR"},
		{"ABCDEFGHJKLMNPQR", "ABCDEFGHJKLMNPQR"},
		{"2345-6789-WXYZ-STUV", "23456789WXYZSTUV"},
	} {
		got, err := appclient.NormalizeActivationCode(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeActivationCode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"",
		"----",
		"ABCD-EFGH-JKLM-NPQ",     // 15
		"ABCD-EFGH-JKLM-NPQRS",   // 17
		"ABCD-EFGH-JKLM-NPQ0",    // zero is not in the alphabet
		"ABCD-EFGH-JKLM-NPQ1",    // nor one
		"ABCD-EFGH-IKLM-NPQR",    // nor I
		"ABCD-EFGH-JKLM-OPQR",    // nor O
		"ABCD_EFGH_JKLM_NPQR",    // underscores are not dashes
		"ÅBCD-EFGH-JKLM-NPQR",    // not ASCII
		"ABCD-EFGH-JKLM-NPQ\x00", // a control character
	} {
		if got, err := appclient.NormalizeActivationCode(bad); err == nil || got != "" {
			t.Errorf("NormalizeActivationCode(%q) = %q, %v; want an error", bad, got, err)
		}
	}
}

func TestActivationProofMessage(t *testing.T) {
	got := appclient.ActivationProofMessage("ABCDEFGHJKLMNPQR", "MFkwEwYH")
	if want := "OMIDACT1\nABCDEFGHJKLMNPQR\nMFkwEwYH"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestActivate(t *testing.T) {
	key := testKey(t)
	c := &canned{status: 201, body: `{"device_id": "dev_7Qx2mZ", "user_id": "anna.hansen", "usable_from": "2026-11-24T12:00:00Z", "level": "substantial"}`}
	a, err := appclient.Activate(context.Background(), testServer+"/", "abcd-efgh-jklm-npqr", "Pixel 8", key, appclient.WithHTTPClient(c.httpClient()))
	if err != nil {
		t.Fatal(err)
	}
	want := appclient.Activation{DeviceID: "dev_7Qx2mZ", UserID: "anna.hansen", UsableFrom: fixedNow, Level: "substantial"}
	if *a != want {
		t.Errorf("Activate = %+v, want %+v", *a, want)
	}

	req, body := c.last(t)
	if req.Method != "POST" || req.URL.String() != "https://idp.example/mitid/app/v1/activate" {
		t.Errorf("sent %s %s", req.Method, req.URL)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("an activation is not signed by a registered device")
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var sent map[string]string
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if len(sent) != 4 || sent["activation_code"] != "ABCDEFGHJKLMNPQR" || sent["device_name"] != "Pixel 8" {
		t.Errorf("body %s", body)
	}
	der, err := base64.StdEncoding.Strict().DecodeString(sent["public_key"])
	if err != nil {
		t.Fatalf("public_key is not standard base64: %v", err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil || !key.PublicKey.Equal(pub) {
		t.Fatalf("public_key is not the device key's SubjectPublicKeyInfo: %v", err)
	}
	verify(t, pub.(*ecdsa.PublicKey), []byte("OMIDACT1\nABCDEFGHJKLMNPQR\n"+sent["public_key"]), sent["proof"])
}

func TestActivateRefuses(t *testing.T) {
	key := testKey(t)
	ok := `{"device_id": "dev_7Qx2mZ", "user_id": "anna.hansen", "usable_from": "2026-11-24T12:00:00Z", "level": "substantial"}`
	for _, tt := range []struct {
		name, server, code string
		key                *ecdsa.PrivateKey
		status             int
		body               string
		wantCode           string // the APIError's code, if one
		sends              bool
	}{
		{"bad code", testServer, "ABCD-EFGH", key, 201, ok, "", false},
		{"no key", testServer, "ABCD-EFGH-JKLM-NPQR", nil, 201, ok, "", false},
		{"server with a query", testServer + "?x=1", "ABCD-EFGH-JKLM-NPQR", key, 201, ok, "", false},
		{"server not http", "ftp://idp.example", "ABCD-EFGH-JKLM-NPQR", key, 201, ok, "", false},
		{"server without host", "https:///x", "ABCD-EFGH-JKLM-NPQR", key, 201, ok, "", false},
		{"200, not 201", testServer, "ABCD-EFGH-JKLM-NPQR", key, 200, ok, "", true},
		{"no device id", testServer, "ABCD-EFGH-JKLM-NPQR", key, 201, `{"user_id": "anna.hansen"}`, "", true},
		{"device id with a quote", testServer, "ABCD-EFGH-JKLM-NPQR", key, 201, `{"device_id": "a\"b", "user_id": "anna"}`, "", true},
		{"no user id", testServer, "ABCD-EFGH-JKLM-NPQR", key, 201, `{"device_id": "dev_1"}`, "", true},
		{"not JSON", testServer, "ABCD-EFGH-JKLM-NPQR", key, 201, `<html>`, "", true},
		{"invalid code", testServer, "ABCD-EFGH-JKLM-NPQR", key, 403,
			`{"error": "invalid_activation_code", "message": "This activation code cannot be used."}`, "invalid_activation_code", true},
		{"too many apps", testServer, "ABCD-EFGH-JKLM-NPQR", key, 409,
			`{"error": "too_many_apps", "message": "You already have 3 apps."}`, "too_many_apps", true},
	} {
		c := &canned{status: tt.status, body: tt.body}
		a, err := appclient.Activate(context.Background(), tt.server, tt.code, "Pixel 8", tt.key, appclient.WithHTTPClient(c.httpClient()))
		if err == nil || a != nil {
			t.Errorf("%s: Activate = %+v, %v", tt.name, a, err)
			continue
		}
		var ae *appclient.APIError
		if isAPI := errors.As(err, &ae); isAPI != (tt.wantCode != "") || (isAPI && ae.Code != tt.wantCode) {
			t.Errorf("%s: error %v, want code %q", tt.name, err, tt.wantCode)
		}
		if sent := len(c.reqs) > 0; sent != tt.sends {
			t.Errorf("%s: sent a request: %v, want %v", tt.name, sent, tt.sends)
		}
		if strings.Contains(err.Error(), "JKLM") {
			t.Errorf("%s: the error repeats the activation code: %v", tt.name, err)
		}
	}
}
