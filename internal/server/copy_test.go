package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/notify"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// personWithEmail is a test identity with an app and a contact address.
func (n *node) personWithEmail(t *testing.T, email string) *person {
	t.Helper()
	code, m := n.post(t, "/testtool/v1/identities", nil, map[string]any{"authenticators": []string{"app"}, "email": email})
	if code != http.StatusCreated || m["email"] != email {
		t.Fatalf("test tool: %d %v", code, m)
	}
	return &person{UUID: m["uuid"].(string), UserID: m["user_id"].(string), Password: m["password"].(string),
		CPR: m["cpr"].(string), ActivationCode: m["app"].(map[string]any)["activation_code"].(string)}
}

// apps returns the identity's apps as the test tool shows them.
func (n *node) apps(t *testing.T, p *person) []map[string]any {
	t.Helper()
	code, m := n.get(t, "/testtool/v1/identities/"+p.UserID, nil)
	if code != http.StatusOK {
		t.Fatalf("test tool: %d %v", code, m)
	}
	var out []map[string]any
	for _, a := range m["authenticators"].([]any) {
		if a := a.(map[string]any); a["kind"] == "app" {
			out = append(out, a)
		}
	}
	return out
}

// newPhone starts a copy for userID on a fresh key.
func (n *node) newPhone(t *testing.T, userID string) (*appclient.Copy, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := appclient.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := appclient.StartCopy(context.Background(), n.URL, userID, "Pixel 9", key)
	if err != nil {
		t.Fatalf("start copy: %v", err)
	}
	return c, key
}

func TestCopyToNewPhone(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		p := n.personWithEmail(t, "anna@example.dk")
		old := n.activate(t, p)
		cp, key := n.newPhone(t, p.UserID)
		if !cp.ExpiresAt.Equal(n.clock.Now().Add(3*time.Minute).Truncate(time.Microsecond)) && cp.ExpiresAt.Sub(n.clock.Now()) > 3*time.Minute {
			t.Errorf("the QR code lives until %v", cp.ExpiresAt)
		}
		if st, err := cp.Wait(ctx, 0); err != nil || st.State != "pending" {
			t.Fatalf("before approval: %+v, %v", st, err)
		}
		offer, err := old.ScanCopy(ctx, cp.QR)
		if err != nil {
			t.Fatal(err)
		}
		if offer.DeviceName != "Pixel 9" || offer.CopyID != cp.ID {
			t.Fatalf("the old app was shown %+v", offer)
		}
		// The new app waits; the approval wakes it.
		done := make(chan *appclient.CopyStatus, 1)
		go func() {
			st, err := cp.Wait(ctx, 20*time.Second)
			if err != nil {
				t.Error(err)
			}
			done <- st
		}()
		time.Sleep(100 * time.Millisecond)
		approved, err := old.ApproveCopy(ctx, offer)
		if err != nil {
			t.Fatal(err)
		}
		st := <-done
		if st == nil || st.State != "approved" || st.DeviceID != approved.DeviceID || st.Identity != p.UUID || st.Level != "high" {
			t.Fatalf("the new app saw %+v (approve answered %+v)", st, approved)
		}
		if wait := st.UsableFrom.Sub(n.clock.Now()); wait < 59*time.Minute || wait > time.Hour {
			t.Fatalf("usable from %v, %v from now; want an hour", st.UsableFrom, wait)
		}
		apps := n.apps(t, p)
		if len(apps) != 2 {
			t.Fatalf("apps: %v", apps)
		}
		for _, a := range apps {
			if a["id"] == st.DeviceID && (a["name"] != "Pixel 9" || a["level"] != "high") {
				t.Fatalf("the copied app: %v", a)
			}
		}
		// Told on the other channel, in the same transaction.
		msgs, err := n.srv.Platform().DB.Messages(ctx, p.UUID)
		if err != nil || len(msgs) != 1 || msgs[0].Template != notify.AppCopied || msgs[0].Params["device_name"] != "Pixel 9" {
			t.Fatalf("notifications: %v, %v", msgs, err)
		}

		nw, err := appclient.New(appclient.Device{Server: n.URL, ID: st.DeviceID, Key: key, Identity: st.Identity}, appclient.WithClock(n.clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		if info, err := nw.DeviceInfo(ctx); err != nil || !info.UsableFrom.Equal(st.UsableFrom) {
			t.Fatalf("the new app's device: %+v, %v", info, err)
		}
		if _, err := nw.Next(ctx, 0); appclient.ErrorCode(err) != "device_not_usable_yet" {
			t.Fatalf("the new app in its waiting period: %v", err)
		}
		// It cannot approve a copy either.
		cp2, _ := n.newPhone(t, p.UserID)
		if _, err := nw.ScanCopy(ctx, cp2.QR); appclient.ErrorCode(err) != "device_not_usable_yet" {
			t.Fatalf("a waiting app scanned a copy: %v", err)
		}

		// After the wait, the new app logs in.
		n.clock.Add(time.Hour + time.Second)
		f := n.flow(t, "substantial")
		f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
		if _, state, err := nw.ApproveNext(ctx, 5*time.Second, f.Last["binding_code"].(string), approval.Approve); err != nil || state != "approved" {
			t.Fatalf("after the wait: %v, %v", state, err)
		}
		if f.refresh(t); f.state() != "done" {
			t.Fatalf("login with the copied app: %v", f.Last)
		}
	})
}

func TestCopyRefusals(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		p := n.personWithEmail(t, "anna@example.dk")
		old := n.activate(t, p)
		other := n.person(t, "app")
		otherApp := n.activate(t, other)

		// A copy approved once.
		used, _ := n.newPhone(t, p.UserID)
		offer, err := old.ScanCopy(ctx, used.QR)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.ApproveCopy(ctx, offer); err != nil {
			t.Fatal(err)
		}
		expired, _ := n.newPhone(t, p.UserID)
		expiredOffer, err := old.ScanCopy(ctx, expired.QR)
		if err != nil {
			t.Fatal(err)
		}
		n.clock.Add(3*time.Minute + time.Second)
		pending, _ := n.newPhone(t, p.UserID)
		pendingOffer, err := old.ScanCopy(ctx, pending.QR)
		if err != nil {
			t.Fatal(err)
		}
		forged := *pendingOffer
		forged.DeviceName = "Anna's own phone" // the old app signs what it showed: not what the server holds
		var secret [32]byte
		rand.Read(secret[:])
		unknownQR := appclient.CopyQRPrefix + uuid.NewString() + "." + base64.RawURLEncoding.EncodeToString(secret[:])
		wrongSecret := pending.QR[:strings.LastIndex(pending.QR, ".")+1] + base64.RawURLEncoding.EncodeToString(secret[:])

		before := len(n.apps(t, p))
		for _, tc := range []struct {
			name string
			try  func() error
			code string
		}{
			{"reused QR code", func() error { _, err := old.ScanCopy(ctx, used.QR); return err }, "already_used"},
			{"reused QR code, approve", func() error { _, err := old.ApproveCopy(ctx, offer); return err }, "already_used"},
			{"expired QR code", func() error { _, err := old.ScanCopy(ctx, expired.QR); return err }, "expired"},
			{"expired QR code, approve", func() error { _, err := old.ApproveCopy(ctx, expiredOffer); return err }, "expired"},
			{"wrong signature", func() error { _, err := old.ApproveCopy(ctx, &forged); return err }, "bad_signature"},
			{"another identity's app", func() error { _, err := otherApp.ScanCopy(ctx, pending.QR); return err }, "wrong_identity"},
			{"unknown copy", func() error { _, err := old.ScanCopy(ctx, unknownQR); return err }, "not_found"},
			{"wrong secret", func() error { _, err := old.ScanCopy(ctx, wrongSecret); return err }, "not_found"},
			{"malformed QR code", func() error { _, err := old.ScanCopy(ctx, appclient.CopyQRPrefix+"x.y"); return err }, "bad_qr"},
		} {
			if err := tc.try(); appclient.ErrorCode(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		if after := len(n.apps(t, p)); after != before {
			t.Fatalf("refusals changed the apps: %d → %d", before, after)
		}
		if st, err := pending.Wait(ctx, 0); err != nil || st.State != "pending" {
			t.Fatalf("the pending copy after the refusals: %+v, %v", st, err)
		}
		if st, err := expired.Wait(ctx, 0); err != nil || st.State != "expired" {
			t.Fatalf("the expired copy: %+v, %v", st, err)
		}
		// A wrong token opens nothing.
		stolen := *pending
		stolen.Token = base64.RawURLEncoding.EncodeToString(secret[:])
		if _, err := stolen.Wait(ctx, 0); appclient.ErrorCode(err) != "not_found" {
			t.Fatalf("a wrong token: %v", err)
		}

		// Three apps: the old one, the copy above, and one more; then no more.
		third, _ := n.newPhone(t, p.UserID)
		o3, err := old.ScanCopy(ctx, third.QR)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.ApproveCopy(ctx, o3); err != nil {
			t.Fatal(err)
		}
		if _, err := old.ApproveCopy(ctx, pendingOffer); appclient.ErrorCode(err) != "too_many_apps" {
			t.Fatalf("a fourth app: %v", err)
		}
		if got := len(n.apps(t, p)); got != 3 {
			t.Fatalf("%d apps", got)
		}
		msgs, _ := n.srv.Platform().DB.Messages(ctx, p.UUID)
		if len(msgs) != 2 {
			t.Fatalf("%d notifications for 2 copies", len(msgs))
		}

		// A blocked MitID's app approves nothing.
		if err := otherApp.Block(ctx); err != nil {
			t.Fatal(err)
		}
		oc, _ := n.newPhone(t, other.UserID)
		if _, err := otherApp.ScanCopy(ctx, oc.QR); appclient.ErrorCode(err) != "device_blocked" {
			t.Fatalf("a blocked app: %v", err)
		}
	})
}

func TestCopyStartRefusals(t *testing.T) {
	n := newNode(t, engines[0])
	key, _ := appclient.NewKey()
	pub, _ := appclient.EncodePublicKey(&key.PublicKey)
	other, _ := appclient.NewKey()
	sign := func(k *ecdsa.PrivateKey, msg []byte) string {
		d := sha256Sum(msg)
		sig, _ := ecdsa.SignASN1(rand.Reader, k, d[:])
		return base64.RawURLEncoding.EncodeToString(sig)
	}
	good := sign(key, appclient.CopyProofMessage("anna.hansen", pub))
	for _, tc := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"no user ID", map[string]any{"public_key": pub, "proof": good}, "bad_request"},
		{"bad user ID", map[string]any{"user_id": "a", "public_key": pub, "proof": sign(key, appclient.CopyProofMessage("a", pub))}, "bad_user_id"},
		{"not a key", map[string]any{"user_id": "anna.hansen", "public_key": "AAAA", "proof": good}, "bad_key"},
		{"proof by another key", map[string]any{"user_id": "anna.hansen", "public_key": pub, "proof": sign(other, appclient.CopyProofMessage("anna.hansen", pub))}, "bad_proof"},
		{"proof for another user ID", map[string]any{"user_id": "bo.hansen", "public_key": pub, "proof": good}, "bad_proof"},
		{"proof not base64url", map[string]any{"user_id": "anna.hansen", "public_key": pub, "proof": "!!"}, "bad_proof"},
		{"unknown field", map[string]any{"user_id": "anna.hansen", "public_key": pub, "proof": good, "identity": "x"}, "bad_request"},
	} {
		code, m := n.post(t, "/app/v1/copies", nil, tc.body)
		if code/100 != 4 || m["error"] != tc.code {
			t.Errorf("%s: %d %v, want %s", tc.name, code, m, tc.code)
		}
	}
	// A user ID that does not exist starts like one that does.
	code, m := n.post(t, "/app/v1/copies", nil, map[string]any{"user_id": "anna.hansen", "public_key": pub, "proof": good, "device_name": "x"})
	if code != http.StatusCreated || !strings.HasPrefix(m["qr"].(string), appclient.CopyQRPrefix) {
		t.Fatalf("start: %d %v", code, m)
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// TestCopyRaces: two copies approved at once for an identity with 2 apps, and
// one copy approved twice at once: the limit of 3 apps and the single use
// hold on both engines.
func TestCopyRaces(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		p := n.personWithEmail(t, "anna@example.dk")
		old := n.activate(t, p)
		second, _ := n.newPhone(t, p.UserID)
		o, err := old.ScanCopy(ctx, second.QR)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.ApproveCopy(ctx, o); err != nil {
			t.Fatal(err)
		}
		var offers []*appclient.CopyOffer
		for range 2 {
			c, _ := n.newPhone(t, p.UserID)
			o, err := old.ScanCopy(ctx, c.QR)
			if err != nil {
				t.Fatal(err)
			}
			offers = append(offers, o, o) // each approved twice
		}
		errs := make(chan error, len(offers))
		for _, o := range offers {
			go func() { _, err := old.ApproveCopy(ctx, o); errs <- err }()
		}
		ok, codes := 0, map[string]int{}
		for range offers {
			if err := <-errs; err == nil {
				ok++
			} else {
				codes[appclient.ErrorCode(err)]++
			}
		}
		if ok != 1 || codes["too_many_apps"]+codes["already_used"] != 3 {
			t.Fatalf("%d approvals went through (%v); want 1", ok, codes)
		}
		if got := len(n.apps(t, p)); got != 3 {
			t.Fatalf("%d apps", got)
		}
	})
}
