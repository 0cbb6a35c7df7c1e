package approval

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
)

// State is where an approval request is.
type State string

const (
	StatePending   State = "pending"   // waiting for the app to bind it
	StateBound     State = "bound"     // an app at the screen bound it; waiting for the answer
	StateApproved  State = "approved"  // answered: approve
	StateRejected  State = "rejected"  // answered: reject
	StateFraud     State = "fraud"     // answered: "I did not start this"
	StateExpired   State = "expired"   // nobody answered in time
	StateCancelled State = "cancelled" // the login went another way, or a newer request replaced it
	StateFailed    State = "failed"    // binding failed too often
)

// Open reports whether the request still waits for the app.
func (s State) Open() bool { return s == StatePending || s == StateBound }

// Approval is a stored approval request.
type Approval struct {
	ID           string
	Identity     string // "" for a decoy made for a user ID that does not exist: no app ever sees it
	FlowID       string
	Kind         Kind
	Request      []byte // canonical encoding
	BindingCode  string
	State        State
	DeviceID     string // the device that bound or answered it
	Binding      string // the QR frame or code it was bound with
	BindFailures int
	Signature    []byte // the device's signature over the answer: the person's proof, kept
	CreatedAt    time.Time
	ExpiresAt    time.Time
	AnsweredAt   time.Time
	Reason       string // why it was cancelled (not stored; for the resolver)
}

// Decoded returns the request the approval encodes.
func (a *Approval) Decoded() (Request, error) { return Decode(a.Request) }

var (
	ErrNotFound        = errors.New("approval: no such request for this identity")
	ErrExpired         = errors.New("approval: the request has expired")
	ErrAlreadyBound    = errors.New("approval: the request is bound by another device or already answered")
	ErrAlreadyAnswered = errors.New("approval: the request has already been answered")
	ErrNotBound        = errors.New("approval: the request must be bound with the QR code or code before it is approved")
	ErrBadSignature    = errors.New("approval: the answer's signature does not verify")
	ErrBindingTooOften = errors.New("approval: binding failed too often; the request has failed")
	ErrTooMany         = errors.New("approval: too many requests for this person in a short time; wait a while")
	ErrOpenExists      = errors.New("approval: another request for this person is being made")
	ErrConflict        = errors.New("approval: changed meanwhile")
)

// Store keeps approval requests (internal/store).
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// InsertApproval adds a; ErrOpenExists if its identity has an open one.
	InsertApproval(ctx context.Context, a *Approval) error
	Approval(ctx context.Context, id string) (*Approval, error)
	// OpenApproval returns the identity's open request, or ErrNotFound.
	OpenApproval(ctx context.Context, identity string) (*Approval, error)
	// UpdateApproval writes a if its stored state is still from; else ErrConflict.
	UpdateApproval(ctx context.Context, a *Approval, from State) error
	// DueApprovals returns open requests whose expiry has passed.
	DueApprovals(ctx context.Context, now time.Time, limit int) ([]*Approval, error)
	CountInWindow(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	Notify(ctx context.Context, topic string) error
}

// A Resolver learns, inside the transaction that settles it, how a request of
// its kind ended: approved, rejected, fraud, expired, cancelled or failed.
type Resolver interface {
	Resolved(ctx context.Context, a *Approval) error
}

// Device is an app as the app API authenticated it.
type Device struct {
	ID       string
	Identity string
	Key      *ecdsa.PublicKey
}

// Limits of the service.
const (
	TTL           = 3 * time.Minute // how long a request waits for its answer
	MaxBindTries  = 3               // failed binds before the request fails
	RateWindow    = 10 * time.Minute
	MaxPerWindow  = 10 // requests per person per window: no approval fatigue
	idBytes       = 16
	TopicPrefix   = "approvals:"
	rateKeyPrefix = "approvals:"
)

// Config holds what [NewService] needs.
type Config struct {
	Store  Store
	Log    audit.Log
	Binder *Binder
	Rand   io.Reader        // crypto/rand when nil
	Now    func() time.Time // time.Now when nil
}

// Service makes and settles approval requests.
type Service struct {
	store     Store
	log       audit.Log
	binder    *Binder
	rand      io.Reader
	now       func() time.Time
	resolvers map[Kind]Resolver
}

// NewService returns a Service.
func NewService(c Config) (*Service, error) {
	if c.Store == nil || c.Log == nil || c.Binder == nil {
		return nil, errors.New("approval: NewService needs a store, an audit log and a binder")
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{store: c.Store, log: c.Log, binder: c.Binder, rand: c.Rand, now: c.Now, resolvers: map[Kind]Resolver{}}, nil
}

// Handle makes r the resolver of requests of kind k. Call it while wiring, before use.
func (s *Service) Handle(k Kind, r Resolver) { s.resolvers[k] = r }

// Binder returns the service's binder (for QR frames).
func (s *Service) Binder() *Binder { return s.binder }

// New describes a request to make.
type New struct {
	Identity      string // "" for a decoy
	RateKey       string // what the rate limit counts by: the user ID's key, so decoys count alike
	FlowID        string
	Kind          Kind
	ClientName    string
	ReferenceText string
	ActionText    string
	Title         string
	Fingerprint   string
	Location      string
	Browser       string
}

// Create makes a request, replacing the identity's open one (whose login then
// fails as replaced), unless the person has had too many requests lately.
func (s *Service) Create(ctx context.Context, n New) (*Approval, error) {
	now := s.now().UTC().Truncate(time.Second)
	var idb [idBytes]byte
	nonce := make([]byte, NonceSize)
	if _, err := io.ReadFull(s.rand, idb[:]); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return nil, err
	}
	code, err := NewCode(s.rand)
	if err != nil {
		return nil, err
	}
	id := base64.RawURLEncoding.EncodeToString(idb[:])
	identity := n.Identity
	if identity == "" {
		// A decoy names no identity an app could hold; it still encodes.
		sum := sha256.Sum256([]byte("decoy\x00" + n.RateKey))
		identity = "decoy-" + base64.RawURLEncoding.EncodeToString(sum[:9])
	}
	req := Request{ID: id, Identity: identity, Kind: n.Kind, ClientName: n.ClientName, ReferenceText: n.ReferenceText,
		ActionText: n.ActionText, Title: n.Title, Fingerprint: n.Fingerprint, Location: n.Location, Browser: n.Browser,
		CreatedAt: now, ExpiresAt: now.Add(TTL), Nonce: nonce}
	enc, err := Encode(req)
	if err != nil {
		return nil, err
	}
	a := &Approval{ID: id, Identity: n.Identity, FlowID: n.FlowID, Kind: n.Kind, Request: enc, BindingCode: code,
		State: StatePending, CreatedAt: now, ExpiresAt: now.Add(TTL)}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		count, err := s.store.CountInWindow(ctx, rateKeyPrefix+n.RateKey, RateWindow, now)
		if err != nil {
			return err
		}
		if count > MaxPerWindow {
			return ErrTooMany
		}
		if n.Identity != "" {
			if old, err := s.store.OpenApproval(ctx, n.Identity); err == nil {
				if err := s.settle(ctx, old, StateCancelled, "replaced by a newer request"); err != nil {
					return err
				}
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if err := s.store.InsertApproval(ctx, a); err != nil {
			return err
		}
		if err := s.log.Record(ctx, audit.Event{Actor: audit.ActorSystem, Action: "approval.created", Identity: n.Identity,
			Details: map[string]string{"approval": id, "kind": string(n.Kind), "flow": n.FlowID, "client": n.ClientName,
				"decoy": fmt.Sprint(n.Identity == "")}}); err != nil {
			return err
		}
		if n.Identity != "" {
			return s.store.Notify(ctx, TopicPrefix+n.Identity)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// settle ends an open request in state, tells its resolver and the waiting app.
func (s *Service) settle(ctx context.Context, a *Approval, to State, reason string) error {
	from := a.State
	a.State, a.Reason = to, reason
	if to != StateCancelled && to != StateExpired && to != StateFailed {
		a.AnsweredAt = s.now().UTC()
	}
	if err := s.store.UpdateApproval(ctx, a, from); err != nil {
		return err
	}
	details := map[string]string{"approval": a.ID, "kind": string(a.Kind), "flow": a.FlowID, "from": string(from)}
	if reason != "" {
		details["reason"] = reason
	}
	if a.DeviceID != "" {
		details["device"] = a.DeviceID
	}
	if err := s.log.Record(ctx, audit.Event{Actor: actorFor(a, to), Action: "approval." + string(to), Identity: a.Identity,
		Details: details}); err != nil {
		return err
	}
	if r := s.resolvers[a.Kind]; r != nil {
		if err := r.Resolved(ctx, a); err != nil {
			return err
		}
	}
	if a.Identity != "" {
		return s.store.Notify(ctx, TopicPrefix+a.Identity)
	}
	return nil
}

func actorFor(a *Approval, to State) string {
	switch to {
	case StateApproved, StateRejected, StateFraud:
		return audit.ActorIdentity(a.Identity)
	}
	return audit.ActorSystem
}

// Get returns a request by id.
func (s *Service) Get(ctx context.Context, id string) (*Approval, error) {
	return s.store.Approval(ctx, id)
}

// expireIfDue settles a if its time has run out, and reports whether it did.
func (s *Service) expireIfDue(ctx context.Context, a *Approval) (bool, error) {
	if !a.State.Open() || s.now().Before(a.ExpiresAt) {
		return false, nil
	}
	return true, s.settle(ctx, a, StateExpired, "")
}

// ExpireIfDue settles the request as expired if its time has run out, and
// reports whether it did.
func (s *Service) ExpireIfDue(ctx context.Context, id string) (bool, error) {
	var expired bool
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		a, err := s.store.Approval(ctx, id)
		if err != nil {
			return err
		}
		expired, err = s.expireIfDue(ctx, a)
		return err
	})
	return expired, err
}

// Next returns the identity's open request, or ErrNotFound.
func (s *Service) Next(ctx context.Context, identity string) (*Approval, error) {
	a, err := s.store.OpenApproval(ctx, identity)
	if err != nil {
		return nil, err
	}
	if s.now().Before(a.ExpiresAt) {
		return a, nil
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.Approval(ctx, a.ID)
		if err != nil {
			return err
		}
		_, err = s.expireIfDue(ctx, cur)
		return err
	})
	if err != nil && !errors.Is(err, ErrConflict) {
		return nil, err
	}
	return nil, ErrNotFound
}

// BindError is a failed bind, with the tries left before the request fails.
type BindError struct {
	Err       error // ErrBinding or ErrStaleFrame
	TriesLeft int
}

func (e *BindError) Error() string {
	return fmt.Sprintf("%v (%d tries left)", e.Err, e.TriesLeft)
}
func (e *BindError) Unwrap() error { return e.Err }

// Bind binds the request to the device with the QR frame it scanned or the
// code the person typed. A failed try counts; after [MaxBindTries] the request
// fails, and so does the login waiting for it. A device may bind again a
// request it bound already (a retry), with any valid proof.
func (s *Service) Bind(ctx context.Context, d Device, id, qr, code string) (*Approval, error) {
	var (
		out    *Approval
		result error
	)
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		result = nil
		a, err := s.owned(ctx, d, id)
		if err != nil {
			return err
		}
		if expired, err := s.expireIfDue(ctx, a); err != nil || expired {
			result = ErrExpired
			return err
		}
		if a.State == StateBound && a.DeviceID != d.ID || !a.State.Open() {
			return ErrAlreadyBound
		}
		now := s.now()
		var proof string
		var check error
		switch {
		case qr != "":
			proof, check = qr, s.binder.CheckFrame(qr, a.ID, a.CreatedAt, now)
		default:
			proof, check = code, CheckCode(a.BindingCode, code)
		}
		if check != nil {
			from := a.State
			a.BindFailures++
			if a.BindFailures >= MaxBindTries {
				result = ErrBindingTooOften
				return s.settle(ctx, a, StateFailed, "binding failed too often")
			}
			if err := s.store.UpdateApproval(ctx, a, from); err != nil {
				return err
			}
			result = &BindError{Err: check, TriesLeft: MaxBindTries - a.BindFailures}
			return s.log.Record(ctx, audit.Event{Actor: audit.ActorIdentity(a.Identity), Action: "approval.bind_failed",
				Identity: a.Identity, Details: map[string]string{"approval": a.ID, "device": d.ID, "reason": check.Error()}})
		}
		from := a.State
		a.State, a.DeviceID, a.Binding = StateBound, d.ID, proof
		if err := s.store.UpdateApproval(ctx, a, from); err != nil {
			return err
		}
		out = a
		return s.log.Record(ctx, audit.Event{Actor: audit.ActorIdentity(a.Identity), Action: "approval.bound",
			Identity: a.Identity, Details: map[string]string{"approval": a.ID, "device": d.ID, "by": map[bool]string{true: "qr", false: "code"}[qr != ""]}})
	})
	if err != nil {
		return nil, err
	}
	if result != nil {
		return nil, result
	}
	return out, nil
}

// owned loads a request of the device's identity; any other is not found.
func (s *Service) owned(ctx context.Context, d Device, id string) (*Approval, error) {
	a, err := s.store.Approval(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Identity == "" || a.Identity != d.Identity {
		return nil, ErrNotFound
	}
	return a, nil
}

// Answer settles the request with the person's decision, signed by the device
// key over [AnswerMessage]. Approving needs a binding by this device; rejecting
// and reporting fraud do not (a person who did not start a login has no screen
// to scan). A bad signature changes nothing.
func (s *Service) Answer(ctx context.Context, d Device, id string, decision Decision, sig []byte) (*Approval, error) {
	if !decision.Valid() {
		return nil, fmt.Errorf("approval: unknown decision %q", decision)
	}
	var (
		out    *Approval
		result error
	)
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		result = nil
		a, err := s.owned(ctx, d, id)
		if err != nil {
			return err
		}
		if expired, err := s.expireIfDue(ctx, a); err != nil || expired {
			result = ErrExpired
			return err
		}
		if !a.State.Open() {
			return ErrAlreadyAnswered
		}
		boundHere := a.State == StateBound && a.DeviceID == d.ID
		if decision == Approve && !boundHere {
			return ErrNotBound
		}
		if a.State == StateBound && a.DeviceID != d.ID {
			return ErrAlreadyBound
		}
		var msg []byte
		if boundHere {
			msg = AnswerMessage(a.ID, a.Request, decision, a.Binding)
		} else {
			msg = AnswerMessage(a.ID, nil, decision, "")
		}
		digest := sha256.Sum256(msg)
		if d.Key == nil || !ecdsa.VerifyASN1(d.Key, digest[:], sig) {
			return ErrBadSignature
		}
		to := map[Decision]State{Approve: StateApproved, Reject: StateRejected, Fraud: StateFraud}[decision]
		a.DeviceID, a.Signature = d.ID, sig
		if err := s.settle(ctx, a, to, ""); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if result != nil {
		return nil, result
	}
	return out, nil
}

// Cancel ends an open request (the login chose another method, was cancelled,
// or the identity was blocked). A request no longer open is left as it is.
func (s *Service) Cancel(ctx context.Context, id, reason string) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		a, err := s.store.Approval(ctx, id)
		if err != nil {
			return err
		}
		if !a.State.Open() {
			return nil
		}
		return s.settle(ctx, a, StateCancelled, reason)
	})
}

// CancelOpen ends the identity's open request, if any.
func (s *Service) CancelOpen(ctx context.Context, identity, reason string) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		a, err := s.store.OpenApproval(ctx, identity)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.settle(ctx, a, StateCancelled, reason)
	})
}

// ExpireDue settles every open request whose time has run out, so that the
// logins waiting for them fail promptly even if nobody looks. It returns how
// many it settled.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	due, err := s.store.DueApprovals(ctx, s.now(), 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range due {
		err := s.store.InTx(ctx, func(ctx context.Context) error {
			cur, err := s.store.Approval(ctx, a.ID)
			if err != nil {
				return err
			}
			expired, err := s.expireIfDue(ctx, cur)
			if expired && err == nil {
				n++
			}
			return err
		})
		if err != nil && !errors.Is(err, ErrConflict) {
			return n, err
		}
	}
	return n, nil
}

// Frame returns the QR frame the browser shows now for a.
func (s *Service) Frame(a *Approval) string {
	return s.binder.Frame(a.ID, a.CreatedAt, s.now())
}
