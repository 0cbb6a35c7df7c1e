package authn

import (
	"context"
	"sync"
)

// addrGate lets each client address have one password evaluation under way
// at a time on this node; the address's other attempts wait their turn. The
// hasher computes only as many argon2id hashes at once as there are cores and
// serves the rest in order of arrival, so without the gate an attacker who
// sends many guesses at once from one address fills that line and every
// honest person's password waits behind all of them. With it, an address
// holds at most one place in the line, however many guesses it sends:
// honest users wait behind one hash per attacking address, not behind every
// guess. (Guesses are limited in number by the per-address and per-user-ID
// limits; this limits how many of them are computed at once.)
type addrGate struct {
	mu    sync.Mutex
	lines map[string]*gateLine
}

type gateLine struct {
	turn chan struct{} // holds a token while the address's evaluation runs
	n    int           // attempts holding or waiting for the turn
}

// enter waits for addr's turn, or until ctx ends; on success the caller must
// call the returned leave once done.
func (g *addrGate) enter(ctx context.Context, addr string) (leave func(), err error) {
	g.mu.Lock()
	if g.lines == nil {
		g.lines = map[string]*gateLine{}
	}
	l := g.lines[addr]
	if l == nil {
		l = &gateLine{turn: make(chan struct{}, 1)}
		g.lines[addr] = l
	}
	l.n++
	g.mu.Unlock()
	select {
	case l.turn <- struct{}{}:
		return func() { <-l.turn; g.done(addr, l) }, nil
	case <-ctx.Done():
		g.done(addr, l)
		return nil, ctx.Err()
	}
}

func (g *addrGate) done(addr string, l *gateLine) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l.n--; l.n == 0 {
		delete(g.lines, addr)
	}
}

// size returns how many addresses have an attempt under way or waiting.
func (g *addrGate) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.lines)
}
