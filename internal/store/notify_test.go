package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/store"
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
		ch, unsubscribe := db.Subscribe("flow:a")
		defer unsubscribe()
		go db.Listen(ctx)
		deadline := time.Now().Add(10 * time.Second)
		for !db.Listening() {
			if time.Now().After(deadline) {
				t.Fatal("the listener did not connect")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if env.DB.Engine() == store.Postgres {
			// Connecting wakes every waiter: what was notified before
			// it listened is lost to it.
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
				t.Fatal("the listener's connection woke no waiter")
			}
		}
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
		// Only this schema's notifications: other tests notify on other
		// schemas of the same server meanwhile.
		after := db.NotificationStats()
		if got := after.Received - before.Received; got != 2 {
			t.Errorf("received %d notifications, want 2 (one without waiters)", got)
		}
		if got := after.Wakeups - before.Wakeups; got != 1 {
			t.Errorf("%d wake-ups, want 1", got)
		}
	})
}

// TestNotifyStaysInItsSchema: nodes on another schema of the same PostgreSQL
// database hear nothing of this one's notifications.
func TestNotifyStaysInItsSchema(t *testing.T) {
	here, there := storetest.Open(t, store.Postgres), storetest.Open(t, store.Postgres)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go there.DB.Listen(ctx)
	for deadline := time.Now().Add(10 * time.Second); !there.DB.Listening(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the listener did not connect")
		}
	}
	ch, unsubscribe := there.DB.Subscribe("flow:shared-name")
	defer unsubscribe()
	for len(ch) > 0 { // the connection's own wake-up
		<-ch
	}
	before := there.DB.NotificationStats()
	if err := here.DB.Notify(ctx, "flow:shared-name"); err != nil {
		t.Fatal(err)
	}
	if err := there.DB.Notify(ctx, "flow:its-own"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for there.DB.NotificationStats().Received == before.Received && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := there.DB.NotificationStats().Received - before.Received; got != 1 {
		t.Errorf("the other schema's node received %d notifications, want only its own", got)
	}
	select {
	case <-ch:
		t.Error("a notification of another schema woke a waiter")
	default:
	}
}
