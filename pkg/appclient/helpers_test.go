package appclient_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/pkg/appclient"
)

// testKey returns a fixed P-256 key, the scalar 0x0102…20, so that failures
// are reproducible.
func testKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	d := make([]byte, 32)
	for i := range d {
		d[i] = byte(i + 1)
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixedNow is 2026-11-24T12:00:00Z, Unix 1795521600.
var fixedNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// canned is an http.RoundTripper that answers every request with one fixed
// response and records what was sent. It is not a server: it knows nothing of
// the API, it only plays back the bytes a test wrote from docs/app-api.md.
type canned struct {
	status int
	header http.Header
	body   string

	mu   sync.Mutex
	reqs []*http.Request
	sent [][]byte
}

func (c *canned) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.sent = append(c.sent, body)
	c.mu.Unlock()
	h := c.header
	if h == nil {
		h = http.Header{"Content-Type": {"application/json"}}
	}
	return &http.Response{
		StatusCode: c.status, Status: strconv.Itoa(c.status) + " " + http.StatusText(c.status),
		Header: h.Clone(), Body: io.NopCloser(bytes.NewReader([]byte(c.body))),
		ContentLength: int64(len(c.body)), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// last returns the last request sent and its body.
func (c *canned) last(t testing.TB) (*http.Request, []byte) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.reqs) == 0 {
		t.Fatal("nothing was sent")
	}
	return c.reqs[len(c.reqs)-1], c.sent[len(c.sent)-1]
}

func (c *canned) httpClient() *http.Client {
	hc := appclient.NewHTTPClient()
	hc.Transport = c
	return hc
}

const (
	testServer = "https://idp.example/mitid"
	testDevice = "dev_7Qx2mZ"
)

// newClient returns a client for the test device whose requests c answers.
func newClient(t testing.TB, c *canned, identity string) *appclient.Client {
	t.Helper()
	cl, err := appclient.New(appclient.Device{Server: testServer, ID: testDevice, Key: testKey(t), Identity: identity},
		appclient.WithHTTPClient(c.httpClient()), appclient.WithClock(func() time.Time { return fixedNow }))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// authHeader matches the Authorization header of docs/app-api.md exactly.
var authHeader = regexp.MustCompile(`^OpenMitID-Device id="([^"\\]+)", ts="(0|-?[1-9][0-9]*)", sig="([A-Za-z0-9_-]+)"$`)

// checkSigned parses req's Authorization header and verifies its signature by
// pub over want, the signing string the test expects.
func checkSigned(t testing.TB, req *http.Request, pub *ecdsa.PublicKey, wantID string, wantTS int64, want string) {
	t.Helper()
	m := authHeader.FindStringSubmatch(req.Header.Get("Authorization"))
	if m == nil {
		t.Fatalf("Authorization %q is not of the documented form", req.Header.Get("Authorization"))
	}
	if m[1] != wantID || m[2] != strconv.FormatInt(wantTS, 10) {
		t.Errorf("Authorization id=%q ts=%q, want %q %d", m[1], m[2], wantID, wantTS)
	}
	verify(t, pub, []byte(want), m[3])
}

// verify checks that sig (base64url without padding, ASN.1 DER) is pub's
// ECDSA signature over the SHA-256 of msg.
func verify(t testing.TB, pub *ecdsa.PublicKey, msg []byte, sig string) {
	t.Helper()
	der, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		t.Fatalf("signature %q is not unpadded base64url: %v", sig, err)
	}
	h := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(pub, h[:], der) {
		t.Fatalf("signature does not verify over %q", msg)
	}
}
