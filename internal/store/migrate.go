package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

func (db *DB) provider(ctx context.Context) (*goose.Provider, error) {
	dir := "migrations/sqlite"
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.cfg.Engine == Postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		// Nodes starting together take turns. The lock is per schema, so that
		// databases in separate schemas of one server (tests) do not wait on
		// each other.
		var schema string
		if err := db.w.QueryRowContext(ctx, "SELECT current_database() || '.' || current_schema()").Scan(&schema); err != nil {
			return nil, db.wrap("migrate", err)
		}
		h := fnv.New64a()
		h.Write([]byte("openmitid migrations " + schema))
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(int64(h.Sum64()>>1)),
			lock.WithLockTimeout(1, 300),
		)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.w, fsys, opts...)
}

// Migrate brings the schema up to date. It is safe to run from several nodes
// at once on PostgreSQL (they take turns under an advisory lock).
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate %s: %s", db.cfg.Redacted(), db.describe(err))
	}
	db.ready.Store(true)
	return nil
}

// ErrNotMigrated is returned by [DB.Ready] while migrations are pending.
var ErrNotMigrated = errors.New("store: the database schema is not up to date")

// Ready reports whether the database answers and its schema is up to date.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.Ping(ctx); err != nil {
		return db.wrap("ping", err)
	}
	if db.ready.Load() {
		return nil
	}
	p, err := db.provider(ctx)
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return db.wrap("checking migrations", err)
	}
	if pending {
		return ErrNotMigrated
	}
	db.ready.Store(true)
	return nil
}

// SchemaVersion returns the applied and the newest known schema versions.
func (db *DB) SchemaVersion(ctx context.Context) (current, target int64, err error) {
	p, err := db.provider(ctx)
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}
