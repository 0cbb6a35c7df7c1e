package authn_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// countingHasher is the real argon2id hasher, counting the evaluations it
// does and the most it did at once; delay, when set, makes each take longer.
type countingHasher struct {
	*password.Hasher
	verifies    atomic.Int64
	delay       atomic.Int64 // nanoseconds
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

func (c *countingHasher) Verify(pw, encoded string) (bool, bool, error) {
	defer c.enter()()
	return c.Hasher.Verify(pw, encoded)
}

func (c *countingHasher) VerifyDummy(pw string) {
	defer c.enter()()
	c.Hasher.VerifyDummy(pw)
}

func (c *countingHasher) enter() (leave func()) {
	c.verifies.Add(1)
	n := c.inFlight.Add(1)
	for m := c.maxInFlight.Load(); n > m && !c.maxInFlight.CompareAndSwap(m, n); m = c.maxInFlight.Load() {
	}
	time.Sleep(time.Duration(c.delay.Load()))
	return func() { c.inFlight.Add(-1) }
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type clients map[string]authn.Client

// errDirectoryDown is the directory failing (a database away), for the
// client id "unreachable".
var errDirectoryDown = errors.New("directory: connection refused")

func (c clients) Client(_ context.Context, id string) (authn.Client, error) {
	if cl, ok := c[id]; ok {
		return cl, nil
	}
	if id == "unreachable" {
		return authn.Client{}, errDirectoryDown
	}
	return authn.Client{}, authn.ErrClientNotFound
}

// rig is a login engine on a real database, with the services around it.
type rig struct {
	env        storetest.Env
	clock      *clock
	hasher     *countingHasher
	identities *identity.Service
	approvals  *approval.Service
	apps       *app.Service
	codes      *codedisplay.Service
	engine     *authn.Engine
	register   *cpr.Synthetic
	n          atomic.Int64
}

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newRig(t *testing.T, env storetest.Env, limits authn.Limits) *rig {
	return newRigTB(t, env, limits)
}

func newRigTB(t testing.TB, env storetest.Env, limits authn.Limits) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{env: env, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	h, err := password.NewHasher(cheap, nil, password.WithConcurrency(64))
	if err != nil {
		t.Fatal(err)
	}
	r.hasher = &countingHasher{Hasher: h}
	secret := func(name string) []byte {
		v, err := env.Keys.Secret(ctx, env.DB, name, 32)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if r.identities, err = identity.NewService(identity.Config{Store: env.DB, Log: env.DB, Keys: env.Keys, Hasher: r.hasher,
		Policy: password.CheckPolicy, CPRIndexKey: secret("cpr-index"), Now: r.clock.Now}); err != nil {
		t.Fatal(err)
	}
	binder, _ := approval.NewBinder(secret("qr-binding"))
	if r.approvals, err = approval.NewService(approval.Config{Store: env.DB, Log: env.DB, Binder: binder, Now: r.clock.Now}); err != nil {
		t.Fatal(err)
	}
	if r.apps, err = app.NewService(app.Config{Store: env.DB, Identities: r.identities, Approvals: r.approvals, Log: env.DB, Now: r.clock.Now}); err != nil {
		t.Fatal(err)
	}
	r.codes = codedisplay.NewService(env.DB, env.Keys, env.DB, r.clock.Now, nil)
	if r.engine, err = authn.NewEngine(authn.Config{Store: env.DB, Identities: r.identities, Approvals: r.approvals,
		Codes: r.codes, Clients: clients{"bank": {ID: "bank", Name: "Den Danske Bank", MinLevel: nsis.Low}},
		Log: env.DB, DecoyKey: secret("decoy"), Limits: limits, Now: r.clock.Now}); err != nil {
		t.Fatal(err)
	}
	r.register = cpr.NewSynthetic(cpr.DemoSeed, r.clock.Now())
	return r
}

// person makes an active identity with a password.
func (r *rig) person(t *testing.T, userID, pw string, ial nsis.Level) *identity.Identity {
	return r.personTB(t, userID, pw, ial)
}

func (r *rig) personTB(t testing.TB, userID, pw string, ial nsis.Level) *identity.Identity {
	t.Helper()
	n := r.n.Add(1)
	p := r.register.All()[n]
	id, err := r.identities.Create(context.Background(), identity.New{UserID: userID, Password: pw, CPR: p.CPR, IAL: ial,
		State: identity.Active}, audit.ActorSystem)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (r *rig) start(t *testing.T, level string) (*authn.Flow, string) {
	t.Helper()
	f, token, err := r.engine.Start(context.Background(), authn.StartRequest{ClientID: "bank", Level: level,
		ReferenceText: "Log på netbank", OriginIP: "192.0.2.10", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"})
	if err != nil {
		t.Fatal(err)
	}
	return f, token
}

func (r *rig) step(t *testing.T, f *authn.Flow, token string, in authn.StepInput) (*authn.Flow, *authn.Error) {
	t.Helper()
	got, err := r.engine.Step(context.Background(), f.ID, token, in)
	if err == nil {
		return got, nil
	}
	e, ok := authn.IsError(err)
	if !ok {
		t.Fatalf("step %s: unexpected error %v", in.Step, err)
	}
	return got, e
}

func storeEngine(name string) store.Engine { return store.Engine(name) }

type httptestRequest struct {
	req  *http.Request
	body []byte
}
