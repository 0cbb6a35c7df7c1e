package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyChannel names the PostgreSQL channel of the nodes on schema.
// PostgreSQL delivers a notification to every listener of the database,
// whatever its schema, so deployments that share a database (or tests that
// share a server) would otherwise wake one another's waiters and count one
// another's notifications.
func notifyChannel(schema string) string {
	if schema == "" || schema == "public" {
		return "openmitid"
	}
	c := "openmitid." + schema
	if len(c) >= 64 { // PostgreSQL's limit on a channel name (NAMEDATALEN)
		sum := sha256.Sum256([]byte(schema))
		c = "openmitid." + hex.EncodeToString(sum[:8])
	}
	return c
}

// hub fans notifications out to the waiters of this process.
type hub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}

	received atomic.Uint64 // notifications that reached this process
	wakeups  atomic.Uint64 // waiters they woke
}

func (h *hub) subscribe(topic string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[string]map[chan struct{}]struct{}{}
	}
	if h.subs[topic] == nil {
		h.subs[topic] = map[chan struct{}]struct{}{}
	}
	h.subs[topic][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[topic], ch)
		if len(h.subs[topic]) == 0 {
			delete(h.subs, topic)
		}
		h.mu.Unlock()
	}
}

// wakeAll wakes every waiter, whatever its topic: after the listener
// reconnects, for the notifications sent while it was away.
func (h *hub) wakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, subs := range h.subs {
		for ch := range subs {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

func (h *hub) publish(topic string) {
	h.received.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[topic] {
		select {
		case ch <- struct{}{}:
			h.wakeups.Add(1)
		default: // already woken; one wake-up is enough
		}
	}
}

// Subscribe returns a channel that receives a value when topic is notified on
// any node, and a function that ends the subscription. Waiters must also
// re-check now and then: a notification sent while a node's listener was
// reconnecting is lost.
func (db *DB) Subscribe(topic string) (<-chan struct{}, func()) {
	return db.hub.subscribe(topic)
}

// Notify wakes the waiters on topic on every node once the transaction in ctx
// commits (at once outside a transaction). On PostgreSQL it is a NOTIFY in the
// transaction, which PostgreSQL delivers at commit, and never for a rollback.
func (db *DB) Notify(ctx context.Context, topic string) error {
	if db.cfg.Engine != Postgres {
		db.AfterCommit(ctx, func() { db.hub.publish(topic) })
		return nil
	}
	if _, err := db.exec(ctx, "SELECT pg_notify($1, $2)", db.channel, topic); err != nil {
		return db.wrap("notifying", err)
	}
	return nil
}

// listenBackoff bounds the pause between the listener's attempts to
// reconnect. While it is away, waiters on this node learn of changes only by
// their 2-second re-check, so it retries about as often; an attempt against a
// server that is down costs a refused connection.
const listenBackoff = time.Second

// Listen receives the notifications of all nodes until ctx ends (PostgreSQL;
// on SQLite there is only this process and it returns at once). It reconnects
// after a failure, backing off from 100 ms up to [listenBackoff], and from
// 100 ms again once it was connected.
func (db *DB) Listen(ctx context.Context) {
	if db.cfg.Engine != Postgres {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := db.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = 100 * time.Millisecond
		}
		db.log.Warn("notification listener lost its connection; reconnecting", "err", db.describe(err), "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenBackoff)
	}
}

// listenOnce listens on one connection until it fails, and says whether it
// got as far as listening.
func (db *DB) listenOnce(ctx context.Context) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, db.cfg.URL)
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return false, err
	}
	db.listening.Store(true)
	defer db.listening.Store(false)
	// What was notified while no listener was connected is lost: let every
	// waiter look now rather than at its next re-check.
	db.hub.wakeAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		db.hub.publish(n.Payload)
	}
}

// Listening reports whether the PostgreSQL listener is connected (always true on SQLite).
func (db *DB) Listening() bool {
	return db.cfg.Engine != Postgres || db.listening.Load()
}

// NotificationStats counts what this process's waiters were told.
type NotificationStats struct {
	// Received is the notifications that reached this process: from the
	// PostgreSQL listener (every node's, this one's included), or published in
	// process on SQLite.
	Received uint64
	// Wakeups is the waiters (long polls, event streams) they woke. A waiter
	// that wakes by its periodic re-check instead is not counted, so on a node
	// whose listener works this grows with the answers its waiters get.
	Wakeups uint64
}

// NotificationStats returns the counts since the database was opened.
func (db *DB) NotificationStats() NotificationStats {
	return NotificationStats{Received: db.hub.received.Load(), Wakeups: db.hub.wakeups.Load()}
}
