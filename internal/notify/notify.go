// Package notify tells people what happened to their MitID on channels other
// than the one that did it: "a new app was added", "your MitID was
// reactivated". Messages go through an outbox: [Service.Enqueue] writes them
// in the transaction of the event that causes them, so an event is never kept
// without its message nor a message sent for an event that was rolled back,
// and [Service.DeliverDue], run by every node's background jobs, claims due
// messages (each by one sender only, on any number of nodes), hands them to a
// [Sender] and retries failures with back-off.
//
// The only channel is e-mail to the contact address the person gave, which is
// personal data and kept sealed under the KEK like the CPR number. The
// messages are in Danish and English, both in one message: an identity has no
// language of its own.
package notify

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/pki"
)

// Channel is how a message reaches a person.
type Channel string

// Email is a message to the identity's contact e-mail address.
const Email Channel = "email"

// State is where a message is in the outbox.
type State string

const (
	Pending State = "pending" // waiting for its next attempt
	Sending State = "sending" // claimed by a sender
	Sent    State = "sent"
	Failed  State = "failed"  // given up after MaxAttempts
	Dropped State = "dropped" // nothing to send to any longer (the address was removed)
)

// Message is one row of the outbox.
type Message struct {
	ID            string
	Identity      string
	Channel       Channel
	Template      Template
	Params        map[string]string
	State         State
	Attempts      int // attempts started, this one included once claimed
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time
}

// Outcome is what a sender's attempt came to, as [Store.FinishMessage] writes it.
type Outcome struct {
	State         State // Sent, Pending (try again at NextAttemptAt), Failed or Dropped
	NextAttemptAt time.Time
	Error         string
	At            time.Time
}

// Store keeps contact addresses and the outbox (internal/store).
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// PutContactEmail stores the identity's sealed e-mail address, or removes
	// it when sealed is nil.
	PutContactEmail(ctx context.Context, identityUUID string, sealed []byte, now time.Time) error
	// ContactEmail returns the sealed address, or ErrNoAddress.
	ContactEmail(ctx context.Context, identityUUID string) ([]byte, error)
	InsertMessage(ctx context.Context, m *Message) error
	// ClaimMessages marks up to limit due messages as Sending under claim until
	// claimedUntil, counts an attempt on each, and returns them. A message is
	// due when it is Pending and its NextAttemptAt has come, or when it is
	// Sending and its claim ran out (its sender died). A message is claimed
	// by one caller only, whatever the number of callers and nodes.
	ClaimMessages(ctx context.Context, claim string, now, claimedUntil time.Time, limit int) ([]*Message, error)
	// FinishMessage records the outcome of an attempt if the message is still
	// held under claim; it reports false when it is not (the claim ran out and
	// another sender took it).
	FinishMessage(ctx context.Context, id, claim string, o Outcome) (bool, error)
	// Messages returns the identity's messages, oldest first.
	Messages(ctx context.Context, identityUUID string) ([]*Message, error)
}

// Envelope is one message ready to go: the address opened, the text rendered.
type Envelope struct {
	MessageID string // the outbox row's id, for the Message-ID header and logs
	To        string
	Subject   string
	Body      string // plain text, UTF-8, lines separated by "\n"
}

// Sender delivers an envelope. An error means "not delivered, try again
// later"; a sender must not report an error for a message it delivered.
type Sender interface {
	Send(ctx context.Context, e Envelope) error
}

var (
	// ErrNoAddress is returned when the identity has no contact address.
	ErrNoAddress = errors.New("notify: the identity has no contact e-mail address")
	// ErrBadAddress is returned for an e-mail address that is not a plain addr-spec.
	ErrBadAddress = errors.New("notify: the e-mail address is not valid")
)

// Stats counts this process's delivery attempts by outcome, for metrics.
type Stats struct {
	Sent, Retried, Failed, Dropped atomic.Uint64
}

// Stats returns the service's counters.
func (s *Service) Stats() *Stats { return &s.stats }

// Limits of the outbox.
const (
	MaxAttempts  = 10
	firstBackoff = 30 * time.Second
	maxBackoff   = time.Hour
	claimLease   = 2 * time.Minute
	sendTimeout  = 30 * time.Second // one attempt at most; a batch stops while a whole attempt still fits in the lease
	batch        = 20
	maxEmailLen  = 254 // RFC 5321, Section 4.5.3.1.3 (a path of 256 octets with its brackets)
)

// Config holds what [NewService] needs.
type Config struct {
	Store  Store
	Keys   *pki.Keyring
	Log    audit.Log
	Sender Sender // LogSender when nil
	Logger *slog.Logger
	Now    func() time.Time
}

// Service is the outbox.
type Service struct {
	stats  Stats
	store  Store
	keys   *pki.Keyring
	log    audit.Log
	sender Sender
	logger *slog.Logger
	now    func() time.Time
}

// NewService returns a Service.
func NewService(c Config) (*Service, error) {
	if c.Store == nil || c.Keys == nil || c.Log == nil {
		return nil, errors.New("notify: NewService needs a store, a keyring and an audit log")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Sender == nil {
		c.Sender = LogSender{Logger: c.Logger}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{store: c.Store, keys: c.Keys, log: c.Log, sender: c.Sender, logger: c.Logger, now: c.Now}, nil
}

func emailContext(identityUUID string) string { return "contact-email/" + identityUUID }

// NormalizeEmail checks that s is one plain address (local@domain, no display
// name, no comments), at most 254 octets, and returns it with the domain in
// lower case. It refuses anything else with [ErrBadAddress].
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxEmailLen || strings.ContainsAny(s, "\r\n<>,;\"() \t") {
		return "", ErrBadAddress
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", ErrBadAddress
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", ErrBadAddress
	}
	return local + "@" + strings.ToLower(domain), nil
}

// MaskEmail shows enough of an address for a person to recognise it, for audit
// events and logs: "a…@example.dk".
func MaskEmail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "…"
	}
	return local[:1] + "…@" + domain
}

// SetEmail sets (or, with "", removes) the identity's contact e-mail address,
// sealed under the KEK, with its audit event, in the transaction in ctx if
// there is one.
func (s *Service) SetEmail(ctx context.Context, identityUUID, email, actor string) error {
	var sealed []byte
	masked := ""
	if email != "" {
		addr, err := NormalizeEmail(email)
		if err != nil {
			return err
		}
		if sealed, err = s.keys.Seal([]byte(addr), emailContext(identityUUID)); err != nil {
			return err
		}
		masked = MaskEmail(addr)
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.PutContactEmail(ctx, identityUUID, sealed, s.now().UTC()); err != nil {
			return err
		}
		action := "contact.email_set"
		if sealed == nil {
			action = "contact.email_removed"
		}
		return s.log.Record(ctx, audit.Event{Actor: actor, Action: action, Identity: identityUUID,
			Details: map[string]string{"email": masked}})
	})
}

// Email returns the identity's contact e-mail address, or [ErrNoAddress].
func (s *Service) Email(ctx context.Context, identityUUID string) (string, error) {
	sealed, err := s.store.ContactEmail(ctx, identityUUID)
	if err != nil {
		return "", err
	}
	addr, err := s.keys.Open(sealed, emailContext(identityUUID))
	if err != nil {
		return "", fmt.Errorf("notify: opening the contact address of %s: %w", identityUUID, err)
	}
	return string(addr), nil
}

// Enqueue writes a message with template and params to every channel the
// identity can be reached on, in the transaction in ctx (it makes one when
// there is none, but its point is to share the caller's). It returns the
// channels written to; none when the identity gave no address, which is not
// an error: the event is recorded all the same.
func (s *Service) Enqueue(ctx context.Context, identityUUID string, t Template, params map[string]string) ([]Channel, error) {
	if _, ok := templates[t]; !ok {
		return nil, fmt.Errorf("notify: unknown template %q", t)
	}
	var out []Channel
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		out = nil
		_, err := s.store.ContactEmail(ctx, identityUUID)
		if errors.Is(err, ErrNoAddress) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now().UTC()
		m := &Message{ID: uuid.NewString(), Identity: identityUUID, Channel: Email, Template: t, Params: params,
			State: Pending, NextAttemptAt: now, CreatedAt: now}
		if err := s.store.InsertMessage(ctx, m); err != nil {
			return err
		}
		out = append(out, Email)
		return nil
	})
	return out, err
}

// Messages returns the identity's messages, oldest first.
func (s *Service) Messages(ctx context.Context, identityUUID string) ([]*Message, error) {
	return s.store.Messages(ctx, identityUUID)
}

// Backoff is how long to wait before attempt n+1 after attempt n (from 1)
// failed: 30 s, doubling, at most an hour, less up to a quarter at random so
// that messages that failed together are not retried together.
func Backoff(n int) time.Duration {
	d := maxBackoff
	if n < 20 {
		d = min(firstBackoff<<(n-1), maxBackoff)
	}
	return d - rand.N(d/4+1)
}

// DeliverDue claims the messages that are due, sends them, and records each
// outcome; it returns how many were sent. Safe to run on several nodes at
// once: each message is claimed by one of them. A node that dies while
// sending leaves its claim to run out, after which another sends the message
// again (at least once: a sender cannot know whether a message it was
// cut off in was delivered).
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	var claimID [12]byte
	if _, err := io.ReadFull(crand.Reader, claimID[:]); err != nil {
		return 0, err
	}
	claim := hex.EncodeToString(claimID[:])
	now := s.now().UTC()
	msgs, err := s.store.ClaimMessages(ctx, claim, now, now.Add(claimLease), batch)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for i, m := range msgs {
		if s.now().Add(sendTimeout).After(now.Add(claimLease)) {
			// A slow server: what is left of the batch could not be sent
			// within the claim, and another sender could take it over
			// meanwhile. Hand it back, to be sent at once by whoever claims it.
			for _, rest := range msgs[i:] {
				if _, err := s.store.FinishMessage(ctx, rest.ID, claim, Outcome{State: Pending, NextAttemptAt: s.now().UTC(),
					Error: "not attempted: the batch ran out of time", At: s.now().UTC()}); err != nil {
					errs = append(errs, err)
				}
			}
			break
		}
		o := s.attempt(ctx, m)
		if ctx.Err() != nil {
			return sent, ctx.Err() // leave the claim to run out; another pass sends it
		}
		o.At = s.now().UTC()
		if _, err := s.store.FinishMessage(ctx, m.ID, claim, o); err != nil {
			errs = append(errs, err)
			continue
		}
		switch o.State {
		case Sent:
			sent++
			s.stats.Sent.Add(1)
		case Dropped:
			s.stats.Dropped.Add(1)
		case Failed:
			s.stats.Failed.Add(1)
			s.logger.Error("a notification could not be delivered; giving up", "message", m.ID, "identity", m.Identity,
				"template", m.Template, "attempts", m.Attempts, "err", o.Error)
		case Pending:
			s.stats.Retried.Add(1)
			s.logger.Warn("a notification could not be delivered; will try again", "message", m.ID,
				"attempts", m.Attempts, "next_attempt_at", o.NextAttemptAt, "err", o.Error)
		}
	}
	return sent, errors.Join(errs...)
}

// attempt sends one message and says what came of it.
func (s *Service) attempt(ctx context.Context, m *Message) Outcome {
	addr, err := s.Email(ctx, m.Identity)
	if errors.Is(err, ErrNoAddress) {
		return Outcome{State: Dropped, Error: "the identity has no contact address any longer"}
	}
	if err == nil {
		var subject, body string
		if subject, body, err = Render(m.Template, m.Params); err == nil {
			sctx, cancel := context.WithTimeout(ctx, sendTimeout)
			err = s.sender.Send(sctx, Envelope{MessageID: m.ID, To: addr, Subject: subject, Body: body})
			cancel()
		}
	}
	if err == nil {
		return Outcome{State: Sent}
	}
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if m.Attempts >= MaxAttempts {
		return Outcome{State: Failed, Error: msg}
	}
	return Outcome{State: Pending, NextAttemptAt: s.now().UTC().Add(Backoff(m.Attempts)), Error: msg}
}

// Run delivers due messages every interval until ctx ends, logging what
// fails. It runs on its own, not with the other jobs, so that a slow mail
// server delays nothing else.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("sending notifications", "err", err)
			}
		}
	}
}
