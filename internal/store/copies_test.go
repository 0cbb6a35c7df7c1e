package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

func TestCopySessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		db := env.DB
		id := &identity.Identity{UUID: "id-1", UserID: "anna", State: identity.Active, IAL: nsis.Substantial, PCode: "11111111",
			Restrictions: identity.PCodeOnly, CreatedAt: t0, UpdatedAt: t0}
		if err := db.InsertIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
		mk := func(cid string, expires time.Time) *app.CopySession {
			c := &app.CopySession{ID: cid, SecretHash: []byte("s" + cid), TokenHash: []byte("t" + cid), UserIDKey: "anna",
				PublicKey: []byte("key"), DeviceName: "Pixel", State: app.CopyPending, OriginIP: "192.0.2.1", CreatedAt: t0, ExpiresAt: expires}
			if err := db.InsertCopySession(ctx, c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		c := mk("c1", t0.Add(3*time.Minute))
		old := mk("c2", t0.Add(-48*time.Hour))
		got, err := db.CopySession(ctx, "c1")
		if err != nil || got.UserIDKey != "anna" || string(got.SecretHash) != "sc1" || !got.ExpiresAt.Equal(c.ExpiresAt) || got.State != app.CopyPending {
			t.Fatalf("read back: %+v, %v", got, err)
		}
		if _, err := db.CopySession(ctx, "nope"); !errors.Is(err, app.ErrCopyNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		c.State, c.Identity, c.DeviceID, c.ApprovedBy, c.ApprovedAt = app.CopyApproved, "id-1", "dev-2", "dev-1", t0.Add(time.Minute)
		if err := db.ApproveCopySession(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := db.ApproveCopySession(ctx, c); !errors.Is(err, app.ErrCopyUsed) {
			t.Fatalf("approved twice: %v", err)
		}
		if got, _ := db.CopySession(ctx, "c1"); got.State != app.CopyApproved || got.DeviceID != "dev-2" || got.Identity != "id-1" {
			t.Fatalf("after approval: %+v", got)
		}
		if err := db.DeleteOldCopySessions(ctx, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CopySession(ctx, old.ID); !errors.Is(err, app.ErrCopyNotFound) {
			t.Errorf("an old pending session survived: %v", err)
		}
		if _, err := db.CopySession(ctx, "c1"); err != nil {
			t.Errorf("the approved session was deleted: %v", err)
		}
	})
}

// TestInsertAuthenticatorWaitsForTheIdentity: on PostgreSQL adding an
// authenticator of any kind waits while another transaction holds the
// identity's lock ([store.DB.LockIdentity]: a reactivation, an app's
// activation): the foreign key's check takes a key-share lock on the
// identity's row, which FOR UPDATE excludes. So a reactivation sees a code
// display or chip added meanwhile, or comes wholly before it, without those
// taking the lock themselves (they check nothing of the identity first).
// SQLite's one writer serializes them anyway.
func TestInsertAuthenticatorWaitsForTheIdentity(t *testing.T) {
	env := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	db := env.DB
	id := &identity.Identity{UUID: "id-lock", UserID: "bent", State: identity.Active, IAL: nsis.Substantial, PCode: "22222222",
		Restrictions: identity.PCodeOnly, CreatedAt: t0, UpdatedAt: t0}
	if err := db.InsertIdentity(ctx, id); err != nil {
		t.Fatal(err)
	}
	locked, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- db.InTx(ctx, func(ctx context.Context) error {
			if err := db.LockIdentity(ctx, id.UUID); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	inserted := make(chan error, 1)
	go func() {
		inserted <- db.InsertAuthenticator(ctx, &authenticator.Authenticator{ID: "chip-1", Identity: id.UUID, Kind: authenticator.Chip,
			State: authenticator.Active, Name: "Chip", Level: nsis.Substantial, CredentialID: []byte("cred"), UsableFrom: t0,
			CreatedAt: t0, UpdatedAt: t0})
	}()
	select {
	case err := <-inserted:
		t.Fatalf("an authenticator was added while another transaction held the identity's lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := <-inserted; err != nil {
		t.Fatalf("the insert after the lock was released: %v", err)
	}
	if a, err := db.Authenticator(ctx, "chip-1"); err != nil || a.Identity != id.UUID {
		t.Fatalf("read back: %+v, %v", a, err)
	}
}
