package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
)

// Store keeps flows and counters (internal/store).
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	InsertFlow(ctx context.Context, f *Flow) error
	Flow(ctx context.Context, id string) (*Flow, error)
	// UpdateFlow writes f if its Version is still the stored one (else ErrFlowChanged) and bumps it.
	UpdateFlow(ctx context.Context, f *Flow) error
	ReserveAttempt(ctx context.Context, key string, limit int, lockout time.Duration, now time.Time) (bool, time.Time, error)
	ClearAttempts(ctx context.Context, key string) error
	LockedUntil(ctx context.Context, key string, now time.Time) (time.Time, error)
	CountInWindow(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	UncountInWindow(ctx context.Context, key string, window time.Duration, at time.Time) error
	PeekWindow(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	InsertFraudReport(ctx context.Context, r FraudReport) error
	AuthenticatorsOf(ctx context.Context, identityUUID string) ([]*authenticator.Authenticator, error)
	Authenticator(ctx context.Context, id string) (*authenticator.Authenticator, error)
	UpdateAuthenticator(ctx context.Context, a *authenticator.Authenticator) error
	Notify(ctx context.Context, topic string) error
	Subscribe(topic string) (<-chan struct{}, func())
}

// Identities is what the engine needs of internal/identity.
type Identities interface {
	ByUserID(ctx context.Context, userID string) (*identity.Identity, error)
	ByUUID(ctx context.Context, identityUUID string) (*identity.Identity, error)
	// CheckPassword with a nil identity spends the time of a check and fails.
	CheckPassword(ctx context.Context, id *identity.Identity, pw string) (bool, error)
}

// Codes checks codes from code displays and audio code readers (internal/authenticator/codedisplay).
type Codes interface {
	Verify(ctx context.Context, a *authenticator.Authenticator, code string) (bool, error)
}

// Client is a service provider as a flow needs it.
type Client struct {
	ID       string
	Name     string     // shown to the person and in the app
	MinLevel nsis.Level // the lowest level it accepts
}

// Clients finds service providers.
type Clients interface {
	// Client returns the client with id, or an error wrapping
	// [ErrClientNotFound] if there is none. Any other error is the
	// directory's failure (a database that cannot be reached), not the
	// caller's.
	Client(ctx context.Context, id string) (Client, error)
}

// ErrClientNotFound is what [Clients] return for an id they do not know.
var ErrClientNotFound = errors.New("authn: no such client")

// FraudReport is an "I did not start this" answer, kept for fraud response.
type FraudReport struct {
	ID         string
	Identity   string
	ApprovalID string
	FlowID     string
	ClientID   string
	OriginIP   string
	Browser    string
	CreatedAt  time.Time
}

// Limits are the engine's lockouts and rate limits.
type Limits struct {
	PasswordFailures int           // wrong passwords for one user ID before it locks
	PasswordLockout  time.Duration // how long it stays locked
	CodeFailures     int           // wrong codes before the code display locks (the real scheme: 3)
	CodeLockout      time.Duration
	IPFailures       int           // failed factors from one address per window before it is refused
	IPWindow         time.Duration //
}

// DefaultLimits are the production limits.
var DefaultLimits = Limits{
	PasswordFailures: 5, PasswordLockout: 15 * time.Minute,
	CodeFailures: 3, CodeLockout: 5 * time.Minute,
	IPFailures: 100, IPWindow: 10 * time.Minute,
}

// WithAddressFailures returns l with n failed factors allowed per address
// and window (n ≤ 0 keeps l's).
func (l Limits) WithAddressFailures(n int) Limits {
	if n > 0 {
		l.IPFailures = n
	}
	return l
}

// Config holds what [NewEngine] needs.
type Config struct {
	Store      Store
	Identities Identities
	Approvals  *approval.Service
	Codes      Codes
	Chips      Chips // nil: chips cannot be used
	Clients    Clients
	Log        audit.Log
	// DecoyKey keys the made-up methods of user IDs that do not exist.
	DecoyKey []byte
	Limits   Limits
	Now      func() time.Time
	Rand     io.Reader
}

// Engine runs login flows.
type Engine struct {
	store      Store
	identities Identities
	approvals  *approval.Service
	codes      Codes
	chips      Chips
	clients    Clients
	log        audit.Log
	decoyKey   []byte
	limits     Limits
	now        func() time.Time
	rand       io.Reader
	gate       addrGate // one password evaluation at a time per address
}

// NewEngine returns an Engine and makes it the resolver of login approvals.
func NewEngine(c Config) (*Engine, error) {
	if c.Store == nil || c.Identities == nil || c.Approvals == nil || c.Codes == nil || c.Clients == nil || c.Log == nil {
		return nil, errors.New("authn: NewEngine needs a store, identities, approvals, codes, clients and an audit log")
	}
	if len(c.DecoyKey) < 32 {
		return nil, errors.New("authn: the decoy key must have at least 32 bytes")
	}
	if c.Limits == (Limits{}) {
		c.Limits = DefaultLimits
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	e := &Engine{store: c.Store, identities: c.Identities, approvals: c.Approvals, codes: c.Codes, chips: c.Chips,
		clients: c.Clients, log: c.Log, decoyKey: c.DecoyKey, limits: c.Limits, now: c.Now, rand: c.Rand}
	c.Approvals.Handle(approval.KindLogin, e)
	return e, nil
}

// TopicFlow is the notification topic of a flow.
func TopicFlow(id string) string { return "flow:" + id }

// Action texts a service provider may ask the app to show (the Danish brokers' set).
var actionTexts = []string{"LOG_ON", "APPROVE", "CONFIRM", "ACCEPT", "SIGN"}

// MaxReferenceText is the longest reference text, in characters.
const MaxReferenceText = 130

// StartRequest asks for a flow.
type StartRequest struct {
	ClientID      string
	Level         string // low, substantial (default) or high
	ReferenceText string
	ActionText    string // default LOG_ON
	AuthRequest   string // the OpenID Connect request waiting for it, if any
	OriginIP      string
	UserAgent     string
}

func (e *Engine) random(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(e.rand, b); err != nil {
		// crypto/rand does not fail on Linux since Go 1.24 (it panics
		// instead); a test's reader that fails is a broken test.
		panic("authn: reading randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte("openmitid flow token\x00" + token))
	return sum[:]
}

// Start makes a flow and returns it with the token that binds it to its
// client: hand the token to the browser (a cookie) or the app (X-Flow-Token).
func (e *Engine) Start(ctx context.Context, r StartRequest) (*Flow, string, error) {
	c, err := e.clients.Client(ctx, r.ClientID)
	if errors.Is(err, ErrClientNotFound) {
		return nil, "", ErrUnknownClient
	}
	if err != nil {
		return nil, "", err // not the caller's fault: a 503 or 500, not "unknown client"
	}
	level := nsis.Substantial
	if r.Level != "" {
		if level, err = nsis.Parse(r.Level); err != nil {
			return nil, "", errorf(http.StatusBadRequest, "bad_level", "level must be low, substantial or high, not %q.", r.Level)
		}
	}
	if level < c.MinLevel {
		level = c.MinLevel // the service provider's floor wins; never lower
	}
	if err := checkReferenceText(r.ReferenceText); err != nil {
		return nil, "", err
	}
	action := r.ActionText
	if action == "" {
		action = "LOG_ON"
	}
	if !contains(actionTexts, action) {
		return nil, "", errorf(http.StatusBadRequest, "bad_action_text", "action_text must be one of %s.", strings.Join(actionTexts, ", "))
	}
	now := e.now().UTC()
	token := e.random(32)
	f := &Flow{ID: e.random(16), TokenHash: tokenHash(token), ClientID: c.ID, ClientName: c.Name, Level: level,
		ReferenceText: r.ReferenceText, ActionText: action, State: StateIdentify, OriginIP: r.OriginIP,
		Browser: shortBrowser(r.UserAgent), AuthRequest: r.AuthRequest, CreatedAt: now, UpdatedAt: now,
		ExpiresAt: now.Add(FlowLifetime)}
	err = e.store.InTx(ctx, func(ctx context.Context) error {
		if err := e.store.InsertFlow(ctx, f); err != nil {
			return err
		}
		return e.log.Record(ctx, audit.Event{Actor: audit.ActorClient(c.ID), Action: "login.started",
			Details: map[string]string{"flow": f.ID, "level": level.String(), "client": c.ID}})
	})
	if err != nil {
		return nil, "", err
	}
	return f, token, nil
}

func checkReferenceText(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxReferenceText {
		return errorf(http.StatusBadRequest, "bad_reference_text", "reference_text must be UTF-8 of at most %d characters.", MaxReferenceText)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u202e' || r == '\u202d' {
			return errorf(http.StatusBadRequest, "bad_reference_text", "reference_text must not hold control or direction characters.")
		}
	}
	return nil
}

func contains[T comparable](xs []T, x T) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Load returns the flow if token is its token. A flow past its lifetime is
// failed as expired on the way; an open approval past its expiry is settled.
func (e *Engine) Load(ctx context.Context, id, token string) (*Flow, error) {
	if len(id) > 64 || len(token) > 128 {
		return nil, ErrFlowNotFound
	}
	f, err := e.store.Flow(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(f.TokenHash, tokenHash(token)) != 1 {
		return nil, ErrFlowNotFound // the id alone opens nothing, and says nothing
	}
	return e.refresh(ctx, f)
}

// refresh settles what time has decided: the flow's lifetime, its approval's expiry.
func (e *Engine) refresh(ctx context.Context, f *Flow) (*Flow, error) {
	now := e.now()
	if f.State.Terminal() {
		return f, nil
	}
	if !now.Before(f.ExpiresAt) {
		err := e.update(ctx, f, func(ctx context.Context, f *Flow) error {
			return e.fail(ctx, f, "flow_expired")
		})
		if err != nil && !errors.Is(err, ErrFlowChanged) {
			return nil, err
		}
		return e.store.Flow(ctx, f.ID)
	}
	if f.State == StateWaitingForApp && f.ApprovalID != "" {
		a, err := e.approvals.Get(ctx, f.ApprovalID)
		if err != nil {
			return nil, err
		}
		if a.State.Open() && !now.Before(a.ExpiresAt) {
			if _, err := e.approvals.ExpireIfDue(ctx, a.ID); err != nil && !errors.Is(err, approval.ErrConflict) {
				return nil, err
			}
			return e.store.Flow(ctx, f.ID)
		}
	}
	return f, nil
}

// update runs change on f and writes f, in one transaction, and wakes the
// flow's waiters after the commit.
func (e *Engine) update(ctx context.Context, f *Flow, change func(ctx context.Context, f *Flow) error) error {
	orig := *f
	return e.store.InTx(ctx, func(ctx context.Context) error {
		// A transaction retried after a conflict starts again from the flow
		// as it was, not as the attempt before left it.
		*f = orig
		if err := change(ctx, f); err != nil {
			return err
		}
		f.UpdatedAt = e.now().UTC()
		if err := e.store.UpdateFlow(ctx, f); err != nil {
			return err
		}
		return e.store.Notify(ctx, TopicFlow(f.ID))
	})
}

// fail ends the flow with a reason code.
func (e *Engine) fail(ctx context.Context, f *Flow, code string) error {
	if f.ApprovalID != "" {
		if err := e.approvals.Cancel(ctx, f.ApprovalID, reasonFlowMoved); err != nil {
			return err
		}
	}
	f.State, f.Error, f.DoneAt = StateFailed, code, e.now().UTC()
	f.Challenge, f.WebAuthn = nil, ""
	return e.log.Record(ctx, audit.Event{Actor: actorOf(f), Action: "login.failed", Identity: f.Identity,
		Details: map[string]string{"flow": f.ID, "client": f.ClientID, "reason": code, "method": string(f.Method)}})
}

func actorOf(f *Flow) string {
	if f.Identity != "" {
		return audit.ActorIdentity(f.Identity)
	}
	return audit.ActorAnonymous
}

// reasonFlowMoved marks an approval the flow itself cancelled (another method,
// cancel, failure), which its resolver must not act on.
const reasonFlowMoved = "the login went another way"

// StepInput is one step from the client.
type StepInput struct {
	Step     string          `json:"step"`
	UserID   string          `json:"user_id,omitempty"`
	Method   string          `json:"method,omitempty"`
	Password string          `json:"password,omitempty"`
	Code     string          `json:"code,omitempty"`
	WebAuthn json.RawMessage `json:"webauthn,omitempty"`
}

// Step applies one step to the flow. A step the flow is not waiting for, on a
// finished flow, or with malformed input gets an *Error and changes nothing
// (a wrong password or code counts against its lockout, as it must).
func (e *Engine) Step(ctx context.Context, id, token string, in StepInput) (*Flow, error) {
	f, err := e.Load(ctx, id, token)
	if err != nil {
		return nil, err
	}
	if f.State.Terminal() {
		if f.Error == "flow_expired" {
			return f, ErrFlowExpired
		}
		return f, ErrFlowFinished
	}
	switch in.Step {
	case "identify":
		err = e.identify(ctx, f, in.UserID, in.Method)
	case "method":
		err = e.chooseMethod(ctx, f, in.Method)
	case "app":
		err = e.chooseMethod(ctx, f, string(MethodApp))
	case "password":
		err = e.password(ctx, f, in.Password)
	case "code":
		err = e.code(ctx, f, in.Code)
	case "chip":
		err = e.chip(ctx, f, in.WebAuthn)
	case "cancel":
		err = e.update(ctx, f, func(ctx context.Context, f *Flow) error { return e.fail(ctx, f, "cancelled") })
	default:
		return f, ErrUnknownStep
	}
	if err != nil {
		// Reload so the caller shows the flow as it is after a counted failure.
		if cur, lerr := e.store.Flow(ctx, f.ID); lerr == nil {
			f = cur
		}
		return f, err
	}
	return f, nil
}

// profileOf returns what a real identity can prove with.
func (e *Engine) profileOf(ctx context.Context, id *identity.Identity) (profile, error) {
	auths, err := e.store.AuthenticatorsOf(ctx, id.UUID)
	if err != nil {
		return profile{}, err
	}
	p := profile{ial: id.IAL, password: id.PasswordHash != "", kinds: map[Factor]nsis.Level{}}
	now := e.now()
	for _, a := range auths {
		if !a.Usable(now) {
			continue
		}
		if e.chips == nil && a.Kind == authenticator.Chip {
			continue
		}
		f := factorOfKind(a.Kind)
		if a.Level > p.kinds[f] {
			p.kinds[f] = a.Level
		}
	}
	return p, nil
}

// lookup returns the identity a typed user ID names, if it may take part in a
// login (active, or blocked: a blocked person is told so once a factor proves
// them); otherwise nil, and the flow goes on with a decoy.
func (e *Engine) lookup(ctx context.Context, userID string) (*identity.Identity, profile, error) {
	key := identity.UserIDKey(userID)
	id, err := e.identities.ByUserID(ctx, userID)
	if err == nil && (id.State == identity.Active || id.State == identity.Blocked) {
		p, err := e.profileOf(ctx, id)
		return id, p, err
	}
	if err != nil && !errors.Is(err, identity.ErrNotFound) {
		return nil, profile{}, err
	}
	return nil, decoyProfile(e.decoyKey, key), nil
}

func (e *Engine) identify(ctx context.Context, f *Flow, userID, method string) error {
	if f.State != StateIdentify {
		return ErrStepOutOfTurn
	}
	key := identity.UserIDKey(userID)
	if key == "" || utf8.RuneCountInString(key) > 64 {
		return errorf(http.StatusBadRequest, "user_id_required", "Type your user ID.")
	}
	var want Method
	if method != "" {
		m, ok := ParseMethod(method)
		if !ok {
			return errorf(http.StatusBadRequest, "unknown_method", "Unknown method %q.", method)
		}
		want = m
	}
	id, prof, err := e.lookup(ctx, userID)
	if err != nil {
		return err
	}
	methods := prof.methods(f.Level)
	return e.update(ctx, f, func(ctx context.Context, f *Flow) error {
		f.UserKey, f.Methods = key, methods
		if id != nil {
			f.Identity = id.UUID
		}
		if err := e.log.Record(ctx, audit.Event{Actor: actorOf(f), Action: "login.identified", Identity: f.Identity,
			Details: map[string]string{"flow": f.ID, "known": fmt.Sprint(id != nil), "methods": EncodeMethods(methods)}}); err != nil {
			return err
		}
		if len(methods) == 0 {
			return e.fail(ctx, f, "level_not_reachable")
		}
		m := methods[0]
		if want != "" && contains(methods, want) {
			m = want
		}
		return e.begin(ctx, f, m)
	})
}

func (e *Engine) chooseMethod(ctx context.Context, f *Flow, method string) error {
	if f.State == StateIdentify {
		return ErrStepOutOfTurn
	}
	m, ok := ParseMethod(method)
	if !ok {
		return errorf(http.StatusBadRequest, "unknown_method", "Unknown method %q.", method)
	}
	if !contains(f.Methods, m) {
		return errorf(http.StatusBadRequest, "method_not_available", "That method cannot be used for this login.")
	}
	return e.update(ctx, f, func(ctx context.Context, f *Flow) error { return e.begin(ctx, f, m) })
}

// begin starts method from its first factor; factors passed for another method
// do not carry over.
func (e *Engine) begin(ctx context.Context, f *Flow, m Method) error {
	pl, ok := planFor(m, f.Level)
	if !ok {
		return errorf(http.StatusBadRequest, "method_not_available", "That method cannot reach the level asked for.")
	}
	if f.ApprovalID != "" {
		if err := e.approvals.Cancel(ctx, f.ApprovalID, reasonFlowMoved); err != nil {
			return err
		}
		f.ApprovalID = ""
	}
	f.Method, f.Factors, f.Error = m, nil, ""
	return e.enter(ctx, f, pl.factors[0])
}

// enter puts the flow in the state that asks for factor.
func (e *Engine) enter(ctx context.Context, f *Flow, factor Factor) error {
	f.Challenge, f.WebAuthn = nil, ""
	switch factor {
	case FactorPassword:
		f.State = StatePassword
	case FactorCodeDisplay, FactorAudioCodeReader:
		f.State = StateCode
	case FactorApp:
		return e.askApp(ctx, f)
	case FactorChip:
		return e.beginChip(ctx, f)
	default:
		return fmt.Errorf("authn: no state asks for factor %q", factor)
	}
	return nil
}

// next returns the factor still missing from the flow's plan, or "".
func (f *Flow) next() Factor {
	pl, _ := planFor(f.Method, f.Level)
	for _, x := range pl.factors {
		if !f.passed(x) {
			return x
		}
	}
	return ""
}

// advance records a passed factor and moves to the next, or finishes.
func (e *Engine) advance(ctx context.Context, f *Flow, use FactorUse) error {
	f.Factors = append(f.Factors, use)
	f.Error = ""
	if err := e.log.Record(ctx, audit.Event{Actor: actorOf(f), Action: "login.factor_passed", Identity: f.Identity,
		Details: map[string]string{"flow": f.ID, "factor": string(use.Factor), "authenticator": use.Authenticator}}); err != nil {
		return err
	}
	id, err := e.identities.ByUUID(ctx, f.Identity)
	if err != nil {
		return err
	}
	if id.State != identity.Active {
		return e.fail(ctx, f, "identity_blocked")
	}
	if x := f.next(); x != "" {
		return e.enter(ctx, f, x)
	}
	loa, aal, err := e.level(ctx, f, id)
	if err != nil {
		return err
	}
	if loa < f.Level {
		return e.fail(ctx, f, "level_not_reachable")
	}
	f.LoA, f.IAL, f.AAL = loa, id.IAL, aal
	f.State, f.DoneAt, f.ApprovalID = StateDone, e.now().UTC(), ""
	f.Challenge, f.WebAuthn = nil, ""
	return e.log.Record(ctx, audit.Event{Actor: audit.ActorIdentity(f.Identity), Action: "login.succeeded", Identity: f.Identity,
		Details: map[string]string{"flow": f.ID, "client": f.ClientID, "loa": loa.String(), "amr": strings.Join(f.AMR(), " ")}})
}

// level computes the flow's LoA: the lowest of the identity's IAL, the
// factors' AAL and the levels of the authenticators that passed them.
func (e *Engine) level(ctx context.Context, f *Flow, id *identity.Identity) (loa, aal nsis.Level, err error) {
	aal = AAL(f.factorList())
	loa = nsis.Min(id.IAL, aal)
	for _, u := range f.Factors {
		if u.Authenticator == "" {
			continue
		}
		a, err := e.store.Authenticator(ctx, u.Authenticator)
		if err != nil {
			return nsis.None, nsis.None, err
		}
		loa = nsis.Min(loa, a.Level)
	}
	return loa, aal, nil
}

// Result returns what a finished flow established. It is for the protocol
// layer, which holds the flow's id from its own records.
func (e *Engine) Result(ctx context.Context, id string) (Result, error) {
	f, err := e.store.Flow(ctx, id)
	if err != nil {
		return Result{}, err
	}
	return f.Result()
}

// Result returns what the flow established, if it is done.
func (f *Flow) Result() (Result, error) {
	if f.State != StateDone {
		return Result{}, ErrStepOutOfTurn
	}
	return Result{Identity: f.Identity, LoA: f.LoA, IAL: f.IAL, AAL: f.AAL, AMR: f.AMR(), AuthTime: f.DoneAt, ClientID: f.ClientID}, nil
}

// failureIP is the address failures are counted against: the request's.
func failureIP(ctx context.Context, f *Flow) string {
	if ip := audit.OriginFrom(ctx).IP; ip != "" {
		return ip
	}
	return f.OriginIP
}

func ipKey(ctx context.Context, f *Flow) string { return "fail-ip:" + failureIP(ctx, f) }

// ipLimited is the answer to an address that has failed too often lately
// (credential stuffing from few addresses).
func (e *Engine) ipLimited(now time.Time) error {
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message:    "Too many failed attempts from your network. Wait a while and try again.",
		RetryAfter: now.Truncate(e.limits.IPWindow).Add(e.limits.IPWindow)}
}

// ipRefused reports whether the request's address has failed too often
// lately. It only reads, so that an address already refused costs no write.
func (e *Engine) ipRefused(ctx context.Context, f *Flow) error {
	now := e.now()
	n, err := e.store.PeekWindow(ctx, ipKey(ctx, f), e.limits.IPWindow, now)
	if err != nil {
		return err
	}
	if n >= int64(e.limits.IPFailures) {
		return e.ipLimited(now)
	}
	return nil
}

func (e *Engine) countIPFailure(ctx context.Context, f *Flow) error {
	_, err := e.store.CountInWindow(ctx, ipKey(ctx, f), e.limits.IPWindow, e.now())
	return err
}

// reservation is an attempt counted, before it is evaluated, against the
// client's address and against a lockout key.
type reservation struct {
	ip, key string
	at      time.Time
}

// reserve counts an attempt against the request's address (failed factors
// per window) and against key's lockout before it is evaluated, in one
// transaction, so that parallel attempts on any number of nodes get no more
// evaluations than either limit: counting after the evaluation, as failures
// only, let every attempt that arrived while others were being evaluated
// through. An attempt refused by either limit counts against neither (the
// transaction is rolled back) and answers rate_limited or lockedErr(until).
// A success gives the attempt back with [Engine.release].
func (e *Engine) reserve(ctx context.Context, f *Flow, key string, limit int, lockout time.Duration,
	lockedErr func(until time.Time) error) (reservation, error) {
	if err := e.ipRefused(ctx, f); err != nil {
		return reservation{}, err // already refused: no write
	}
	r := reservation{ip: ipKey(ctx, f), key: key, at: e.now()}
	var refusal error
	err := e.store.InTx(ctx, func(ctx context.Context) error {
		refusal = nil
		n, err := e.store.CountInWindow(ctx, r.ip, e.limits.IPWindow, r.at)
		if err != nil {
			return err
		}
		if n > int64(e.limits.IPFailures) {
			refusal = e.ipLimited(r.at)
			return refusal
		}
		ok, until, err := e.store.ReserveAttempt(ctx, key, limit, lockout, r.at)
		if err != nil {
			return err
		}
		if !ok {
			refusal = lockedErr(until)
			return refusal
		}
		return nil
	})
	if refusal != nil {
		return reservation{}, refusal
	}
	return r, err
}

// release gives back a reserved attempt that succeeded: it clears the
// lockout key's failures and takes the attempt off the address's count.
func (e *Engine) release(ctx context.Context, r reservation) error {
	return e.store.InTx(ctx, func(ctx context.Context) error {
		if err := e.store.ClearAttempts(ctx, r.key); err != nil {
			return err
		}
		return e.store.UncountInWindow(ctx, r.ip, e.limits.IPWindow, r.at)
	})
}

func lockedError(code, what string, until time.Time) *Error {
	return &Error{Status: http.StatusForbidden, Code: code, RetryAfter: until,
		Message: fmt.Sprintf("%s is locked after too many wrong tries. Try again after %s UTC.", what, until.UTC().Format("15:04"))}
}

func (e *Engine) password(ctx context.Context, f *Flow, pw string) error {
	if f.State != StatePassword {
		return ErrStepOutOfTurn
	}
	if pw == "" {
		return errorf(http.StatusBadRequest, "password_required", "Type your password.")
	}
	if len(pw) > 1024 {
		return errorf(http.StatusBadRequest, "password_too_long", "The password is too long.")
	}
	key := "pw:" + f.UserKey
	// An address already refused is told so without waiting its turn.
	if err := e.ipRefused(ctx, f); err != nil {
		return err
	}
	res, good, err := e.checkPassword(ctx, f, key, pw)
	if err != nil {
		return err
	}
	if !good {
		err := e.update(ctx, f, func(ctx context.Context, f *Flow) error {
			f.Error = "wrong_password"
			return e.log.Record(ctx, audit.Event{Actor: actorOf(f), Action: "login.password_failed", Identity: f.Identity,
				Details: map[string]string{"flow": f.ID}})
		})
		if err != nil {
			return err
		}
		if until, _ := e.store.LockedUntil(ctx, key, e.now()); !until.IsZero() {
			return lockedError("password_locked", "Your password", until)
		}
		return errorf(http.StatusUnauthorized, "wrong_password", "The password is wrong.")
	}
	// The attempt is given back and the flow moves on in one commit.
	return e.releaseOnChange(ctx, res, e.update(ctx, f, func(ctx context.Context, f *Flow) error {
		if f.State != StatePassword {
			return ErrFlowChanged
		}
		if err := e.release(ctx, res); err != nil {
			return err
		}
		return e.advance(ctx, f, FactorUse{Factor: FactorPassword})
	}))
}

// releaseOnChange gives back a good attempt whose flow changed under it (a
// cancel, another method in another tab) after the update that would have
// released it with the flow's step was rolled back: a right answer never
// counts towards a lockout.
func (e *Engine) releaseOnChange(ctx context.Context, res reservation, err error) error {
	if errors.Is(err, ErrFlowChanged) {
		if rerr := e.release(ctx, res); rerr != nil {
			return rerr
		}
	}
	return err
}

// checkPassword waits for the address's turn (see [addrGate]), counts the
// attempt against the address and key, and evaluates it.
func (e *Engine) checkPassword(ctx context.Context, f *Flow, key, pw string) (reservation, bool, error) {
	leave, err := e.gate.enter(ctx, failureIP(ctx, f))
	if err != nil {
		return reservation{}, false, err
	}
	defer leave()
	res, err := e.reserve(ctx, f, key, e.limits.PasswordFailures, e.limits.PasswordLockout, func(until time.Time) error {
		return lockedError("password_locked", "Your password", until)
	})
	if err != nil {
		return res, false, err
	}
	// The hash is checked outside any transaction: it takes tens of
	// milliseconds. A user ID that does not exist costs the same.
	var id *identity.Identity
	if f.Identity != "" {
		if id, err = e.identities.ByUUID(ctx, f.Identity); err != nil {
			return res, false, err
		}
	}
	good, err := e.identities.CheckPassword(ctx, id, pw)
	return res, good, err
}

func (e *Engine) code(ctx context.Context, f *Flow, code string) error {
	if f.State != StateCode {
		return ErrStepOutOfTurn
	}
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return errorf(http.StatusBadRequest, "code_format", "The code has 6 digits.")
	}
	kind := authenticator.CodeDisplay
	factor := FactorCodeDisplay
	if f.Method == MethodAudioCodeReader {
		kind, factor = authenticator.AudioCodeReader, FactorAudioCodeReader
	}
	auths, err := e.store.AuthenticatorsOf(ctx, f.Identity)
	if err != nil {
		return err
	}
	var tokens []*authenticator.Authenticator
	for _, a := range auths {
		if a.Kind == kind && a.Usable(e.now()) {
			tokens = append(tokens, a)
		}
	}
	key := "code:" + f.Identity + ":" + string(kind)
	what := "Your code display"
	if kind == authenticator.AudioCodeReader {
		what = "Your audio code reader"
	}
	res, err := e.reserve(ctx, f, key, e.limits.CodeFailures, e.limits.CodeLockout, func(until time.Time) error {
		return lockedError("code_locked", what, until)
	})
	if err != nil {
		return err
	}
	// The code is checked, its time step marked used, the attempt given back
	// and the flow moved on, or the failure recorded, in one commit: the step
	// is used only if the login goes on with it.
	var passed *authenticator.Authenticator
	err = e.releaseOnChange(ctx, res, e.update(ctx, f, func(ctx context.Context, f *Flow) error {
		if f.State != StateCode {
			return ErrFlowChanged
		}
		passed = nil
		for _, a := range tokens {
			good, err := e.codes.Verify(ctx, a, code)
			if err != nil {
				return err
			}
			if good {
				passed = a
				break
			}
		}
		if passed == nil {
			f.Error = "wrong_code"
			return e.log.Record(ctx, audit.Event{Actor: actorOf(f), Action: "login.code_failed", Identity: f.Identity,
				Details: map[string]string{"flow": f.ID, "kind": string(kind)}})
		}
		if err := e.release(ctx, res); err != nil {
			return err
		}
		return e.advance(ctx, f, FactorUse{Factor: factor, Authenticator: passed.ID})
	}))
	if err != nil || passed != nil {
		return err
	}
	if until, _ := e.store.LockedUntil(ctx, key, e.now()); !until.IsZero() {
		return lockedError("code_locked", what, until)
	}
	return errorf(http.StatusUnauthorized, "wrong_code", "The code is wrong, or it has been used. Press the button for a new code.")
}
