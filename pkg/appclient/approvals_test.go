package appclient_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/pkg/appclient"
)

const (
	testApproval = "aZ3kq9Lm0PXvYtR2sDf8Wq"
	testIdentity = "5f0c6e2e-7d2f-4c6a-9b1e-3f2d1c0b9a88"
)

func sampleRequest() approval.Request {
	return approval.Request{
		ID: testApproval, Identity: testIdentity, Kind: approval.KindLogin,
		ClientName: "Skattestyrelsen", ReferenceText: "Log på TastSelv", ActionText: "LOG_ON",
		Location: "Danmark", Browser: "Chrome on Linux",
		CreatedAt: fixedNow, ExpiresAt: fixedNow.Add(3 * time.Minute),
		Nonce: bytes.Repeat([]byte{0xab}, approval.NonceSize),
	}
}

func encode(t testing.TB, r approval.Request) []byte {
	t.Helper()
	b, err := approval.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bindAnswer is the body of a bind answer carrying raw, with details that
// lie: the client must not use them.
func bindAnswer(id string, raw []byte) string {
	return fmt.Sprintf(`{"approval_id": %q, "request": %q, "details": {"kind": "login", "client_name": "Danske Bank",
		"reference_text": "Overfør 50.000 kr", "action_text": "APPROVE", "title": "", "fingerprint": "",
		"location": "Danmark", "browser": "Firefox", "expires_at": "2026-11-24T12:03:00Z"}}`,
		id, base64.StdEncoding.EncodeToString(raw))
}

func TestBind(t *testing.T) {
	raw := encode(t, sampleRequest())
	for _, tt := range []struct {
		name, qr, code, wantBody string
	}{
		{"code", "", "0427", `{"code":"0427"}`},
		{"qr", "openmitid1." + testApproval + ".3.AAAA", "", `{"qr":"openmitid1.` + testApproval + `.3.AAAA"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &canned{status: 200, body: bindAnswer(testApproval, raw)}
			b, err := newClient(t, c, testIdentity).Bind(context.Background(), testApproval, tt.qr, tt.code)
			if err != nil {
				t.Fatal(err)
			}
			if b.ApprovalID != testApproval || !bytes.Equal(b.Raw, raw) || b.Binding != tt.qr+tt.code {
				t.Errorf("Bound %+v", b)
			}
			if !reflect.DeepEqual(b.Request, sampleRequest()) {
				t.Errorf("decoded %+v\nwant %+v", b.Request, sampleRequest())
			}
			req, body := c.last(t)
			if req.Method != "POST" || req.URL.Path != "/mitid/app/v1/approvals/"+testApproval+"/bind" || string(body) != tt.wantBody {
				t.Errorf("sent %s %s %s", req.Method, req.URL.Path, body)
			}
			checkSigned(t, req, &testKey(t).PublicKey, testDevice, fixedNow.Unix(),
				string(appclient.RequestSigningString("POST", "/mitid/app/v1/approvals/"+testApproval+"/bind", fixedNow.Unix(), body)))
		})
	}
}

// The client shows and signs only what it decoded, and only for the approval
// and identity it asked about: a server that mixes up sessions (or lies) is
// caught here.
func TestBindRefuses(t *testing.T) {
	other := sampleRequest()
	other.ID = "zzzzzzzzzzzzzzzzzzzzzz"
	stranger := sampleRequest()
	stranger.Identity = "0b6e1a6d-55f4-4bb0-8f8a-2a4b3c5d6e7f"
	good := encode(t, sampleRequest())
	trailing := append(bytes.Clone(good), 0)

	for _, tt := range []struct {
		name     string
		identity string // the device's identity, if known
		body     string
		want     error
	}{
		{"another approval's request", testIdentity, bindAnswer(testApproval, encode(t, other)), appclient.ErrRequestMismatch},
		{"another identity's request", testIdentity, bindAnswer(testApproval, encode(t, stranger)), appclient.ErrRequestMismatch},
		{"answer names another approval", testIdentity, bindAnswer(other.ID, good), appclient.ErrRequestMismatch},
		{"bytes after the request", testIdentity, bindAnswer(testApproval, trailing), approval.ErrMalformed},
		{"no request", testIdentity, bindAnswer(testApproval, nil), approval.ErrMalformed},
		{"request not base64", testIdentity, `{"approval_id": "` + testApproval + `", "request": "!!"}`, approval.ErrMalformed},
		{"request in base64url", testIdentity, `{"approval_id": "` + testApproval + `", "request": "` + base64.RawURLEncoding.EncodeToString(good) + `"}`, approval.ErrMalformed},
		{"details only", testIdentity, `{"approval_id": "` + testApproval + `", "details": {"client_name": "e-Boks"}}`, approval.ErrMalformed},
		// Without a known identity the identity check cannot be made, but the id check still is.
		{"another approval, identity unknown", "", bindAnswer(testApproval, encode(t, other)), appclient.ErrRequestMismatch},
	} {
		c := &canned{status: 200, body: tt.body}
		b, err := newClient(t, c, tt.identity).Bind(context.Background(), testApproval, "", "0427")
		if !errors.Is(err, tt.want) || b != nil {
			t.Errorf("%s: Bind = %+v, %v; want %v", tt.name, b, err, tt.want)
		}
	}

	// Without a known identity, another identity's request is not caught here
	// (the server must not send it; see Device.Identity).
	c := &canned{status: 200, body: bindAnswer(testApproval, encode(t, stranger))}
	if _, err := newClient(t, c, "").Bind(context.Background(), testApproval, "", "0427"); err != nil {
		t.Errorf("identity unknown: %v", err)
	}
}

func TestBindRefusesBeforeSending(t *testing.T) {
	for _, tt := range []struct{ name, id, qr, code string }{
		{"no id", "", "", "0427"},
		{"both", testApproval, "openmitid1.x.1.y", "0427"},
		{"neither", testApproval, "", ""},
		{"id too long", strings.Repeat("a", approval.MaxField+1), "", "0427"},
		{"code of 3 digits", testApproval, "", "427"},
		{"code of 5 digits", testApproval, "", "04270"},
		{"code with letters", testApproval, "", "04a7"},
		{"code with a space", testApproval, "", "0427 "},
		{"code in other digits", testApproval, "", "٠٤٢٧"},
		{"frame too long", testApproval, "openmitid1." + strings.Repeat("a", 200), ""},
	} {
		c := &canned{status: 200}
		if b, err := newClient(t, c, "").Bind(context.Background(), tt.id, tt.qr, tt.code); err == nil || b != nil {
			t.Errorf("%s: Bind = %+v, %v", tt.name, b, err)
		}
		if len(c.reqs) != 0 {
			t.Errorf("%s: sent a request", tt.name)
		}
	}
}

func TestSplitBinding(t *testing.T) {
	for _, tt := range []struct{ in, qr, code string }{
		{"0427", "", "0427"},
		{" 0427\n", "", "0427"},
		{"openmitid1.abc.3.mac", "openmitid1.abc.3.mac", ""},
		{"openmitid1.abc.3.mac\n", "openmitid1.abc.3.mac", ""},
		{"openmitid2.abc.3.mac", "", "openmitid2.abc.3.mac"}, // not a frame: sent as a code, refused by the server
		{"", "", ""},
	} {
		if qr, code := appclient.SplitBinding(tt.in); qr != tt.qr || code != tt.code {
			t.Errorf("SplitBinding(%q) = %q, %q", tt.in, qr, code)
		}
	}
}

// answerSent decodes an answer's body.
func answerSent(t *testing.T, body []byte) (decision, sig string) {
	t.Helper()
	var a map[string]string
	if err := json.Unmarshal(body, &a); err != nil || len(a) != 2 {
		t.Fatalf("answer body %s", body)
	}
	return a["decision"], a["signature"]
}

func TestAnswer(t *testing.T) {
	raw := encode(t, sampleRequest())
	pub := &testKey(t).PublicKey
	for _, d := range []approval.Decision{approval.Approve, approval.Reject, approval.Fraud} {
		for _, binding := range []string{"0427", "openmitid1." + testApproval + ".3.AAAA"} {
			state := map[approval.Decision]string{approval.Approve: "approved", approval.Reject: "rejected", approval.Fraud: "fraud"}[d]
			c := &canned{status: 200, body: `{"state": "` + state + `"}`}
			b := &appclient.Bound{ApprovalID: testApproval, Raw: raw, Request: sampleRequest(), Binding: binding}
			got, err := newClient(t, c, "").Answer(context.Background(), b, d)
			if err != nil || got != state {
				t.Fatalf("%s: Answer = %q, %v", d, got, err)
			}
			req, body := c.last(t)
			if req.Method != "POST" || req.URL.Path != "/mitid/app/v1/approvals/"+testApproval+"/answer" {
				t.Errorf("sent %s %s", req.Method, req.URL.Path)
			}
			dec, sig := answerSent(t, body)
			if dec != string(d) {
				t.Errorf("decision %q, want %q", dec, d)
			}
			verify(t, pub, approval.AnswerMessage(testApproval, raw, d, binding), sig)
			checkSigned(t, req, pub, testDevice, fixedNow.Unix(),
				string(appclient.RequestSigningString("POST", req.URL.RequestURI(), fixedNow.Unix(), body)))
		}
	}
}

func TestAnswerUnbound(t *testing.T) {
	pub := &testKey(t).PublicKey
	for _, d := range []approval.Decision{approval.Reject, approval.Fraud, approval.Approve} {
		c := &canned{status: 200, body: `{"state": "rejected"}`}
		if _, err := newClient(t, c, "").AnswerUnbound(context.Background(), testApproval, d); err != nil {
			t.Fatal(err)
		}
		_, body := c.last(t)
		dec, sig := answerSent(t, body)
		if dec != string(d) {
			t.Errorf("decision %q", dec)
		}
		verify(t, pub, approval.AnswerMessage(testApproval, nil, d, ""), sig)
	}
	// The server's refusal of an unbound approval reaches the caller as itself.
	c := &canned{status: 409, body: `{"error": "not_bound", "message": "Scan the QR code or type the code first."}`}
	_, err := newClient(t, c, "").AnswerUnbound(context.Background(), testApproval, approval.Approve)
	if appclient.ErrorCode(err) != "not_bound" {
		t.Errorf("unbound approve: %v", err)
	}
}

func TestAnswerRefusesBeforeSending(t *testing.T) {
	c := &canned{status: 200, body: `{"state": "approved"}`}
	cl := newClient(t, c, "")
	if _, err := cl.Answer(context.Background(), nil, approval.Approve); err == nil {
		t.Error("nil Bound answered")
	}
	if _, err := cl.AnswerUnbound(context.Background(), testApproval, "maybe"); err == nil {
		t.Error("unknown decision sent")
	}
	if _, err := cl.AnswerUnbound(context.Background(), "", approval.Reject); err == nil {
		t.Error("no approval id sent")
	}
	if len(c.reqs) != 0 {
		t.Errorf("%d requests sent", len(c.reqs))
	}
	c = &canned{status: 200, body: `{}`}
	if s, err := newClient(t, c, "").AnswerUnbound(context.Background(), testApproval, approval.Reject); err == nil {
		t.Errorf("an answer without state: %q", s)
	}
}

func TestNext(t *testing.T) {
	for _, tt := range []struct {
		wait   time.Duration
		target string
	}{
		{25 * time.Second, "/mitid/app/v1/approvals/next?wait=25s"},
		{0, "/mitid/app/v1/approvals/next?wait=0s"},
		{-time.Second, "/mitid/app/v1/approvals/next?wait=0s"},
		{1500 * time.Millisecond, "/mitid/app/v1/approvals/next?wait=2s"},
		{time.Minute, "/mitid/app/v1/approvals/next?wait=30s"},
	} {
		c := &canned{status: 204}
		p, err := newClient(t, c, "").Next(context.Background(), tt.wait)
		if p != nil || err != nil {
			t.Errorf("204: Next = %+v, %v", p, err)
		}
		req, body := c.last(t)
		if req.Method != "GET" || req.URL.RequestURI() != tt.target || len(body) != 0 {
			t.Errorf("wait %v: sent %s %s (%d bytes)", tt.wait, req.Method, req.URL.RequestURI(), len(body))
		}
		checkSigned(t, req, &testKey(t).PublicKey, testDevice, fixedNow.Unix(),
			"OMIDREQ1\nGET\n"+tt.target+"\n1795521600\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	}

	c := &canned{status: 200, body: `{"approval_id": "` + testApproval + `", "kind": "login", "state": "pending", "expires_at": "2026-11-24T12:03:00Z"}`}
	p, err := newClient(t, c, "").Next(context.Background(), 25*time.Second)
	want := appclient.Pending{ApprovalID: testApproval, Kind: approval.KindLogin, State: "pending", ExpiresAt: fixedNow.Add(3 * time.Minute)}
	if err != nil || p == nil || *p != want {
		t.Errorf("200: Next = %+v, %v", p, err)
	}

	for _, bad := range []struct {
		status int
		body   string
	}{
		{200, `{"kind": "login"}`}, // no id
		{200, `[]`},
		{202, `{}`},
		{401, `{"error": "bad_device_signature", "message": "…"}`},
	} {
		c := &canned{status: bad.status, body: bad.body}
		if p, err := newClient(t, c, "").Next(context.Background(), 0); err == nil || p != nil {
			t.Errorf("%d %s: Next = %+v, %v", bad.status, bad.body, p, err)
		}
	}
}

func TestWaitNextGivesUp(t *testing.T) {
	c := &canned{status: 204}
	start := time.Now()
	p, err := newClient(t, c, "").WaitNext(context.Background(), 1500*time.Millisecond)
	if p != nil || err != nil {
		t.Fatalf("WaitNext = %+v, %v", p, err)
	}
	// A server answering 204 at once is polled about once a second, not in a busy loop.
	if n := len(c.reqs); n < 2 || n > 3 {
		t.Errorf("%d polls in %v", n, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newClient(t, c, "").WaitNext(ctx, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestApproveNextWithoutRequest(t *testing.T) {
	c := &canned{status: 204}
	r, state, err := newClient(t, c, "").ApproveNext(context.Background(), 0, "0427", approval.Approve)
	if !errors.Is(err, appclient.ErrNoRequest) || r != nil || state != "" {
		t.Errorf("ApproveNext = %+v, %q, %v", r, state, err)
	}
}

func TestBlockAndDeviceInfo(t *testing.T) {
	c := &canned{status: 200, body: `{"state": "blocked"}`}
	if err := newClient(t, c, "").Block(context.Background()); err != nil {
		t.Fatal(err)
	}
	req, body := c.last(t)
	if req.Method != "POST" || req.URL.Path != "/mitid/app/v1/block" || string(body) != "{}" {
		t.Errorf("sent %s %s %s", req.Method, req.URL.Path, body)
	}
	checkSigned(t, req, &testKey(t).PublicKey, testDevice, fixedNow.Unix(),
		"OMIDREQ1\nPOST\n/mitid/app/v1/block\n1795521600\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
	c = &canned{status: 200, body: `{"state": "active"}`}
	if err := newClient(t, c, "").Block(context.Background()); err == nil {
		t.Error("block answered active: no error")
	}

	c = &canned{status: 200, body: `{"device_id": "dev_7Qx2mZ", "user_id": "anna.hansen", "name": "Pixel 8", "state": "active", "usable_from": "2026-11-24T12:00:00Z", "level": "substantial"}`}
	d, err := newClient(t, c, "").DeviceInfo(context.Background())
	want := appclient.DeviceInfo{DeviceID: testDevice, UserID: "anna.hansen", Name: "Pixel 8", State: "active", UsableFrom: fixedNow, Level: "substantial"}
	if err != nil || *d != want {
		t.Errorf("DeviceInfo = %+v, %v", d, err)
	}
	if req, _ := c.last(t); req.Method != "GET" || req.URL.Path != "/mitid/app/v1/device" {
		t.Errorf("sent %s %s", req.Method, req.URL.Path)
	}
}

// One Client serves many goroutines (the benchmark shares clients and one
// transport); -race checks it.
func TestClientConcurrentUse(t *testing.T) {
	c := &canned{status: 200, body: `{"state": "rejected"}`}
	cl := newClient(t, c, "")
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if _, err := cl.AnswerUnbound(context.Background(), testApproval, approval.Reject); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(c.reqs) != 32 {
		t.Errorf("%d requests", len(c.reqs))
	}
}

func TestNewRefuses(t *testing.T) {
	key := testKey(t)
	for _, d := range []appclient.Device{
		{Server: "", ID: testDevice, Key: key},
		{Server: "idp.example", ID: testDevice, Key: key},
		{Server: "https://user:pw@idp.example", ID: testDevice, Key: key},
		{Server: "https://idp.example#x", ID: testDevice, Key: key},
		{Server: testServer, ID: "", Key: key},
		{Server: testServer, ID: testDevice, Key: nil},
	} {
		if c, err := appclient.New(d); err == nil || c != nil {
			t.Errorf("New(%+v) = %v, %v", d, c, err)
		}
	}
}

var _ http.RoundTripper = (*canned)(nil)
