package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// TestClientCache: a client changed or removed through the same handle is
// seen at once; one changed by another process (a second handle here, as
// `openmitid admin clients` would be) within a second; a transaction always
// reads the database.
func TestClientCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		c := &oidc.Client{ID: "skat", Name: "Skat", AuthMethod: zoidc.AuthMethodBasic, SecretHash: oidc.HashSecret("s"), RedirectURIs: []string{"https://skat.example/cb"}, Scopes: []string{"openid"},
			MinLevel: nsis.Substantial, IDTokenAlg: "ES256", CreatedAt: t0, UpdatedAt: t0}
		if err := db.InsertClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := db.Client(ctx, "skat")
		if err != nil || got.Name != "Skat" {
			t.Fatalf("read: %+v, %v", got, err)
		}
		got.Name = "changed by a caller" // the cache hands out copies
		if again, _ := db.Client(ctx, "skat"); again.Name != "Skat" {
			t.Fatalf("a caller's change reached the cache: %q", again.Name)
		}
		// Through this handle: at once.
		c.Name = "Skattestyrelsen"
		if err := db.UpdateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Client(ctx, "skat"); got.Name != "Skattestyrelsen" {
			t.Fatalf("after an update through the handle: %q", got.Name)
		}
		// Through another handle: within a second.
		other, err := store.Open(ctx, env.DSN, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		c.Name = "Skat II"
		if err := other.UpdateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		// Inside a transaction the database answers.
		if err := db.InTx(ctx, func(ctx context.Context) error {
			got, err := db.Client(ctx, "skat")
			if err != nil || got.Name != "Skat II" {
				t.Errorf("in a transaction: %+v, %v", got, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			got, _ := db.Client(ctx, "skat")
			if got.Name == "Skat II" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("another process's change not seen after 2 s: %q", got.Name)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := other.DeleteClient(ctx, "skat"); err != nil {
			t.Fatal(err)
		}
		for {
			_, err := db.Client(ctx, "skat")
			if errors.Is(err, oidc.ErrNotFound) {
				break
			}
			if time.Now().After(deadline.Add(time.Second)) {
				t.Fatalf("another process's removal not seen: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// Removed through this handle: at once, and unknown ids are not kept.
		if err := db.InsertClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		db.Client(ctx, "skat")
		if err := db.DeleteClient(ctx, "skat"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Client(ctx, "skat"); !errors.Is(err, oidc.ErrNotFound) {
			t.Fatalf("after a removal through the handle: %v", err)
		}
	})
}
