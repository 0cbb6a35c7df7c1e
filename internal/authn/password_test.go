package authn_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// TestParallelWrongPasswords: 50 wrong passwords at once against one user ID,
// each in its own flow, get no more argon2 evaluations than the lockout limit,
// on either database.
func TestParallelWrongPasswords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		limits := authn.DefaultLimits
		r := newRig(t, env, limits)
		ctx := context.Background()
		id := r.person(t, "victim.user", "den-rigtige-kode-42", nsis.Substantial)
		if _, _, err := r.codes.NewSoftToken(ctx, id.UUID, authenticator.CodeDisplay, nsis.Substantial, "test"); err != nil {
			t.Fatal(err)
		}
		type flow struct {
			f     *authn.Flow
			token string
		}
		flows := make([]flow, 50)
		for i := range flows {
			f, token := r.start(t, "substantial")
			f, e := r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "victim.user"})
			if e != nil || f.State != authn.StatePassword {
				t.Fatalf("identify: %v, %v", f.State, e)
			}
			flows[i] = flow{f, token}
		}
		before := r.hasher.verifies.Load()
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			counts = map[string]int{}
		)
		start := make(chan struct{})
		for _, fl := range flows {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := r.engine.Step(ctx, fl.f.ID, fl.token, authn.StepInput{Step: "password", Password: "forkert-gæt-123"})
				e, _ := authn.IsError(err)
				mu.Lock()
				if e != nil {
					counts[e.Code]++
				} else {
					counts["ok"]++
				}
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		evaluated := r.hasher.verifies.Load() - before
		t.Logf("50 parallel wrong passwords: %d evaluated, answers %v", evaluated, counts)
		if evaluated > int64(limits.PasswordFailures) {
			t.Fatalf("%d password evaluations for 50 parallel guesses; the limit is %d", evaluated, limits.PasswordFailures)
		}
		if counts["ok"] != 0 || counts["wrong_password"]+counts["password_locked"] != 50 {
			t.Fatalf("answers %v", counts)
		}
		// Locked now, even for the right password, until the lock runs out.
		f, token := r.start(t, "substantial")
		r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "victim.user"})
		if _, e := r.step(t, f, token, authn.StepInput{Step: "password", Password: "den-rigtige-kode-42"}); e == nil || e.Code != "password_locked" || e.RetryAfter.IsZero() {
			t.Fatalf("the right password during the lock: %+v", e)
		}
		r.clock.Add(limits.PasswordLockout + time.Second) // longer than a flow lives: start again
		f, token = r.start(t, "substantial")
		r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "victim.user"})
		if f, e := r.step(t, f, token, authn.StepInput{Step: "password", Password: "den-rigtige-kode-42"}); e != nil || f.State != authn.StateCode {
			t.Fatalf("the right password after the lock: %v, %+v", f.State, e)
		}
	})
}

// TestUnknownUserIDLooksKnown: a user ID that does not exist is offered
// methods, asked for a password, costs a hash evaluation, fails with the same
// answer as a wrong password, and locks alike.
func TestUnknownUserIDLooksKnown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		r := newRig(t, env, authn.DefaultLimits)
		// Find a made-up user ID whose decoy has a code display, as the real one does.
		var f *authn.Flow
		var token string
		for i := 0; ; i++ {
			f, token = r.start(t, "substantial")
			var e *authn.Error
			f, e = r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "nobody." + string(rune('a'+i%26)) + string(rune('a'+i/26)), Method: "code_display"})
			if e != nil {
				t.Fatal(e)
			}
			if f.State == authn.StatePassword {
				break
			}
			if i > 600 {
				t.Fatal("no decoy offered a code display")
			}
		}
		if len(f.Methods) == 0 || f.Identity != "" {
			t.Fatalf("decoy flow: %+v", f)
		}
		before := r.hasher.verifies.Load()
		_, e := r.step(t, f, token, authn.StepInput{Step: "password", Password: "whatever-it-is-1"})
		if e == nil || e.Code != "wrong_password" || e.Status != 401 {
			t.Fatalf("unknown user's password: %+v", e)
		}
		if r.hasher.verifies.Load()-before != 1 {
			t.Fatal("an unknown user ID took another path: no hash was evaluated")
		}
		for range 4 {
			_, e = r.step(t, f, token, authn.StepInput{Step: "password", Password: "whatever-it-is-1"})
		}
		if e == nil || e.Code != "password_locked" {
			t.Fatalf("an unknown user ID does not lock like a known one: %+v", e)
		}
	})
}

func TestCodeDisplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		r := newRig(t, env, authn.DefaultLimits)
		ctx := context.Background()
		id := r.person(t, "code.user", "den-rigtige-kode-42", nsis.Substantial)
		a, secret, err := r.codes.NewSoftToken(ctx, id.UUID, authenticator.CodeDisplay, nsis.Substantial, "test")
		if err != nil {
			t.Fatal(err)
		}
		tot := otp.TOTP{Secret: secret}
		login := func() (*authn.Flow, string) {
			f, token := r.start(t, "substantial")
			f, e := r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "CODE.USER", Method: "code_display"})
			if e != nil || f.State != authn.StatePassword {
				t.Fatalf("identify: %v %+v", f.State, e)
			}
			if f, e = r.step(t, f, token, authn.StepInput{Step: "password", Password: "den-rigtige-kode-42"}); e != nil || f.State != authn.StateCode {
				t.Fatalf("password: %v %+v", f.State, e)
			}
			return f, token
		}
		f, token := login()
		code := tot.At(r.clock.Now())
		f, e := r.step(t, f, token, authn.StepInput{Step: "code", Code: code})
		if e != nil || f.State != authn.StateDone {
			t.Fatalf("code: %v %+v", f.State, e)
		}
		res, err := r.engine.Result(ctx, f.ID)
		if err != nil || res.LoA != nsis.Substantial || res.Identity != id.UUID || len(res.AMR) != 2 || res.AMR[1] != "code_token" {
			t.Fatalf("result %+v, %v", res, err)
		}
		// The same code again, in another login: refused (single-use step).
		f, token = login()
		if _, e := r.step(t, f, token, authn.StepInput{Step: "code", Code: code}); e == nil || e.Code != "wrong_code" {
			t.Fatalf("a replayed code: %+v", e)
		}
		// The previous step's code, now that a newer one was used: refused.
		if _, e := r.step(t, f, token, authn.StepInput{Step: "code", Code: tot.At(r.clock.Now().Add(-30 * time.Second))}); e == nil || e.Code != "wrong_code" {
			t.Fatalf("an older code: %+v", e)
		}
		// A third wrong code locks the code display, even against the right code.
		wrong := "000000"
		if wrong == tot.At(r.clock.Now().Add(30*time.Second)) {
			wrong = "111111"
		}
		if _, e := r.step(t, f, token, authn.StepInput{Step: "code", Code: wrong}); e == nil || e.Code != "code_locked" {
			t.Fatalf("third wrong code: %+v", e)
		}
		r.clock.Add(30 * time.Second)
		if _, e := r.step(t, f, token, authn.StepInput{Step: "code", Code: tot.At(r.clock.Now())}); e == nil || e.Code != "code_locked" {
			t.Fatalf("the right code while locked: %+v", e)
		}
		r.clock.Add(authn.DefaultLimits.CodeLockout)
		if f, e := r.step(t, f, token, authn.StepInput{Step: "code", Code: tot.At(r.clock.Now())}); e != nil || f.State != authn.StateDone {
			t.Fatalf("after the lock: %v %+v", f.State, e)
		}
		cur, _ := env.DB.Authenticator(ctx, a.ID)
		if cur.OTPLastStep != tot.Step(r.clock.Now()) {
			t.Errorf("last step %d, want %d", cur.OTPLastStep, tot.Step(r.clock.Now()))
		}
	})
}

// TestParallelSameCode: one code sent at once by several logins of the same
// person passes exactly one of them (the time step is marked used in the
// transaction that moves that flow on), on either database.
func TestParallelSameCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		r := newRig(t, env, authn.DefaultLimits)
		ctx := context.Background()
		id := r.person(t, "twice.user", "den-rigtige-kode-42", nsis.Substantial)
		_, secret, err := r.codes.NewSoftToken(ctx, id.UUID, authenticator.CodeDisplay, nsis.Substantial, "test")
		if err != nil {
			t.Fatal(err)
		}
		type flow struct {
			f     *authn.Flow
			token string
		}
		flows := make([]flow, authn.DefaultLimits.CodeFailures)
		for i := range flows {
			f, token := r.start(t, "substantial")
			r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "twice.user", Method: "code_display"})
			f, e := r.step(t, f, token, authn.StepInput{Step: "password", Password: "den-rigtige-kode-42"})
			if e != nil || f.State != authn.StateCode {
				t.Fatalf("password: %v %+v", f.State, e)
			}
			flows[i] = flow{f, token}
		}
		code := otp.TOTP{Secret: secret}.At(r.clock.Now())
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			answers = map[string]int{}
		)
		start := make(chan struct{})
		for _, fl := range flows {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				f, err := r.engine.Step(ctx, fl.f.ID, fl.token, authn.StepInput{Step: "code", Code: code})
				e, _ := authn.IsError(err)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case e != nil:
					answers[e.Code]++
				case err != nil:
					answers[err.Error()]++
				default:
					answers[string(f.State)]++
				}
			}()
		}
		close(start)
		wg.Wait()
		t.Logf("%d logins with one code at once: %v", len(flows), answers)
		if answers[string(authn.StateDone)] != 1 || answers["wrong_code"]+answers["code_locked"] != len(flows)-1 {
			t.Fatalf("answers %v; want one login done and the others refused", answers)
		}
		// The flows that were refused are still waiting for a code, and a newer
		// one passes.
		r.clock.Add(30 * time.Second)
		code = otp.TOTP{Secret: secret}.At(r.clock.Now())
		passed := 0
		for _, fl := range flows {
			if f, e := r.step(t, fl.f, fl.token, authn.StepInput{Step: "code", Code: code}); e == nil && f.State == authn.StateDone {
				passed++
			}
		}
		if passed != 1 {
			t.Fatalf("the next code passed %d waiting logins, want 1", passed)
		}
	})
}

// TestBadSteps: every malformed or out-of-turn step gets an error and changes nothing.
func TestBadSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		r := newRig(t, env, authn.DefaultLimits)
		ctx := context.Background()
		r.person(t, "steps.user", "den-rigtige-kode-42", nsis.Substantial)
		f, token := r.start(t, "low")
		bad := []struct {
			in   authn.StepInput
			code string
		}{
			{authn.StepInput{Step: "password", Password: "x"}, "step_out_of_order"},
			{authn.StepInput{Step: "code", Code: "123456"}, "step_out_of_order"},
			{authn.StepInput{Step: "chip"}, "step_out_of_order"},
			{authn.StepInput{Step: "method", Method: "app"}, "step_out_of_order"},
			{authn.StepInput{Step: "dance"}, "unknown_step"},
			{authn.StepInput{Step: ""}, "unknown_step"},
			{authn.StepInput{Step: "identify", UserID: ""}, "user_id_required"},
			{authn.StepInput{Step: "identify", UserID: "steps.user", Method: "telepathy"}, "unknown_method"},
		}
		for _, b := range bad {
			got, e := r.step(t, f, token, b.in)
			if e == nil || e.Code != b.code || e.Status < 400 || e.Status > 499 {
				t.Errorf("%+v: %+v; want %s", b.in, e, b.code)
			}
			if got != nil && (got.Version != f.Version || got.State != authn.StateIdentify) {
				t.Errorf("%+v changed the flow: %+v", b.in, got)
			}
		}
		// Another flow's token, or none, opens nothing.
		_, other := r.start(t, "low")
		for _, tok := range []string{other, "", token + "x"} {
			if _, err := r.engine.Step(ctx, f.ID, tok, authn.StepInput{Step: "identify", UserID: "steps.user"}); err != authn.ErrFlowNotFound {
				t.Errorf("token %q: %v", tok, err)
			}
		}
		// Password alone at low; then the finished flow takes no step.
		f, _ = r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "steps.user", Method: "password"})
		if f.State != authn.StatePassword {
			t.Fatalf("state %s", f.State)
		}
		if _, e := r.step(t, f, token, authn.StepInput{Step: "password", Password: ""}); e == nil || e.Code != "password_required" {
			t.Fatalf("empty password: %+v", e)
		}
		f, e := r.step(t, f, token, authn.StepInput{Step: "password", Password: "den-rigtige-kode-42"})
		if e != nil || f.State != authn.StateDone {
			t.Fatalf("password: %v %+v", f.State, e)
		}
		if res, _ := r.engine.Result(ctx, f.ID); res.LoA != nsis.Low {
			t.Fatalf("password alone reached %v", res.LoA)
		}
		for _, in := range []authn.StepInput{{Step: "password", Password: "x"}, {Step: "identify", UserID: "steps.user"}, {Step: "cancel"}} {
			if _, e := r.step(t, f, token, in); e == nil || e.Code != "flow_finished" {
				t.Errorf("%+v on a finished flow: %+v", in, e)
			}
		}
		// An expired flow fails as expired.
		f, token = r.start(t, "low")
		r.clock.Add(authn.FlowLifetime + time.Second)
		if got, e := r.step(t, f, token, authn.StepInput{Step: "identify", UserID: "steps.user"}); e == nil || e.Code != "flow_expired" || got.State != authn.StateFailed {
			t.Fatalf("expired flow: %+v", e)
		}
	})
}

func TestStartRefusals(t *testing.T) {
	env := storetest.Open(t, "sqlite")
	r := newRig(t, env, authn.DefaultLimits)
	long := ""
	for range 131 {
		long += "x"
	}
	for _, req := range []authn.StartRequest{
		{ClientID: "nobody"},
		{ClientID: "bank", Level: "medium"},
		{ClientID: "bank", ReferenceText: long},
		{ClientID: "bank", ReferenceText: "evil\u202etxt"},
		{ClientID: "bank", ReferenceText: "line\nbreak"},
		{ClientID: "bank", ActionText: "TRANSFER_ALL"},
	} {
		if f, _, err := r.engine.Start(context.Background(), req); err == nil || f != nil {
			t.Errorf("Start(%+v) = %v, %v", req, f, err)
		}
	}
	if _, _, err := r.engine.Start(context.Background(), authn.StartRequest{ClientID: "nobody"}); !errors.Is(err, authn.ErrUnknownClient) {
		t.Errorf("an unknown client: %v", err)
	}
	// A directory that cannot answer is not the caller's mistake: its error
	// goes up (a 503 when the database is away), not "unknown client".
	if _, _, err := r.engine.Start(context.Background(), authn.StartRequest{ClientID: "unreachable"}); !errors.Is(err, errDirectoryDown) {
		t.Errorf("a directory that fails: %v, want its own error", err)
	}
}

// TestParallelGuessesFromOneAddress: wrong passwords for many user IDs at
// once from one address (credential stuffing) get no more evaluations than
// the address's limit, however many run in parallel; right ones do not count
// against it.
func TestParallelGuessesFromOneAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		limits := authn.DefaultLimits
		limits.IPFailures = 10
		r := newRig(t, env, limits)
		// Right passwords from the address first, more of them than the
		// limit: they do not count.
		for i := range 12 {
			userID := fmt.Sprintf("honest.%02d", i)
			r.person(t, userID, "den-rigtige-kode-42", nsis.Substantial)
			f, token := r.start(t, "low")
			r.step(t, f, token, authn.StepInput{Step: "identify", UserID: userID, Method: "password"})
			if f, e := r.step(t, f, token, authn.StepInput{Step: "password", Password: "den-rigtige-kode-42"}); e != nil || f.State != authn.StateDone {
				t.Fatalf("right password %d from the address: %v %+v", i, f.State, e)
			}
		}
		type flow struct {
			f     *authn.Flow
			token string
		}
		var flows []flow
		for i := 0; len(flows) < 40; i++ {
			f, token := r.start(t, "low")
			f, e := r.step(t, f, token, authn.StepInput{Step: "identify", UserID: fmt.Sprintf("stuffed.%03d", i), Method: "password"})
			if e != nil {
				t.Fatal(e)
			}
			if f.State == authn.StatePassword { // a decoy with a password, as most have
				flows = append(flows, flow{f, token})
			}
		}
		before := r.hasher.verifies.Load()
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			counts = map[string]int{}
		)
		start := make(chan struct{})
		for _, fl := range flows {
			wg.Go(func() {
				<-start
				_, err := r.engine.Step(context.Background(), fl.f.ID, fl.token, authn.StepInput{Step: "password", Password: "sommer2024"})
				e, _ := authn.IsError(err)
				mu.Lock()
				defer mu.Unlock()
				if e == nil {
					counts[fmt.Sprint(err)]++
					return
				}
				counts[e.Code]++
			})
		}
		close(start)
		wg.Wait()
		evaluated := r.hasher.verifies.Load() - before
		t.Logf("40 parallel wrong passwords from one address: %d evaluated, answers %v", evaluated, counts)
		if evaluated > int64(limits.IPFailures) {
			t.Fatalf("%d evaluations from one address; its limit is %d", evaluated, limits.IPFailures)
		}
		if counts["wrong_password"] != int(evaluated) || counts["rate_limited"] != 40-int(evaluated) {
			t.Fatalf("answers %v", counts)
		}
	})
}

// TestOneEvaluationAtATimePerAddress: many parallel guesses from one address
// are evaluated one after another, so that they hold one place in the
// hasher's line, not one each; another address's go on beside them.
func TestOneEvaluationAtATimePerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		r := newRig(t, env, authn.DefaultLimits)
		type guess struct {
			f     *authn.Flow
			token string
			ctx   context.Context
		}
		var guesses []guess
		for i := 0; len(guesses) < 16; i++ {
			f, token := r.start(t, "low")
			f, e := r.step(t, f, token, authn.StepInput{Step: "identify", UserID: fmt.Sprintf("guessed.%03d", i), Method: "password"})
			if e != nil {
				t.Fatal(e)
			}
			if f.State == authn.StatePassword {
				addr := []string{"198.51.100.7", "203.0.113.9"}[len(guesses)%2]
				guesses = append(guesses, guess{f, token, audit.WithOrigin(context.Background(), audit.Origin{IP: addr})})
			}
		}
		r.hasher.delay.Store(int64(20 * time.Millisecond))
		defer r.hasher.delay.Store(0)
		run := func(gs []guess) int64 {
			r.hasher.maxInFlight.Store(0)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, g := range gs {
				wg.Go(func() {
					<-start
					_, err := r.engine.Step(g.ctx, g.f.ID, g.token, authn.StepInput{Step: "password", Password: "sommer2024"})
					if e, _ := authn.IsError(err); e == nil || e.Code != "wrong_password" {
						t.Errorf("a wrong password: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			return r.hasher.maxInFlight.Load()
		}
		var one []guess
		for i := 0; i < len(guesses); i += 2 {
			one = append(one, guesses[i])
		}
		if n := run(one); n != 1 {
			t.Errorf("8 parallel guesses from one address: %d evaluated at once, want 1", n)
		}
		if n := run(guesses[1:]); n != 2 {
			t.Errorf("15 parallel guesses from two addresses: %d evaluated at once, want 2", n)
		}
	})
}
