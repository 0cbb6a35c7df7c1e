package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// activation is a new device key and its proof for an activation code.
func activation(t *testing.T, code string) (pub string, proof []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub = base64.StdEncoding.EncodeToString(der)
	digest := sha256.Sum256(app.ActivationProofMessage(code, pub))
	if proof, err = ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
		t.Fatal(err)
	}
	return pub, proof
}

// TestConcurrentActivationsKeepTheLimit: an identity with 2 apps redeems
// several activation codes at once. Exactly one activation goes through; the
// others get ErrTooManyApps and leave their codes unspent and nothing else
// behind, on both engines.
func TestConcurrentActivationsKeepTheLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		ids, err := server.IdentityService(ctx, &server.Platform{DB: env.DB, Keys: env.Keys, Sealer: env.Sealer}, nil)
		if err != nil {
			t.Fatal(err)
		}
		binder, err := approval.NewBinder(make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		approvals, err := approval.NewService(approval.Config{Store: env.DB, Log: env.DB, Binder: binder})
		if err != nil {
			t.Fatal(err)
		}
		apps, err := app.NewService(app.Config{Store: env.DB, Identities: ids, Approvals: approvals, Log: env.DB})
		if err != nil {
			t.Fatal(err)
		}
		n, err := cpr.Parse("030391-0306")
		if err != nil {
			t.Fatal(err)
		}
		id, err := ids.Create(ctx, identity.New{UserID: "anna.race", CPR: n, IAL: nsis.Substantial, State: identity.Active}, "system")
		if err != nil {
			t.Fatal(err)
		}
		newCode := func() string {
			t.Helper()
			code, err := apps.NewActivationCode(ctx, id.UUID, nsis.Substantial, "system")
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
		for i := range 2 {
			code := newCode()
			pub, proof := activation(t, code)
			if _, _, err := apps.Activate(ctx, code, pub, fmt.Sprintf("phone %d", i), proof, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
		}

		const racers = 5
		type racer struct {
			code, pub string
			proof     []byte
		}
		rs := make([]racer, racers)
		for i := range rs {
			rs[i].code = newCode()
			rs[i].pub, rs[i].proof = activation(t, rs[i].code)
		}
		// Every write transaction waits a little before its commit, so that
		// the activations overlap: without the identity's lock each counts
		// the 2 apps while the others' inserts are not yet committed. Each
		// racer comes from an address of its own, so that the rate limit's
		// counters do not make them take turns.
		env.DB.SetBeforeCommitHook(func() { time.Sleep(30 * time.Millisecond) })
		type result struct {
			i   int
			dev *authenticator.Authenticator
			err error
		}
		results := make(chan result, racers)
		start := make(chan struct{})
		for i, r := range rs {
			go func() {
				<-start
				dev, _, err := apps.Activate(ctx, r.code, r.pub, fmt.Sprintf("racer %d", i), r.proof, fmt.Sprintf("198.51.100.%d", i))
				results <- result{i, dev, err}
			}()
		}
		close(start)
		winner, refused := -1, 0
		var device string
		for range racers {
			r := <-results
			switch {
			case r.err == nil && winner < 0:
				winner, device = r.i, r.dev.ID
			case r.err == nil:
				t.Errorf("racers %d and %d were both activated", winner, r.i)
			case errors.Is(r.err, app.ErrTooManyApps):
				refused++
			default:
				t.Errorf("racer %d: %v", r.i, r.err)
			}
		}
		env.DB.SetBeforeCommitHook(nil)
		if t.Failed() || winner < 0 || refused != racers-1 {
			t.Fatalf("winner %d, %d refused; want one winner and %d refused", winner, refused, racers-1)
		}

		auths, err := env.DB.AuthenticatorsOf(ctx, id.UUID)
		if err != nil {
			t.Fatal(err)
		}
		count, found := 0, false
		for _, a := range auths {
			if a.Kind == authenticator.App {
				count++
				found = found || a.ID == device
			}
		}
		if count != 3 || !found {
			t.Fatalf("%d apps, the winner's %s among them: %v", count, device, found)
		}
		evs, err := env.DB.AuditEvents(ctx, id.UUID, 100)
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
		// The refused codes were not spent: they are refused again for the
		// limit, not as used.
		for i, r := range rs {
			if i == winner {
				continue
			}
			if _, _, err := apps.Activate(ctx, r.code, r.pub, "again", r.proof, "192.0.2.2"); !errors.Is(err, app.ErrTooManyApps) {
				t.Fatalf("racer %d's code again: %v", i, err)
			}
		}
	})
}

func TestDeviceName(t *testing.T) {
	long := strings.Repeat("æ", 40)      // 80 bytes, cut at 64 on a character boundary
	odd := "x" + strings.Repeat("æ", 40) // the 64th byte is the first of an "æ"
	for _, tt := range []struct{ in, want string }{
		{"  Annas iPhone \n", "Annas iPhone"},
		{"", "MitID app"},
		{" \t ", "MitID app"},
		{"bad\x00na\x1bme\x7f", "badname"},
		{long, strings.Repeat("æ", 32)},
		{odd, "x" + strings.Repeat("æ", 31)},
	} {
		got := app.DeviceName(tt.in)
		if got != tt.want || !utf8.ValidString(got) || len(got) > 64 {
			t.Errorf("DeviceName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
