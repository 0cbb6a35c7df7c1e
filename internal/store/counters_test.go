package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/store/storetest"
)

// TestWindowCounts: counts are per fixed window; taking one back lowers the
// window it was counted in, never below zero.
func TestWindowCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		db, ctx := env.DB, context.Background()
		const window = 10 * time.Minute
		at := time.Unix(1_800_000_000, 0).Truncate(window).Add(time.Minute)
		for want := int64(1); want <= 3; want++ {
			if n, err := db.CountInWindow(ctx, "k", window, at); err != nil || n != want {
				t.Fatalf("count %d: %d, %v", want, n, err)
			}
		}
		if err := db.UncountInWindow(ctx, "k", window, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.PeekWindow(ctx, "k", window, at); n != 2 {
			t.Fatalf("after taking one back: %d, want 2", n)
		}
		// The next window is apart, and taking back from it changes nothing.
		if err := db.UncountInWindow(ctx, "k", window, at.Add(window)); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.PeekWindow(ctx, "k", window, at.Add(window)); n != 0 {
			t.Fatalf("the next window: %d", n)
		}
		for range 5 {
			if err := db.UncountInWindow(ctx, "k", window, at); err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := db.PeekWindow(ctx, "k", window, at); n != 0 {
			t.Fatalf("taken back below zero: %d", n)
		}
	})
}
