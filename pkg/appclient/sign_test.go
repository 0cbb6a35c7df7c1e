package appclient_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/pkg/appclient"
)

// Vectors written by hand from docs/app-api.md, "Device keys and signed
// requests"; the hashes are sha256sum's of the bodies.
var signingVectors = []struct {
	name, method, target string
	ts                   int64
	body                 string
	want                 string
}{
	{"long poll, empty body", "GET", "/app/v1/approvals/next?wait=25s", 1795521600, "",
		"OMIDREQ1\nGET\n/app/v1/approvals/next?wait=25s\n1795521600\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{"block", "POST", "/app/v1/block", 1795521600, "{}",
		"OMIDREQ1\nPOST\n/app/v1/block\n1795521600\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
	{"answer under an issuer path", "POST", "/mitid/app/v1/approvals/aZ3kq9Lm0PXvYtR2sDf8Wq/answer", 1795521601,
		`{"decision":"reject","signature":"MEUCIQ"}`,
		"OMIDREQ1\nPOST\n/mitid/app/v1/approvals/aZ3kq9Lm0PXvYtR2sDf8Wq/answer\n1795521601\ned5fdad3aa667a2993e8413f0d75e52d99a10984c8637d26c36bd7dc7f9ac5ac"},
}

func TestRequestSigningString(t *testing.T) {
	for _, v := range signingVectors {
		got := appclient.RequestSigningString(v.method, v.target, v.ts, []byte(v.body))
		if string(got) != v.want {
			t.Errorf("%s:\n got %q\nwant %q", v.name, got, v.want)
		}
	}
	// A GET has no body: nil and empty must sign alike.
	if !bytes.Equal(appclient.RequestSigningString("GET", "/", 0, nil), appclient.RequestSigningString("GET", "/", 0, []byte{})) {
		t.Error("nil and empty bodies sign differently")
	}
}

func TestSignRequest(t *testing.T) {
	key := testKey(t)
	for _, tt := range []struct {
		name, method, url, body string
		want                    string // the signing string, by hand
	}{
		{"vector 1", "GET", "https://idp.example/app/v1/approvals/next?wait=25s", "", signingVectors[0].want},
		{"vector 2", "POST", "http://127.0.0.1:8080/app/v1/block", "{}", signingVectors[1].want},
		{"no method means GET", "", "https://idp.example/app/v1/device", "",
			"OMIDREQ1\nGET\n/app/v1/device\n1795521600\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"escaped path is signed as sent", "POST", "https://idp.example/app/v1/approvals/a%2Fb/bind", "{}",
			"OMIDREQ1\nPOST\n/app/v1/approvals/a%2Fb/bind\n1795521600\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if err := appclient.SignRequest(req, []byte(tt.body), testDevice, key, fixedNow); err != nil {
				t.Fatal(err)
			}
			checkSigned(t, req, &key.PublicKey, testDevice, 1795521600, tt.want)
		})
	}
}

func TestSignRequestUsesTheClock(t *testing.T) {
	key := testKey(t)
	req, _ := http.NewRequest("GET", "https://idp.example/app/v1/device", nil)
	now := time.Unix(1795521600, 999_999_999) // ts is whole seconds, truncated
	if err := appclient.SignRequest(req, nil, testDevice, key, now); err != nil {
		t.Fatal(err)
	}
	checkSigned(t, req, &key.PublicKey, testDevice, 1795521600,
		"OMIDREQ1\nGET\n/app/v1/device\n1795521600\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
}

func TestSignRequestRefuses(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := testKey(t)
	for _, tt := range []struct {
		name string
		id   string
		key  *ecdsa.PrivateKey
	}{
		{"no key", testDevice, nil},
		{"P-384 key", testDevice, p384},
		{"empty id", "", good},
		{"quote in id", `dev" , sig="x`, good},
		{"backslash in id", `dev\`, good},
		{"comma in id", "dev,x", good},
		{"space in id", "dev x", good},
		{"newline in id", "dev\nx", good},
		{"non-ASCII id", "dév", good},
		{"long id", strings.Repeat("d", 257), good},
	} {
		req, _ := http.NewRequest("GET", "https://idp.example/app/v1/device", nil)
		if err := appclient.SignRequest(req, nil, tt.id, tt.key, fixedNow); err == nil {
			t.Errorf("%s: signed", tt.name)
		}
		if h := req.Header.Get("Authorization"); h != "" {
			t.Errorf("%s: Authorization set to %q", tt.name, h)
		}
	}
}

func TestNewKey(t *testing.T) {
	k, err := appclient.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if k.Curve != elliptic.P256() {
		t.Fatalf("curve %s", k.Curve.Params().Name)
	}
	req, _ := http.NewRequest("GET", "https://idp.example/app/v1/device", nil)
	if err := appclient.SignRequest(req, nil, testDevice, k, fixedNow); err != nil {
		t.Fatal(err)
	}
	checkSigned(t, req, &k.PublicKey, testDevice, 1795521600,
		"OMIDREQ1\nGET\n/app/v1/device\n1795521600\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
}
