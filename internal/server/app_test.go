package server_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/pkg/appclient"
)

var engines = []store.Engine{store.SQLite, store.Postgres}

func eachEngine(t *testing.T, fn func(t *testing.T, n *node)) {
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) { fn(t, newNode(t, e)) })
	}
}

func TestAppLoginByCodeAndByQR(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		p := n.person(t, "app")
		app := n.activate(t, p)
		for _, by := range []string{"binding_code", "qr"} {
			f := n.flow(t, "substantial")
			f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
			if f.state() != "waiting_for_app" || f.Last["binding_code"] == "" || !strings.HasPrefix(f.Last["qr"].(string), "openmitid1.") {
				t.Fatalf("identify: %v", f.Last)
			}
			req, state, err := app.ApproveNext(ctx, 5*time.Second, f.Last[by].(string), approval.Approve)
			if err != nil || state != "approved" {
				t.Fatalf("approve by %s: %v, %v", by, state, err)
			}
			if req.ClientName != "OpenMitID Demo" || req.ReferenceText != "Log på e-Boks" || req.Identity != p.UUID || req.Kind != approval.KindLogin {
				t.Fatalf("the app was shown %+v", req)
			}
			f.refresh(t)
			if f.state() != "done" || f.Last["level"] != "substantial" || f.Last["amr"].([]any)[0] != "code_app" {
				t.Fatalf("after approval: %v", f.Last)
			}
		}
	})
}

// TestInterleavedTwoPeople: two people log in at once, their steps
// interleaved; each login ends with its own person, and nothing of one can be
// used in the other (the January 2022 broker incident).
func TestInterleavedTwoPeople(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		anna, bo := n.person(t, "app"), n.person(t, "app")
		annaApp, boApp := n.activate(t, anna), n.activate(t, bo)
		fa, fb := n.flow(t, "substantial"), n.flow(t, "substantial")
		fb.step(t, map[string]any{"step": "identify", "user_id": bo.UserID})
		fa.step(t, map[string]any{"step": "identify", "user_id": anna.UserID})
		// A flow's token opens only its own flow.
		if code, _ := n.get(t, "/authn/v1/flows/"+fa.ID, map[string]string{"X-Flow-Token": fb.Token}); code != http.StatusNotFound {
			t.Fatalf("Bo's token opened Anna's flow: %d", code)
		}
		pa, err := annaApp.Next(ctx, time.Second)
		if err != nil || pa == nil {
			t.Fatal(err)
		}
		pb, err := boApp.Next(ctx, time.Second)
		if err != nil || pb == nil || pb.ApprovalID == pa.ApprovalID {
			t.Fatalf("Bo's app sees %+v, Anna's %+v", pb, pa)
		}
		// Bo's app cannot bind Anna's request, nor bind his own with Anna's screen.
		if _, err := boApp.Bind(ctx, pa.ApprovalID, "", fa.Last["binding_code"].(string)); appclient.ErrorCode(err) != "not_found" {
			t.Fatalf("Bo's app bound Anna's request: %v", err)
		}
		if _, err := boApp.Bind(ctx, pb.ApprovalID, fa.Last["qr"].(string), ""); appclient.ErrorCode(err) != "binding_failed" {
			t.Fatalf("Bo's request bound with Anna's QR code: %v", err)
		}
		code := fa.Last["binding_code"].(string)
		if code != fb.Last["binding_code"].(string) {
			if _, err := boApp.Bind(ctx, pb.ApprovalID, "", code); appclient.ErrorCode(err) != "binding_failed" {
				t.Fatalf("Bo's request bound with Anna's code: %v", err)
			}
		}
		// Interleaved: Bo binds, Anna binds, Anna answers, Bo answers.
		bb, err := boApp.Bind(ctx, pb.ApprovalID, fb.Last["qr"].(string), "")
		if err != nil {
			t.Fatal(err)
		}
		ba, err := annaApp.Bind(ctx, pa.ApprovalID, "", fa.Last["binding_code"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if ba.Request.Identity != anna.UUID || bb.Request.Identity != bo.UUID {
			t.Fatal("a bound request names the wrong person")
		}
		if s, err := annaApp.Answer(ctx, ba, approval.Approve); err != nil || s != "approved" {
			t.Fatal(s, err)
		}
		if s, err := boApp.Answer(ctx, bb, approval.Approve); err != nil || s != "approved" {
			t.Fatal(s, err)
		}
		fa.refresh(t)
		fb.refresh(t)
		if fa.state() != "done" || fb.state() != "done" {
			t.Fatalf("states %s, %s", fa.state(), fb.state())
		}
		ra, _ := n.srv.Engine().Result(ctx, fa.ID)
		rb, _ := n.srv.Engine().Result(ctx, fb.ID)
		if ra.Identity != anna.UUID || rb.Identity != bo.UUID {
			t.Fatalf("Anna's login ended as %s, Bo's as %s", ra.Identity, rb.Identity)
		}
	})
}

func TestAppFailures(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		p := n.person(t, "app")
		app := n.activate(t, p)
		begin := func() (*flow, *appclient.Pending) {
			t.Helper()
			f := n.flow(t, "substantial")
			f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
			pend, err := app.Next(ctx, time.Second)
			if err != nil || pend == nil {
				t.Fatalf("next: %v %v", pend, err)
			}
			return f, pend
		}

		t.Run("approve without binding", func(t *testing.T) {
			f, pend := begin()
			if _, err := app.AnswerUnbound(ctx, pend.ApprovalID, approval.Approve); appclient.ErrorCode(err) != "not_bound" {
				t.Fatalf("unbound approve: %v", err)
			}
			if f.refresh(t); f.state() != "waiting_for_app" {
				t.Fatalf("an unbound approve moved the flow: %v", f.Last)
			}
		})
		t.Run("wrong binding three times", func(t *testing.T) {
			f, pend := begin()
			right := f.Last["binding_code"].(string)
			wrong := "0000"
			if wrong == right {
				wrong = "1111"
			}
			for i := 1; i <= 3; i++ {
				_, err := app.Bind(ctx, pend.ApprovalID, "", wrong)
				want := map[bool]string{true: "binding_failed_too_often", false: "binding_failed"}[i == 3]
				if appclient.ErrorCode(err) != want {
					t.Fatalf("try %d: %v", i, err)
				}
			}
			if f.refresh(t); f.state() != "failed" || f.errCode() != "binding_failed" {
				t.Fatalf("after three wrong bindings: %v", f.Last)
			}
			if _, err := app.Bind(ctx, pend.ApprovalID, "", right); err == nil {
				t.Fatal("the right code bound a failed request")
			}
		})
		t.Run("stale QR frame", func(t *testing.T) {
			f, pend := begin()
			frame := f.Last["qr"].(string)
			n.clock.Add(approval.FrameMaxAge + 3*time.Second)
			if _, err := app.Bind(ctx, pend.ApprovalID, frame, ""); appclient.ErrorCode(err) != "stale_qr" {
				t.Fatalf("stale frame: %v", err)
			}
			f.refresh(t)
			if _, err := app.Bind(ctx, pend.ApprovalID, f.Last["qr"].(string), ""); err != nil {
				t.Fatalf("a fresh frame: %v", err)
			}
			f.step(t, map[string]any{"step": "cancel"})
		})
		t.Run("signature over other bytes", func(t *testing.T) {
			f, pend := begin()
			b, err := app.Bind(ctx, pend.ApprovalID, "", f.Last["binding_code"].(string))
			if err != nil {
				t.Fatal(err)
			}
			forged := *b
			forged.Raw = append([]byte{}, b.Raw...)
			forged.Raw[len(forged.Raw)-1] ^= 1
			if _, err := app.Answer(ctx, &forged, approval.Approve); appclient.ErrorCode(err) != "bad_signature" {
				t.Fatalf("signature over other bytes: %v", err)
			}
			if f.refresh(t); f.state() != "waiting_for_app" {
				t.Fatalf("a bad signature moved the flow: %v", f.Last)
			}
			if s, err := app.Answer(ctx, b, approval.Approve); err != nil || s != "approved" {
				t.Fatalf("the genuine answer after a forged one: %v %v", s, err)
			}
			if _, err := app.Answer(ctx, b, approval.Approve); appclient.ErrorCode(err) != "already_answered" {
				t.Fatalf("a replayed answer: %v", err)
			}
		})
		t.Run("reject", func(t *testing.T) {
			f, _ := begin()
			if _, _, err := app.ApproveNext(ctx, time.Second, f.Last["binding_code"].(string), approval.Reject); err != nil {
				t.Fatal(err)
			}
			if f.refresh(t); f.state() != "failed" || f.errCode() != "rejected" {
				t.Fatalf("after reject: %v", f.Last)
			}
		})
		t.Run("expired", func(t *testing.T) {
			f, pend := begin()
			n.clock.Add(approval.TTL + time.Second)
			if _, err := app.Bind(ctx, pend.ApprovalID, "", f.Last["binding_code"].(string)); appclient.ErrorCode(err) != "expired" {
				t.Fatalf("binding an expired request: %v", err)
			}
			if f.refresh(t); f.state() != "failed" || f.errCode() != "expired" {
				t.Fatalf("after expiry: %v", f.Last)
			}
		})
		t.Run("a newer request replaces an open one", func(t *testing.T) {
			f1, _ := begin()
			f2, pend := begin()
			if f1.refresh(t); f1.state() != "failed" || f1.errCode() != "replaced" {
				t.Fatalf("the older login: %v", f1.Last)
			}
			if _, _, err := app.ApproveNext(ctx, time.Second, f2.Last["binding_code"].(string), approval.Approve); err != nil {
				t.Fatal(err)
			}
			_ = pend
			if f2.refresh(t); f2.state() != "done" {
				t.Fatalf("the newer login: %v", f2.Last)
			}
		})
		t.Run("fraud report", func(t *testing.T) {
			f, pend := begin()
			if s, err := app.AnswerUnbound(ctx, pend.ApprovalID, approval.Fraud); err != nil || s != "fraud" {
				t.Fatalf("report: %v %v", s, err)
			}
			if f.refresh(t); f.state() != "failed" || f.errCode() != "fraud_reported" {
				t.Fatalf("after a fraud report: %v", f.Last)
			}
			reports, err := n.srv.Platform().DB.FraudReports(ctx, p.UUID)
			if err != nil || len(reports) != 1 || reports[0].FlowID != f.ID || reports[0].ClientID != "demo" {
				t.Fatalf("fraud reports: %+v, %v", reports, err)
			}
			evs, _ := n.srv.Platform().DB.AuditEvents(ctx, p.UUID, 50)
			found := false
			for _, e := range evs {
				found = found || e.Action == "fraud.reported"
			}
			if !found {
				t.Fatal("no fraud.reported audit event")
			}
		})
		t.Run("blocked from the app", func(t *testing.T) {
			if err := app.Block(ctx); err != nil {
				t.Fatal(err)
			}
			if err := app.Block(ctx); err != nil {
				t.Fatalf("blocking twice: %v", err)
			}
			if _, err := app.Next(ctx, 0); appclient.ErrorCode(err) != "device_blocked" {
				t.Fatalf("a blocked app polling: %v", err)
			}
			info, err := app.DeviceInfo(ctx)
			if err != nil || info.State != "blocked" {
				t.Fatalf("device info: %+v %v", info, err)
			}
		})
	})
}

func TestActivationRules(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		p := n.person(t, "app")
		n.activate(t, p)
		key, _ := appclient.NewKey()
		if _, err := appclient.Activate(ctx, n.URL, p.ActivationCode, "second", key, appclient.WithClock(n.clock.Now)); appclient.ErrorCode(err) != "invalid_activation_code" {
			t.Fatalf("a used code: %v", err)
		}
		if _, err := appclient.Activate(ctx, n.URL, "ABCD-EFGH-JKLM-NPQR", "x", key, appclient.WithClock(n.clock.Now)); appclient.ErrorCode(err) != "invalid_activation_code" {
			t.Fatalf("an unknown code: %v", err)
		}
		// At most three apps.
		for i := 0; i < 3; i++ {
			code, m := n.post(t, "/testtool/v1/identities/"+p.UserID+"/activation-codes", nil, map[string]any{})
			if code != http.StatusCreated {
				t.Fatalf("a new activation code: %d %v", code, m)
			}
			k, _ := appclient.NewKey()
			_, err := appclient.Activate(ctx, n.URL, m["activation_code"].(string), "phone", k, appclient.WithClock(n.clock.Now))
			want := map[bool]string{true: "too_many_apps", false: ""}[i == 2]
			if appclient.ErrorCode(err) != want {
				t.Fatalf("app %d: %v", i+2, err)
			}
		}
		// A request signed at a time too far from the server's is refused.
		c := p.app
		far, _ := appclient.New(c.Device(), appclient.WithClock(func() time.Time { return n.clock.Now().Add(5 * time.Minute) }))
		if _, err := far.Next(ctx, 0); appclient.ErrorCode(err) != "bad_device_signature" {
			t.Fatalf("a request from the future: %v", err)
		}
		// Another key under the device's id is refused.
		other, _ := appclient.NewKey()
		d := c.Device()
		d.Key = other
		imp, _ := appclient.New(d, appclient.WithClock(n.clock.Now))
		if _, err := imp.Next(ctx, 0); appclient.ErrorCode(err) != "bad_device_signature" {
			t.Fatalf("another key: %v", err)
		}
		var _ *ecdsa.PrivateKey = other
	})
}

// TestApprovalFatigue: too many requests to one person in a short time are refused.
func TestApprovalFatigue(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "app")
	n.activate(t, p)
	var codes []string
	for range approval.MaxPerWindow + 2 {
		f := n.flow(t, "substantial")
		f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
		codes = append(codes, f.errCode())
	}
	if codes[approval.MaxPerWindow-1] != "" || codes[approval.MaxPerWindow] != "too_many_app_requests" {
		t.Fatalf("errors along the way: %v", codes)
	}
}

// TestLongPollWakes: a browser waiting on the flow wakes when the app answers.
func TestLongPollWakes(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		p := n.person(t, "app")
		app := n.activate(t, p)
		f := n.flow(t, "substantial")
		f.step(t, map[string]any{"step": "identify", "user_id": p.UserID})
		version := int(f.Last["version"].(float64))
		var (
			wg    sync.WaitGroup
			state string
			took  time.Duration
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			_, m := n.get(t, "/authn/v1/flows/"+f.ID+"?wait=25s&since="+itoa(version), map[string]string{"X-Flow-Token": f.Token})
			state, took = m["state"].(string), time.Since(start)
		}()
		time.Sleep(200 * time.Millisecond)
		if _, _, err := app.ApproveNext(context.Background(), time.Second, f.Last["binding_code"].(string), approval.Approve); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if state != "done" || took > 10*time.Second {
			t.Fatalf("long poll: %s after %v", state, took)
		}
	})
}

func itoa(i int) string {
	b := []byte{}
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	if len(b) == 0 {
		return "0"
	}
	return string(b)
}

// TestActivationRace: an identity with 2 apps redeems several activation
// codes at once. Exactly one activation goes through, the others get
// too_many_apps, and they leave their codes unspent and nothing else behind,
// on both engines.
func TestActivationRace(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		p := n.person(t, "app")
		n.activate(t, p)
		newCode := func() string {
			t.Helper()
			code, m := n.post(t, "/testtool/v1/identities/"+p.UserID+"/activation-codes", nil, map[string]any{})
			if code != http.StatusCreated {
				t.Fatalf("a new activation code: %d %v", code, m)
			}
			return m["activation_code"].(string)
		}
		k, _ := appclient.NewKey()
		if _, err := appclient.Activate(ctx, n.URL, newCode(), "second", k, appclient.WithClock(n.clock.Now)); err != nil {
			t.Fatal(err)
		}
		const racers = 5
		codes := make([]string, racers)
		keys := make([]*ecdsa.PrivateKey, racers)
		for i := range codes {
			codes[i] = newCode()
			if keys[i], _ = appclient.NewKey(); keys[i] == nil {
				t.Fatal("no key")
			}
		}
		type result struct {
			i   int
			act *appclient.Activation
			err error
		}
		results := make(chan result, racers)
		start := make(chan struct{})
		for i := range codes {
			go func() {
				<-start
				act, err := appclient.Activate(ctx, n.URL, codes[i], fmt.Sprintf("racer %d", i), keys[i], appclient.WithClock(n.clock.Now))
				results <- result{i, act, err}
			}()
		}
		close(start)
		winner, refused := -1, 0
		var device string
		for range racers {
			r := <-results
			switch {
			case r.err == nil && winner < 0:
				winner, device = r.i, r.act.DeviceID
			case r.err == nil:
				t.Errorf("racers %d and %d were both activated", winner, r.i)
			case appclient.ErrorCode(r.err) == "too_many_apps":
				refused++
			default:
				t.Errorf("racer %d: %v", r.i, r.err)
			}
		}
		if t.Failed() || winner < 0 || refused != racers-1 {
			t.Fatalf("winner %d, %d refused; want one winner and %d refused", winner, refused, racers-1)
		}
		apps := n.apps(t, p)
		if len(apps) != 3 {
			t.Fatalf("%d apps: %v", len(apps), apps)
		}
		found := false
		for _, a := range apps {
			found = found || a["id"] == device
		}
		if !found {
			t.Fatalf("the winner's app %s is not among %v", device, apps)
		}
		evs, err := n.srv.Platform().DB.AuditEvents(ctx, p.UUID, 100)
		if err != nil {
			t.Fatal(err)
		}
		activated := 0
		for _, e := range evs {
			if e.Action == "app.activated" {
				activated++
			}
		}
		if activated != 3 {
			t.Fatalf("%d app.activated events; want 3", activated)
		}
		// The refused codes were not spent: they are still refused for the
		// limit, not as used.
		for i, c := range codes {
			if i == winner {
				continue
			}
			k, _ := appclient.NewKey()
			if _, err := appclient.Activate(ctx, n.URL, c, "again", k, appclient.WithClock(n.clock.Now)); appclient.ErrorCode(err) != "too_many_apps" {
				t.Fatalf("racer %d's code again: %v", i, err)
			}
		}
	})
}
