package pki_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRotationOverlap(t *testing.T) {
	policy := pki.RotationPolicy{Period: 10 * 24 * time.Hour, Lead: 24 * time.Hour, Retain: 48 * time.Hour}
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		start := clock.Now()
		// Two nodes on one database: one rotates, both sign.
		a, err := pki.NewKeySet(pki.KeySetConfig{Store: env.DB, Keys: env.Keys, Policy: policy, Log: env.DB, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pki.NewKeySet(pki.KeySetConfig{Store: env.DB, Keys: env.Keys, Policy: policy, Log: env.DB, Now: clock.Now})
		if _, err := a.Signer(ctx, pki.ES256); err == nil {
			t.Fatal("a signer before the first rotation")
		}
		const step = 2 * time.Hour
		type span struct{ first, last time.Time }
		signed := map[string]*span{}          // kid → when it signed
		published := map[time.Time][]string{} // step → kids in the JWKS
		for now := start; now.Before(start.Add(40 * 24 * time.Hour)); now = now.Add(step) {
			clock.t = now
			if err := a.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			pub, err := b.Published(ctx)
			if err != nil {
				t.Fatal(err)
			}
			perAlg := map[string]int{}
			for _, k := range pub {
				published[now] = append(published[now], k.KID)
				perAlg[k.Alg]++
				if k.Private != nil {
					t.Fatal("Published returned a private key")
				}
			}
			for _, alg := range pki.SigningAlgs {
				if perAlg[alg] < 1 || perAlg[alg] > 3 {
					t.Fatalf("%v: %d %s keys published", now, perAlg[alg], alg)
				}
				ka, err := a.Signer(ctx, alg)
				if err != nil {
					t.Fatal(err)
				}
				kb, err := b.Signer(ctx, alg)
				if err != nil || kb.KID != ka.KID {
					t.Fatalf("%v: nodes disagree on the %s signer: %s, %s (%v)", now, alg, ka.KID, kb.KID, err)
				}
				if ka.Private == nil || ka.Alg != alg {
					t.Fatalf("signer %+v", ka)
				}
				if s := signed[ka.KID]; s == nil {
					signed[ka.KID] = &span{now, now}
				} else {
					s.last = now
				}
			}
		}
		if len(signed) < 2*4 {
			t.Fatalf("%d keys signed in 40 days; want at least 4 per algorithm", len(signed))
		}
		contains := func(kids []string, kid string) bool {
			for _, k := range kids {
				if k == kid {
					return true
				}
			}
			return false
		}
		for kid, s := range signed {
			// Published from Lead before its first signature (the very first
			// keys from the start) until Retain after its last.
			from := s.first.Add(-policy.Lead)
			if s.first.Equal(start) {
				from = start
			}
			for at, kids := range published {
				if !at.Before(from) && at.Before(s.last.Add(policy.Retain)) && !contains(kids, kid) {
					t.Errorf("key %s (signed %v–%v) missing from the JWKS at %v", kid, s.first, s.last, at)
				}
			}
		}
		keys, err := env.DB.SigningKeys(ctx)
		if err != nil || len(keys) > 6 {
			t.Fatalf("%d keys kept after 40 days; old keys are not deleted", len(keys))
		}
		// Every key made and deleted is in the audit log, and the log is intact.
		rep, err := env.DB.VerifyAudit(ctx, env.Sealer)
		if err != nil || !rep.OK() || rep.Entries < int64(len(signed)+len(signed)-len(keys)) {
			t.Fatalf("audit: %+v, %v; want an intact entry per key made and deleted", rep, err)
		}
	})
}

func TestRotationConcurrentNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ks, _ := pki.NewKeySet(pki.KeySetConfig{Store: env.DB, Keys: env.Keys, Policy: pki.DefaultRotation, Log: env.DB, Now: clock.Now})
				if err := ks.Rotate(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		keys, err := env.DB.SigningKeys(ctx)
		if err != nil || len(keys) != 2 {
			t.Fatalf("4 nodes starting at once made %d keys (%v); want one per algorithm", len(keys), err)
		}
	})
}

func TestSigningKeysSealed(t *testing.T) {
	env := storetest.Open(t, "sqlite")
	ctx := context.Background()
	ks, _ := pki.NewKeySet(pki.KeySetConfig{Store: env.DB, Keys: env.Keys, Policy: pki.DefaultRotation, Log: env.DB})
	if err := ks.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	other, _ := pki.NewKEK(nil)
	stranger, _ := pki.NewKeySet(pki.KeySetConfig{Store: env.DB, Keys: pki.NewKeyring(other), Policy: pki.DefaultRotation, Log: env.DB})
	if _, err := stranger.Signer(ctx, pki.RS256); err == nil {
		t.Fatal("signing keys opened without the KEK")
	}
}
