package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs b.N iterations of fn, each after an unmeasured setup (which may
// be nil), and reports the CPU time per iteration beside the wall time, so
// that waiting for the disk is told apart from work.
func measure(b *testing.B, setup func(i int), fn func(i int)) {
	b.ReportAllocs()
	b.ResetTimer()
	cpuOut = 0
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		if setup != nil {
			b.StopTimer()
			setup(i)
			b.StartTimer()
		}
		start := cpuTime()
		fn(i)
		cpu += cpuTime() - start
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu-cpuOut)/float64(b.N), "cpu-ns/op")
}

// cpuOut is CPU time inside measured iterations that is not the server's
// (the app signing), taken out of the figure by outside.
var cpuOut time.Duration

// outside runs fn, the phone's work, without counting its CPU time.
func outside(fn func()) {
	start := cpuTime()
	fn()
	cpuOut += cpuTime() - start
}

func benchRig(b *testing.B, engine string) *rig {
	b.Helper()
	env := storetest.Open(b, storeEngine(engine))
	limits := authn.DefaultLimits
	limits.IPFailures = 1 << 30
	return newRigTB(b, env, limits)
}

// device is an activated app: its key and its id.
type device struct {
	id  string
	key *ecdsa.PrivateKey
}

func (r *rig) activateB(b *testing.B, identityUUID string) device {
	b.Helper()
	ctx := context.Background()
	code, err := r.apps.NewActivationCode(ctx, identityUUID, nsis.Substantial, "bench")
	if err != nil {
		b.Fatal(err)
	}
	key, _ := appclient.NewKey()
	pub, _ := appclient.EncodePublicKey(&key.PublicKey)
	digest := sha256.Sum256(app.ActivationProofMessage(code, pub))
	proof, _ := ecdsa.SignASN1(nil, key, digest[:])
	dev, _, err := r.apps.Activate(ctx, code, pub, "bench phone", proof, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	return device{id: dev.ID, key: key}
}

// signed returns a request as the app would send it, signed by the device.
func (d device) signed(b *testing.B, method, target string, body []byte, now time.Time) *httptestRequest {
	b.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(string(body)))
	if err := appclient.SignRequest(req, body, d.id, d.key, now); err != nil {
		b.Fatal(err)
	}
	return &httptestRequest{req, body}
}

// BenchmarkAppLogin is the whole app-approval path of one login apart from
// HTTP: start the flow, identify (which makes the approval request), the app's
// poll, bind and answer (each authenticated by its device signature), and the
// result. cpu-ns/op leaves out the phone's signing; ns/op does not.
func BenchmarkAppLogin(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			r := benchRig(b, engine)
			ctx := context.Background()
			id := r.personTB(b, "bench.user", "", nsis.Substantial)
			dev := r.activateB(b, id.UUID)
			// One person logs in again and again: a minute apart, as the
			// approval rate limit allows.
			measure(b, func(int) { r.clock.Add(time.Minute) }, func(int) {
				f, token, err := r.engine.Start(ctx, authn.StartRequest{ClientID: "bank", OriginIP: "127.0.0.1", UserAgent: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				if f, err = r.engine.Step(ctx, f.ID, token, authn.StepInput{Step: "identify", UserID: "bench.user"}); err != nil || f.State != authn.StateWaitingForApp {
					b.Fatal(f.State, err)
				}
				now := r.clock.Now()
				var poll, bind, answer *httptestRequest
				var sig []byte
				outside(func() { poll = dev.signed(b, "GET", "/app/v1/approvals/next?wait=0s", nil, now) })
				d, err := r.apps.Authenticate(ctx, poll.req, nil, false)
				if err != nil {
					b.Fatal(err)
				}
				pend, err := r.approvals.Next(ctx, id.UUID)
				if err != nil {
					b.Fatal(err)
				}
				a, _ := r.approvals.Get(ctx, pend.ID)
				bindBody := []byte(`{"code":"` + a.BindingCode + `"}`)
				outside(func() { bind = dev.signed(b, "POST", "/app/v1/approvals/"+pend.ID+"/bind", bindBody, now) })
				if d, err = r.apps.Authenticate(ctx, bind.req, bind.body, false); err != nil {
					b.Fatal(err)
				}
				bound, err := r.approvals.Bind(ctx, d.ForApproval(), pend.ID, "", a.BindingCode)
				if err != nil {
					b.Fatal(err)
				}
				outside(func() {
					digest := sha256.Sum256(approval.AnswerMessage(bound.ID, bound.Request, approval.Approve, bound.Binding))
					sig, _ = ecdsa.SignASN1(nil, dev.key, digest[:])
					answerBody := []byte(`{"decision":"approve","signature":"` + base64.RawURLEncoding.EncodeToString(sig) + `"}`)
					answer = dev.signed(b, "POST", "/app/v1/approvals/"+pend.ID+"/answer", answerBody, now)
				})
				if d, err = r.apps.Identify(ctx, answer.req, false); err != nil {
					b.Fatal(err)
				}
				if _, err := r.approvals.Answer(ctx, d.ForApproval(), pend.ID, approval.Approve, sig); err != nil {
					b.Fatal(err)
				}
				if res, err := r.engine.Result(ctx, f.ID); err != nil || res.LoA != nsis.Substantial {
					b.Fatal(res, err)
				}
			})
		})
	}
}

// BenchmarkSteps measures each step alone on SQLite.
func BenchmarkSteps(b *testing.B) {
	r := benchRig(b, "sqlite")
	ctx := context.Background()
	id := r.personTB(b, "steps.user", "bench-password-19", nsis.Substantial)
	_, secret, err := r.codes.NewSoftToken(ctx, id.UUID, authenticator.CodeDisplay, nsis.Substantial, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("start", func(b *testing.B) {
		measure(b, nil, func(int) {
			if _, _, err := r.engine.Start(ctx, authn.StartRequest{ClientID: "bank"}); err != nil {
				b.Fatal(err)
			}
		})
	})
	var flow [2]string
	startFlow := func(steps ...authn.StepInput) func(int) {
		return func(int) {
			f, token, _ := r.engine.Start(ctx, authn.StartRequest{ClientID: "bank"})
			for _, s := range steps {
				if _, err := r.engine.Step(ctx, f.ID, token, s); err != nil {
					b.Fatal(err)
				}
			}
			flow = [2]string{f.ID, token}
		}
	}
	identify := authn.StepInput{Step: "identify", UserID: "steps.user", Method: "code_display"}
	pw := authn.StepInput{Step: "password", Password: "bench-password-19"}
	b.Run("identify", func(b *testing.B) {
		measure(b, startFlow(), func(i int) {
			if _, err := r.engine.Step(ctx, flow[0], flow[1], identify); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("password", func(b *testing.B) {
		// With the tests' cheap argon2 parameters: the engine's own cost.
		// The hash at OWASP's cost is BenchmarkHashOWASP in internal/authenticator/password.
		measure(b, startFlow(identify), func(i int) {
			if _, err := r.engine.Step(ctx, flow[0], flow[1], pw); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("code", func(b *testing.B) {
		tot := otp.TOTP{Secret: secret}
		next := startFlow(identify, pw)
		measure(b, func(i int) {
			r.clock.Add(30 * time.Second) // each login its own time step
			next(i)
		}, func(i int) {
			if _, err := r.engine.Step(ctx, flow[0], flow[1], authn.StepInput{Step: "code", Code: tot.At(r.clock.Now())}); err != nil {
				b.Fatal(err)
			}
		})
	})
}
