package proofing

import (
	"context"
	"errors"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/identity"
)

// Channel is how a person was proofed.
type Channel string

const (
	// ChannelAppPassport: the app read the passport's chip and took a selfie.
	ChannelAppPassport Channel = "app_passport"
	// ChannelInPerson: a caseworker saw the person (the operator console).
	ChannelInPerson Channel = "in_person"
)

// State is where a case is.
//
//	started → checking → ready → completed
//	                   → face_review → ready | guardian_consent | refused
//	                   → guardian_consent → ready | refused
//	                   → refused | failed
//	any state before completed → expired
type State string

const (
	Started         State = "started"          // the challenge is issued; waiting for the passport
	Checking        State = "checking"         // the passport is being checked
	FaceReview      State = "face_review"      // waiting for a caseworker to compare the faces
	GuardianConsent State = "guardian_consent" // waiting for a guardian's approval (13 or 14)
	Ready           State = "ready"            // proofed; waiting for user ID, password and device key
	Completed       State = "completed"        // decided: the identity is made
	Refused         State = "refused"          // decided: a check failed; Reason says which
	Failed          State = "failed"           // ended without a decision on the person: a service was unavailable
	Expired         State = "expired"          // nobody finished it in time
)

// Final reports whether the case is decided or ended.
func (s State) Final() bool {
	switch s {
	case Completed, Refused, Failed, Expired:
		return true
	}
	return false
}

// Document is the identity document the case was proofed with, as its chip
// (or, before the chip was verified, the scanned MRZ) states it.
type Document struct {
	Type         string    // the MRZ's document code: "P" for a passport
	Number       string    // the document number
	IssuingState string    // ICAO three-letter code ("D" for Germany)
	Nationality  string    // the holder's nationality, ICAO code
	Expiry       time.Time // the date of expiry; zero if unknown
}

// Check is one check's result, kept in the case.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail,omitempty"` // what was found; never biometric data or the chip's files
}

// FaceResult is the face comparison's result.
type FaceResult struct {
	Outcome  string  // a face.Outcome, or "" before the comparison
	Score    float64 // the service's score, 0 to 1
	Liveness bool
	Verifier string // "review" or the service's host
}

// Case is an enrolment case: the evidence behind an identity (or a refusal).
type Case struct {
	ID        string
	TokenHash []byte // SHA-256 of the token the app holds; the id alone opens nothing
	Channel   Channel
	State     State

	// Challenge is the open active authentication challenge, nil once used.
	Challenge          []byte
	ChallengeExpiresAt time.Time

	Document Document
	Checks   []Check
	Face     FaceResult

	// Reason is the code of the refusal or failure ([Refusal.Code]) in the
	// states refused, failed and expired. ReasonDetail says exactly what
	// failed, for caseworkers and developers; it is never shown to the person.
	Reason       string
	ReasonDetail string

	// The person: the blind index ([identity.Service.CPRIndex]) and the
	// number sealed under the KEK, or neither for a person without CPR.
	CPRIndex  []byte
	CPRSealed []byte
	CPRMasked string // "DDMMYY-XXXX", for caseworkers
	// Restrictions the identity will carry: Minor for 13 and 14, PCodeOnly
	// for a person without CPR.
	Restrictions identity.Restrictions

	// The guardian asked for consent, and their open request.
	GuardianIdentity string
	GuardianName     string // the guardian's given name, for the minor's app
	ConsentApproval  string

	// In person: how the caseworker verified the person ("questions" or
	// "witness"), and the witness asked with their open or answered request.
	Verification    string
	WitnessIdentity string
	WitnessApproval string

	IdentityUUID string // the identity made
	// Operator is the caseworker who decided the face review, or who runs
	// the enrolment in person (their identity's UUID).
	Operator string
	OriginIP string // where the app started the case from

	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time // when an unfinished case expires
	DecidedAt time.Time // when it reached a final state
	Version   int64     // bumped by every update; an update of a stale copy fails
}

// check records a check's result.
func (c *Case) check(name string, passed bool, detail string) {
	c.Checks = append(c.Checks, Check{Name: name, Passed: passed, Detail: detail})
}

// Images are the portrait and the selfie of a case waiting for a
// caseworker's review. The store keeps them as given; the [Service] seals
// them under the KEK.
type Images struct {
	Portrait     []byte
	PortraitType string // "image/jpeg" or "image/jp2"
	Selfie       []byte
	SelfieType   string // "image/jpeg" or "image/png"
}

// Errors of the store.
var (
	// ErrCaseNotFound is returned for an unknown case, and for a known one
	// with the wrong token: the two look alike from outside.
	ErrCaseNotFound = errors.New("proofing: no such enrolment")
	// ErrConflict is returned for an update of a case that changed meanwhile.
	ErrConflict = errors.New("proofing: the enrolment changed meanwhile; try again")
	// ErrNoImages is returned when a case has no images (none kept, or
	// deleted after the decision).
	ErrNoImages = errors.New("proofing: the case keeps no images")
)

// Store keeps cases and what enrolment writes (internal/store). Every
// method runs in the transaction in ctx when there is one.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	InsertEnrolmentCase(ctx context.Context, c *Case) error
	// EnrolmentCase returns the case, locked for the rest of the
	// transaction when called in one; ErrCaseNotFound if none.
	EnrolmentCase(ctx context.Context, id string) (*Case, error)
	// UpdateEnrolmentCase writes c if its Version is the stored one and
	// bumps c.Version; otherwise ErrConflict.
	UpdateEnrolmentCase(ctx context.Context, c *Case) error
	// EnrolmentCaseByApproval returns the case whose consent request is
	// approvalID; ErrCaseNotFound if none.
	EnrolmentCaseByApproval(ctx context.Context, approvalID string) (*Case, error)
	// DueEnrolmentCases returns cases not in a final state whose ExpiresAt
	// is not after now, oldest first.
	DueEnrolmentCases(ctx context.Context, now time.Time, limit int) ([]*Case, error)
	// EnrolmentCasesInState returns cases in state, oldest first.
	EnrolmentCasesInState(ctx context.Context, state State, limit int) ([]*Case, error)

	PutEnrolmentImages(ctx context.Context, caseID string, im Images) error
	// EnrolmentImages returns the case's images; ErrNoImages if none.
	EnrolmentImages(ctx context.Context, caseID string) (Images, error)
	DeleteEnrolmentImages(ctx context.Context, caseID string) error

	// PCodeHolder returns the identity enrolled with the passport
	// (issuing state, number) that is not revoked, or "".
	PCodeHolder(ctx context.Context, issuingState, number string) (string, error)
	// ClaimPCodeDocument ties the passport to the identity; it returns
	// identity.ErrAlreadyEnrolled if an identity that is not revoked holds it.
	ClaimPCodeDocument(ctx context.Context, issuingState, number, identityUUID string, now time.Time) error

	InsertAuthenticator(ctx context.Context, a *authenticator.Authenticator) error
	AuthenticatorsOf(ctx context.Context, identityUUID string) ([]*authenticator.Authenticator, error)
	// LockIdentity holds the identity's row until the transaction ends, so
	// that no app is added meanwhile to the authenticators read under it.
	LockIdentity(ctx context.Context, identityUUID string) error
	CountInWindow(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	Notify(ctx context.Context, topic string) error
}

// TopicPrefix + case id is notified on every change of a case, for apps
// waiting on it (long poll).
const TopicPrefix = "enrolment:"
