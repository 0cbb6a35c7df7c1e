package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ReserveAttempt counts an attempt against key before it is evaluated. It
// refuses (false, and when the lock ends) while key is locked; otherwise it
// counts the attempt, locks key for lockout if this attempt reaches limit, and
// allows it. A success must call [DB.ClearAttempts]. Because the count is
// taken before the evaluation, in one transaction holding the row, parallel
// attempts on any number of nodes get no more evaluations than limit.
func (db *DB) ReserveAttempt(ctx context.Context, key string, limit int, lockout time.Duration, now time.Time) (bool, time.Time, error) {
	var (
		allowed bool
		until   time.Time
	)
	err := db.InTx(ctx, func(ctx context.Context) error {
		tx := db.runner(db.txFrom(ctx))
		if _, err := tx.ExecContext(ctx, `INSERT INTO attempt_counters (key, failures, updated_at) VALUES ($1, 0, $2)
			ON CONFLICT (key) DO NOTHING`, key, now.UnixMicro()); err != nil {
			return err
		}
		var (
			failures int
			locked   sql.NullInt64
		)
		if err := tx.QueryRowContext(ctx, "SELECT failures, locked_until FROM attempt_counters WHERE key = $1"+db.forUpdate(),
			key).Scan(&failures, &locked); err != nil {
			return err
		}
		if locked.Valid {
			lockEnd := time.UnixMicro(locked.Int64)
			if now.Before(lockEnd) {
				allowed, until = false, lockEnd.UTC()
				return nil
			}
			failures = 0 // the lock has run out: a fresh start
		}
		failures++
		var lockUntil sql.NullInt64
		if failures >= limit {
			lockUntil = sql.NullInt64{Int64: now.Add(lockout).UnixMicro(), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE attempt_counters SET failures = $1, locked_until = $2, updated_at = $3 WHERE key = $4",
			failures, lockUntil, now.UnixMicro(), key); err != nil {
			return err
		}
		allowed = true
		return nil
	})
	if err != nil {
		return false, time.Time{}, db.wrap("reserving an attempt", err)
	}
	return allowed, until, nil
}

// ClearAttempts forgets the attempts against key (after a success).
func (db *DB) ClearAttempts(ctx context.Context, key string) error {
	if _, err := db.exec(ctx, "DELETE FROM attempt_counters WHERE key = $1", key); err != nil {
		return db.wrap("clearing attempts", err)
	}
	return nil
}

// LockedUntil returns when key's lock ends, or the zero time if it is not locked.
func (db *DB) LockedUntil(ctx context.Context, key string, now time.Time) (time.Time, error) {
	var locked sql.NullInt64
	err := db.q(ctx).QueryRowContext(ctx, "SELECT locked_until FROM attempt_counters WHERE key = $1", key).Scan(&locked)
	if errors.Is(err, sql.ErrNoRows) || !locked.Valid || !now.Before(time.UnixMicro(locked.Int64)) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, db.wrap("reading lock", err)
	}
	return time.UnixMicro(locked.Int64).UTC(), nil
}

// CountInWindow adds one to key's count in the fixed window of the given
// length that holds now, and returns the new count. It is one statement, so
// concurrent counts on any number of nodes are exact.
func (db *DB) CountInWindow(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	win := now.UnixMicro() / window.Microseconds()
	var n int64
	err := db.InTx(ctx, func(ctx context.Context) error {
		return db.runner(db.txFrom(ctx)).QueryRowContext(ctx, `INSERT INTO rate_counters (key, win, count, expires_at) VALUES ($1, $2, 1, $3)
			ON CONFLICT (key, win) DO UPDATE SET count = rate_counters.count + 1 RETURNING count`,
			key, win, (win+1)*window.Microseconds()).Scan(&n)
	})
	if err != nil {
		return 0, db.wrap("counting", err)
	}
	return n, nil
}

// UncountInWindow takes back one count of key in the window that holds at
// (an attempt counted beforehand that turned out not to be a failure). The
// count does not go below zero.
func (db *DB) UncountInWindow(ctx context.Context, key string, window time.Duration, at time.Time) error {
	_, err := db.exec(ctx, "UPDATE rate_counters SET count = count - 1 WHERE key = $1 AND win = $2 AND count > 0",
		key, at.UnixMicro()/window.Microseconds())
	if err != nil {
		return db.wrap("uncounting", err)
	}
	return nil
}

// PeekWindow returns key's count in the window holding now without adding to it.
func (db *DB) PeekWindow(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	var n int64
	err := db.q(ctx).QueryRowContext(ctx, "SELECT count FROM rate_counters WHERE key = $1 AND win = $2",
		key, now.UnixMicro()/window.Microseconds()).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, db.wrap("reading count", err)
	}
	return n, nil
}

// DeleteExpiredCounters removes rate windows that have ended and lockout
// counters untouched for a day.
func (db *DB) DeleteExpiredCounters(ctx context.Context, now time.Time) error {
	if _, err := db.exec(ctx, "DELETE FROM rate_counters WHERE expires_at < $1", now.UnixMicro()); err != nil {
		return db.wrap("deleting rate counters", err)
	}
	_, err := db.exec(ctx, `DELETE FROM attempt_counters WHERE updated_at < $1
		AND (locked_until IS NULL OR locked_until < $2)`, now.Add(-24*time.Hour).UnixMicro(), now.UnixMicro())
	if err != nil {
		return db.wrap("deleting attempt counters", err)
	}
	return nil
}
