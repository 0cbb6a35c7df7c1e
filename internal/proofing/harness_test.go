package proofing_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/face"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// t0 is the harness's "now": the demo PKI is valid, and the synthetic
// register is made for this day.
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

// fakeFaces answers every comparison with result, or err.
type fakeFaces struct {
	mu     sync.Mutex
	result face.Result
	err    error
	calls  int
}

func (f *fakeFaces) Verify(ctx context.Context, reference, probe []byte) (face.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(reference) == 0 || len(probe) == 0 {
		return face.Result{}, errors.New("fakeFaces: an image is missing")
	}
	return f.result, f.err
}

func (f *fakeFaces) set(r face.Result, err error) {
	f.mu.Lock()
	f.result, f.err = r, err
	f.mu.Unlock()
}

// fixedTrust is a trust list that does not change.
type fixedTrust struct{ tl *emrtd.TrustList }

func (f fixedTrust) TrustList(context.Context) (*emrtd.TrustList, error) { return f.tl, nil }

// scriptedRand hands out queued bytes first, then crypto/rand's.
type scriptedRand struct {
	mu    sync.Mutex
	queue []byte
}

func (r *scriptedRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) >= len(p) {
		n := copy(p, r.queue)
		r.queue = r.queue[n:]
		return n, nil
	}
	return rand.Read(p)
}

func (r *scriptedRand) push(b []byte) {
	r.mu.Lock()
	r.queue = append(r.queue, b...)
	r.mu.Unlock()
}

// env is a proofing service on a real database with its neighbours.
type env struct {
	storetest.Env
	clock      *clock
	register   *cpr.Synthetic
	identities *identity.Service
	approvals  *approval.Service
	faces      *fakeFaces
	trust      *fixedTrust
	rand       *scriptedRand
	svc        *proofing.Service
}

// cheap keeps argon2 fast in tests that are not about its cost.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newEnv(t *testing.T, se storetest.Env) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{Env: se, clock: &clock{t: t0}, register: cpr.NewSynthetic(cpr.DemoSeed, t0),
		faces: &fakeFaces{result: face.Result{Outcome: face.Match, Score: 0.91, Liveness: true, Verifier: "faces.test"}},
		rand:  &scriptedRand{}}
	demo, err := emrtd.DemoTrustList()
	if err != nil {
		t.Fatal(err)
	}
	e.trust = &fixedTrust{tl: demo}
	h, err := password.NewHasher(cheap, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := se.Keys.Secret(ctx, se.DB, "cpr-index", 32)
	if err != nil {
		t.Fatal(err)
	}
	if e.identities, err = identity.NewService(identity.Config{Store: se.DB, Log: se.DB, Keys: se.Keys, Hasher: h,
		Policy: password.CheckPolicy, CPRIndexKey: key, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	binder, err := approval.NewBinder(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if e.approvals, err = approval.NewService(approval.Config{Store: se.DB, Log: se.DB, Binder: binder, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	if e.svc, err = proofing.NewService(proofing.Config{Store: se.DB, Identities: e.identities, Approvals: e.approvals,
		Register: e.register, Faces: e.faces, Trust: trustFunc(func() *emrtd.TrustList { return e.trust.tl }), Keys: se.Keys,
		Log: se.DB, Now: e.clock.Now, Rand: e.rand, ChipAuthenticationKey: caKey(t, se)}); err != nil {
		t.Fatal(err)
	}
	e.approvals.Handle(approval.KindConsent, e.svc)
	return e
}

type trustFunc func() *emrtd.TrustList

func (f trustFunc) TrustList(context.Context) (*emrtd.TrustList, error) { return f(), nil }

// person adds a person with a CPR number to the register.
func (e *env) person(t *testing.T, given, family string, born time.Time, guardians ...cpr.Number) cpr.Person {
	t.Helper()
	n, err := e.register.NewCPR(born, cpr.Female)
	if err != nil {
		t.Fatal(err)
	}
	p := cpr.Person{CPR: n, GivenName: given, FamilyName: family, Birthdate: born, Sex: n.Sex(), Guardians: guardians}
	if err := e.register.Add(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// passport makes a genuine demo passport of the person, with opts' other fields.
func passport(t *testing.T, p cpr.Person, opts testchip.Options) *testchip.Passport {
	t.Helper()
	opts.Surname, opts.GivenNames, opts.BirthDate = p.FamilyName, p.GivenName, p.Birthdate
	pp, err := testchip.NewPassport(opts)
	if err != nil {
		t.Fatal(err)
	}
	return pp
}

// submission is what an app sends for pp, answering challenge with the chip's key.
func submission(t *testing.T, pp *testchip.Passport, challenge [8]byte, n cpr.Number) *proofing.Submission {
	t.Helper()
	sub := &proofing.Submission{MRZ: pp.Dump.MRZ, Files: pp.Dump.DataGroups(), SOD: pp.Dump.SOD(), Selfie: pp.Face,
		SelfieType: "image/jpeg", CPR: n}
	if pp.Dump.AAKey == nil {
		return sub // a chip-authentication-only chip: see chipauth_test.go
	}
	key, err := emrtd.ParseChipKey(pp.Dump.AAKey)
	if err != nil {
		t.Fatal(err)
	}
	if sub.ActiveAuthentication, err = emrtd.SignChallenge(rand.Reader, key, pp.Dump.Files["DG14"], challenge); err != nil {
		t.Fatal(err)
	}
	return sub
}

func (e *env) start(t *testing.T) *proofing.Opened {
	t.Helper()
	o, err := e.svc.Start(context.Background(), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// submit starts a case and submits pp for the person with CPR n.
func (e *env) submit(t *testing.T, pp *testchip.Passport, n cpr.Number) (*proofing.Opened, *proofing.Case, error) {
	t.Helper()
	o := e.start(t)
	c, err := e.svc.SubmitPassport(context.Background(), o.Case.ID, o.Token, submission(t, pp, o.Challenge, n))
	return o, c, err
}

// completion signs a completion for the case with a new device key.
func completion(t *testing.T, caseID, userID, pw string) (proofing.Completion, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := appclient.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := appclient.EncodePublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(proofing.EnrolmentProofMessage(caseID, pub))
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return proofing.Completion{UserID: userID, Password: pw, PublicKey: pub, DeviceName: "test phone", Proof: sig}, key
}

// guardianApp is a guardian's app: as the approval service sees it, and its key.
type guardianApp struct {
	dev approval.Device
	key *ecdsa.PrivateKey
}

// guardianWithApp gives the person an active identity with an app.
func (e *env) guardianWithApp(t *testing.T, p cpr.Person, userID string) guardianApp {
	t.Helper()
	ctx := context.Background()
	id, err := e.identities.Create(ctx, identity.New{UserID: userID, CPR: p.CPR, IAL: nsis.High, State: identity.Active}, "test")
	if err != nil {
		t.Fatal(err)
	}
	key, err := appclient.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := appclient.EncodePublicKey(&key.PublicKey)
	der, _ := base64.StdEncoding.DecodeString(pub)
	a := &authenticator.Authenticator{ID: "app-" + userID, Identity: id.UUID, Kind: authenticator.App, State: authenticator.Active,
		Name: "guardian phone", Level: nsis.Substantial, PublicKey: der, UsableFrom: t0.Add(-time.Hour), CreatedAt: t0, UpdatedAt: t0}
	if err := e.DB.InsertAuthenticator(ctx, a); err != nil {
		t.Fatal(err)
	}
	return guardianApp{dev: approval.Device{ID: a.ID, Identity: id.UUID, Key: &key.PublicKey}, key: key}
}

// answer binds the guardian's open request with code and answers it.
func (e *env) answer(t *testing.T, g guardianApp, approvalID, code string, decision approval.Decision) error {
	t.Helper()
	ctx := context.Background()
	a, err := e.approvals.Bind(ctx, g.dev, approvalID, "", code)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(approval.AnswerMessage(a.ID, a.Request, decision, code))
	sig, err := ecdsa.SignASN1(rand.Reader, g.key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.approvals.Answer(ctx, g.dev, approvalID, decision, sig)
	return err
}

var _ io.Reader = (*scriptedRand)(nil)

// caKey is the service's chip authentication key, kept under the KEK as
// the server keeps it.
func caKey(t *testing.T, se storetest.Env) []byte {
	t.Helper()
	k, err := se.Keys.Secret(context.Background(), se.DB, "chip-authentication", 32)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
