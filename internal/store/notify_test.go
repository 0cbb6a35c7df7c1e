package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/store/storetest"
)

// TestNotify: a notification sent in a transaction wakes the topic's waiters
// once the transaction commits, never for a rolled-back one, and the counts
// that /metrics shows follow.
func TestNotify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		db := env.DB
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go db.Listen(ctx)
		deadline := time.Now().Add(10 * time.Second)
		for !db.Listening() {
			if time.Now().After(deadline) {
				t.Fatal("the listener did not connect")
			}
			time.Sleep(10 * time.Millisecond)
		}
		ch, unsubscribe := db.Subscribe("flow:a")
		defer unsubscribe()
		before := db.NotificationStats()

		errRollback := errors.New("roll back")
		if err := db.InTx(ctx, func(ctx context.Context) error {
			if err := db.Notify(ctx, "flow:a"); err != nil {
				return err
			}
			return errRollback
		}); !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(ctx context.Context) error { return db.Notify(ctx, "flow:nobody") }); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(ctx context.Context) error { return db.Notify(ctx, "flow:a") }); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("the committed notification did not arrive")
		}
		// Notifications arrive in commit order, so both committed ones are
		// counted by now and the rolled-back one never will be.
		select {
		case <-ch:
			t.Fatal("woken twice: the rolled-back notification arrived")
		case <-time.After(200 * time.Millisecond):
		}
		after := db.NotificationStats()
		if got := after.Received - before.Received; got != 2 {
			t.Errorf("received %d notifications, want 2 (one without waiters)", got)
		}
		if got := after.Wakeups - before.Wakeups; got != 1 {
			t.Errorf("%d wake-ups, want 1", got)
		}
	})
}
