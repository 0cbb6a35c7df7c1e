package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
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
