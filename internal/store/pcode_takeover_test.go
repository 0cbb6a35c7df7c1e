package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// TestPCodeTakeoverRace: a passport whose holder was revoked is claimed by
// several enrolments at once, each inserting its identity in the claim's
// transaction, as enrolment does; one wins.
func TestPCodeTakeoverRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		old := &identity.Identity{UUID: "old", UserID: "old", State: identity.Active, IAL: nsis.Substantial,
			PCode: "90000000", Restrictions: identity.PCodeOnly, CreatedAt: t0, UpdatedAt: t0}
		if err := db.InsertIdentity(ctx, old); err != nil {
			t.Fatal(err)
		}
		if err := db.ClaimPCodeDocument(ctx, "UKR", "FE1", "old", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := rawDB(t, env).ExecContext(ctx, "UPDATE identities SET state = 'revoked' WHERE uuid = 'old'"); err != nil {
			t.Fatal(err)
		}
		// Each commit waits a little, so that the claims overlap.
		db.SetBeforeCommitHook(func() { time.Sleep(30 * time.Millisecond) })
		defer db.SetBeforeCommitHook(nil)
		errs := make(chan error, 4)
		for i := range 4 {
			go func() {
				errs <- db.InTx(ctx, func(ctx context.Context) error {
					u := fmt.Sprintf("new-%d", i)
					id := &identity.Identity{UUID: u, UserID: u, State: identity.Active, IAL: nsis.Substantial,
						PCode: fmt.Sprintf("8000000%d", i), Restrictions: identity.PCodeOnly, CreatedAt: t0, UpdatedAt: t0}
					if err := db.InsertIdentity(ctx, id); err != nil {
						return err
					}
					return db.ClaimPCodeDocument(ctx, "UKR", "FE1", u, t0)
				})
			}()
		}
		won := 0
		for range 4 {
			err := <-errs
			switch {
			case err == nil:
				won++
			case !errors.Is(err, identity.ErrAlreadyEnrolled):
				t.Errorf("claim: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d takeovers won", won)
		}
		if h, err := db.PCodeHolder(ctx, "UKR", "FE1"); err != nil || h == "old" || h == "" {
			t.Fatalf("holder %q, %v", h, err)
		}
	})
}
