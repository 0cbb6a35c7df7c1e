// Package store keeps the platform's state in an embedded SQLite database (the
// default) or in PostgreSQL (for many stateless nodes), with the same schema in
// two dialects and the same Go code over database/sql.
//
// Domain packages define the small interfaces they need; *DB implements them.
// A state change and its audit events are one transaction: [DB.InTx] runs a
// function with the transaction in its context, the domain records audit
// events through [DB.Record], and the events are sealed into the audit chain
// just before the commit, so both are kept or both are lost.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/openmitid/openmitid/internal/audit"
)

// Options tune [Open].
type Options struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives warnings (slog.Default when nil).
	Logger *slog.Logger
	// MaxConns bounds the PostgreSQL pool (20 when zero).
	MaxConns int
}

// DB is an open database.
type DB struct {
	cfg    Config
	w      *sql.DB // the writer: SQLite's single write connection; the pool on PostgreSQL
	r      *sql.DB // readers: query-only connections on SQLite; the same pool on PostgreSQL
	now    func() time.Time
	log    *slog.Logger
	sealer atomic.Pointer[audit.Sealer]
	ready  atomic.Bool

	beforeCommit atomic.Pointer[func()]

	hub       hub
	listening atomic.Bool
	channel   string // PostgreSQL's notification channel for this schema

	// Prepared statements by pool and SQL text (SQLite only: its driver would
	// parse every statement on every call; pgx caches its own).
	stmts sync.Map // stmtKey → *sql.Stmt

	clients clientCache
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// Open connects to the database named by dsn (see [ParseDSN]) and checks that
// it answers. It does not migrate; call [DB.Migrate].
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db := &DB{cfg: cfg, now: opts.Now, log: opts.Logger}
	if db.now == nil {
		db.now = time.Now
	}
	if db.log == nil {
		db.log = slog.Default()
	}
	switch cfg.Engine {
	case SQLite:
		err = db.openSQLite()
	case Postgres:
		err = db.openPostgres(opts.MaxConns)
	}
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.w.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: cannot reach the database at %s: %s", cfg.Redacted(), db.describe(err))
	}
	if cfg.Engine == Postgres {
		var schema sql.NullString
		if err := db.w.QueryRowContext(pctx, "SELECT current_schema()").Scan(&schema); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: reading the schema at %s: %s", cfg.Redacted(), db.describe(err))
		}
		db.channel = notifyChannel(schema.String)
	}
	return db, nil
}

func (db *DB) openSQLite() error {
	dir := filepath.Dir(db.cfg.Path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("store: the directory %q for the SQLite database does not exist", dir)
	}
	// WAL lets readers run beside the one writer; the busy timeout covers other
	// processes (openmitid migrate, audit verify) holding the write lock; every
	// write transaction starts IMMEDIATE so that two never deadlock upgrading
	// from read to write. Readers are query_only so a write can never take the
	// wrong pool.
	base := db.cfg.Path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(" + strings.ToUpper(db.cfg.Synchronous) + ")"
	var err error
	if db.w, err = sql.Open("sqlite", base+"&_txlock=immediate"); err != nil {
		return fmt.Errorf("store: opening %s: %w", db.cfg.Redacted(), err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	// Make the file and switch it to WAL through the writer before any reader
	// opens it read-only.
	if err := db.w.Ping(); err != nil {
		db.w.Close()
		return fmt.Errorf("store: opening %s: %s", db.cfg.Redacted(), db.describe(err))
	}
	if db.r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)"); err != nil {
		db.w.Close()
		return fmt.Errorf("store: opening %s: %w", db.cfg.Redacted(), err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	db.r.SetMaxOpenConns(n)
	db.r.SetMaxIdleConns(n)
	return nil
}

func (db *DB) openPostgres(maxConns int) error {
	if maxConns <= 0 {
		maxConns = 20
	}
	dsn := db.cfg.URL
	// Fail fast when the server is down rather than hang the request.
	if u, err := url.Parse(dsn); err == nil && u.Query().Get("connect_timeout") == "" {
		q := u.Query()
		q.Set("connect_timeout", "5")
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("store: opening %s: %w", db.cfg.Redacted(), err)
	}
	p.SetMaxOpenConns(maxConns)
	p.SetMaxIdleConns(maxConns)
	p.SetConnMaxIdleTime(5 * time.Minute)
	db.w, db.r = p, p
	return nil
}

// describe turns a driver error into a line for a person, without a password.
func (db *DB) describe(err error) string {
	s := err.Error()
	if db.cfg.Engine == Postgres {
		if u, perr := url.Parse(db.cfg.URL); perr == nil {
			s = redactErr(err, u)
		}
	}
	return s
}

// Engine returns the database engine.
func (db *DB) Engine() Engine { return db.cfg.Engine }

// Config returns the parsed database URL.
func (db *DB) Config() Config { return db.cfg }

// Redacted returns the database URL without its password.
func (db *DB) Redacted() string { return db.cfg.Redacted() }

// Now returns the store's clock reading, truncated to what is stored.
func (db *DB) Now() time.Time { return time.UnixMicro(db.now().UnixMicro()).UTC() }

// Close closes the connections.
func (db *DB) Close() error {
	db.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		db.stmts.Delete(k)
		return true
	})
	var err error
	if db.w != nil {
		err = db.w.Close()
	}
	if db.r != nil && db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// SetAuditSealer sets the key under which audit events are sealed. Until it is
// set, a transaction that recorded an event fails.
func (db *DB) SetAuditSealer(s *audit.Sealer) { db.sealer.Store(s) }

// SetBeforeCommitHook makes every write transaction call f after all its
// writes, audit events included, and just before its commit. It exists for
// crash tests, which stop a process there; nil removes it.
func (db *DB) SetBeforeCommitHook(f func()) {
	if f == nil {
		db.beforeCommit.Store(nil)
		return
	}
	db.beforeCommit.Store(&f)
}

// Ping checks that the database answers. It asks through a reader: on SQLite
// the one write connection may be a long transaction's, and the question is
// whether the database is there, not whether it is idle.
func (db *DB) Ping(ctx context.Context) error { return db.r.PingContext(ctx) }

type txKey struct{}

type txState struct {
	db       *DB
	tx       *sql.Tx
	readOnly bool
	events   []audit.Event
	after    []func()
}

func (db *DB) txFrom(ctx context.Context) *txState {
	st, _ := ctx.Value(txKey{}).(*txState)
	if st != nil && st.db == db {
		return st
	}
	return nil
}

// InTx runs fn in a write transaction whose context fn must use for every call
// into the store. Audit events recorded in it are sealed and written at the
// end. If fn returns an error, or the commit fails, nothing of it is kept. A
// call inside another InTx joins the outer transaction. A transaction that
// lost a serialization conflict or found the database busy is retried from
// the start, so fn must not act outside the database (use [DB.AfterCommit]).
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if st := db.txFrom(ctx); st != nil {
		if st.readOnly {
			return errors.New("store: write transaction inside a read-only one")
		}
		return fn(ctx)
	}
	const attempts = 8
	for attempt := 1; ; attempt++ {
		err := db.runTx(ctx, fn)
		if err == nil || !isRetryable(err) || attempt == attempts || ctx.Err() != nil {
			return err
		}
		// Jittered back-off so that the conflicting transactions do not meet again.
		d := time.Duration(attempt*attempt) * time.Millisecond
		t := time.NewTimer(d/2 + rand.N(d))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (db *DB) runTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap("begin", err)
	}
	st := &txState{db: db, tx: tx}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(context.WithValue(ctx, txKey{}, st)); err != nil {
		return err
	}
	if err = db.flushAudit(ctx, st); err != nil {
		return err
	}
	if hook := db.beforeCommit.Load(); hook != nil {
		(*hook)()
	}
	if err = tx.Commit(); err != nil {
		return db.wrap("commit", err)
	}
	for _, f := range st.after {
		f()
	}
	return nil
}

// ReadSnapshot runs fn in a read-only transaction that sees one consistent
// snapshot of the database (REPEATABLE READ on PostgreSQL; a read transaction
// in SQLite's WAL mode).
func (db *DB) ReadSnapshot(ctx context.Context, fn func(ctx context.Context) error) error {
	if st := db.txFrom(ctx); st != nil {
		return fn(ctx)
	}
	var opts *sql.TxOptions
	if db.cfg.Engine == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := db.r.BeginTx(ctx, opts)
	if err != nil {
		return db.wrap("begin", err)
	}
	defer tx.Rollback()
	return fn(context.WithValue(ctx, txKey{}, &txState{db: db, tx: tx, readOnly: true}))
}

// AfterCommit arranges for f to run once the transaction in ctx has committed
// (at once, outside a transaction). Use it for effects outside the database,
// such as waking a waiting request, that must not happen for a rolled-back or
// retried transaction.
func (db *DB) AfterCommit(ctx context.Context, f func()) {
	if st := db.txFrom(ctx); st != nil && !st.readOnly {
		st.after = append(st.after, f)
		return
	}
	f()
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q returns the transaction in ctx, or the reader pool.
func (db *DB) q(ctx context.Context) querier {
	if st := db.txFrom(ctx); st != nil {
		return db.runner(st)
	}
	if db.cfg.Engine == SQLite {
		return &cached{db: db, pool: db.r}
	}
	return db.r
}

// runner returns what runs statements in a transaction.
func (db *DB) runner(st *txState) querier {
	if db.cfg.Engine != SQLite {
		return st.tx
	}
	pool := db.w
	if st.readOnly {
		pool = db.r
	}
	return &cached{db: db, pool: pool, st: st}
}

// cached runs statements through prepared statements kept per pool, so SQLite
// parses each SQL text once per connection instead of on every call.
type cached struct {
	db   *DB
	pool *sql.DB
	st   *txState // the transaction, if any
}

// stmt returns the prepared statement for query, or nil when it must run
// unprepared this once. A statement not yet prepared is not prepared on the
// pool inside a transaction: that would wait for a connection, and on SQLite
// the one write connection is the transaction's own. It is prepared when the
// transaction has committed instead.
func (c *cached) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	key := stmtKey{c.pool, query}
	if v, ok := c.db.stmts.Load(key); ok {
		st := v.(*sql.Stmt)
		if c.st != nil {
			// Prepared once per connection and remembered by st, so this
			// reuses what was prepared on the transaction's connection.
			st = c.st.tx.StmtContext(ctx, st)
		}
		return st, nil
	}
	if c.st != nil {
		if !c.st.readOnly {
			c.st.after = append(c.st.after, func() { c.db.prepare(context.Background(), key) })
		}
		return nil, nil
	}
	return c.db.prepare(ctx, key)
}

func (db *DB) prepare(ctx context.Context, key stmtKey) (*sql.Stmt, error) {
	if v, ok := db.stmts.Load(key); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := key.pool.PrepareContext(ctx, key.query)
	if err != nil {
		return nil, err
	}
	if v, loaded := db.stmts.LoadOrStore(key, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

func (c *cached) direct() querier {
	if c.st != nil {
		return c.st.tx
	}
	return c.pool
}

func (c *cached) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.direct().ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (c *cached) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.direct().QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (c *cached) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil || st == nil {
		// Unprepared; on an error, the same query fails the same way and
		// the caller's Scan reports it (sql.Row carries errors only so).
		return c.direct().QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// exec runs a statement in the transaction in ctx, or in a transaction of its own.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.InTx(ctx, func(ctx context.Context) error {
		var err error
		res, err = db.runner(db.txFrom(ctx)).ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// forUpdate is the row-lock clause: PostgreSQL locks the row for the rest of
// the transaction; SQLite has one writer at a time and no such clause.
func (db *DB) forUpdate() string {
	if db.cfg.Engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func (db *DB) wrap(op string, err error) error {
	return fmt.Errorf("store: %s: %w", op, err)
}

// isRetryable reports whether a transaction failed only because it met another
// one, so that running it again may succeed.
func isRetryable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01" // serialization_failure, deadlock_detected
	}
	return false
}

// uniqueViolation returns "table.column" for an error that is a unique
// constraint's violation, and "" for any other error.
func uniqueViolation(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) {
		if se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && se.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return ""
		}
		// "UNIQUE constraint failed: identities.cpr_index (2067)"
		_, cols, _ := strings.Cut(se.Error(), "constraint failed: ")
		cols, _, _ = strings.Cut(cols, " (")
		return cols
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		// Detail: "Key (cpr_index)=(\x…) already exists."
		_, cols, _ := strings.Cut(pe.Detail, "Key (")
		cols, _, _ = strings.Cut(cols, ")=")
		return pe.TableName + "." + cols
	}
	return ""
}
