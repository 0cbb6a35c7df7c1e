package store_test

import (
	"context"
	"testing"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// BenchmarkStatements measures the store's fixed costs on each engine: one
// read, one write transaction, and one with an audit event.
func BenchmarkStatements(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		env := storetest.Open(b, engine)
		ctx := context.Background()
		env.DB.SetSettingOnce(ctx, "bench", []byte("x"))
		b.Run(string(engine)+"/read", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := env.DB.Setting(ctx, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(engine)+"/write-tx", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := env.DB.CountInWindow(ctx, "bench", 1<<40, env.DB.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(engine)+"/audited-tx", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				err := env.DB.InTx(ctx, func(ctx context.Context) error {
					return env.DB.Record(ctx, audit.Event{Actor: "system", Action: "bench"})
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
