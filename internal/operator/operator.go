// Package operator holds the people who work the operator console
// (DESIGN.md, "Who uses it"): caseworkers at a citizen service centre, who
// enrol people in person and review faces, and supervisors. An operator is an
// identity with a role; they log in to the console with their own MitID at
// level substantial or higher, and the console keeps their session on the
// server ([Session]).
package operator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/identity"
)

// Role is what an operator may do. Both roles enrol in person and review
// faces; a supervisor is recorded as such, for the scheme's own rules.
type Role string

const (
	Caseworker Role = "caseworker"
	Supervisor Role = "supervisor"
)

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Caseworker, Supervisor:
		return r, nil
	}
	return "", fmt.Errorf("operator: unknown role %q (want caseworker or supervisor)", s)
}

// Operator is an identity allowed into the console.
type Operator struct {
	Identity string // the identity's UUID
	Role     Role
	AddedBy  string // the audit actor who added them
	AddedAt  time.Time
}

// Session is a console session, or a login to the console under way
// (Operator "" until the OpenID provider's answer is verified).
type Session struct {
	IDHash     []byte // SHA-256 of the cookie's value; the value itself is never stored
	Operator   string // the operator's identity UUID; "" while logging in
	LoginState string // the OpenID state, nonce and PKCE verifier of a login under way
	LoginNonce string
	LoginPKCE  string
	Level      string // the level the operator logged in at
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // the absolute limit; IdleTimeout ends a session sooner
}

// Session limits.
const (
	// IdleTimeout ends a session nobody used for this long.
	IdleTimeout = 15 * time.Minute
	// MaxSession ends any session this long after login.
	MaxSession = 8 * time.Hour
	// LoginTTL is how long a login to the console may take.
	LoginTTL = 10 * time.Minute
	// MaxLoginsPer logins may be started from one address per LoginWindow:
	// each is a row in the database until it ends.
	MaxLoginsPer = 30
	LoginWindow  = 10 * time.Minute
)

var (
	ErrNotFound        = errors.New("operator: not an operator")
	ErrExists          = errors.New("operator: the identity is an operator already")
	ErrNoSession       = errors.New("operator: no such session, or it has ended")
	ErrNotEligible     = errors.New("operator: only an active identity can be an operator")
	ErrUnknownIdentity = errors.New("operator: no such identity")
	ErrRateLimited     = errors.New("operator: too many logins started from this address; wait a while")
)

// Store keeps operators and sessions (internal/store). Every method runs in
// the transaction in ctx when there is one.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// InsertOperator adds o; ErrExists if the identity is one already.
	InsertOperator(ctx context.Context, o Operator) error
	// Operator returns the operator; ErrNotFound if the identity is none.
	Operator(ctx context.Context, identityUUID string) (Operator, error)
	Operators(ctx context.Context) ([]Operator, error)
	// DeleteOperator removes the operator and their sessions; ErrNotFound if none.
	DeleteOperator(ctx context.Context, identityUUID string) error

	InsertOperatorSession(ctx context.Context, s *Session) error
	// OperatorSession returns the session; ErrNoSession if none.
	OperatorSession(ctx context.Context, idHash []byte) (*Session, error)
	// TouchOperatorSession sets the session's last use.
	TouchOperatorSession(ctx context.Context, idHash []byte, at time.Time) error
	DeleteOperatorSession(ctx context.Context, idHash []byte) error
	// DeleteExpiredOperatorSessions removes sessions past their absolute
	// limit or idle since before idleBefore.
	DeleteExpiredOperatorSessions(ctx context.Context, now, idleBefore time.Time) error
	// CountInWindow counts one more under key in the fixed window of now and
	// returns the count (internal/store's counters).
	CountInWindow(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
}

// Identities is what the service needs of internal/identity.
type Identities interface {
	ByUUID(ctx context.Context, identityUUID string) (*identity.Identity, error)
}

// Service manages operators and their sessions.
type Service struct {
	store      Store
	identities Identities
	log        audit.Log
	now        func() time.Time
	rand       io.Reader
}

// NewService returns a Service; now and r may be nil (time.Now, crypto/rand).
func NewService(st Store, ids Identities, log audit.Log, now func() time.Time, r io.Reader) (*Service, error) {
	if st == nil || ids == nil || log == nil {
		return nil, errors.New("operator: NewService needs a store, identities and an audit log")
	}
	if now == nil {
		now = time.Now
	}
	if r == nil {
		r = rand.Reader
	}
	return &Service{store: st, identities: ids, log: log, now: now, rand: r}, nil
}

// Add makes the identity an operator with role, audited as operator.added
// by actor. The identity must exist and be active.
func (s *Service) Add(ctx context.Context, identityUUID string, role Role, actor string) (*Operator, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	o := Operator{Identity: identityUUID, Role: role, AddedBy: actor, AddedAt: s.now().UTC()}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		id, err := s.identities.ByUUID(ctx, identityUUID)
		if errors.Is(err, identity.ErrNotFound) {
			return ErrUnknownIdentity
		}
		if err != nil {
			return err
		}
		if id.State != identity.Active {
			return fmt.Errorf("%w (identity %s is %s)", ErrNotEligible, id.UUID, id.State)
		}
		if err := s.store.InsertOperator(ctx, o); err != nil {
			return err
		}
		return s.log.Record(ctx, audit.Event{Actor: actor, Action: "operator.added", Identity: identityUUID,
			Details: map[string]string{"role": string(role)}})
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// Remove ends the identity's operator role and every session of theirs,
// audited as operator.removed by actor.
func (s *Service) Remove(ctx context.Context, identityUUID, actor string) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		o, err := s.store.Operator(ctx, identityUUID)
		if err != nil {
			return err
		}
		if err := s.store.DeleteOperator(ctx, identityUUID); err != nil {
			return err
		}
		return s.log.Record(ctx, audit.Event{Actor: actor, Action: "operator.removed", Identity: identityUUID,
			Details: map[string]string{"role": string(o.Role)}})
	})
}

// List returns every operator.
func (s *Service) List(ctx context.Context) ([]Operator, error) { return s.store.Operators(ctx) }

// Get returns the operator; [ErrNotFound] if the identity is none.
func (s *Service) Get(ctx context.Context, identityUUID string) (Operator, error) {
	return s.store.Operator(ctx, identityUUID)
}

// hashID is what the store keeps of a session's cookie value.
func hashID(id string) []byte {
	sum := sha256.Sum256([]byte("openmitid operator session\x00" + id))
	return sum[:]
}

func (s *Service) random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// LoginStart is a login to the console under way: the cookie's value and
// what goes into the authorization request.
type LoginStart struct {
	Cookie   string // the pre-session's id, for the browser's cookie
	State    string
	Nonce    string
	Verifier string // the PKCE verifier; its S256 challenge goes in the request
}

// BeginLogin records a login under way from clientIP and returns its
// random values; [ErrRateLimited] past [MaxLoginsPer] in [LoginWindow].
func (s *Service) BeginLogin(ctx context.Context, clientIP string) (*LoginStart, error) {
	if n, err := s.store.CountInWindow(ctx, "operator-login:"+clientIP, LoginWindow, s.now().UTC()); err != nil {
		return nil, err
	} else if n > MaxLoginsPer {
		return nil, ErrRateLimited
	}
	var l LoginStart
	var err error
	for _, p := range []*string{&l.Cookie, &l.State, &l.Nonce, &l.Verifier} {
		if *p, err = s.random(32); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	err = s.store.InsertOperatorSession(ctx, &Session{IDHash: hashID(l.Cookie), LoginState: l.State, LoginNonce: l.Nonce,
		LoginPKCE: l.Verifier, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(LoginTTL)})
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// PendingLogin returns the login under way for the cookie; [ErrNoSession]
// if there is none or it took too long.
func (s *Service) PendingLogin(ctx context.Context, cookie string) (*Session, error) {
	if cookie == "" || len(cookie) > 64 {
		return nil, ErrNoSession
	}
	se, err := s.store.OperatorSession(ctx, hashID(cookie))
	if err != nil {
		return nil, err
	}
	if se.Operator != "" || se.LoginState == "" || !s.now().Before(se.ExpiresAt) {
		return nil, ErrNoSession
	}
	return se, nil
}

// ErrNotOperator is returned by [Service.FinishLogin] for an identity that
// is not an operator, and ErrLevelTooLow for a login below substantial.
var (
	ErrNotOperator = errors.New("operator: this identity is not an operator")
	ErrLevelTooLow = errors.New("operator: the console needs a login at level substantial or high")
)

// FinishLogin ends the login under way for cookie (single use) and, if
// identityUUID is an operator with an active identity, opens a session under
// a new id (so a cookie planted before the login opens nothing), audited as
// operator.logged_in. substantialOrHigher is what the verified ID token said.
func (s *Service) FinishLogin(ctx context.Context, cookie, identityUUID, level string, substantialOrHigher bool) (string, *Operator, error) {
	newID, err := s.random(32)
	if err != nil {
		return "", nil, err
	}
	var op Operator
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteOperatorSession(ctx, hashID(cookie)); err != nil {
			return err
		}
		if !substantialOrHigher {
			return ErrLevelTooLow
		}
		op, err = s.store.Operator(ctx, identityUUID)
		if errors.Is(err, ErrNotFound) {
			return ErrNotOperator
		}
		if err != nil {
			return err
		}
		id, err := s.identities.ByUUID(ctx, identityUUID)
		if err != nil {
			return err
		}
		if id.State != identity.Active {
			return ErrNotOperator
		}
		now := s.now().UTC()
		if err := s.store.InsertOperatorSession(ctx, &Session{IDHash: hashID(newID), Operator: identityUUID, Level: level,
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(MaxSession)}); err != nil {
			return err
		}
		return s.log.Record(ctx, audit.Event{Actor: audit.ActorOperator(identityUUID), Action: "operator.logged_in",
			Identity: identityUUID, Details: map[string]string{"role": string(op.Role), "level": level}})
	})
	if err != nil {
		if errors.Is(err, ErrNotOperator) || errors.Is(err, ErrLevelTooLow) {
			// The refusal is recorded on its own: the transaction above
			// rolled back, pre-session deletion included, so delete again.
			refusal := err
			if err := s.store.InTx(ctx, func(ctx context.Context) error {
				if err := s.store.DeleteOperatorSession(ctx, hashID(cookie)); err != nil {
					return err
				}
				return s.log.Record(ctx, audit.Event{Actor: audit.ActorIdentity(identityUUID), Action: "operator.login_refused",
					Identity: identityUUID, Details: map[string]string{"reason": refusal.Error(), "level": level}})
			}); err != nil {
				return "", nil, err
			}
			return "", nil, refusal
		}
		return "", nil, err
	}
	return newID, &op, nil
}

// Open returns the session of the cookie and its operator, and marks it
// used. A session idle for [IdleTimeout], past its limit, of someone no
// longer an operator, or whose identity is no longer active is ended and is
// [ErrNoSession].
func (s *Service) Open(ctx context.Context, cookie string) (*Session, *Operator, error) {
	if cookie == "" || len(cookie) > 64 {
		return nil, nil, ErrNoSession
	}
	h := hashID(cookie)
	se, err := s.store.OperatorSession(ctx, h)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC()
	if se.Operator == "" {
		return nil, nil, ErrNoSession
	}
	if !now.Before(se.ExpiresAt) || !now.Before(se.LastSeenAt.Add(IdleTimeout)) {
		s.store.DeleteOperatorSession(ctx, h)
		return nil, nil, ErrNoSession
	}
	op, err := s.store.Operator(ctx, se.Operator)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	// An operator whose MitID was blocked or revoked is out at once, not at
	// the session's end.
	id, err := s.identities.ByUUID(ctx, se.Operator)
	if err != nil && !errors.Is(err, identity.ErrNotFound) {
		return nil, nil, err
	}
	if err != nil || id.State != identity.Active {
		s.store.DeleteOperatorSession(ctx, h)
		return nil, nil, ErrNoSession
	}
	if now.Sub(se.LastSeenAt) > time.Minute {
		// Written at most once a minute: reading a page is not a write.
		if err := s.store.TouchOperatorSession(ctx, h, now); err != nil {
			return nil, nil, err
		}
	}
	return se, &op, nil
}

// Logout ends the cookie's session, audited as operator.logged_out.
func (s *Service) Logout(ctx context.Context, cookie string) error {
	_, op, err := s.Open(ctx, cookie)
	if err != nil {
		return nil // nothing to end
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteOperatorSession(ctx, hashID(cookie)); err != nil {
			return err
		}
		return s.log.Record(ctx, audit.Event{Actor: audit.ActorOperator(op.Identity), Action: "operator.logged_out",
			Identity: op.Identity})
	})
}

// ExpireSessions deletes ended sessions and logins that took too long.
func (s *Service) ExpireSessions(ctx context.Context) error {
	now := s.now().UTC()
	return s.store.DeleteExpiredOperatorSessions(ctx, now, now.Add(-IdleTimeout))
}
