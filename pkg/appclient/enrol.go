package appclient

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ChallengeSize is the length of the active authentication challenge the
// server hands out, the 8 bytes of ICAO 9303's INTERNAL AUTHENTICATE.
const ChallengeSize = 8

// EnrolmentTokenHeader carries an enrolment's token (docs/app-api.md,
// "Enrolment with a passport").
const EnrolmentTokenHeader = "X-Enrolment-Token"

// The states of an enrolment (docs/app-api.md).
const (
	EnrolmentStarted         = "started"
	EnrolmentFaceReview      = "face_review"      // a caseworker compares the faces; wait
	EnrolmentGuardianConsent = "guardian_consent" // a guardian approves in their own app; show the code
	EnrolmentReady           = "ready"            // choose a user ID and password: Complete
	EnrolmentCompleted       = "completed"
	EnrolmentRefused         = "refused"
	EnrolmentFailed          = "failed"
	EnrolmentExpired         = "expired"
)

// Enrolment is an enrolment with a passport in progress: the case the server
// opened, the token that opens it, and the challenge the chip must answer.
// It is safe for concurrent use.
type Enrolment struct {
	ID                 string
	Token              string
	Challenge          [ChallengeSize]byte
	ChallengeExpiresAt time.Time
	// Email, when set, is sent with [Enrolment.Complete] as the contact
	// address for notifications (a new device added, a reactivation).
	Email string
	base  string
	hc    *http.Client
}

// StartEnrolment opens an enrolment at server (POST /app/v1/enrolments). The
// challenge must be answered by the chip and sent with [Enrolment.SubmitPassport]
// before ChallengeExpiresAt.
func StartEnrolment(ctx context.Context, server string, opts ...Option) (*Enrolment, error) {
	return startCase(ctx, server, struct{}{}, opts)
}

// StartReactivation opens a reactivation (POST /app/v1/enrolments with
// purpose reactivation): for a person whose MitID has no authenticator that
// works, the same passport and face checks as an enrolment, completed with
// [Enrolment.Complete] without a user ID (the MitID keeps its own) and with a
// password only to replace it.
func StartReactivation(ctx context.Context, server string, opts ...Option) (*Enrolment, error) {
	return startCase(ctx, server, map[string]string{"purpose": "reactivation"}, opts)
}

func startCase(ctx context.Context, server string, body any, opts []Option) (*Enrolment, error) {
	base, err := baseURL(server)
	if err != nil {
		return nil, err
	}
	o := newOptions(opts)
	var out struct {
		ID                 string    `json:"enrolment_id"`
		Token              string    `json:"token"`
		Challenge          string    `json:"challenge"`
		ChallengeExpiresAt time.Time `json:"challenge_expires_at"`
	}
	if _, err := call(ctx, o.hc, http.MethodPost, base+"/app/v1/enrolments", body, &out, nil, http.StatusCreated); err != nil {
		return nil, err
	}
	ch, err := base64.StdEncoding.DecodeString(out.Challenge)
	if err != nil || len(ch) != ChallengeSize {
		return nil, fmt.Errorf("appclient: the server's challenge is not %d bytes of base64", ChallengeSize)
	}
	if err := checkPathSegment(out.ID); err != nil || out.Token == "" {
		return nil, fmt.Errorf("appclient: the server answered an unusable enrolment id or no token")
	}
	e := &Enrolment{ID: out.ID, Token: out.Token, ChallengeExpiresAt: out.ChallengeExpiresAt, base: base, hc: o.hc}
	copy(e.Challenge[:], ch)
	return e, nil
}

// ResumeEnrolment returns an enrolment started earlier, from its id and
// token, to follow or complete it.
func ResumeEnrolment(server, id, token string, opts ...Option) (*Enrolment, error) {
	base, err := baseURL(server)
	if err != nil {
		return nil, err
	}
	if err := checkPathSegment(id); err != nil {
		return nil, err
	}
	return &Enrolment{ID: id, Token: token, base: base, hc: newOptions(opts).hc}, nil
}

func checkPathSegment(id string) error {
	if id == "" || len(id) > 256 || url.PathEscape(id) != id {
		return fmt.Errorf("appclient: %q cannot be an id in a path", id)
	}
	return nil
}

// Passport is what the app read and took: the MRZ as scanned, the chip's
// files keyed "DG1" to "DG16" and "SOD" (as in a passport dump), the chip's
// answer to the challenge (or, for a chip without DG15, its response to the
// command of [Enrolment.ChipAuthentication]), a selfie (JPEG or PNG), and
// the CPR number the person typed ("" for a person without one, who then
// gets a P-code).
type Passport struct {
	MRZ                  string
	Files                map[string][]byte
	ActiveAuthentication []byte
	ChipAuthentication   []byte
	Selfie               []byte
	CPR                  string
}

// ChipAuthentication is what the app sends a chip without DG15 so that it
// proves itself genuine by chip authentication (ICAO 9303 part 11, section
// 6.2): under its BAC or PACE session, MSE:Set with the data MSE (for 3DES
// MSE:Set KAT, P1P2 41A6; for AES MSE:Set AT, P1P2 41A4, then GENERAL
// AUTHENTICATE with the data GeneralAuthenticate), then Command as it is,
// whose raw response goes into Passport.ChipAuthentication.
type ChipAuthentication struct {
	Protocol            string `json:"protocol"`         // the OID, dotted
	KeyID               *int64 `json:"key_id,omitempty"` // nil when DG14 names none
	TerminalPublicKey   []byte `json:"terminal_public_key"`
	MSE                 []byte `json:"mse"`
	GeneralAuthenticate []byte `json:"general_authenticate,omitempty"`
	Command             []byte `json:"command"`
}

// EnrolmentStatus is an enrolment as the server describes it.
type EnrolmentStatus struct {
	ID           string    `json:"enrolment_id"`
	State        string    `json:"state"`
	ExpiresAt    time.Time `json:"expires_at"`
	Level        string    `json:"level"`                  // the level the identity gets
	Restrictions []string  `json:"restrictions,omitempty"` // "minor", "pcode"
	// Error and Message say why an enrolment ended, in the states refused,
	// failed and expired.
	Error   string           `json:"error,omitempty"`
	Message string           `json:"message,omitempty"`
	Consent *GuardianConsent `json:"consent,omitempty"`
}

// Final reports whether the enrolment has ended.
func (s *EnrolmentStatus) Final() bool {
	switch s.State {
	case EnrolmentCompleted, EnrolmentRefused, EnrolmentFailed, EnrolmentExpired:
		return true
	}
	return false
}

// GuardianConsent is the open request to a guardian: the app shows the
// binding code (or the QR frame), which the guardian enters in their own app.
type GuardianConsent struct {
	Guardian    string    `json:"guardian"` // the guardian's given name
	ApprovalID  string    `json:"approval_id"`
	BindingCode string    `json:"binding_code"`
	QR          string    `json:"qr"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (e *Enrolment) do(ctx context.Context, method, path string, in, out any, want ...int) (int, error) {
	return call(ctx, e.hc, method, e.base+"/app/v1/enrolments/"+e.ID+path, in, out, func(req *http.Request, _ []byte) error {
		req.Header.Set(EnrolmentTokenHeader, e.Token)
		return nil
	}, want...)
}

// ChipAuthentication asks for a run of chip authentication with the chip's
// DG14 (POST /app/v1/enrolments/{id}/chip-authentication), for a chip
// without DG15. A DG14 without chip authentication the server runs is an
// [*APIError] with Code chip_cannot_prove_genuine.
func (e *Enrolment) ChipAuthentication(ctx context.Context, dg14 []byte) (*ChipAuthentication, error) {
	in := struct {
		DG14 string `json:"dg14"`
	}{base64.StdEncoding.EncodeToString(dg14)}
	var out ChipAuthentication
	if _, err := e.do(ctx, http.MethodPost, "/chip-authentication", in, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}

// SubmitPassport sends the passport (POST /app/v1/enrolments/{id}/passport).
// A refusal is an [*APIError] whose Code says why (document_tampered,
// chip_authentication_failed, too_young, …) and whose Message is for the
// person; the enrolment has then ended.
func (e *Enrolment) SubmitPassport(ctx context.Context, p Passport) (*EnrolmentStatus, error) {
	files := make(map[string]string, len(p.Files))
	for name, f := range p.Files {
		files[name] = base64.StdEncoding.EncodeToString(f)
	}
	in := struct {
		MRZ    string            `json:"mrz"`
		Files  map[string]string `json:"files"`
		AA     string            `json:"active_authentication"`
		CA     string            `json:"chip_authentication,omitempty"`
		Selfie string            `json:"selfie"`
		CPR    string            `json:"cpr,omitempty"`
	}{p.MRZ, files, base64.StdEncoding.EncodeToString(p.ActiveAuthentication), base64.StdEncoding.EncodeToString(p.ChipAuthentication),
		base64.StdEncoding.EncodeToString(p.Selfie), p.CPR}
	var st EnrolmentStatus
	if _, err := e.do(ctx, http.MethodPost, "/passport", in, &st, http.StatusOK); err != nil {
		return nil, err
	}
	return &st, nil
}

// Status returns the enrolment's state (GET /app/v1/enrolments/{id}). With
// since, the state last seen, the server holds the request up to wait (at
// most [MaxWait]) until the state is another.
func (e *Enrolment) Status(ctx context.Context, since string, wait time.Duration) (*EnrolmentStatus, error) {
	path := ""
	if since != "" {
		secs := int64(min(max(wait, 0), MaxWait)+time.Second-1) / int64(time.Second)
		path = "?since=" + url.QueryEscape(since) + "&wait=" + strconv.FormatInt(secs, 10) + "s"
	}
	var st EnrolmentStatus
	if _, err := e.do(ctx, http.MethodGet, path, nil, &st, http.StatusOK); err != nil {
		return nil, err
	}
	return &st, nil
}

// WaitWhile follows the enrolment while its state is state, for at most
// wait (in real time), and returns the state it reached (still state if
// wait passed).
func (e *Enrolment) WaitWhile(ctx context.Context, state string, wait time.Duration) (*EnrolmentStatus, error) {
	deadline := time.Now().Add(wait)
	for {
		started := time.Now()
		st, err := e.Status(ctx, state, time.Until(deadline))
		if err != nil || st.State != state || !time.Now().Before(deadline) {
			return st, err
		}
		if pause := min(time.Second-time.Since(started), time.Until(deadline)); pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("appclient: waiting for the enrolment: %w", ctx.Err())
			case <-t.C:
			}
		}
	}
}

// AskGuardian asks a guardian again for consent after the last request
// lapsed (POST /app/v1/enrolments/{id}/consent); guardian picks among those
// who can be asked, 0 for the first.
func (e *Enrolment) AskGuardian(ctx context.Context, guardian int) (*EnrolmentStatus, error) {
	var st EnrolmentStatus
	in := struct {
		Guardian int `json:"guardian"`
	}{guardian}
	if _, err := e.do(ctx, http.MethodPost, "/consent", in, &st, http.StatusOK); err != nil {
		return nil, err
	}
	return &st, nil
}

// EnrolmentProofMessage returns the bytes the new device key signs at the
// end of an enrolment: "OMIDENR1\n<enrolment id>\n<public_key as sent>".
func EnrolmentProofMessage(enrolmentID, publicKey string) []byte {
	return []byte("OMIDENR1\n" + enrolmentID + "\n" + publicKey)
}

// Enrolled is the answer to a completed enrolment: the new device, as an
// activation's, and the P-code of a person without CPR.
type Enrolled struct {
	Activation
	PCode string `json:"pcode,omitempty"`
}

// Complete chooses the user ID and password and registers key as the
// identity's first app (POST /app/v1/enrolments/{id}/complete), with the
// key's signature over [EnrolmentProofMessage] as proof of possession. The
// answer's device id and key make the [Device] for [New].
//
// A user ID that is taken (user_id_taken) or breaks the rules (bad_user_id),
// or a password the policy refuses (password_too_short, password_common, …),
// leaves the enrolment ready: try again.
func (e *Enrolment) Complete(ctx context.Context, userID, password, deviceName string, key *ecdsa.PrivateKey) (*Enrolled, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	pub, err := EncodePublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	proof, err := sign(key, EnrolmentProofMessage(e.ID, pub))
	if err != nil {
		return nil, err
	}
	in := struct {
		Email    string `json:"email,omitempty"`
		UserID   string `json:"user_id,omitempty"`
		Password string `json:"password,omitempty"`
		Key      string `json:"public_key"`
		Name     string `json:"device_name"`
		Proof    string `json:"proof"`
	}{e.Email, userID, password, pub, deviceName, proof}
	var out Enrolled
	if _, err := e.do(ctx, http.MethodPost, "/complete", in, &out, http.StatusCreated); err != nil {
		return nil, err
	}
	if err := checkDeviceID(out.DeviceID); err != nil {
		return nil, fmt.Errorf("%w (in the enrolment's answer)", err)
	}
	if out.UserID == "" {
		return nil, errors.New("appclient: the enrolment's answer has no user_id")
	}
	return &out, nil
}
