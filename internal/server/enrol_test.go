package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/appapi"
	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/face"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
	"github.com/openmitid/openmitid/internal/testtool"
	"github.com/openmitid/openmitid/internal/web"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// enrolNode is a demo node whose enrolment is wired here, as server.go's
// buildDomain wires it, but with a face verifier that the test chooses (a
// fake service, or one that sends every case to review) rather than the one
// --face-verifier names, and with the proofing service in reach of the test.
// The app API's services are made on the node's platform and mounted before
// the node's own handler, whose routes they shadow; the node's login engine
// resolves login requests, so that an identity enrolled here logs in through
// the node's own flow API.
type enrolNode struct {
	*node
	proofing   *proofing.Service
	identities *identity.Service
	handler    http.Handler
}

func newEnrolNode(t *testing.T, engine store.Engine, faces face.Verifier) *enrolNode {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.DSN(t, engine)
	kek := filepath.Join(t.TempDir(), "test.kek")
	if _, err := pki.CreateKEKFile(kek, nil); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().UTC()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	issuer := "http://localhost:" + port
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(ctx, server.Config{Addr: ln.Addr().String(), DB: dsn, KEKFile: kek, Issuer: issuer, Demo: true, Now: c.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	p := srv.Platform()

	// What server.go's buildDomain makes, enrolment included.
	identities, err := server.IdentityService(ctx, p, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	qrKey, err := p.Keys.Secret(ctx, p.DB, "qr-binding", 32)
	if err != nil {
		t.Fatal(err)
	}
	binder, err := approval.NewBinder(qrKey)
	if err != nil {
		t.Fatal(err)
	}
	approvals, err := approval.NewService(approval.Config{Store: p.DB, Log: p.DB, Binder: binder, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	approvals.Handle(approval.KindLogin, srv.Engine())
	apps, err := app.NewService(app.Config{Store: p.DB, Identities: identities, Approvals: approvals, Log: p.DB, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	register := testtool.NewRegister(cpr.NewSynthetic(cpr.DemoSeed, c.Now()), p.DB)
	proof, err := proofing.NewService(proofing.Config{Store: p.DB, Identities: identities, Approvals: approvals, Register: register,
		Faces: faces, Trust: proofing.NewAnchors(p.DB, true, c.Now), Keys: p.Keys, Log: p.DB, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	approvals.Handle(approval.KindConsent, proof)

	mux := http.NewServeMux()
	(&appapi.API{Apps: apps, Approvals: approvals, Notify: p.DB, Log: log, Now: c.Now}).Mount(mux)
	(&appapi.Enrolment{Proofing: proof, Notify: p.DB, Log: log}).Mount(mux)
	mux.Handle("/", srv.Handler())
	h := web.Chain(mux, web.Recover(log), web.SecurityHeaders(false), web.Origin(nil))

	hs := httptest.NewUnstartedServer(h)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &enrolNode{node: &node{URL: "http://" + ln.Addr().String(), Issuer: issuer, srv: srv, clock: c}, proofing: proof, identities: identities, handler: h}
}

// faceService is a face-verification service that answers every request
// with body, and counts them.
func faceService(t *testing.T, body string) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]string
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req["reference_image"] == "" || req["probe_image"] == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s.URL, &n
}

func matching(t *testing.T) face.Verifier {
	u, _ := faceService(t, `{"match": true, "score": 0.94, "liveness": true}`)
	c, err := face.NewClient(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// addPerson adds a person to the demo register through the test tool.
func (n *enrolNode) addPerson(t *testing.T, name, birthdate string, guardians ...string) string {
	t.Helper()
	body := map[string]any{"name": name, "birthdate": birthdate}
	if guardians != nil {
		body["guardians"] = guardians
	}
	code, m := n.post(t, "/testtool/v1/persons", nil, body)
	if code != http.StatusCreated {
		t.Fatalf("test tool person: %d %v", code, m)
	}
	return m["cpr"].(string)
}

func demoPassport(t *testing.T, name string, born time.Time, opts testchip.Options) *testchip.Passport {
	t.Helper()
	opts.GivenNames, opts.Surname = testchip.SplitName(name)
	opts.BirthDate = born
	pp, err := testchip.NewPassport(opts)
	if err != nil {
		t.Fatal(err)
	}
	return pp
}

// enrol starts an enrolment, answers the challenge with the dump's chip key
// and sends the passport, as the reference app does.
func (n *enrolNode) enrol(t *testing.T, pp *testchip.Passport, cprNumber string, change func(*appclient.Passport)) (*appclient.Enrolment, *appclient.EnrolmentStatus, error) {
	t.Helper()
	ctx := context.Background()
	e, err := appclient.StartEnrolment(ctx, n.URL)
	if err != nil {
		t.Fatal(err)
	}
	key, err := emrtd.ParseChipKey(pp.Dump.AAKey)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := emrtd.SignChallenge(rand.Reader, key, pp.Dump.Files["DG14"], e.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	p := appclient.Passport{MRZ: pp.Dump.MRZ, Files: pp.Dump.Files, ActiveAuthentication: answer, Selfie: pp.Face, CPR: cprNumber}
	if change != nil {
		p.Files = cloneFiles(p.Files)
		change(&p)
	}
	st, err := e.SubmitPassport(ctx, p)
	return e, st, err
}

func cloneFiles(m map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = bytes.Clone(v)
	}
	return out
}

// noIdentity fails the test if the person has an identity.
func (n *enrolNode) noIdentity(t *testing.T, cprNo string) {
	t.Helper()
	num, err := cpr.Parse(cprNo)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := n.identities.ByCPR(context.Background(), num); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("an identity was left behind: %+v, %v", id, err)
	}
}

// testtoolIdentity is GET /testtool/v1/identities/{user_id}.
func (n *enrolNode) testtoolIdentity(t *testing.T, userID string) map[string]any {
	t.Helper()
	code, m := n.get(t, "/testtool/v1/identities/"+userID, nil)
	if code != http.StatusOK {
		t.Fatalf("test tool identity %s: %d %v", userID, code, m)
	}
	return m
}

// TestEnrolPassportThenLogIn: a synthetic passport enrols through the app
// API, and the identity then logs in with the app it registered.
func TestEnrolPassportThenLogIn(t *testing.T) {
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			n := newEnrolNode(t, engine, matching(t))
			ctx := context.Background()
			cprNo := n.addPerson(t, "Søren Ærø", "1990-05-17")
			pp := demoPassport(t, "Søren Ærø", date(1990, 5, 17), testchip.Options{})
			e, st, err := n.enrol(t, pp, cprNo, nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != appclient.EnrolmentReady || st.Level != "substantial" || len(st.Restrictions) != 0 {
				t.Fatalf("after the passport: %+v", st)
			}
			key, _ := appclient.NewKey()
			done, err := e.Complete(ctx, "soeren.aeroe", "correct horse battery", "test phone", key)
			if err != nil {
				t.Fatal(err)
			}
			if done.UserID != "soeren.aeroe" || done.Level != "substantial" || done.PCode != "" {
				t.Fatalf("Complete = %+v", done)
			}
			id := n.testtoolIdentity(t, "soeren.aeroe")
			if id["state"] != "active" || id["ial"] != "substantial" || id["cpr"] != cprNo {
				t.Fatalf("identity %v", id)
			}
			if st, err := e.Status(ctx, "", 0); err != nil || st.State != appclient.EnrolmentCompleted {
				t.Fatalf("status after completion: %+v, %v", st, err)
			}

			// Log in with the app it registered.
			cl, err := appclient.New(appclient.Device{Server: n.URL, ID: done.DeviceID, Key: key, Identity: done.Identity}, appclient.WithClock(n.clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			f := n.flow(t, "substantial")
			f.step(t, map[string]any{"step": "identify", "user_id": "soeren.aeroe"})
			if f.state() != "waiting_for_app" {
				t.Fatalf("identify: %v", f.Last)
			}
			if _, state, err := cl.ApproveNext(ctx, 5*time.Second, f.Last["binding_code"].(string), approval.Approve); err != nil || state != "approved" {
				t.Fatalf("approve: %s, %v", state, err)
			}
			f.refresh(t)
			if f.state() != "done" || f.Last["level"] != "substantial" {
				t.Fatalf("login: %v", f.Last)
			}
			// At high the passport-proofed identity cannot log in: IAL caps it.
			f = n.flow(t, "high")
			f.step(t, map[string]any{"step": "identify", "user_id": "soeren.aeroe"})
			if f.state() == "waiting_for_app" || f.state() == "done" {
				t.Fatalf("a substantial identity reached high: %v", f.Last)
			}
		})
	}
}

// TestEnrolRefusedOverHTTP: the refusals the reference app meets, each with
// its code and message and no identity left behind.
func TestEnrolRefusedOverHTTP(t *testing.T) {
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			n := newEnrolNode(t, engine, matching(t))
			today := n.clock.Now()
			for _, tt := range []struct {
				name, born string
				opts       testchip.Options
				change     func(*appclient.Passport)
				status     int
				code       string
			}{
				{"tampered DG1", "1984-03-17", testchip.Options{}, func(p *appclient.Passport) { p.Files["DG1"][len(p.Files["DG1"])-3] ^= 1 }, 422, "document_tampered"},
				{"rogue CSCA", "1984-03-18", testchip.Options{RogueCSCA: true}, nil, 422, "document_signer_unknown"},
				{"cloned chip", "1984-03-19", testchip.Options{CloneChip: true}, nil, 422, "chip_authentication_failed"},
				{"a child of 12", today.AddDate(-12, -3, 0).Format(time.DateOnly), testchip.Options{}, nil, 422, "too_young"},
				{"expired passport", "1984-03-20", testchip.Options{Expiry: today.AddDate(0, 0, -1)}, nil, 422, "document_expired"},
				{"selfie not an image", "1984-03-21", testchip.Options{}, func(p *appclient.Passport) { p.Selfie = []byte("GIF89a") }, 400, "bad_selfie"},
				{"bad CPR", "1984-03-22", testchip.Options{}, func(p *appclient.Passport) { p.CPR = "999999-9999" }, 400, "bad_cpr"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					born, _ := time.Parse(time.DateOnly, tt.born)
					name := "Karen Marie Testesen"
					cprNo := n.addPerson(t, name, tt.born)
					pp := demoPassport(t, name, born, tt.opts)
					_, st, err := n.enrol(t, pp, cprNo, tt.change)
					ae, ok := errors.AsType[*appclient.APIError](err)
					if !ok || ae.Status != tt.status || ae.Code != tt.code || ae.Message == "" || st != nil {
						t.Fatalf("SubmitPassport = %+v, %v; want %d %s", st, err, tt.status, tt.code)
					}
					n.noIdentity(t, cprNo)
				})
			}
			// Messages in Danish on request.
			cprNo := n.addPerson(t, "Lille Barn", today.AddDate(-12, 0, 0).Format(time.DateOnly))
			pp := demoPassport(t, "Lille Barn", today.AddDate(-12, 0, 0), testchip.Options{})
			e, err := appclient.StartEnrolment(context.Background(), n.URL)
			if err != nil {
				t.Fatal(err)
			}
			ck, _ := emrtd.ParseChipKey(pp.Dump.AAKey)
			ans, _ := emrtd.SignChallenge(rand.Reader, ck, pp.Dump.Files["DG14"], e.Challenge)
			body, _ := json.Marshal(map[string]any{"mrz": pp.Dump.MRZ, "files": pp.Dump.Files, "active_authentication": ans, "selfie": pp.Face, "cpr": cprNo})
			code, m := n.post(t, "/app/v1/enrolments/"+e.ID+"/passport", map[string]string{appclient.EnrolmentTokenHeader: e.Token,
				"Accept-Language": "da-DK,da;q=0.9,en;q=0.8"}, json.RawMessage(body))
			if code != 422 || m["error"] != "too_young" || m["message"] != "Du skal være mindst 13 år for at få MitID." || m["state"] != "refused" {
				t.Fatalf("in Danish: %d %v", code, m)
			}
			// And the case can be read back with its reason.
			st, err := e.Status(context.Background(), "", 0)
			if err != nil || st.State != appclient.EnrolmentRefused || st.Error != "too_young" {
				t.Fatalf("Status = %+v, %v", st, err)
			}
		})
	}
}

// countingReader is an endless body that counts what was read of it.
type countingReader struct{ n atomic.Int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// TestEnrolOversizedUpload: a body over the limit is refused from its
// Content-Length without being read, and a chunked one as soon as the
// limit is passed.
func TestEnrolOversizedUpload(t *testing.T) {
	n := newEnrolNode(t, store.SQLite, face.ReviewVerifier{})
	e, err := appclient.StartEnrolment(context.Background(), n.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path     string
		max      int
		declared int64
	}{
		{"/passport", proofing.MaxSubmission, 100 << 20},
		{"/passport", proofing.MaxSubmission, -1},
		{"/chip-authentication", proofing.MaxChipAuthenticationBody, 100 << 20},
		{"/chip-authentication", proofing.MaxChipAuthenticationBody, -1},
	} {
		declared := tc.declared
		body := &countingReader{}
		req := httptest.NewRequest(http.MethodPost, "/app/v1/enrolments/"+e.ID+tc.path, io.LimitReader(body, 100<<20))
		req.ContentLength = declared
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(appclient.EnrolmentTokenHeader, e.Token)
		rec := httptest.NewRecorder()
		n.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"body_too_large"`) {
			t.Fatalf("%s declared %d: %d %s", tc.path, declared, rec.Code, rec.Body)
		}
		read := body.n.Load()
		if declared > 0 && read != 0 || declared < 0 && read > int64(tc.max)+64<<10 {
			t.Errorf("%s declared %d: read %d bytes of the body", tc.path, declared, read)
		}
	}
	// The case is untouched: the challenge still waits.
	if st, err := e.Status(context.Background(), "", 0); err != nil || st.State != appclient.EnrolmentStarted {
		t.Fatalf("after the refused uploads: %+v, %v", st, err)
	}
}

// TestEnrolMinorWithGuardianOverHTTP: a 13-year-old's enrolment waits for a
// guardian, who approves in their own app with the code the child's app
// shows; a rejection refuses it.
func TestEnrolMinorWithGuardianOverHTTP(t *testing.T) {
	for _, engine := range engines {
		t.Run(string(engine), func(t *testing.T) {
			n := newEnrolNode(t, engine, matching(t))
			ctx := context.Background()
			code, m := n.post(t, "/testtool/v1/identities", nil, map[string]any{"name": "Mette Hansen", "birthdate": "1982-02-02", "authenticators": []string{"app"}})
			if code != http.StatusCreated {
				t.Fatalf("guardian: %d %v", code, m)
			}
			mum := &person{UUID: m["uuid"].(string), CPR: m["cpr"].(string), ActivationCode: m["app"].(map[string]any)["activation_code"].(string)}
			mumApp := n.activate(t, mum)

			for _, decision := range []approval.Decision{approval.Approve, approval.Reject} {
				born := n.clock.Now().AddDate(-13, 0, -int(len(decision)))
				name := "Ida Hansen"
				if decision == approval.Reject {
					name = "Bo Hansen"
				}
				kidCPR := n.addPerson(t, name, born.Format(time.DateOnly), mum.CPR)
				e, st, err := n.enrol(t, demoPassport(t, name, born, testchip.Options{}), kidCPR, nil)
				if err != nil {
					t.Fatal(err)
				}
				if st.State != appclient.EnrolmentGuardianConsent || st.Consent == nil || st.Consent.Guardian != "Mette" ||
					len(st.Consent.BindingCode) != 4 || len(st.Restrictions) != 1 || st.Restrictions[0] != "minor" {
					t.Fatalf("%s: after the passport: %+v", name, st)
				}
				// The child's app waits; the guardian answers meanwhile.
				waited := make(chan *appclient.EnrolmentStatus, 1)
				go func() {
					s, err := e.WaitWhile(ctx, appclient.EnrolmentGuardianConsent, 20*time.Second)
					if err != nil {
						t.Error(err)
					}
					waited <- s
				}()
				req, state, err := mumApp.ApproveNext(ctx, 5*time.Second, st.Consent.BindingCode, decision)
				if err != nil {
					t.Fatal(err)
				}
				if req.Kind != approval.KindConsent || !strings.Contains(req.ReferenceText, strings.Fields(name)[0]) {
					t.Errorf("the guardian was shown %+v", req)
				}
				after := <-waited
				if decision == approval.Reject {
					if state != "rejected" || after.State != appclient.EnrolmentRefused || after.Error != "guardian_rejected" {
						t.Fatalf("rejected: %s, %+v", state, after)
					}
					continue
				}
				if state != "approved" || after.State != appclient.EnrolmentReady {
					t.Fatalf("approved: %s, %+v", state, after)
				}
				key, _ := appclient.NewKey()
				done, err := e.Complete(ctx, "ida.hansen", "correct horse battery", "Ida's phone", key)
				if err != nil {
					t.Fatal(err)
				}
				id := n.testtoolIdentity(t, done.UserID)
				if id["minor"] != true || id["ial"] != "substantial" {
					t.Fatalf("the child's identity %v", id)
				}
			}
		})
	}
}

// TestEnrolFaceReviewOverHTTP: with the review verifier the app waits for the
// caseworker's decision and sees it as soon as it is made.
func TestEnrolFaceReviewOverHTTP(t *testing.T) {
	n := newEnrolNode(t, store.SQLite, face.ReviewVerifier{})
	ctx := context.Background()
	cprNo := n.addPerson(t, "Rie Review", "1979-09-09")
	e, st, err := n.enrol(t, demoPassport(t, "Rie Review", date(1979, 9, 9), testchip.Options{}), cprNo, nil)
	if err != nil || st.State != appclient.EnrolmentFaceReview {
		t.Fatalf("%+v, %v", st, err)
	}
	queue, err := n.proofing.PendingReviews(ctx, 10)
	if err != nil || len(queue) != 1 || queue[0].ID != e.ID {
		t.Fatalf("queue %v, %v", queue, err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		if _, err := n.proofing.DecideReview(ctx, e.ID, true, "cw-1"); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	st, err = e.WaitWhile(ctx, appclient.EnrolmentFaceReview, 20*time.Second)
	if err != nil || st.State != appclient.EnrolmentReady {
		t.Fatalf("after the review: %+v, %v", st, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the app learnt of the decision after %s", d)
	}
}

// TestEnrolFaceServiceDown: a face service that cannot be reached is said
// so, and ends the case as failed, not refused.
func TestEnrolFaceServiceDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	fc, _ := face.NewClient(dead, nil)
	n := newEnrolNode(t, store.SQLite, fc)
	cprNo := n.addPerson(t, "Ole Nede", "1966-06-06")
	e, _, err := n.enrol(t, demoPassport(t, "Ole Nede", date(1966, 6, 6), testchip.Options{}), cprNo, nil)
	ae, ok := errors.AsType[*appclient.APIError](err)
	if !ok || ae.Status != 503 || ae.Code != "face_verification_unavailable" || ae.RetryAfter != time.Minute {
		t.Fatalf("SubmitPassport: %v", err)
	}
	if st, err := e.Status(context.Background(), "", 0); err != nil || st.State != appclient.EnrolmentFailed {
		t.Fatalf("Status = %+v, %v", st, err)
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
