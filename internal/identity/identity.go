// Package identity holds the MitID of a person: a stable UUID, a user ID the
// person chooses, an optional password, a state, the level at which the person
// was proofed (IAL), and restrictions. One person has at most one identity that
// is not revoked.
package identity

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/nsis"
)

// State is where an identity is in its life.
//
//	pending → active ⇄ blocked → revoked
//	pending → revoked, active → revoked
type State string

const (
	Pending State = "pending" // being enrolled; cannot log in
	Active  State = "active"
	Blocked State = "blocked" // by the person, support or fraud response; unblocking needs proofing again
	Revoked State = "revoked" // final
)

var transitions = map[State][]State{
	Pending: {Active, Revoked},
	Active:  {Blocked, Revoked},
	Blocked: {Active, Revoked},
	Revoked: nil,
}

// ErrIllegalTransition is returned for a state change the life cycle does not allow.
var ErrIllegalTransition = errors.New("identity: illegal state change")

// ParseState reads a state name.
func ParseState(s string) (State, error) {
	st := State(s)
	if _, ok := transitions[st]; !ok {
		return "", fmt.Errorf("identity: unknown state %q", s)
	}
	return st, nil
}

// CanBecome reports whether the life cycle allows a change from s to t.
func (s State) CanBecome(t State) bool {
	return slices.Contains(transitions[s], t)
}

// Restrictions limit what an identity may be used for.
type Restrictions uint8

const (
	// Minor: enrolled at 13 or 14 with a guardian's consent; service providers
	// receive the age and may refuse. Ends by itself at 15 (see [Identity.IsMinor]).
	Minor Restrictions = 1 << iota
	// PCodeOnly: a person without a CPR number, known by a P-code; accepted only
	// by service providers that opt in.
	PCodeOnly
)

// AdultAge is the age from which a person is enrolled as an adult.
const AdultAge = 15

// Identity is one person's MitID.
type Identity struct {
	UUID         string
	UserID       string // as the person wrote it
	State        State
	IAL          nsis.Level
	Restrictions Restrictions
	CPR          cpr.Number // zero for a person without a CPR number
	PCode        string     // 8 digits, for a person without a CPR number
	PasswordHash string     // argon2id PHC string; "" when the identity has no password
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int64 // bumped by every update; an update of a stale copy fails

	// The CPR number as stored: a keyed blind index for lookups and the
	// number sealed under the KEK. Set by [Service]; stores keep them as given.
	CPRIndex  []byte
	CPRSealed []byte
}

// IsMinor reports whether the identity is restricted as a minor's on day.
func (id *Identity) IsMinor(day time.Time) bool {
	if id.Restrictions&Minor == 0 {
		return false
	}
	return id.CPR.IsZero() || id.CPR.AgeOn(day) < AdultAge
}

// CanLogIn reports whether the identity's state allows a login.
func (id *Identity) CanLogIn() bool { return id.State == Active }

// UserIDClaim is a user ID an identity holds or held.
type UserIDClaim struct {
	UserID    string
	ClaimedAt time.Time
	RetiredAt time.Time // zero for the current one
}

// UserIDQuarantine is how long a user ID given up stays reserved for its old
// owner before it can be handed to someone else.
const UserIDQuarantine = 365 * 24 * time.Hour

var (
	// ErrNotFound is returned when no identity matches.
	ErrNotFound = errors.New("identity: not found")
	// ErrConflict is returned for an update of a copy that changed meanwhile.
	ErrConflict = errors.New("identity: changed by someone else meanwhile; try again")
	// ErrAlreadyEnrolled is returned when the person has an identity that is not revoked.
	ErrAlreadyEnrolled = errors.New("identity: the person already has a MitID")
	// ErrPCodeTaken is returned for a P-code in use.
	ErrPCodeTaken = errors.New("identity: P-code is in use")
)
