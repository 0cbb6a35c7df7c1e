package identity_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// cheap keeps argon2 fast in tests that are not about its cost.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type clock struct{ t atomic.Pointer[time.Time] }

func newClock() *clock {
	c := &clock{}
	c.set(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	return c
}
func (c *clock) Now() time.Time      { return *c.t.Load() }
func (c *clock) set(t time.Time)     { c.t.Store(&t) }
func (c *clock) add(d time.Duration) { c.set(c.Now().Add(d)) }

func newService(t *testing.T, env storetest.Env, p password.Params, c *clock) *identity.Service {
	t.Helper()
	h, err := password.NewHasher(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := env.Keys.Secret(context.Background(), env.DB, "cpr-index", 32)
	if err != nil {
		t.Fatal(err)
	}
	s, err := identity.NewService(identity.Config{Store: env.DB, Log: env.DB, Keys: env.Keys, Hasher: h,
		Policy: password.CheckPolicy, CPRIndexKey: key, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustCPR(t *testing.T, s string) cpr.Number {
	t.Helper()
	n, err := cpr.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func events(t *testing.T, env storetest.Env, identityUUID string) []string {
	t.Helper()
	evs, err := env.DB.AuditEvents(context.Background(), identityUUID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Action)
	}
	return out
}

func TestCreateAndFind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		c := newClock()
		s := newService(t, env, cheap, c)
		n := mustCPR(t, "010190-1234")
		id, err := s.Create(ctx, identity.New{UserID: "Anna.Hansen", Password: "blæksprutte-i-haven", CPR: n,
			IAL: nsis.Substantial, State: identity.Active}, audit.ActorSystem)
		if err != nil {
			t.Fatal(err)
		}
		for name, find := range map[string]func() (*identity.Identity, error){
			"uuid":           func() (*identity.Identity, error) { return s.ByUUID(ctx, id.UUID) },
			"user ID":        func() (*identity.Identity, error) { return s.ByUserID(ctx, "anna.hansen") },
			"user ID spaced": func() (*identity.Identity, error) { return s.ByUserID(ctx, " ANNA.HANSEN ") },
			"cpr":            func() (*identity.Identity, error) { return s.ByCPR(ctx, n) },
		} {
			got, err := find()
			if err != nil || got.UUID != id.UUID || got.CPR != n || got.UserID != "Anna.Hansen" ||
				got.State != identity.Active || got.IAL != nsis.Substantial || got.Version != 1 {
				t.Errorf("by %s: %+v, %v", name, got, err)
			}
		}
		if _, err := s.ByUserID(ctx, "nobody.here"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("unknown user ID: %v", err)
		}
		if _, err := s.ByUserID(ctx, "x"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("malformed user ID: %v", err)
		}
		// The CPR number is not stored in the clear.
		raw, _ := env.DB.IdentityByUUID(ctx, id.UUID)
		if bytes.Contains(raw.CPRSealed, []byte("0101901234")) || bytes.Contains(raw.CPRIndex, []byte("0101901234")) {
			t.Error("the CPR number is stored in the clear")
		}
		if got := events(t, env, id.UUID); fmt.Sprint(got) != "[identity.created]" {
			t.Errorf("events = %v", got)
		}
	})
}

func TestCreateRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		s := newService(t, env, cheap, newClock())
		n := mustCPR(t, "010190-1234")
		if _, err := s.Create(ctx, identity.New{UserID: "first.user", CPR: n, IAL: nsis.High, State: identity.Active}, "system"); err != nil {
			t.Fatal(err)
		}
		bad := []struct {
			name string
			new  identity.New
			want error
		}{
			{"user ID taken in another case", identity.New{UserID: "FIRST.USER", CPR: mustCPR(t, "020290-1234"), IAL: nsis.High, State: identity.Active}, identity.ErrUserIDTaken},
			{"second identity for one person", identity.New{UserID: "second.user", CPR: n, IAL: nsis.High, State: identity.Active}, identity.ErrAlreadyEnrolled},
			{"user ID too short", identity.New{UserID: "abc", CPR: mustCPR(t, "030390-1234"), IAL: nsis.High, State: identity.Active}, identity.ErrUserIDLength},
			{"user ID is a CPR", identity.New{UserID: "0303901234", CPR: mustCPR(t, "030390-1234"), IAL: nsis.High, State: identity.Active}, identity.ErrUserIDIsCPR},
			{"common password", identity.New{UserID: "third.user", Password: "Sommer2024!", CPR: mustCPR(t, "040490-1234"), IAL: nsis.High, State: identity.Active}, password.ErrCommon},
			{"password holds user ID", identity.New{UserID: "fourth.user", Password: "xfourth.userx", CPR: mustCPR(t, "050590-1234"), IAL: nsis.High, State: identity.Active}, password.ErrContainsUserID},
		}
		for _, tt := range bad {
			id, err := s.Create(ctx, tt.new, "system")
			if !errors.Is(err, tt.want) || id != nil {
				t.Errorf("%s: %v, %v; want %v", tt.name, id, err, tt.want)
			}
		}
		for _, tt := range []identity.New{
			{UserID: "no.level", CPR: mustCPR(t, "060690-1234"), State: identity.Active},
			{UserID: "no.person", IAL: nsis.High, State: identity.Active},
			{UserID: "two.keys", CPR: mustCPR(t, "060690-1234"), PCode: "12345678", Restrictions: identity.PCodeOnly, IAL: nsis.High, State: identity.Active},
			{UserID: "pcode.unflagged", PCode: "12345678", IAL: nsis.High, State: identity.Active},
			{UserID: "born.blocked", CPR: mustCPR(t, "060690-1234"), IAL: nsis.High, State: identity.Blocked},
		} {
			if id, err := s.Create(ctx, tt, "system"); err == nil || id != nil {
				t.Errorf("Create(%+v) succeeded", tt)
			}
		}
		// Nothing of the refusals was written: one identity, one event.
		rep, err := env.DB.VerifyAudit(ctx, env.Sealer)
		if err != nil || !rep.OK() || rep.Entries != 1 {
			t.Fatalf("after refusals: %+v, %v; want one intact entry", rep, err)
		}
		if _, err := s.ByUserID(ctx, "second.user"); !errors.Is(err, identity.ErrNotFound) {
			t.Error("a refused identity's user ID was claimed")
		}
	})
}

func TestPCodeIdentity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		s := newService(t, env, cheap, newClock())
		id, err := s.Create(ctx, identity.New{UserID: "jan.kowalski", PCode: "12345678", Restrictions: identity.PCodeOnly,
			IAL: nsis.Substantial, State: identity.Active}, "system")
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ByPCode(ctx, "12345678")
		if err != nil || got.UUID != id.UUID || !got.CPR.IsZero() || got.Restrictions&identity.PCodeOnly == 0 {
			t.Fatalf("ByPCode = %+v, %v", got, err)
		}
		_, err = s.Create(ctx, identity.New{UserID: "other.person", PCode: "12345678", Restrictions: identity.PCodeOnly,
			IAL: nsis.Substantial, State: identity.Active}, "system")
		if !errors.Is(err, identity.ErrPCodeTaken) {
			t.Fatalf("a P-code in use: %v", err)
		}
	})
}

func TestTransitionsThroughService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		s := newService(t, env, cheap, newClock())
		id, err := s.Create(ctx, identity.New{UserID: "state.walker", CPR: mustCPR(t, "010190-1234"), IAL: nsis.High, State: identity.Pending}, "system")
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			to    identity.State
			legal bool
		}{
			{identity.Blocked, false}, {identity.Active, true}, {identity.Pending, false}, {identity.Active, false},
			{identity.Blocked, true}, {identity.Blocked, false}, {identity.Pending, false}, {identity.Active, true},
			{identity.Revoked, true}, {identity.Active, false}, {identity.Blocked, false}, {identity.Pending, false},
			{identity.Revoked, false},
		}
		version := id.Version
		for _, st := range steps {
			got, err := s.Transition(ctx, id.UUID, st.to, "operator:support-1", "test")
			if st.legal {
				if err != nil || got.State != st.to || got.Version != version+1 {
					t.Fatalf("→ %s: %+v, %v", st.to, got, err)
				}
				version++
				continue
			}
			if !errors.Is(err, identity.ErrIllegalTransition) || got != nil {
				t.Fatalf("→ %s: %v, %v; want ErrIllegalTransition", st.to, got, err)
			}
			cur, _ := s.ByUUID(ctx, id.UUID)
			if cur.Version != version {
				t.Fatalf("an illegal transition changed the identity: version %d → %d", version, cur.Version)
			}
		}
		want := "[identity.created identity.state_changed identity.state_changed identity.state_changed identity.state_changed]"
		if got := events(t, env, id.UUID); fmt.Sprint(got) != want {
			t.Errorf("events = %v\nwant %v", got, want)
		}
		// A revoked identity gives up its user ID, and the person may enrol again.
		if _, err := s.ByUserID(ctx, "state.walker"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("a revoked identity still answers to its user ID: %v", err)
		}
		again, err := s.Create(ctx, identity.New{UserID: "state.walker2", CPR: mustCPR(t, "010190-1234"), IAL: nsis.High, State: identity.Active}, "system")
		if err != nil {
			t.Fatalf("enrolling again after revocation: %v", err)
		}
		if got, _ := s.ByCPR(ctx, mustCPR(t, "010190-1234")); got.UUID != again.UUID {
			t.Errorf("ByCPR found %s, want the live identity %s", got.UUID, again.UUID)
		}
	})
}

func TestUserIDChangeAndQuarantine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		c := newClock()
		s := newService(t, env, cheap, c)
		a, err := s.Create(ctx, identity.New{UserID: "old.name", CPR: mustCPR(t, "010190-1234"), IAL: nsis.High, State: identity.Active}, "system")
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Create(ctx, identity.New{UserID: "bees.name", CPR: mustCPR(t, "020290-1234"), IAL: nsis.High, State: identity.Active}, "system")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChangeUserID(ctx, a.UUID, "bees.name", "system"); !errors.Is(err, identity.ErrUserIDTaken) {
			t.Fatalf("taking someone's current user ID: %v", err)
		}
		c.add(time.Hour)
		if _, err := s.ChangeUserID(ctx, a.UUID, "New.Name", "system"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ByUserID(ctx, "new.name"); err != nil || got.UUID != a.UUID {
			t.Fatalf("by the new user ID: %v, %v", got, err)
		}
		if _, err := s.ByUserID(ctx, "old.name"); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("the old user ID still logs in: %v", err)
		}
		// Within the year nobody else may take the old one...
		c.add(identity.UserIDQuarantine - 2*time.Hour)
		if _, err := s.ChangeUserID(ctx, b.UUID, "old.name", "system"); !errors.Is(err, identity.ErrUserIDTaken) {
			t.Fatalf("someone else took a user ID in quarantine: %v", err)
		}
		// ...but its old owner may take it back...
		if _, err := s.ChangeUserID(ctx, a.UUID, "old.name", "system"); err != nil {
			t.Fatalf("the owner taking back their old user ID: %v", err)
		}
		if _, err := s.ChangeUserID(ctx, a.UUID, "new.name", "system"); err != nil {
			t.Fatal(err)
		}
		// ...and after the year anyone may.
		c.add(identity.UserIDQuarantine + time.Hour)
		if _, err := s.ChangeUserID(ctx, b.UUID, "old.name", "system"); err != nil {
			t.Fatalf("a user ID after its quarantine: %v", err)
		}
		hist, err := s.UserIDHistory(ctx, a.UUID)
		if err != nil || len(hist) != 1 || hist[0].UserID != "new.name" || !hist[0].RetiredAt.IsZero() {
			t.Fatalf("history of a = %+v, %v", hist, err)
		}
		hist, _ = s.UserIDHistory(ctx, b.UUID)
		if len(hist) != 2 || hist[0].UserID != "old.name" || hist[1].UserID != "bees.name" || hist[1].RetiredAt.IsZero() {
			t.Fatalf("history of b = %+v", hist)
		}
		if got := events(t, env, a.UUID); len(got) != 4 || got[1] != "identity.user_id_changed" {
			t.Errorf("events = %v", got)
		}
	})
}

func TestConcurrentClaimsOneWinner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		s := newService(t, env, cheap, newClock())
		var (
			wg   sync.WaitGroup
			wins atomic.Int32
		)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, _ := cpr.Make(time.Date(1980, 1, 1+i, 0, 0, 0, 0, time.UTC), 1000+i)
				_, err := s.Create(ctx, identity.New{UserID: "popular.name", CPR: n, IAL: nsis.High, State: identity.Active}, "system")
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, identity.ErrUserIDTaken):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d people got one user ID", wins.Load())
		}
		rep, err := env.DB.VerifyAudit(ctx, env.Sealer)
		if err != nil || !rep.OK() || rep.Entries != 1 {
			t.Fatalf("audit after the race: %+v, %v; want one intact entry", rep, err)
		}
	})
}

func TestPasswordRehash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		c := newClock()
		old := newService(t, env, cheap, c)
		id, err := old.Create(ctx, identity.New{UserID: "rehash.me", Password: "korrekt-hest-batteri", CPR: mustCPR(t, "010190-1234"),
			IAL: nsis.High, State: identity.Active}, "system")
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := password.Decode(id.PasswordHash); p != cheap {
			t.Fatalf("stored params %+v", p)
		}
		// The platform moves to OWASP's parameters; the next login rehashes.
		fresh := newService(t, env, password.OWASP, c)
		cur, _ := fresh.ByUUID(ctx, id.UUID)
		if ok, err := fresh.CheckPassword(ctx, cur, "wrong-password-here"); ok || err != nil {
			t.Fatalf("wrong password: %v, %v", ok, err)
		}
		if after, _ := fresh.ByUUID(ctx, id.UUID); after.PasswordHash != id.PasswordHash {
			t.Fatal("a failed check rehashed")
		}
		if ok, err := fresh.CheckPassword(ctx, cur, "korrekt-hest-batteri"); !ok || err != nil {
			t.Fatalf("right password: %v, %v", ok, err)
		}
		after, _ := fresh.ByUUID(ctx, id.UUID)
		if p, _ := password.Decode(after.PasswordHash); p != password.OWASP {
			t.Fatalf("after login the hash has %+v, want OWASP", p)
		}
		if ok, _ := fresh.CheckPassword(ctx, after, "korrekt-hest-batteri"); !ok {
			t.Fatal("the rehashed password does not verify")
		}
		if got := events(t, env, id.UUID); fmt.Sprint(got) != "[identity.created identity.password_rehashed]" {
			t.Errorf("events = %v", got)
		}
		// No password, or no identity: a dummy verification and false.
		if ok, err := fresh.CheckPassword(ctx, nil, "anything-at-all"); ok || err != nil {
			t.Fatal("a nil identity passed")
		}
	})
}

func TestStaleUpdateConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		s := newService(t, env, cheap, newClock())
		id, _ := s.Create(ctx, identity.New{UserID: "stale.copy", CPR: mustCPR(t, "010190-1234"), IAL: nsis.High, State: identity.Active}, "system")
		stale, _ := env.DB.IdentityByUUID(ctx, id.UUID)
		if _, err := s.Transition(ctx, id.UUID, identity.Blocked, "system", "lost phone"); err != nil {
			t.Fatal(err)
		}
		stale.State = identity.Revoked
		if err := env.DB.UpdateIdentity(ctx, stale); !errors.Is(err, identity.ErrConflict) {
			t.Fatalf("updating a stale copy: %v", err)
		}
	})
}
