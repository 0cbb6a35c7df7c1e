// Package audit defines the audit log: an append-only record of every
// security-relevant act (who, what, which identity, from where, when).
//
// Events are kept in a fixed number of hash chains. Each entry holds the MAC of
// the entry before it in its chain, and each chain's head (its last sequence
// number and MAC) is stored apart from the entries, so that an altered, removed,
// reordered or inserted entry, and a removed tail, are detected by [Verify].
// The MAC is HMAC-SHA256 under a key kept sealed by the key-encryption key, so
// that someone who can write to the database but does not hold the KEK cannot
// recompute a chain after changing it; a plain hash would let them.
//
// Why several chains: one chain serialises every audited write of every node on
// one row lock. Each transaction appends all its events to one chain, chosen by
// the identity it concerns, so one person's history stays in order in one chain
// while unrelated writes proceed in parallel.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"hash/fnv"
	"slices"
	"time"
)

// Chains is the number of hash chains (fixed by the schema's migration).
const Chains = 16

// MACSize is the length of an entry's MAC.
const MACSize = sha256.Size

// An Event is one security-relevant act. The fields before Chain are the
// caller's; the log fills the rest when the event is written.
type Event struct {
	ID       string            // a UUID, made by the log when empty
	At       time.Time         // when; the log's clock when zero
	Actor    string            // who acted: "identity:<uuid>", "operator:<id>", "client:<id>", "system", "anonymous"
	Action   string            // what happened, as "noun.verb": "identity.created", "login.failed"
	Identity string            // the identity the act concerns (UUID), if any
	IP       string            // where from; taken from the request context when empty
	Details  map[string]string // anything else worth keeping; never secrets

	Chain int    // which chain the event is in
	Seq   int64  // its position in the chain, from 1
	Prev  []byte // MAC of the entry before it (zero bytes for the first)
	MAC   []byte // HMAC-SHA256 over Prev and the event's canonical encoding
}

// ChainFor returns the chain for a transaction whose first event concerns
// identity; events about no identity spread over the chains by id.
func ChainFor(identity, id string) int {
	key := identity
	if key == "" {
		key = id
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % Chains)
}

// Canonical returns the bytes the MAC covers: every field, each length-prefixed
// so that no two different events encode alike, with Details in key order.
func (e *Event) Canonical() []byte {
	b := make([]byte, 0, 256)
	b = append(b, 1) // encoding version
	b = binary.BigEndian.AppendUint32(b, uint32(e.Chain))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = appendBytes(b, e.Prev)
	b = appendString(b, e.ID)
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMicro()))
	b = appendString(b, e.Actor)
	b = appendString(b, e.Action)
	b = appendString(b, e.Identity)
	b = appendString(b, e.IP)
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, e.Details[k])
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// A Sealer computes entry MACs under the audit key.
type Sealer struct {
	key []byte
}

// NewSealer returns a Sealer for key (at least 32 bytes).
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) < 32 {
		return nil, errors.New("audit: MAC key shorter than 32 bytes")
	}
	return &Sealer{key: slices.Clone(key)}, nil
}

// Seal sets e.Prev and e.MAC for an event placed at seq in chain after an entry
// whose MAC was prev.
func (s *Sealer) Seal(e *Event, chain int, seq int64, prev []byte) {
	e.Chain, e.Seq, e.Prev = chain, seq, slices.Clone(prev)
	e.MAC = s.mac(e)
}

func (s *Sealer) mac(e *Event) []byte {
	var m hash.Hash = hmac.New(sha256.New, s.key)
	m.Write(e.Canonical())
	return m.Sum(nil)
}

// Valid reports whether e's MAC is right for its contents and Prev.
func (s *Sealer) Valid(e *Event) bool {
	return hmac.Equal(e.MAC, s.mac(e))
}

// A Log records events. It is implemented by internal/store, which writes the
// events of a transaction when that transaction commits, so that a state change
// and its audit event are kept or lost together.
type Log interface {
	// Record adds e to the transaction in ctx. It fails if ctx carries no
	// transaction: an audit event is never written on its own.
	Record(ctx context.Context, e Event) error
}

// ErrNoTransaction is returned by [Log.Record] outside a transaction.
var ErrNoTransaction = errors.New("audit: event recorded outside a transaction")

type originKey struct{}

// Origin is where a request came from, carried in the context so that events
// recorded deep in the domain still say where the act came from.
type Origin struct {
	IP        string
	UserAgent string
}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin in ctx, if any.
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// Actors, as events name them.
const (
	ActorSystem    = "system"
	ActorAnonymous = "anonymous"
)

// ActorIdentity names a person acting with their identity.
func ActorIdentity(identityUUID string) string { return "identity:" + identityUUID }

// ActorOperator names a caseworker or support agent.
func ActorOperator(operator string) string { return "operator:" + operator }

// ActorClient names a service provider.
func ActorClient(clientID string) string { return "client:" + clientID }
