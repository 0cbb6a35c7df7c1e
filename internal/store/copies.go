package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/app"
)

const copyColumns = `id, secret_hash, token_hash, user_id_key, public_key, device_name, state, identity_uuid, device_id,
	approved_by, origin_ip, created_at, expires_at, approved_at`

// InsertCopySession implements [app.CopyStore].
func (db *DB) InsertCopySession(ctx context.Context, c *app.CopySession) error {
	_, err := db.exec(ctx, "INSERT INTO copy_sessions ("+copyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.SecretHash, c.TokenHash, c.UserIDKey, c.PublicKey, c.DeviceName, string(c.State), nullString(c.Identity),
		nullString(c.DeviceID), nullString(c.ApprovedBy), c.OriginIP, c.CreatedAt.UnixMicro(), c.ExpiresAt.UnixMicro(), nullTime(c.ApprovedAt))
	if err != nil {
		return db.wrap("inserting copy session", err)
	}
	return nil
}

// CopySession implements [app.CopyStore].
func (db *DB) CopySession(ctx context.Context, id string) (*app.CopySession, error) {
	var (
		c                         app.CopySession
		state                     string
		ident, device, approvedBy sql.NullString
		created, expires          int64
		approved                  sql.NullInt64
	)
	err := db.q(ctx).QueryRowContext(ctx, "SELECT "+copyColumns+" FROM copy_sessions WHERE id = $1"+db.forUpdateInTx(ctx), id).Scan(
		&c.ID, &c.SecretHash, &c.TokenHash, &c.UserIDKey, &c.PublicKey, &c.DeviceName, &state, &ident, &device, &approvedBy,
		&c.OriginIP, &created, &expires, &approved)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.ErrCopyNotFound
	}
	if err != nil {
		return nil, db.wrap("reading copy session", err)
	}
	c.State, c.Identity, c.DeviceID, c.ApprovedBy = app.CopyState(state), ident.String, device.String, approvedBy.String
	c.CreatedAt, c.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	if approved.Valid {
		c.ApprovedAt = time.UnixMicro(approved.Int64).UTC()
	}
	return &c, nil
}

// ApproveCopySession implements [app.CopyStore].
func (db *DB) ApproveCopySession(ctx context.Context, c *app.CopySession) error {
	res, err := db.exec(ctx, `UPDATE copy_sessions SET state = 'approved', identity_uuid = $1, device_id = $2, approved_by = $3,
		approved_at = $4 WHERE id = $5 AND state = 'pending'`, c.Identity, c.DeviceID, c.ApprovedBy, c.ApprovedAt.UnixMicro(), c.ID)
	if err != nil {
		return db.wrap("approving copy session", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return app.ErrCopyUsed
	}
	return nil
}

// LockIdentity implements [app.Store] and [proofing.Store]: a row lock on PostgreSQL; SQLite's
// one writer needs none.
func (db *DB) LockIdentity(ctx context.Context, identityUUID string) error {
	if db.cfg.Engine != Postgres {
		return nil
	}
	var one int
	err := db.q(ctx).QueryRowContext(ctx, "SELECT 1 FROM identities WHERE uuid = $1"+db.forUpdateInTx(ctx), identityUUID).Scan(&one)
	if err != nil {
		return db.wrap("locking identity", err)
	}
	return nil
}

// DeleteOldCopySessions removes copy sessions that expired more than a day
// before now; approved ones are kept with the audit log's story in the
// authenticators and events they made.
func (db *DB) DeleteOldCopySessions(ctx context.Context, now time.Time) error {
	_, err := db.exec(ctx, "DELETE FROM copy_sessions WHERE state = 'pending' AND expires_at < $1", now.Add(-24*time.Hour).UnixMicro())
	if err != nil {
		return db.wrap("deleting old copy sessions", err)
	}
	return nil
}
