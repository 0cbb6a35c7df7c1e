package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/nsis"
)

// InsertActivationCode implements [app.Store].
func (db *DB) InsertActivationCode(ctx context.Context, c app.ActivationCode) error {
	_, err := db.exec(ctx, `INSERT INTO activation_codes (code_hash, identity_uuid, level, purpose, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.Hash, c.Identity, c.Level.String(), c.Purpose, c.CreatedAt.UnixMicro(), c.ExpiresAt.UnixMicro())
	if err != nil {
		return db.wrap("inserting activation code", err)
	}
	return nil
}

// CancelActivationCodes implements [proofing.ReactivationStore]: the
// identity's codes not yet used expire now. It returns how many did.
func (db *DB) CancelActivationCodes(ctx context.Context, identityUUID string, now time.Time) (int, error) {
	res, err := db.exec(ctx, `UPDATE activation_codes SET expires_at = $1
		WHERE identity_uuid = $2 AND used_at IS NULL AND expires_at > $1`, now.UnixMicro(), identityUUID)
	if err != nil {
		return 0, db.wrap("cancelling activation codes", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// UseActivationCode implements [app.Store]: one conditional update, so a code
// is spent once even when two apps race with it.
func (db *DB) UseActivationCode(ctx context.Context, hash []byte, now time.Time) (app.ActivationCode, error) {
	var c app.ActivationCode
	err := db.InTx(ctx, func(ctx context.Context) error {
		tx := db.runner(db.txFrom(ctx))
		res, err := tx.ExecContext(ctx, `UPDATE activation_codes SET used_at = $1
			WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1`, now.UnixMicro(), hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return app.ErrInvalidCode
		}
		var level string
		var created, expires int64
		if err := tx.QueryRowContext(ctx, `SELECT identity_uuid, level, purpose, created_at, expires_at FROM activation_codes
			WHERE code_hash = $1`, hash).Scan(&c.Identity, &level, &c.Purpose, &created, &expires); err != nil {
			return err
		}
		c.Hash = hash
		c.CreatedAt, c.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
		c.Level, err = nsis.Parse(level)
		return err
	})
	if errors.Is(err, app.ErrInvalidCode) || errors.Is(err, sql.ErrNoRows) {
		return app.ActivationCode{}, app.ErrInvalidCode
	}
	if err != nil {
		return app.ActivationCode{}, db.wrap("using activation code", err)
	}
	return c, nil
}
