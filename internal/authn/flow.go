// Package authn is the login engine: one flow per attempt to log in, from the
// user ID through the factors the requested level needs to done or failed.
//
// A flow is bound to the client that made it by a secret token (a cookie or
// the X-Flow-Token header); its id alone opens nothing, and an answer — a
// password, a code, the app's approval, a chip's assertion — is accepted only
// for the flow it was asked for. Flows live at most ten minutes and are
// single-use: once done or failed they cannot be stepped again. Every step is
// one transaction with its audit event.
package authn

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/nsis"
)

// State is where a flow is.
type State string

const (
	StateIdentify      State = "identify"
	StatePassword      State = "password"
	StateCode          State = "code"
	StateWaitingForApp State = "waiting_for_app"
	StateChip          State = "chip"
	StateDone          State = "done"
	StateFailed        State = "failed"
)

// Terminal reports whether the flow has ended.
func (s State) Terminal() bool { return s == StateDone || s == StateFailed }

// FlowLifetime is how long a flow lives at most.
const FlowLifetime = 10 * time.Minute

// FactorUse is a factor passed, with the authenticator that passed it.
type FactorUse struct {
	Factor        Factor
	Authenticator string // "" for the password
}

// Flow is one attempt to log in.
type Flow struct {
	ID            string
	TokenHash     []byte
	ClientID      string
	ClientName    string
	Level         nsis.Level // requested
	ReferenceText string
	ActionText    string
	State         State
	Method        Method
	Methods       []Method // offered after identify
	UserKey       string   // the user ID typed, normalised: the key of its lockout counter
	Identity      string   // "" until identified, and for a user ID that may not log in
	Factors       []FactorUse
	ApprovalID    string
	Challenge     []byte     // the open WebAuthn session
	WebAuthn      string     // its options for the browser (JSON)
	Error         string     // why it failed, or what went wrong in the last step
	LoA, IAL, AAL nsis.Level // when done: what the login established
	OriginIP      string
	Browser       string
	AuthRequest   string // the OpenID Connect authorization request waiting for this flow
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ExpiresAt     time.Time
	DoneAt        time.Time
	Version       int64
}

// EncodeFactors writes the factors as stored: "password;app=<id>".
func EncodeFactors(fs []FactorUse) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = string(f.Factor)
		if f.Authenticator != "" {
			parts[i] += "=" + f.Authenticator
		}
	}
	return strings.Join(parts, ";")
}

// EncodeMethods writes methods as stored: "app,code_display".
func EncodeMethods(ms []Method) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = string(m)
	}
	return strings.Join(parts, ",")
}

// DecodeMethods reads what [EncodeMethods] wrote.
func DecodeMethods(s string) []Method {
	if s == "" {
		return nil
	}
	var out []Method
	for _, p := range strings.Split(s, ",") {
		out = append(out, Method(p))
	}
	return out
}

// EncodeLevels writes a done flow's levels as stored: "substantial high substantial".
func EncodeLevels(loa, ial, aal nsis.Level) string {
	if loa == nsis.None {
		return ""
	}
	return loa.String() + " " + ial.String() + " " + aal.String()
}

// DecodeLevels reads what [EncodeLevels] wrote.
func DecodeLevels(s string) (loa, ial, aal nsis.Level, err error) {
	if s == "" {
		return nsis.None, nsis.None, nsis.None, nil
	}
	parts := strings.Fields(s)
	if len(parts) != 3 {
		return nsis.None, nsis.None, nsis.None, fmt.Errorf("authn: stored levels %q", s)
	}
	var ls [3]nsis.Level
	for i, p := range parts {
		if ls[i], err = nsis.Parse(p); err != nil {
			return nsis.None, nsis.None, nsis.None, err
		}
	}
	return ls[0], ls[1], ls[2], nil
}

// DecodeFactors reads what [EncodeFactors] wrote.
func DecodeFactors(s string) []FactorUse {
	if s == "" {
		return nil
	}
	var out []FactorUse
	for _, p := range strings.Split(s, ";") {
		f, a, _ := strings.Cut(p, "=")
		out = append(out, FactorUse{Factor: Factor(f), Authenticator: a})
	}
	return out
}

func (f *Flow) factorList() []Factor {
	out := make([]Factor, len(f.Factors))
	for i, u := range f.Factors {
		out[i] = u.Factor
	}
	return out
}

func (f *Flow) passed(x Factor) bool {
	for _, u := range f.Factors {
		if u.Factor == x {
			return true
		}
	}
	return false
}

// AMR returns the authentication method references of the factors passed.
func (f *Flow) AMR() []string {
	out := []string{}
	for _, u := range f.Factors {
		out = append(out, u.Factor.AMR())
	}
	return out
}

// Result is what a finished flow established.
type Result struct {
	Identity string
	LoA      nsis.Level
	IAL      nsis.Level
	AAL      nsis.Level
	AMR      []string
	AuthTime time.Time
	ClientID string
}

// Error is a step's failure as the API answers it: a status, a machine code
// and a message a person can read.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, when set, says when trying again may help (a lock, a rate limit).
	RetryAfter time.Time
}

func (e *Error) Error() string { return "authn: " + e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Errors the engine answers with. Codes are stable (pages and clients map them
// to their own texts); messages are for developers reading the JSON.
var (
	ErrFlowNotFound  = errorf(http.StatusNotFound, "flow_not_found", "There is no such login, or it does not belong to this browser.")
	ErrFlowExpired   = errorf(http.StatusGone, "flow_expired", "The login took too long. Please start again.")
	ErrFlowFinished  = errorf(http.StatusConflict, "flow_finished", "This login has already ended. Please start again.")
	ErrFlowChanged   = errorf(http.StatusConflict, "flow_changed", "The login changed meanwhile. Please try again.")
	ErrStepOutOfTurn = errorf(http.StatusConflict, "step_out_of_order", "That step does not come now in this login.")
	ErrUnknownStep   = errorf(http.StatusBadRequest, "unknown_step", "Unknown step.")
	ErrUnknownClient = errorf(http.StatusBadRequest, "unknown_client", "Unknown service provider.")
)

// IsError returns the *Error in err, if any.
func IsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// View is a flow as its client sees it after each step (CONTRACT.md).
type View struct {
	FlowID        string          `json:"flow_id"`
	State         State           `json:"state"`
	Methods       []Method        `json:"methods"`
	Method        Method          `json:"method,omitempty"`
	Level         string          `json:"level"`
	AMR           []string        `json:"amr"`
	Error         string          `json:"error,omitempty"`
	Message       string          `json:"message,omitempty"`
	ClientName    string          `json:"client_name"`
	ReferenceText string          `json:"reference_text,omitempty"`
	BindingCode   string          `json:"binding_code,omitempty"`
	QR            string          `json:"qr,omitempty"`
	AppExpiresAt  *time.Time      `json:"app_expires_at,omitempty"`
	WebAuthn      json.RawMessage `json:"webauthn,omitempty"`
	LockedUntil   *time.Time      `json:"locked_until,omitempty"`
	ExpiresAt     time.Time       `json:"expires_at"`
	Version       int64           `json:"version"`
}
