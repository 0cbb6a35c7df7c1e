package operator_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/operator"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

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

type env struct {
	storetest.Env
	clock *clock
	ids   *identity.Service
	svc   *operator.Service
}

func newEnv(t *testing.T, se storetest.Env) *env {
	t.Helper()
	e := &env{Env: se, clock: &clock{t: t0}}
	h, err := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := se.Keys.Secret(context.Background(), se.DB, "cpr-index", 32)
	if err != nil {
		t.Fatal(err)
	}
	if e.ids, err = identity.NewService(identity.Config{Store: se.DB, Log: se.DB, Keys: se.Keys, Hasher: h,
		Policy: password.CheckPolicy, CPRIndexKey: key, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	if e.svc, err = operator.NewService(se.DB, e.ids, se.DB, e.clock.Now, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

var births = 0

func (e *env) identity(t *testing.T, userID string, state identity.State) *identity.Identity {
	t.Helper()
	births++
	n, err := cpr.NewSynthetic(cpr.DemoSeed, t0).NewCPR(time.Date(1970, 1, births, 0, 0, 0, 0, time.UTC), cpr.Male)
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.ids.Create(context.Background(), identity.New{UserID: userID, CPR: n, IAL: nsis.High, State: state}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *env) actions(t *testing.T, identityUUID string) map[string]int {
	t.Helper()
	evs, err := e.DB.AuditEvents(context.Background(), identityUUID, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, ev := range evs {
		out[ev.Action]++
	}
	return out
}

func TestAddListRemove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		alice := e.identity(t, "alice-op", identity.Active)
		pending := e.identity(t, "pending-op", identity.Pending)

		bad := []struct {
			name string
			uuid string
			role operator.Role
			want error
		}{
			{"unknown identity", "00000000-0000-4000-8000-000000000000", operator.Caseworker, operator.ErrUnknownIdentity},
			{"pending identity", pending.UUID, operator.Caseworker, operator.ErrNotEligible},
			{"unknown role", alice.UUID, "admin", nil},
		}
		for _, c := range bad {
			_, err := e.svc.Add(ctx, c.uuid, c.role, "admin")
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if list, _ := e.svc.List(ctx); len(list) != 0 {
			t.Fatalf("refused adds left operators: %+v", list)
		}

		o, err := e.svc.Add(ctx, alice.UUID, operator.Caseworker, "admin")
		if err != nil || o.Role != operator.Caseworker {
			t.Fatalf("add: %+v, %v", o, err)
		}
		if _, err := e.svc.Add(ctx, alice.UUID, operator.Supervisor, "admin"); !errors.Is(err, operator.ErrExists) {
			t.Fatalf("second add: %v", err)
		}
		list, err := e.svc.List(ctx)
		if err != nil || len(list) != 1 || list[0].Identity != alice.UUID || list[0].AddedBy != "admin" || !list[0].AddedAt.Equal(t0) {
			t.Fatalf("list: %+v, %v", list, err)
		}
		if err := e.svc.Remove(ctx, alice.UUID, "admin"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Remove(ctx, alice.UUID, "admin"); !errors.Is(err, operator.ErrNotFound) {
			t.Fatalf("second remove: %v", err)
		}
		got := e.actions(t, alice.UUID)
		if got["operator.added"] != 1 || got["operator.removed"] != 1 {
			t.Fatalf("audit: %v", got)
		}
		if rep, err := e.DB.VerifyAudit(ctx, e.Sealer); err != nil || !rep.OK() {
			t.Fatalf("audit chain: %+v, %v", rep, err)
		}
	})
}

func TestLoginAndSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		op := e.identity(t, "case-worker", identity.Active)
		other := e.identity(t, "not-an-op", identity.Active)
		if _, err := e.svc.Add(ctx, op.UUID, operator.Caseworker, "admin"); err != nil {
			t.Fatal(err)
		}

		// Refusals: someone who is not an operator, a low level. Each spends
		// the login under way.
		for _, c := range []struct {
			name  string
			who   string
			level bool
			want  error
		}{
			{"not an operator", other.UUID, true, operator.ErrNotOperator},
			{"level low", op.UUID, false, operator.ErrLevelTooLow},
		} {
			l, err := e.svc.BeginLogin(ctx, "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.PendingLogin(ctx, l.Cookie); err != nil {
				t.Fatalf("%s: pending: %v", c.name, err)
			}
			if _, _, err := e.svc.FinishLogin(ctx, l.Cookie, c.who, "low", c.level); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
			if _, err := e.svc.PendingLogin(ctx, l.Cookie); !errors.Is(err, operator.ErrNoSession) {
				t.Errorf("%s: the login is still pending after a refusal: %v", c.name, err)
			}
		}
		if got := e.actions(t, other.UUID); got["operator.login_refused"] != 1 {
			t.Errorf("refusal not audited: %v", got)
		}

		l, err := e.svc.BeginLogin(ctx, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		cookie, o, err := e.svc.FinishLogin(ctx, l.Cookie, op.UUID, "substantial", true)
		if err != nil || o.Identity != op.UUID || cookie == l.Cookie {
			t.Fatalf("finish: %q %+v %v", cookie, o, err)
		}
		// The login's answer is taken once; the pre-login cookie opens nothing.
		if _, _, err := e.svc.FinishLogin(ctx, l.Cookie, op.UUID, "substantial", true); !errors.Is(err, operator.ErrNoSession) {
			t.Fatalf("second finish: %v", err)
		}
		if _, _, err := e.svc.Open(ctx, l.Cookie); !errors.Is(err, operator.ErrNoSession) {
			t.Fatalf("pre-login cookie opens: %v", err)
		}
		if _, got, err := e.svc.Open(ctx, cookie); err != nil || got.Identity != op.UUID {
			t.Fatalf("open: %+v %v", got, err)
		}
		// Use keeps it alive; idleness ends it.
		e.clock.Add(operator.IdleTimeout - time.Minute)
		if _, _, err := e.svc.Open(ctx, cookie); err != nil {
			t.Fatalf("open before idle: %v", err)
		}
		e.clock.Add(operator.IdleTimeout - time.Minute)
		if _, _, err := e.svc.Open(ctx, cookie); err != nil {
			t.Fatalf("open after use: %v", err)
		}
		e.clock.Add(operator.IdleTimeout + time.Second)
		if _, _, err := e.svc.Open(ctx, cookie); !errors.Is(err, operator.ErrNoSession) {
			t.Fatalf("open after idling: %v", err)
		}

		// Removing the operator ends their sessions; logout ends one.
		l, _ = e.svc.BeginLogin(ctx, "192.0.2.1")
		cookie, _, err = e.svc.FinishLogin(ctx, l.Cookie, op.UUID, "high", true)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Logout(ctx, cookie); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.Open(ctx, cookie); !errors.Is(err, operator.ErrNoSession) {
			t.Fatalf("open after logout: %v", err)
		}
		// An operator whose identity is blocked is out at once.
		l, _ = e.svc.BeginLogin(ctx, "192.0.2.1")
		cookie, _, _ = e.svc.FinishLogin(ctx, l.Cookie, op.UUID, "high", true)
		if _, err := e.ids.Transition(ctx, op.UUID, identity.Blocked, "test", "lost phone"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.Open(ctx, cookie); !errors.Is(err, operator.ErrNoSession) {
			t.Fatalf("open with a blocked identity: %v", err)
		}
		if _, err := e.ids.Transition(ctx, op.UUID, identity.Active, "test", "proofed again"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.Open(ctx, cookie); !errors.Is(err, operator.ErrNoSession) {
			t.Fatalf("the ended session opens after unblocking: %v", err)
		}

		l, _ = e.svc.BeginLogin(ctx, "192.0.2.1")
		cookie, _, _ = e.svc.FinishLogin(ctx, l.Cookie, op.UUID, "high", true)
		if err := e.svc.Remove(ctx, op.UUID, "admin"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.Open(ctx, cookie); !errors.Is(err, operator.ErrNoSession) {
			t.Fatalf("open after removal: %v", err)
		}
		for _, bad := range []string{"", "x", string(make([]byte, 100))} {
			if _, _, err := e.svc.Open(ctx, bad); !errors.Is(err, operator.ErrNoSession) {
				t.Errorf("Open(%q): %v", bad, err)
			}
		}
		got := e.actions(t, op.UUID)
		if got["operator.logged_in"] != 4 || got["operator.logged_out"] != 1 || got["operator.login_refused"] != 1 {
			t.Fatalf("audit: %v", got)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		e := newEnv(t, se)
		ctx := context.Background()
		for i := range operator.MaxLoginsPer {
			if _, err := e.svc.BeginLogin(ctx, "198.51.100.9"); err != nil {
				t.Fatalf("login %d: %v", i+1, err)
			}
		}
		if _, err := e.svc.BeginLogin(ctx, "198.51.100.9"); !errors.Is(err, operator.ErrRateLimited) {
			t.Fatalf("one login too many: %v", err)
		}
		if _, err := e.svc.BeginLogin(ctx, "198.51.100.10"); err != nil {
			t.Fatalf("another address: %v", err)
		}
		e.clock.Add(operator.LoginWindow)
		if _, err := e.svc.BeginLogin(ctx, "198.51.100.9"); err != nil {
			t.Fatalf("the next window: %v", err)
		}
	})
}
