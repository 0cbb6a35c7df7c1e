package proofing_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/notify"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// reactEnv is the harness with an outbox, which reactivation needs.
func reactEnv(t *testing.T, se storetest.Env) (*env, *notify.Service) {
	t.Helper()
	e := newEnv(t, se)
	out, err := notify.NewService(notify.Config{Store: se.DB, Keys: se.Keys, Log: se.DB, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if e.svc, err = proofing.NewService(proofing.Config{Store: se.DB, Identities: e.identities, Approvals: e.approvals,
		Register: e.register, Faces: e.faces, Trust: trustFunc(func() *emrtd.TrustList { return e.trust.tl }), Keys: se.Keys,
		Log: se.DB, Now: e.clock.Now, Rand: e.rand, Notifier: out, ChipAuthenticationKey: caKey(t, se)}); err != nil {
		t.Fatal(err)
	}
	return e, out
}

// enrolled gives the person a MitID with an app, by passport.
func (e *env) enrolled(t *testing.T, p cpr.Person, pp *testchip.Passport, userID string) *proofing.Enrolled {
	t.Helper()
	o, c, err := e.submit(t, pp, p.CPR)
	if err != nil {
		t.Fatal(err)
	}
	comp, _ := completion(t, c.ID, userID, "correct horse battery")
	done, err := e.svc.Complete(context.Background(), c.ID, o.Token, comp)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// reactivate starts a reactivation and submits the passport.
func (e *env) reactivate(t *testing.T, pp *testchip.Passport, n cpr.Number) (*proofing.Opened, *proofing.Case, error) {
	t.Helper()
	o, err := e.svc.StartReactivation(context.Background(), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.SubmitPassport(context.Background(), o.Case.ID, o.Token, submission(t, pp, o.Challenge, n))
	return o, c, err
}

func TestReactivateBlockedIdentity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e, out := reactEnv(t, se)
		ctx := context.Background()
		p := e.person(t, "Anna Marie", "Hansen", date(1990, 1, 2))
		pp := passport(t, p, testchip.Options{})
		first := e.enrolled(t, p, pp, "anna.hansen")
		if err := out.SetEmail(ctx, first.Identity.UUID, "anna@example.dk", "system"); err != nil {
			t.Fatal(err)
		}
		// An activation code issued before the loss (a letter that went astray)
		// must not add an app after the reactivation.
		apps, err := app.NewService(app.Config{Store: se.DB, Identities: e.identities, Approvals: e.approvals, Log: se.DB, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		oldCode, err := apps.NewActivationCode(ctx, first.Identity.UUID, nsis.Substantial, "system")
		if err != nil {
			t.Fatal(err)
		}
		// The phone is lost: the person blocks the MitID.
		if _, err := e.identities.Transition(ctx, first.Identity.UUID, identity.Blocked, audit.ActorIdentity(first.Identity.UUID), "lost phone"); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Hour)

		// An enrolment is still refused: the person has a MitID.
		if _, _, err := e.submit(t, pp, p.CPR); !errors.Is(err, proofing.RefuseAlreadyEnrolled) {
			t.Fatalf("enrolment of a person with a blocked MitID: %v", err)
		}
		o, c, err := e.reactivate(t, pp, p.CPR)
		if err != nil || c.State != proofing.Ready {
			t.Fatalf("reactivation: %+v, %v", c, err)
		}
		var names []string
		for _, ch := range c.Checks {
			names = append(names, ch.Name)
		}
		if want := []string{"passive_authentication", "active_authentication", "mrz", "document_expiry", "register", "age", "reactivation", "face"}; !slices.Equal(names, want) {
			t.Errorf("checks %v, want %v", names, want)
		}
		// A reactivation keeps the user ID: one sent is refused, and the case stays ready.
		withID, _ := completion(t, c.ID, "anna.other", "")
		if _, err := e.svc.Complete(ctx, c.ID, o.Token, withID); !errors.Is(err, proofing.ErrUserIDGiven) {
			t.Fatalf("a user ID sent: %v", err)
		}
		comp, _ := completion(t, c.ID, "", "a brand new passphrase")
		done, err := e.svc.Complete(ctx, c.ID, o.Token, comp)
		if err != nil {
			t.Fatal(err)
		}
		id := done.Identity
		if id.UUID != first.Identity.UUID || id.UserID != "anna.hansen" || id.State != identity.Active {
			t.Fatalf("reactivated identity %+v", id)
		}
		auths, err := e.DB.AuthenticatorsOf(ctx, id.UUID)
		if err != nil || len(auths) != 1 || auths[0].ID != done.Device.ID || !auths[0].Usable(e.clock.Now()) {
			t.Fatalf("authenticators after reactivation: %v, %v", auths, err)
		}
		if old, err := e.DB.Authenticator(ctx, first.Device.ID); err != nil || old.State != authenticator.Revoked {
			t.Fatalf("the lost phone's app: %+v, %v", old, err)
		}
		got, _ := e.identities.ByUUID(ctx, id.UUID)
		if ok, _ := e.identities.CheckPassword(ctx, got, "a brand new passphrase"); !ok {
			t.Error("the new password does not work")
		}
		if ok, _ := e.identities.CheckPassword(ctx, got, "correct horse battery"); ok {
			t.Error("the old password still works")
		}
		msgs, err := out.Messages(ctx, id.UUID)
		if err != nil || len(msgs) != 1 || msgs[0].Template != notify.Reactivated {
			t.Fatalf("notifications: %v, %v", msgs, err)
		}
		acts := auditActions(t, e, id.UUID)
		key, _ := appclient.NewKey()
		pub, _ := appclient.EncodePublicKey(&key.PublicKey)
		sum := sha256.Sum256(app.ActivationProofMessage(oldCode, pub))
		proof, _ := ecdsa.SignASN1(rand.Reader, key, sum[:])
		if _, _, err := apps.Activate(ctx, oldCode, pub, "found letter", proof, "198.51.100.9"); !errors.Is(err, app.ErrInvalidCode) {
			t.Fatalf("an activation code from before the reactivation: %v", err)
		}
		for _, a := range []string{"identity.reactivated", "authenticator.revoked", "activation_codes.cancelled", "app.registered", "enrolment.completed"} {
			if !slices.Contains(acts, a) {
				t.Errorf("audit lacks %s: %v", a, acts)
			}
		}
		// Once: the case completed.
		if _, err := e.svc.Complete(ctx, c.ID, o.Token, comp); !errors.Is(err, proofing.ErrWrongState) {
			t.Errorf("second completion: %v", err)
		}
	})
}

func TestReactivationRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e, out := reactEnv(t, se)
		ctx := context.Background()

		nobody := e.person(t, "Bo", "Jensen", date(1985, 3, 4))
		usable := e.person(t, "Carla", "Nielsen", date(1980, 6, 7))
		revoked := e.person(t, "Dan", "Olsen", date(1975, 8, 9))
		keepPassword := e.person(t, "Eva", "Berg", date(1995, 10, 11))
		e.enrolled(t, usable, passport(t, usable, testchip.Options{}), "carla.n")
		r := e.enrolled(t, revoked, passport(t, revoked, testchip.Options{}), "dan.olsen")
		if _, err := e.identities.Transition(ctx, r.Identity.UUID, identity.Revoked, "system", "test"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			p    cpr.Person
			want *proofing.Refusal
		}{
			{"no MitID", nobody, proofing.RefuseNotEnrolled},
			{"a MitID whose app works", usable, proofing.RefuseStillUsable},
			{"a revoked MitID", revoked, proofing.RefuseNotEnrolled},
		} {
			_, c, err := e.reactivate(t, passport(t, tc.p, testchip.Options{}), tc.p.CPR)
			if !errors.Is(err, tc.want) || c == nil || c.State != proofing.Refused || c.Reason != tc.want.Code() {
				t.Errorf("%s: %v, case %+v", tc.name, err, c)
			}
		}
		// Carla's app still works and nothing was added.
		carla, _ := e.identities.ByUserID(ctx, "carla.n")
		if auths, _ := e.DB.AuthenticatorsOf(ctx, carla.UUID); len(auths) != 1 || auths[0].State != authenticator.Active || carla.State != identity.Active {
			t.Errorf("after a refused reactivation: %v %s", auths, carla.State)
		}

		// A bad contact address is refused and the case stays ready; a good
		// one is kept, sealed.
		fresh := e.person(t, "Frida", "Lund", date(1992, 2, 3))
		fo, fc, err := e.submit(t, passport(t, fresh, testchip.Options{}), fresh.CPR)
		if err != nil {
			t.Fatal(err)
		}
		bad, _ := completion(t, fc.ID, "frida.lund", "correct horse battery")
		bad.Email = "frida@@example.dk"
		if _, err := e.svc.Complete(ctx, fc.ID, fo.Token, bad); !errors.Is(err, proofing.ErrBadEmail) {
			t.Fatalf("a bad e-mail address: %v", err)
		}
		good, _ := completion(t, fc.ID, "frida.lund", "correct horse battery")
		good.Email = "frida@example.dk"
		fd, err := e.svc.Complete(ctx, fc.ID, fo.Token, good)
		if err != nil {
			t.Fatal(err)
		}
		if addr, err := out.Email(ctx, fd.Identity.UUID); err != nil || addr != "frida@example.dk" {
			t.Fatalf("the contact address: %q, %v", addr, err)
		}

		// An active MitID whose only app was blocked: reactivated, password kept.
		k := e.enrolled(t, keepPassword, passport(t, keepPassword, testchip.Options{}), "eva.berg")
		k.Device.State = authenticator.Blocked
		if err := e.DB.UpdateAuthenticator(ctx, k.Device); err != nil {
			t.Fatal(err)
		}
		o, c, err := e.reactivate(t, passport(t, keepPassword, testchip.Options{}), keepPassword.CPR)
		if err != nil {
			t.Fatal(err)
		}
		comp, _ := completion(t, c.ID, "", "")
		done, err := e.svc.Complete(ctx, c.ID, o.Token, comp)
		if err != nil || done.Identity.UUID != k.Identity.UUID {
			t.Fatalf("reactivating with a blocked app: %+v, %v", done, err)
		}
		if ok, _ := e.identities.CheckPassword(ctx, done.Identity, "correct horse battery"); !ok {
			t.Error("the password changed though none was given")
		}
	})
}
