package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// TestAppInWaitingPeriodRefused: an app copied to a new phone is in its
// waiting period. The app API turns it away before it can answer; should an
// answer from it reach the engine all the same, the login fails with
// app_not_usable_yet, and the same app works once the wait is over.
func TestAppInWaitingPeriodRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		r := newRig(t, env, authn.DefaultLimits)
		ctx := context.Background()
		id := r.person(t, "waiting.user", "", nsis.Substantial)
		key, _ := appclient.NewKey()
		now := r.clock.Now()
		// The identity's only app, copied a moment ago: no method reaches
		// substantial by it, so identify offers nothing that uses it.
		pub, _ := appclient.EncodePublicKey(&key.PublicKey)
		der, _ := decodeB64(pub)
		dev := &authenticator.Authenticator{ID: uuid.NewString(), Identity: id.UUID, Kind: authenticator.App, State: authenticator.Active,
			Name: "new phone", Level: nsis.Substantial, PublicKey: der, UsableFrom: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
		if err := env.DB.InsertAuthenticator(ctx, dev); err != nil {
			t.Fatal(err)
		}
		f, token := r.start(t, "substantial")
		f, e := r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "waiting.user"})
		if e != nil || f.State != authn.StateFailed || f.Error != "level_not_reachable" {
			t.Fatalf("identify with only a waiting app: %s %s %v", f.State, f.Error, e)
		}

		// Let the request go out, then put the app back in its waiting
		// period before it answers (as if the app API's check had been
		// passed a moment before).
		dev.UsableFrom = now
		if err := env.DB.UpdateAuthenticator(ctx, dev); err != nil {
			t.Fatal(err)
		}
		answer := func() *authn.Flow {
			t.Helper()
			f, token := r.start(t, "substantial")
			f, e := r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "waiting.user"})
			if e != nil || f.State != authn.StateWaitingForApp {
				t.Fatalf("identify: %s %v", f.State, e)
			}
			a, err := r.approvals.Get(ctx, f.ApprovalID)
			if err != nil {
				t.Fatal(err)
			}
			d := approval.Device{ID: dev.ID, Identity: id.UUID, Key: &key.PublicKey}
			bound, err := r.approvals.Bind(ctx, d, a.ID, "", a.BindingCode)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256(approval.AnswerMessage(bound.ID, bound.Request, approval.Approve, bound.Binding))
			sig, _ := ecdsa.SignASN1(nil, key, digest[:])
			if _, err := r.approvals.Answer(ctx, d, a.ID, approval.Approve, sig); err != nil {
				t.Fatal(err)
			}
			got, err := r.engine.Load(ctx, f.ID, token)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		f, token = r.start(t, "substantial")
		if f, e = r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "waiting.user"}); e != nil || f.State != authn.StateWaitingForApp {
			t.Fatalf("identify: %s %v", f.State, e)
		}
		dev.UsableFrom = now.Add(time.Hour)
		if err := env.DB.UpdateAuthenticator(ctx, dev); err != nil {
			t.Fatal(err)
		}
		a, _ := r.approvals.Get(ctx, f.ApprovalID)
		d := approval.Device{ID: dev.ID, Identity: id.UUID, Key: &key.PublicKey}
		bound, err := r.approvals.Bind(ctx, d, a.ID, "", a.BindingCode)
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256(approval.AnswerMessage(bound.ID, bound.Request, approval.Approve, bound.Binding))
		sig, _ := ecdsa.SignASN1(nil, key, digest[:])
		if _, err := r.approvals.Answer(ctx, d, a.ID, approval.Approve, sig); err != nil {
			t.Fatal(err)
		}
		if got, err := r.engine.Load(ctx, f.ID, token); err != nil || got.State != authn.StateFailed || got.Error != "app_not_usable_yet" {
			t.Fatalf("answered in the waiting period: %s %s %v", got.State, got.Error, err)
		}
		if authn.Message("app_not_usable_yet") == "" {
			t.Error("no message for app_not_usable_yet")
		}

		// After the wait, the same app logs in.
		r.clock.Add(time.Hour + time.Minute)
		if got := answer(); got.State != authn.StateDone {
			t.Fatalf("after the wait: %s %s", got.State, got.Error)
		}
	})
}

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
