package store

import (
	"context"
	"sync"
	"time"

	"github.com/openmitid/openmitid/internal/oidc"
)

// clientTTL is how long a client read from the database is served from
// memory. A login reads its client about nine times (authorize, start, the
// flow's checks, the token endpoint's authentication and claims): a second is
// enough to turn those into one read under load, and short enough that a
// change made by another process (`openmitid admin clients …`, another node)
// is seen within it. Changes through this handle are seen at once.
const clientTTL = time.Second

// clientCache holds clients by id. Only clients that exist are kept, so its
// size is bounded by the clients registered, whatever ids are asked for.
type clientCache struct {
	mu sync.Mutex
	m  map[string]cachedClient
}

type cachedClient struct {
	c  *oidc.Client
	at time.Time
}

func (cc *clientCache) get(id string, now time.Time) *oidc.Client {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[id]
	if !ok || now.Sub(e.at) >= clientTTL || now.Before(e.at) {
		return nil
	}
	cp := *e.c
	return &cp
}

func (cc *clientCache) put(c *oidc.Client, at time.Time) {
	cp := *c
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil {
		cc.m = map[string]cachedClient{}
	}
	cc.m[c.ID] = cachedClient{c: &cp, at: at}
}

func (cc *clientCache) forget(id string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	delete(cc.m, id)
}

// forgetClient drops the client from the cache, and once more after the
// commit when called in a transaction. Writers call it before and after their
// write, so that a read racing the write keeps the old row for at most
// [clientTTL].
func (db *DB) forgetClient(ctx context.Context, id string) {
	db.clients.forget(id)
	db.AfterCommit(ctx, func() { db.clients.forget(id) })
}
