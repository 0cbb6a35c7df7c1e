package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// TestBadInputChangesNothing: malformed JSON, wrong types, unknown fields,
// oversized bodies, wrong content types, unknown steps, steps out of order and
// finished flows each get a 4xx JSON error, and the flow is as it was.
func TestBadInputChangesNothing(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "code_display")
	f := n.flow(t, "substantial")
	version := f.Last["version"].(float64)
	raw := func(ct, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, n.URL+"/authn/v1/flows/"+f.ID, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("X-Flow-Token", f.Token)
		return do(t, req)
	}
	tests := []struct {
		name, ct, body string
		status         int
		code           string
	}{
		{"malformed JSON", "application/json", `{"step": "identify",`, 400, "bad_request"},
		{"wrong type", "application/json", `{"step": 7}`, 400, "bad_request"},
		{"array", "application/json", `["identify"]`, 400, "bad_request"},
		{"unknown field", "application/json", `{"step": "identify", "user_id": "x", "admin": true}`, 400, "bad_request"},
		{"two values", "application/json", `{"step": "cancel"} {"step": "cancel"}`, 400, "bad_request"},
		{"empty", "application/json", ``, 400, "bad_request"},
		{"form post", "application/x-www-form-urlencoded", `step=cancel`, 415, "unsupported_media_type"},
		{"no content type", "", `{"step": "cancel"}`, 415, "unsupported_media_type"},
		{"oversized", "application/json", `{"step": "identify", "user_id": "` + strings.Repeat("a", 70<<10) + `"}`, 413, "body_too_large"},
		{"unknown step", "application/json", `{"step": "teleport"}`, 400, "unknown_step"},
		{"out of order", "application/json", `{"step": "code", "code": "123456"}`, 409, "step_out_of_order"},
		{"long user ID", "application/json", `{"step": "identify", "user_id": "` + strings.Repeat("a", 100) + `"}`, 400, "user_id_required"},
	}
	for _, tt := range tests {
		code, m := raw(tt.ct, tt.body)
		if code != tt.status || m["error"] != tt.code || m["message"] == "" {
			t.Errorf("%s: %d %v; want %d %s", tt.name, code, m, tt.status, tt.code)
		}
	}
	f.refresh(t)
	if f.state() != "identify" || f.Last["version"].(float64) != version {
		t.Fatalf("bad input changed the flow: %v", f.Last)
	}
	// The flow goes on as if nothing happened, and a finished flow takes nothing.
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
	f.step(t, map[string]any{"step": "cancel"})
	if f.state() != "failed" {
		t.Fatalf("cancel: %v", f.Last)
	}
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
	if f.Status != http.StatusConflict || f.errCode() != "flow_finished" {
		t.Fatalf("a step on a finished flow: %d %v", f.Status, f.Last)
	}
	// Bad long-poll parameters.
	for _, q := range []string{"?wait=forever", "?wait=-1s", "?since=x"} {
		if code, m := n.get(t, "/authn/v1/flows/"+f.ID+q, map[string]string{"X-Flow-Token": f.Token}); code != 400 || m["error"] == nil {
			t.Errorf("GET %s: %d %v", q, code, m)
		}
	}
	// Creating a flow: unknown client, bad level, bad texts.
	for _, body := range []map[string]any{
		{}, {"client_id": "nobody"}, {"client_id": "demo", "level": "extreme"},
		{"client_id": "demo", "reference_text": strings.Repeat("é", 131)}, {"client_id": "demo", "action_text": "PAY"},
	} {
		if code, m := n.post(t, "/authn/v1/flows", nil, body); code != 400 || m["error"] == nil {
			t.Errorf("create %v: %d %v", body, code, m)
		}
	}
}

func TestAppAPIBadInput(t *testing.T) {
	n := newNode(t, store.SQLite)
	ctx := context.Background()
	p := n.person(t, "app")
	app := n.activate(t, p)
	// Unsigned, malformed and wrongly signed requests.
	for _, auth := range []string{"", "Bearer x", `OpenMitID-Device id="x"`, `OpenMitID-Device id="x", ts="1", sig="!!"`,
		`OpenMitID-Device id="` + app.Device().ID + `", ts="` + itoa(int(n.clock.Now().Unix())) + `", sig="AAAA"`} {
		code, m := n.get(t, "/app/v1/approvals/next", map[string]string{"Authorization": auth})
		if code != 401 || m["error"] != "bad_device_signature" {
			t.Errorf("Authorization %q: %d %v", auth, code, m)
		}
	}
	// Activation with malformed fields.
	for _, body := range []map[string]any{
		{}, {"activation_code": "X", "public_key": "not base64!", "proof": "x"},
		{"activation_code": "X", "public_key": "AAAA", "proof": "!!!"},
	} {
		if code, m := n.post(t, "/app/v1/activate", nil, body); code != 400 || m["error"] == nil {
			t.Errorf("activate %v: %d %v", body, code, m)
		}
	}
	// A revoked device (support removed it) is refused.
	db := n.srv.Platform().DB
	a, err := db.Authenticator(ctx, app.Device().ID)
	if err != nil {
		t.Fatal(err)
	}
	a.State, a.UpdatedAt = authenticator.Revoked, time.Now()
	if err := db.UpdateAuthenticator(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Next(ctx, 0); appclient.ErrorCode(err) != "device_blocked" {
		t.Fatalf("a revoked device: %v", err)
	}
	// A bind body that is not JSON, after a valid signature.
	req, _ := http.NewRequest(http.MethodPost, n.URL+"/app/v1/approvals/x/bind", bytes.NewReader([]byte("nope")))
	req.Header.Set("Content-Type", "text/plain")
	if code, m := do(t, req); code != 415 {
		t.Fatalf("a text bind: %d %v", code, m)
	}
}
