package appclient_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/openmitid/openmitid/pkg/appclient"
)

func TestStartEnrolment(t *testing.T) {
	c := &canned{status: 201, body: `{"enrolment_id": "c_1", "token": "tok", "challenge": "AQIDBAUGBwg=",
		"challenge_expires_at": "2026-11-24T12:05:00Z", "state": "started", "expires_at": "2026-11-24T12:05:00Z"}`}
	e, err := appclient.StartEnrolment(context.Background(), testServer, appclient.WithHTTPClient(c.httpClient()))
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "c_1" || e.Token != "tok" || e.Challenge != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} || !e.ChallengeExpiresAt.Equal(fixedNow.Add(5*time.Minute)) {
		t.Fatalf("StartEnrolment = %+v", e)
	}
	req, body := c.last(t)
	if req.Method != "POST" || req.URL.String() != testServer+"/app/v1/enrolments" || string(body) != "{}" || req.Header.Get("Authorization") != "" {
		t.Errorf("sent %s %s %s", req.Method, req.URL, body)
	}
	for _, bad := range []string{
		`{"enrolment_id": "c_1", "token": "tok", "challenge": "AQID"}`,          // 3 bytes
		`{"enrolment_id": "c/1", "token": "tok", "challenge": "AQIDBAUGBwg="}`,  // not a path segment
		`{"enrolment_id": "c_1", "token": "", "challenge": "AQIDBAUGBwg="}`,     // no token
		`{"enrolment_id": "c_1", "token": "tok", "challenge": "not base64!!!"}`, // bad base64
	} {
		c := &canned{status: 201, body: bad}
		if e, err := appclient.StartEnrolment(context.Background(), testServer, appclient.WithHTTPClient(c.httpClient())); err == nil {
			t.Errorf("accepted %s: %+v", bad, e)
		}
	}
}

func TestEnrolmentRequests(t *testing.T) {
	ctx := context.Background()
	c := &canned{status: 200, body: `{"enrolment_id": "c_1", "state": "guardian_consent", "level": "substantial",
		"restrictions": ["minor"], "consent": {"guardian": "Anna", "approval_id": "a1", "binding_code": "0427", "qr": "openmitid1.x", "expires_at": "2026-11-24T12:03:00Z"}}`}
	e, err := appclient.ResumeEnrolment(testServer, "c_1", "tok", appclient.WithHTTPClient(c.httpClient()))
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.SubmitPassport(ctx, appclient.Passport{MRZ: "P<DNK", Files: map[string][]byte{"DG1": {1}, "SOD": {2}},
		ActiveAuthentication: []byte{3}, Selfie: []byte{4}, CPR: "010190-1234"})
	if err != nil {
		t.Fatal(err)
	}
	if st.State != appclient.EnrolmentGuardianConsent || st.Consent == nil || st.Consent.BindingCode != "0427" || st.Final() {
		t.Fatalf("status %+v", st)
	}
	req, body := c.last(t)
	if req.URL.Path != "/mitid/app/v1/enrolments/c_1/passport" || req.Header.Get(appclient.EnrolmentTokenHeader) != "tok" {
		t.Errorf("sent %s with token %q", req.URL, req.Header.Get(appclient.EnrolmentTokenHeader))
	}
	var sent map[string]any
	json.Unmarshal(body, &sent)
	if sent["mrz"] != "P<DNK" || sent["active_authentication"] != "Aw==" || sent["selfie"] != "BA==" || sent["cpr"] != "010190-1234" ||
		sent["files"].(map[string]any)["DG1"] != "AQ==" || len(sent) != 5 {
		t.Errorf("body %s", body)
	}

	if _, err := e.Status(ctx, "guardian_consent", 25*time.Second); err != nil {
		t.Fatal(err)
	}
	if req, _ := c.last(t); req.Method != "GET" || req.URL.RawQuery != "since=guardian_consent&wait=25s" {
		t.Errorf("sent %s %s", req.Method, req.URL)
	}

	c.status, c.body = 201, `{"device_id": "dev_9", "user_id": "ida.barn", "identity": "u-1", "usable_from": "2026-11-24T12:00:00Z", "level": "substantial", "pcode": "12345678"}`
	key := testKey(t)
	done, err := e.Complete(ctx, "ida.barn", "correct horse battery", "Ida's phone", key)
	if err != nil || done.DeviceID != "dev_9" || done.PCode != "12345678" || done.Identity != "u-1" {
		t.Fatalf("Complete = %+v, %v", done, err)
	}
	_, body = c.last(t)
	var in map[string]string
	json.Unmarshal(body, &in)
	if in["user_id"] != "ida.barn" || in["device_name"] != "Ida's phone" {
		t.Errorf("body %s", body)
	}
	pub, _ := appclient.EncodePublicKey(&key.PublicKey)
	if in["public_key"] != pub {
		t.Error("public_key is not the key's")
	}
	verify(t, &key.PublicKey, []byte("OMIDENR1\nc_1\n"+pub), in["proof"])
	if _, err := base64.StdEncoding.DecodeString(in["public_key"]); err != nil {
		t.Error(err)
	}

	// Chip authentication: DG14 goes up, the run comes back decoded.
	c.status, c.body = 200, `{"protocol": "0.4.0.127.0.7.2.2.3.2.2", "key_id": 1, "terminal_public_key": "BA==", "mse": "gAE=",
		"general_authenticate": "fAA=", "command": "DA=="}`
	ca, err := e.ChipAuthentication(ctx, []byte{0x6E})
	if err != nil {
		t.Fatal(err)
	}
	if ca.Protocol != "0.4.0.127.0.7.2.2.3.2.2" || ca.KeyID == nil || *ca.KeyID != 1 || string(ca.TerminalPublicKey) != "\x04" ||
		string(ca.MSE) != "\x80\x01" || string(ca.GeneralAuthenticate) != "\x7c\x00" || string(ca.Command) != "\x0c" {
		t.Errorf("ChipAuthentication = %+v", ca)
	}
	if req, body := c.last(t); req.URL.Path != "/mitid/app/v1/enrolments/c_1/chip-authentication" || string(body) != `{"dg14":"bg=="}` {
		t.Errorf("sent %s %s", req.URL.Path, body)
	}
	c.body = `{"state": "started"}`
	if _, err := e.SubmitPassport(ctx, appclient.Passport{MRZ: "P<DNK", ChipAuthentication: []byte{9}}); err != nil {
		t.Fatal(err)
	}
	_, body = c.last(t)
	sent = nil
	json.Unmarshal(body, &sent)
	if sent["chip_authentication"] != "CQ==" || sent["active_authentication"] != "" {
		t.Errorf("body %s", body)
	}

	// A refusal is an APIError with the server's code.
	c.status, c.body = 422, `{"error": "too_young", "message": "You must be at least 13 years old to get MitID.", "state": "refused"}`
	if _, err := e.SubmitPassport(ctx, appclient.Passport{}); appclient.ErrorCode(err) != "too_young" {
		t.Errorf("refusal: %v", err)
	}
}
