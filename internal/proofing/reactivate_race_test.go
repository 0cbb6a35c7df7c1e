package proofing_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// TestReactivationRevokesAnAppActivatedMeanwhile: an app is activated, with a
// code issued before, while the identity is being reactivated. Whichever
// commits first, the reactivation sees an app activated before it (and is
// refused, the MitID being usable, or revokes it), and one activated after
// it is the person's new one: no app from before the reactivation survives
// beside the reactivated app.
func TestReactivationRevokesAnAppActivatedMeanwhile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e, _ := reactEnv(t, se)
		ctx := context.Background()
		apps, err := app.NewService(app.Config{Store: se.DB, Identities: e.identities, Approvals: e.approvals, Log: se.DB, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		// The reactivation starts a little after the activation, by a delay
		// of its own in each round, so that the rounds between them meet
		// it at each of its steps: the rate limit's transaction, the
		// activation's own, its commit.
		for round, delay := range []time.Duration{0, 15, 30, 40, 50, 70} {
			delay *= time.Millisecond
			p := e.person(t, "Anna Marie", "Hansen", date(1990, 1, 2+round))
			pp := passport(t, p, testchip.Options{})
			first := e.enrolled(t, p, pp, "anna.race"+string(rune('a'+round)))
			id := first.Identity.UUID
			// The phone's app is removed: an active MitID with nothing to
			// log in with may be reactivated. An activation code is left over.
			first.Device.State = authenticator.Revoked
			if err := se.DB.UpdateAuthenticator(ctx, first.Device); err != nil {
				t.Fatal(err)
			}
			code, err := apps.NewActivationCode(ctx, id, nsis.Substantial, "system")
			if err != nil {
				t.Fatal(err)
			}
			key, _ := appclient.NewKey()
			pub, _ := appclient.EncodePublicKey(&key.PublicKey)
			sum := sha256.Sum256(app.ActivationProofMessage(code, pub))
			proof, _ := ecdsa.SignASN1(rand.Reader, key, sum[:])

			o, c, err := e.reactivate(t, pp, p.CPR)
			if err != nil || c.State != proofing.Ready {
				t.Fatalf("reactivation: %+v, %v", c, err)
			}
			comp, _ := completion(t, c.ID, "", "")
			// Each commit waits a little, so that the two overlap.
			se.DB.SetBeforeCommitHook(func() { time.Sleep(30 * time.Millisecond) })
			activated := make(chan error, 1)
			go func() {
				_, _, err := apps.Activate(ctx, code, pub, "borrowed phone", proof, "198.51.100.7")
				activated <- err
			}()
			time.Sleep(delay)
			done, err := e.svc.Complete(ctx, c.ID, o.Token, comp)
			aerr := <-activated
			se.DB.SetBeforeCommitHook(nil)
			if errors.Is(err, proofing.RefuseStillUsable) {
				// The activation came first and the reactivation saw it:
				// the MitID can be used again, and needs no reactivating.
				if aerr != nil {
					t.Fatalf("round %d: refused for an app, but the activation failed: %v", round, aerr)
				}
				continue
			}
			if err != nil {
				t.Fatalf("round %d: reactivation: %v", round, err)
			}

			// The audit chain tells which committed first.
			evs, err := se.DB.AuditEvents(ctx, id, 100) // newest first
			if err != nil {
				t.Fatal(err)
			}
			completedAt, activatedAt, device := -1, -1, ""
			for i, ev := range evs {
				switch {
				case ev.Action == "enrolment.completed" && ev.Details["purpose"] == "reactivation":
					completedAt = i
				case ev.Action == "app.activated":
					activatedAt, device = i, ev.Details["device"]
				}
			}
			if completedAt < 0 || (aerr == nil) != (activatedAt >= 0) {
				t.Fatalf("round %d: audit %d/%d, activation %v", round, completedAt, activatedAt, aerr)
			}
			t.Logf("round %d: activation first: %v", round, activatedAt > completedAt)
			if aerr != nil {
				continue // refused, as the identity was not active when it looked
			}
			a, err := se.DB.Authenticator(ctx, device)
			if err != nil {
				t.Fatal(err)
			}
			before := activatedAt > completedAt
			if before && a.State != authenticator.Revoked {
				t.Fatalf("round %d: the app activated before the reactivation survived it (%s)", round, a.State)
			}
			if !before && a.State != authenticator.Active {
				t.Fatalf("round %d: the app activated after the reactivation is %s", round, a.State)
			}
			if now, err := se.DB.Authenticator(ctx, done.Device.ID); err != nil || now.State != authenticator.Active {
				t.Fatalf("round %d: the reactivated app: %+v, %v", round, now, err)
			}
		}
	})
}
