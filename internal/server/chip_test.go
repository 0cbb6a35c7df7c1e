package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
	"github.com/openmitid/openmitid/internal/store"
)

func chipOf(t *testing.T, p *person) *softkey.Key {
	t.Helper()
	var m map[string]any
	json.Unmarshal(p.Chip, &m)
	delete(m, "private_key_pkcs8")
	delete(m, "rp_id")
	b, _ := json.Marshal(m)
	k, err := softkey.Unmarshal(b)
	if err != nil {
		t.Fatalf("the test tool's chip: %v (%s)", err, p.Chip)
	}
	return k
}

// touch answers the flow's WebAuthn options with the chip, from origin.
func touch(t *testing.T, f *flow, k *softkey.Key, origin string) map[string]any {
	t.Helper()
	opts, err := json.Marshal(f.Last["webauthn"])
	if err != nil || f.Last["webauthn"] == nil {
		t.Fatalf("no webauthn options in %v", f.Last)
	}
	resp, err := k.Assert(opts, origin)
	if err != nil {
		t.Fatalf("the chip refused the options: %v", err)
	}
	return f.step(t, map[string]any{"step": "chip", "webauthn": json.RawMessage(resp)})
}

func TestChipLogins(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		p := n.person(t, "chip", "app")
		chip := chipOf(t, p)
		app := n.activate(t, p)

		t.Run("chip alone is low", func(t *testing.T) {
			f := n.flow(t, "low")
			f.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "chip"})
			if f.state() != "chip" {
				t.Fatalf("identify: %v", f.Last)
			}
			if m := touch(t, f, chip, n.Issuer); m["state"] != "done" || m["level"] != "low" {
				t.Fatalf("chip: %v", m)
			}
		})
		t.Run("chip and password are substantial", func(t *testing.T) {
			f := n.flow(t, "substantial")
			f.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "chip"})
			f.step(t, map[string]any{"step": "password", "password": p.Password})
			if m := touch(t, f, chip, n.Issuer); m["state"] != "done" || m["level"] != "substantial" {
				t.Fatalf("chip: %v", m)
			}
			if amr := f.Last["amr"].([]any); len(amr) != 2 || amr[0] != "password" || amr[1] != "u2f_token" {
				t.Fatalf("amr %v", amr)
			}
		})
		t.Run("app and chip are high", func(t *testing.T) {
			f := n.flow(t, "high")
			f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
			if f.state() != "waiting_for_app" {
				t.Fatalf("identify at high: %v", f.Last)
			}
			if _, _, err := app.ApproveNext(ctx, time.Second, f.Last["binding_code"].(string), approval.Approve); err != nil {
				t.Fatal(err)
			}
			if f.refresh(t); f.state() != "chip" {
				t.Fatalf("after the app at high: %v", f.Last)
			}
			if m := touch(t, f, chip, n.Issuer); m["state"] != "done" || m["level"] != "high" {
				t.Fatalf("chip after app: %v", m)
			}
		})
		t.Run("a phishing origin", func(t *testing.T) {
			f := n.flow(t, "low")
			f.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "chip"})
			if m := touch(t, f, chip, "https://mitid-login.example"); m["error"] != "chip_failed" || f.state() != "chip" {
				t.Fatalf("an assertion made for another origin: %v", m)
			}
		})
		t.Run("a cloned chip is blocked", func(t *testing.T) {
			clone := chip.Clone()
			f := n.flow(t, "low")
			f.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "chip"})
			if m := touch(t, f, chip, n.Issuer); m["state"] != "done" {
				t.Fatalf("the original: %v", m)
			}
			g := n.flow(t, "low")
			g.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "chip"})
			if m := touch(t, g, clone, n.Issuer); m["error"] != "chip_blocked" || m["state"] != "failed" {
				t.Fatalf("the clone: %v", m)
			}
			_, m := n.get(t, "/testtool/v1/identities/"+p.UserID, nil)
			for _, a := range m["authenticators"].([]any) {
				a := a.(map[string]any)
				if a["kind"] == "chip" && a["state"] != "blocked" {
					t.Fatalf("the chip is %v after a clone was seen", a["state"])
				}
			}
			// Now chips are off for this person: high cannot be reached.
			h := n.flow(t, "high")
			h.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
			if h.state() != "failed" || h.errCode() != "level_not_reachable" {
				t.Fatalf("high without a usable chip: %v", h.Last)
			}
		})
	})
}

func TestHighNeedsAppAndChip(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "app", "code_display")
	n.activate(t, p)
	f := n.flow(t, "high")
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
	if f.state() != "failed" || f.errCode() != "level_not_reachable" {
		t.Fatalf("high with app and code display: %v", f.Last)
	}
}
