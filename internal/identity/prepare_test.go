package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// TestPrepareThenInsert: Prepare writes nothing; Insert joins the caller's
// transaction, so a rollback leaves no identity and no user ID behind, and
// the P-code may change between the two (a collision retried).
func TestPrepareThenInsert(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		s := newService(t, env, cheap, newClock())
		id, err := s.Prepare(identity.New{UserID: "Ida.Holm", Password: "correct horse battery", CPR: mustCPR(t, "150392-4321"),
			IAL: nsis.Substantial, State: identity.Active})
		if err != nil {
			t.Fatal(err)
		}
		if id.UUID == "" || id.PasswordHash == "" || id.CPRSealed == nil || id.CPRIndex == nil {
			t.Fatalf("Prepare = %+v", id)
		}
		if _, err := s.ByUserID(ctx, "ida.holm"); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("after Prepare: %v", err)
		}
		rollback := errors.New("the case could not be written")
		err = env.DB.InTx(ctx, func(ctx context.Context) error {
			if err := s.Insert(ctx, id, audit.ActorSystem); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if _, err := s.ByUserID(ctx, "ida.holm"); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("after a rollback the user ID is held: %v", err)
		}
		if _, err := s.ByCPR(ctx, mustCPR(t, "150392-4321")); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("after a rollback the person has an identity: %v", err)
		}
		if err := s.Insert(ctx, id, audit.ActorSystem); err != nil {
			t.Fatal(err)
		}
		got, err := s.ByUserID(ctx, "IDA.HOLM")
		if err != nil || got.UUID != id.UUID || got.CPR != mustCPR(t, "150392-4321") {
			t.Fatalf("ByUserID = %+v, %v", got, err)
		}

		p, err := s.Prepare(identity.New{UserID: "gast.1234", PCode: "11111111", IAL: nsis.Substantial, State: identity.Active,
			Restrictions: identity.PCodeOnly})
		if err != nil {
			t.Fatal(err)
		}
		p.PCode = "22222222"
		if err := s.Insert(ctx, p, audit.ActorSystem); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ByPCode(ctx, "22222222"); err != nil || got.UUID != p.UUID {
			t.Fatalf("ByPCode = %+v, %v", got, err)
		}
		// Neither a CPR number nor a P-code: refused before anything is written.
		p2, _ := s.Prepare(identity.New{UserID: "gast.5678", PCode: "33333333", IAL: nsis.Substantial, State: identity.Active,
			Restrictions: identity.PCodeOnly})
		p2.PCode = ""
		if err := s.Insert(ctx, p2, audit.ActorSystem); err == nil {
			t.Fatal("Insert took an identity without CPR number or P-code")
		}
	})
}
