package proofing

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/face"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
)

// Identities is what enrolment needs of internal/identity.
type Identities interface {
	Prepare(n identity.New) (*identity.Identity, error)
	Insert(ctx context.Context, id *identity.Identity, actor string) error
	ByCPR(ctx context.Context, n cpr.Number) (*identity.Identity, error)
	ByPCode(ctx context.Context, pcode string) (*identity.Identity, error)
	CPRIndex(n cpr.Number) []byte
	// For reactivation.
	ByUUID(ctx context.Context, identityUUID string) (*identity.Identity, error)
	HashPassword(pw, userID string) (string, error)
	Reactivate(ctx context.Context, identityUUID, passwordHash, actor, reason string) (*identity.Identity, error)
}

// Approvals is what enrolment needs of internal/approval: a guardian's
// consent is an approval request of kind consent.
type Approvals interface {
	Create(ctx context.Context, n approval.New) (*approval.Approval, error)
	Get(ctx context.Context, id string) (*approval.Approval, error)
	ExpireIfDue(ctx context.Context, id string) (bool, error)
	Cancel(ctx context.Context, id, reason string) error
	Frame(a *approval.Approval) string
}

// Sealer seals and opens secrets under the KEK (internal/pki.Keyring).
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// Timing of a case.
const (
	// ChallengeTTL is how long the app has to read the chip and send it.
	ChallengeTTL = 5 * time.Minute
	// checkingTTL bounds the checks; a case left checking (a node died)
	// expires after it.
	checkingTTL = 2 * time.Minute
	// DefaultReviewTTL is how long a case waits for a caseworker.
	DefaultReviewTTL = 72 * time.Hour
	// ConsentTTL is how long a case waits for a guardian; each request to
	// the guardian lives approval.TTL and may be repeated meanwhile.
	ConsentTTL = time.Hour
	// ReadyTTL is how long a proofed person has to choose a user ID and
	// password.
	ReadyTTL = 30 * time.Minute

	startWindow  = time.Hour
	maxStartsPer = 30 // enrolments started per client address per hour
	idBytes      = 16
	tokenBytes   = 32
)

// Config holds what [NewService] needs.
type Config struct {
	Store      Store
	Identities Identities
	Approvals  Approvals
	// Register is the population register; enrolment is impossible without.
	Register cpr.Register
	Faces    face.Verifier
	Trust    TrustSource
	Keys     Sealer
	Log      audit.Log
	// IAL is the level identities proofed by passport and face get:
	// nsis.Substantial unless set (see the package documentation).
	IAL       nsis.Level
	ReviewTTL time.Duration // DefaultReviewTTL unless set
	Now       func() time.Time
	Rand      io.Reader
	// Reactivations marks reactivation cases (the Store, when it does and
	// this is nil); Notifier tells the person. Without both, reactivation
	// is off.
	Reactivations ReactivationStore
	Notifier      Notifier
	// ChipAuthenticationKey, at least 32 secret bytes kept under the KEK
	// (pki.Keyring.Secret), makes each case's terminal key for chip
	// authentication (see [Service.StartChipAuthentication]). Without it,
	// chip authentication is off and a passport without DG15 is refused.
	ChipAuthenticationKey []byte
}

// Service runs enrolment cases.
type Service struct {
	store      Store
	identities Identities
	approvals  Approvals
	register   cpr.Register
	faces      face.Verifier
	trust      TrustSource
	keys       Sealer
	log        audit.Log
	ial        nsis.Level
	reviewTTL  time.Duration
	now        func() time.Time
	rand       io.Reader

	reactivations ReactivationStore
	notifier      Notifier
	caKey         []byte
}

// NewService returns a Service. Register it as the approval service's
// resolver of consent requests: approvals.Handle(approval.KindConsent, s).
func NewService(c Config) (*Service, error) {
	if c.Store == nil || c.Identities == nil || c.Approvals == nil || c.Register == nil || c.Faces == nil ||
		c.Trust == nil || c.Keys == nil || c.Log == nil {
		return nil, errors.New("proofing: NewService needs a store, identities, approvals, a register, a face verifier, a trust list, keys and an audit log")
	}
	if c.ChipAuthenticationKey != nil && len(c.ChipAuthenticationKey) < 32 {
		return nil, fmt.Errorf("proofing: a chip authentication key of %d bytes; want at least 32", len(c.ChipAuthenticationKey))
	}
	if c.IAL == nsis.None {
		c.IAL = nsis.Substantial
	}
	if !c.IAL.Valid() {
		return nil, fmt.Errorf("proofing: IAL %v is not a level", c.IAL)
	}
	if c.ReviewTTL <= 0 {
		c.ReviewTTL = DefaultReviewTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Reactivations == nil {
		c.Reactivations, _ = c.Store.(ReactivationStore)
	}
	return &Service{store: c.Store, identities: c.Identities, approvals: c.Approvals, register: c.Register, faces: c.Faces,
		trust: c.Trust, keys: c.Keys, log: c.Log, ial: c.IAL, reviewTTL: c.ReviewTTL, now: c.Now, rand: c.Rand,
		reactivations: c.Reactivations, notifier: c.Notifier, caKey: bytes.Clone(c.ChipAuthenticationKey)}, nil
}

// IAL returns the level identities enrolled by passport get.
func (s *Service) IAL() nsis.Level { return s.ial }

func (s *Service) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, err
	}
	return b, nil
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte("openmitid enrolment token\x00" + token))
	return sum[:]
}

// Opened is a new case as the app receives it.
type Opened struct {
	Case      *Case
	Token     string // shown once: the app sends it with every request for the case
	Challenge [emrtd.ChallengeSize]byte
}

// Start opens a case for enrolment with the app and a passport, with a
// fresh active authentication challenge valid for [ChallengeTTL]. clientIP
// is counted against a rate limit ([ErrRateLimited]).
func (s *Service) Start(ctx context.Context, clientIP string) (*Opened, error) {
	return s.start(ctx, clientIP, false)
}

func (s *Service) start(ctx context.Context, clientIP string, reactivate bool) (*Opened, error) {
	now := s.now().UTC()
	if n, err := s.store.CountInWindow(ctx, "enrol:"+clientIP, startWindow, now); err != nil {
		return nil, err
	} else if n > maxStartsPer {
		return nil, ErrRateLimited
	}
	idb, err := s.random(idBytes)
	if err != nil {
		return nil, err
	}
	tok, err := s.random(tokenBytes)
	if err != nil {
		return nil, err
	}
	challenge, err := s.random(emrtd.ChallengeSize)
	if err != nil {
		return nil, err
	}
	st := &Opened{Token: base64.RawURLEncoding.EncodeToString(tok)}
	copy(st.Challenge[:], challenge)
	c := &Case{ID: base64.RawURLEncoding.EncodeToString(idb), TokenHash: tokenHash(st.Token), Channel: ChannelAppPassport,
		State: Started, Challenge: challenge, ChallengeExpiresAt: now.Add(ChallengeTTL), OriginIP: clientIP,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(ChallengeTTL)}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertEnrolmentCase(ctx, c); err != nil {
			return err
		}
		purpose := "enrolment"
		if reactivate {
			purpose = "reactivation"
			if err := s.reactivations.InsertReactivation(ctx, c.ID, now); err != nil {
				return err
			}
		}
		return s.log.Record(ctx, audit.Event{Actor: audit.ActorAnonymous, Action: "enrolment.started",
			Details: map[string]string{"case": c.ID, "channel": string(c.Channel), "purpose": purpose}})
	})
	if err != nil {
		return nil, err
	}
	st.Case = c
	return st, nil
}

// open loads the case and checks the app's token in constant time. A wrong
// token is the same [ErrCaseNotFound] as an unknown id.
func (s *Service) open(ctx context.Context, id, token string) (*Case, error) {
	c, err := s.store.EnrolmentCase(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(c.TokenHash, tokenHash(token)) != 1 {
		return nil, ErrCaseNotFound
	}
	return c, nil
}

// update writes c with its audit event and wakes the app waiting on it.
func (s *Service) update(ctx context.Context, c *Case, ev audit.Event) error {
	c.UpdatedAt = s.now().UTC()
	if c.State.Final() && c.DecidedAt.IsZero() {
		c.DecidedAt = c.UpdatedAt
	}
	if err := s.store.UpdateEnrolmentCase(ctx, c); err != nil {
		return err
	}
	if ev.Details == nil {
		ev.Details = map[string]string{}
	}
	ev.Details["case"] = c.ID
	ev.Details["state"] = string(c.State)
	if c.Reason != "" {
		ev.Details["reason"] = c.Reason
	}
	if c.CPRMasked != "" {
		ev.Details["cpr"] = c.CPRMasked
	}
	if ev.Actor == "" {
		ev.Actor = audit.ActorAnonymous
	}
	if err := s.log.Record(ctx, ev); err != nil {
		return err
	}
	return s.store.Notify(ctx, TopicPrefix+c.ID)
}

// end puts c in a final state with the refusal or failure in err, deletes
// any images, and records it. err must wrap a [Refusal].
func (s *Service) end(ctx context.Context, c *Case, to State, err error, ev audit.Event) error {
	r := RefusalOf(err)
	if r == nil {
		r = FailInternal
	}
	c.State, c.Reason, c.ReasonDetail = to, r.Code(), err.Error()
	c.Challenge = nil
	if err := s.store.DeleteEnrolmentImages(ctx, c.ID); err != nil {
		return err
	}
	if ev.Action == "" {
		ev.Action = "enrolment." + string(to)
	}
	return s.update(ctx, c, ev)
}

// Status is a case as the app sees it.
type Status struct {
	Case *Case
	// Refusal says why a case in a final state other than completed ended.
	Refusal *Refusal
	// Consent is the open request to a guardian, while the case waits for one.
	Consent *Consent
}

// Consent is a guardian's open consent request, for the minor's app to show:
// the guardian binds it in their own app with the code (or QR frame).
type Consent struct {
	Guardian    string // the guardian's given name
	ApprovalID  string
	BindingCode string
	QR          string // the current QR frame
	ExpiresAt   time.Time
}

// Status returns the case for the app that holds its token, settling it
// first if its time has run out (an expired case, a lapsed consent request).
func (s *Service) Status(ctx context.Context, id, token string) (*Status, error) {
	c, err := s.open(ctx, id, token)
	if err != nil {
		return nil, err
	}
	if c.ConsentApproval != "" {
		// Settle a lapsed request now rather than at the next sweep; its
		// resolver clears it from the case.
		if _, err := s.approvals.ExpireIfDue(ctx, c.ConsentApproval); err != nil && !errors.Is(err, approval.ErrConflict) {
			return nil, err
		}
	}
	if !c.State.Final() && !s.now().Before(c.ExpiresAt) {
		if err := s.expire(ctx, c.ID); err != nil && !errors.Is(err, ErrConflict) {
			return nil, err
		}
	}
	if c, err = s.open(ctx, id, token); err != nil {
		return nil, err
	}
	return s.status(ctx, c)
}

func (s *Service) status(ctx context.Context, c *Case) (*Status, error) {
	st := &Status{Case: c}
	if c.State.Final() && c.State != Completed {
		st.Refusal = refusalByCode(c.Reason)
	}
	if c.State == GuardianConsent && c.ConsentApproval != "" {
		a, err := s.approvals.Get(ctx, c.ConsentApproval)
		if err != nil && !errors.Is(err, approval.ErrNotFound) {
			return nil, err
		}
		if err == nil && a.State.Open() {
			st.Consent = &Consent{Guardian: c.GuardianName, ApprovalID: a.ID, BindingCode: a.BindingCode,
				QR: s.approvals.Frame(a), ExpiresAt: a.ExpiresAt}
		}
	}
	return st, nil
}

// Case returns a case by id, for caseworkers (no token).
func (s *Service) Case(ctx context.Context, id string) (*Case, error) {
	return s.store.EnrolmentCase(ctx, id)
}

var allRefusals = []*Refusal{RefuseMRZUnreadable, RefuseDocumentTampered, RefuseDocumentSignature, RefuseSignerUnknown,
	RefuseSignerExpired, RefuseChipIncomplete, RefuseNoActiveAuthentication, RefuseChipAuthentication, RefuseMRZMismatch,
	RefuseDocumentType, RefuseDocumentExpired, RefusePersonNotFound, RefuseDocumentNotRegistered, RefuseCPRRequired,
	RefusePersonMismatch, RefuseTooYoung, RefuseGuardianUnavailable, RefuseGuardianRejected, RefuseAlreadyEnrolled,
	RefuseFaceMismatch, RefuseFaceNoLiveness, RefuseFaceRejected, RefuseChallengeExpired, RefuseExpired,
	RefuseMinorInPerson, RefuseQuestionsFailed, RefuseWitnessRejected,
	RefuseNotEnrolled, RefuseStillUsable, FailFaceUnavailable, FailRegisterUnavailable, FailInternal}

// refusalByCode returns the refusal with code, or FailInternal.
func refusalByCode(code string) *Refusal {
	for _, r := range allRefusals {
		if r.code == code {
			return r
		}
	}
	return FailInternal
}

// expire ends the case if it is due, in a transaction of its own.
func (s *Service) expire(ctx context.Context, id string) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.EnrolmentCase(ctx, id)
		if err != nil {
			return err
		}
		if c.State.Final() || s.now().Before(c.ExpiresAt) {
			return nil
		}
		r := RefuseExpired
		if c.State == Started {
			r = RefuseChallengeExpired
		}
		from := c.State
		if err := s.end(ctx, c, Expired, refuse(r, "nothing happened in state %s before %s", from, c.ExpiresAt.Format(time.RFC3339)),
			audit.Event{Actor: audit.ActorSystem}); err != nil {
			return err
		}
		if c.ConsentApproval != "" {
			// Its resolver finds the case final and leaves it.
			return s.approvals.Cancel(ctx, c.ConsentApproval, "the enrolment expired")
		}
		if c.WitnessApproval != "" {
			return s.approvals.Cancel(ctx, c.WitnessApproval, "the enrolment expired")
		}
		return nil
	})
}

// ExpireDue ends every case whose time has run out, deleting its images,
// and returns how many it ended. Every node may run it (the server's jobs).
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	due, err := s.store.DueEnrolmentCases(ctx, s.now(), 200)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range due {
		if err := s.expire(ctx, c.ID); err != nil && !errors.Is(err, ErrConflict) {
			return n, err
		}
		n++
	}
	return n, nil
}
