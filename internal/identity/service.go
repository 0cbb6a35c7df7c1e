package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/pki"
)

// Store keeps identities. It is implemented by internal/store. Every method
// that changes something runs in the transaction in ctx when there is one.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// InsertIdentity adds id. It returns ErrAlreadyEnrolled when the person has
	// an identity that is not revoked, and ErrPCodeTaken for a P-code in use.
	InsertIdentity(ctx context.Context, id *Identity) error
	// UpdateIdentity writes id if its Version is still the stored one, and
	// bumps id.Version; otherwise it returns ErrConflict.
	UpdateIdentity(ctx context.Context, id *Identity) error
	IdentityByUUID(ctx context.Context, uuid string) (*Identity, error)
	// IdentityByUserIDKey finds the identity whose current user ID has key.
	IdentityByUserIDKey(ctx context.Context, key string) (*Identity, error)
	// IdentityByCPRIndex finds the person's identity that is not revoked.
	IdentityByCPRIndex(ctx context.Context, index []byte) (*Identity, error)
	IdentityByPCode(ctx context.Context, pcode string) (*Identity, error)
	// ClaimUserID makes userID (with key) the current user ID of the identity,
	// unless another identity holds it or gave it up after reservedAfter; then
	// it returns ErrUserIDTaken.
	ClaimUserID(ctx context.Context, identityUUID, userID, key string, now, reservedAfter time.Time) error
	// RetireUserID ends the identity's current user ID (it stays reserved).
	RetireUserID(ctx context.Context, identityUUID string, now time.Time) error
	UserIDHistory(ctx context.Context, identityUUID string) ([]UserIDClaim, error)
}

// PasswordHasher hashes and verifies passwords (internal/authenticator/password).
type PasswordHasher interface {
	Hash(pw string) (string, error)
	// Verify reports whether pw matches encoded and whether encoded was made
	// with other parameters than the hasher's current ones.
	Verify(pw, encoded string) (ok, needsRehash bool, err error)
	// VerifyDummy spends the time of a verification for an identity that has no
	// password or does not exist.
	VerifyDummy(pw string)
}

// PasswordPolicy returns an error for a password the person may not choose.
type PasswordPolicy func(pw, userID string) error

// A ChangeHook learns of a state change inside the transaction that makes it,
// and may fail it (the OpenID provider ends the sessions of a blocked identity).
type ChangeHook func(ctx context.Context, id *Identity, from State) error

// Service is the identity life cycle: every change and its audit event are one
// transaction.
type Service struct {
	hooks    []ChangeHook
	store    Store
	log      audit.Log
	keys     *pki.Keyring
	indexKey []byte
	hasher   PasswordHasher
	policy   PasswordPolicy
	now      func() time.Time
}

// Config holds what [NewService] needs.
type Config struct {
	Store  Store
	Log    audit.Log
	Keys   *pki.Keyring
	Hasher PasswordHasher
	Policy PasswordPolicy
	// CPRIndexKey keys the blind index under which CPR numbers are looked up
	// (the keyring secret "cpr-index").
	CPRIndexKey []byte
	Now         func() time.Time
}

// NewService returns a Service.
func NewService(c Config) (*Service, error) {
	if c.Store == nil || c.Log == nil || c.Keys == nil || c.Hasher == nil || c.Policy == nil {
		return nil, errors.New("identity: NewService needs a store, an audit log, a keyring, a hasher and a policy")
	}
	if len(c.CPRIndexKey) < 32 {
		return nil, errors.New("identity: the CPR index key must have at least 32 bytes")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{store: c.Store, log: c.Log, keys: c.Keys, indexKey: c.CPRIndexKey,
		hasher: c.Hasher, policy: c.Policy, now: c.Now}, nil
}

// CPRIndex is a keyed hash of the number: equal numbers give equal indexes, so
// the person can be found and kept to one identity, but the table alone does
// not reveal CPR numbers, which are guessable from birthdates.
func (s *Service) CPRIndex(n cpr.Number) []byte { return s.cprIndex(n) }

func (s *Service) cprIndex(n cpr.Number) []byte {
	m := hmac.New(sha256.New, s.indexKey)
	m.Write([]byte("cpr\x00" + n.Digits()))
	return m.Sum(nil)
}

func cprContext(identityUUID string) string { return "identity-cpr/" + identityUUID }

// open fills in the CPR number from its sealed form.
func (s *Service) open(id *Identity) (*Identity, error) {
	if id.CPRSealed == nil {
		return id, nil
	}
	digits, err := s.keys.Open(id.CPRSealed, cprContext(id.UUID))
	if err != nil {
		return nil, fmt.Errorf("identity %s: opening the CPR number: %w", id.UUID, err)
	}
	n, err := cpr.Parse(string(digits))
	if err != nil {
		return nil, fmt.Errorf("identity %s: stored CPR number: %w", id.UUID, err)
	}
	id.CPR = n
	return id, nil
}

// New describes an identity to create.
type New struct {
	UserID       string
	Password     string // optional
	CPR          cpr.Number
	PCode        string // for a person without a CPR number
	IAL          nsis.Level
	State        State // Pending or Active
	Restrictions Restrictions
}

// Create makes an identity. It checks the user ID's rules and availability,
// the password policy, and that the person has no identity yet; it refuses
// with a clear error and writes nothing when any check fails. It is
// [Service.Prepare] followed by [Service.Insert].
func (s *Service) Create(ctx context.Context, n New, actor string) (*Identity, error) {
	id, err := s.Prepare(n)
	if err != nil {
		return nil, err
	}
	if err := s.Insert(ctx, id, actor); err != nil {
		return nil, err
	}
	return id, nil
}

// Prepare checks n as [Service.Create] does, without the checks that need the
// database, and returns the identity to insert: a new UUID, the password
// hashed and the CPR number sealed. It writes nothing. Hashing takes tens of
// milliseconds, so a caller that inserts the identity inside a transaction of
// its own (enrolment: the identity, its first app and the case together)
// prepares it before that transaction, which must not hold the database's
// write lock that long, and may run more than once.
func (s *Service) Prepare(n New) (*Identity, error) {
	display, _, err := NormalizeUserID(n.UserID)
	if err != nil {
		return nil, err
	}
	if n.State != Pending && n.State != Active {
		return nil, fmt.Errorf("identity: a new identity is pending or active, not %q", n.State)
	}
	if !n.IAL.Valid() {
		return nil, fmt.Errorf("identity: a new identity needs an identity assurance level, got %v", n.IAL)
	}
	if n.CPR.IsZero() == (n.PCode == "") {
		return nil, errors.New("identity: a new identity needs either a CPR number or a P-code")
	}
	if n.PCode != "" && n.Restrictions&PCodeOnly == 0 {
		return nil, errors.New("identity: an identity with a P-code carries the P-code restriction")
	}
	id := &Identity{
		UUID: uuid.NewString(), UserID: display, State: n.State, IAL: n.IAL,
		Restrictions: n.Restrictions, CPR: n.CPR, PCode: n.PCode,
	}
	if n.Password != "" {
		if err := s.policy(n.Password, display); err != nil {
			return nil, err
		}
		if id.PasswordHash, err = s.hasher.Hash(n.Password); err != nil {
			return nil, err
		}
	}
	if !n.CPR.IsZero() {
		id.CPRIndex = s.cprIndex(n.CPR)
		if id.CPRSealed, err = s.keys.Seal([]byte(n.CPR.Digits()), cprContext(id.UUID)); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// HashPassword checks pw against the password policy for userID and hashes
// it, as [Service.Prepare] does, for a caller that prepares the identity
// inside a transaction (which must not hold the database's write lock for the
// tens of milliseconds a hash takes) and sets PasswordHash on it.
func (s *Service) HashPassword(pw, userID string) (string, error) {
	display, _, err := NormalizeUserID(userID)
	if err != nil {
		return "", err
	}
	if err := s.policy(pw, display); err != nil {
		return "", err
	}
	return s.hasher.Hash(pw)
}

// Insert writes an identity that [Service.Prepare] made, claims its user ID
// and records its audit event, in the transaction in ctx if there is one. It
// returns [ErrAlreadyEnrolled] when the person has an identity that is not
// revoked, [ErrUserIDTaken] for a user ID someone holds, and [ErrPCodeTaken]
// for a P-code in use; the caller's transaction must then roll back. The
// P-code may be changed between Prepare and Insert (to retry a collision).
func (s *Service) Insert(ctx context.Context, id *Identity, actor string) error {
	if id.CPRIndex == nil == (id.PCode == "") || id.PCode != "" && id.Restrictions&PCodeOnly == 0 {
		return errors.New("identity: Insert takes an identity made by Prepare, with a CPR number or a P-code")
	}
	display, key, err := NormalizeUserID(id.UserID)
	if err != nil {
		return err
	}
	now := s.now()
	id.CreatedAt, id.UpdatedAt = now, now
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertIdentity(ctx, id); err != nil {
			return err
		}
		if err := s.store.ClaimUserID(ctx, id.UUID, display, key, now, now.Add(-UserIDQuarantine)); err != nil {
			return err
		}
		return s.log.Record(ctx, audit.Event{Actor: actor, Action: "identity.created", Identity: id.UUID,
			Details: map[string]string{"state": string(id.State), "ial": id.IAL.String(),
				"restrictions": fmt.Sprint(uint8(id.Restrictions)), "cpr": id.CPR.Masked()}})
	})
}

// OnChange adds a hook called on every state change. Add hooks while wiring,
// before use.
func (s *Service) OnChange(h ChangeHook) { s.hooks = append(s.hooks, h) }

// ByUUID returns the identity with the UUID.
func (s *Service) ByUUID(ctx context.Context, identityUUID string) (*Identity, error) {
	id, err := s.store.IdentityByUUID(ctx, identityUUID)
	if err != nil {
		return nil, err
	}
	return s.open(id)
}

// ByUserID returns the identity whose current user ID is userID, in any case.
// A malformed user ID is simply not found.
func (s *Service) ByUserID(ctx context.Context, userID string) (*Identity, error) {
	id, err := s.store.IdentityByUserIDKey(ctx, UserIDKey(userID))
	if err != nil {
		return nil, err
	}
	return s.open(id)
}

// ByCPR returns the person's identity that is not revoked.
func (s *Service) ByCPR(ctx context.Context, n cpr.Number) (*Identity, error) {
	id, err := s.store.IdentityByCPRIndex(ctx, s.cprIndex(n))
	if err != nil {
		return nil, err
	}
	return s.open(id)
}

// ByPCode returns the identity with the P-code.
func (s *Service) ByPCode(ctx context.Context, pcode string) (*Identity, error) {
	id, err := s.store.IdentityByPCode(ctx, pcode)
	if err != nil {
		return nil, err
	}
	return s.open(id)
}

// update loads the identity in a transaction, lets change alter it, and writes
// it with the audit event change returns. change returning an error aborts
// with nothing written.
func (s *Service) update(ctx context.Context, identityUUID string, change func(ctx context.Context, id *Identity) (audit.Event, error)) (*Identity, error) {
	var out *Identity
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		id, err := s.store.IdentityByUUID(ctx, identityUUID)
		if err != nil {
			return err
		}
		ev, err := change(ctx, id)
		if err != nil {
			return err
		}
		id.UpdatedAt = s.now()
		if err := s.store.UpdateIdentity(ctx, id); err != nil {
			return err
		}
		ev.Identity = id.UUID
		if err := s.log.Record(ctx, ev); err != nil {
			return err
		}
		out = id
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.open(out)
}

// Transition changes the identity's state, if the life cycle allows it. Revoking
// gives up the user ID (it stays reserved for a year).
func (s *Service) Transition(ctx context.Context, identityUUID string, to State, actor, reason string) (*Identity, error) {
	return s.update(ctx, identityUUID, func(ctx context.Context, id *Identity) (audit.Event, error) {
		from := id.State
		if !from.CanBecome(to) {
			return audit.Event{}, fmt.Errorf("%w: %s → %s", ErrIllegalTransition, from, to)
		}
		id.State = to
		if to == Revoked {
			if err := s.store.RetireUserID(ctx, id.UUID, s.now()); err != nil {
				return audit.Event{}, err
			}
		}
		for _, h := range s.hooks {
			if err := h(ctx, id, from); err != nil {
				return audit.Event{}, err
			}
		}
		return audit.Event{Actor: actor, Action: "identity.state_changed",
			Details: map[string]string{"from": string(from), "to": string(to), "reason": reason}}, nil
	})
}

// ChangeUserID gives the identity a new user ID. The old one stays reserved for
// the identity for [UserIDQuarantine], so nobody else can take it over to
// receive messages meant for its owner.
func (s *Service) ChangeUserID(ctx context.Context, identityUUID, userID, actor string) (*Identity, error) {
	display, key, err := NormalizeUserID(userID)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, identityUUID, func(ctx context.Context, id *Identity) (audit.Event, error) {
		if id.State == Revoked {
			return audit.Event{}, fmt.Errorf("%w: a revoked identity keeps no user ID", ErrIllegalTransition)
		}
		old := id.UserID
		if UserIDKey(old) == key && old == display {
			return audit.Event{}, fmt.Errorf("identity: %q is already the user ID", display)
		}
		now := s.now()
		if err := s.store.RetireUserID(ctx, id.UUID, now); err != nil {
			return audit.Event{}, err
		}
		if err := s.store.ClaimUserID(ctx, id.UUID, display, key, now, now.Add(-UserIDQuarantine)); err != nil {
			return audit.Event{}, err
		}
		id.UserID = display
		return audit.Event{Actor: actor, Action: "identity.user_id_changed",
			Details: map[string]string{"from": old, "to": display}}, nil
	})
}

// UserIDHistory returns the user IDs the identity holds and held, newest first.
func (s *Service) UserIDHistory(ctx context.Context, identityUUID string) ([]UserIDClaim, error) {
	return s.store.UserIDHistory(ctx, identityUUID)
}

// SetPassword sets or replaces the identity's password after checking the
// policy.
func (s *Service) SetPassword(ctx context.Context, identityUUID, pw, actor string) (*Identity, error) {
	id, err := s.store.IdentityByUUID(ctx, identityUUID)
	if err != nil {
		return nil, err
	}
	if err := s.policy(pw, id.UserID); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, identityUUID, func(ctx context.Context, id *Identity) (audit.Event, error) {
		if id.State == Revoked {
			return audit.Event{}, fmt.Errorf("%w: the identity is revoked", ErrIllegalTransition)
		}
		action := "identity.password_changed"
		if id.PasswordHash == "" {
			action = "identity.password_set"
		}
		id.PasswordHash = hash
		return audit.Event{Actor: actor, Action: action}, nil
	})
}

// CheckPassword reports whether pw is the identity's password. An identity
// without a password costs the same time as one with, and fails. After a match
// made with old hashing parameters the hash is renewed at the current ones
// (failure to store it does not fail the check).
//
// Counting failures and locking out is the login engine's job, not this one's.
func (s *Service) CheckPassword(ctx context.Context, id *Identity, pw string) (bool, error) {
	if id == nil || id.PasswordHash == "" {
		s.hasher.VerifyDummy(pw)
		return false, nil
	}
	ok, rehash, err := s.hasher.Verify(pw, id.PasswordHash)
	if err != nil {
		return false, fmt.Errorf("identity %s: stored password hash: %w", id.UUID, err)
	}
	if !ok || !rehash {
		return ok, nil
	}
	fresh, err := s.hasher.Hash(pw)
	if err != nil {
		return true, nil
	}
	old := id.PasswordHash
	_, err = s.update(ctx, id.UUID, func(ctx context.Context, cur *Identity) (audit.Event, error) {
		if cur.PasswordHash != old {
			return audit.Event{}, ErrConflict // changed meanwhile: keep the newer one
		}
		cur.PasswordHash = fresh
		return audit.Event{Actor: "system", Action: "identity.password_rehashed"}, nil
	})
	if err == nil {
		id.PasswordHash = fresh
	}
	return true, nil
}

// Reactivate makes the identity usable again after its holder proved who they
// are anew (a passport scanned by the app): a blocked identity becomes active
// (unblocking needs proofing again, and this is that proofing), and its
// password is replaced by passwordHash ([Service.HashPassword]) when that is
// not empty. A revoked identity cannot be reactivated. The change and its
// audit event join the transaction in ctx.
func (s *Service) Reactivate(ctx context.Context, identityUUID, passwordHash, actor, reason string) (*Identity, error) {
	return s.update(ctx, identityUUID, func(ctx context.Context, id *Identity) (audit.Event, error) {
		from := id.State
		switch from {
		case Active:
		case Blocked:
			id.State = Active
			for _, h := range s.hooks {
				if err := h(ctx, id, from); err != nil {
					return audit.Event{}, err
				}
			}
		default:
			return audit.Event{}, fmt.Errorf("%w: a %s identity cannot be reactivated", ErrIllegalTransition, from)
		}
		if passwordHash != "" {
			id.PasswordHash = passwordHash
		}
		return audit.Event{Actor: actor, Action: "identity.reactivated", Details: map[string]string{"from": string(from),
			"to": string(id.State), "password_reset": fmt.Sprint(passwordHash != ""), "reason": reason}}, nil
	})
}
