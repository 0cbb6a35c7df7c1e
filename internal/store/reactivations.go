package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// InsertReactivation implements [proofing.ReactivationStore].
func (db *DB) InsertReactivation(ctx context.Context, caseID string, now time.Time) error {
	if _, err := db.exec(ctx, "INSERT INTO reactivations (case_id, created_at) VALUES ($1, $2)", caseID, now.UnixMicro()); err != nil {
		return db.wrap("inserting reactivation", err)
	}
	return nil
}

// Reactivation implements [proofing.ReactivationStore].
func (db *DB) Reactivation(ctx context.Context, caseID string) (identityUUID string, ok bool, err error) {
	var id sql.NullString
	err = db.q(ctx).QueryRowContext(ctx, "SELECT identity_uuid FROM reactivations WHERE case_id = $1", caseID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, db.wrap("reading reactivation", err)
	}
	return id.String, true, nil
}

// SetReactivationIdentity implements [proofing.ReactivationStore].
func (db *DB) SetReactivationIdentity(ctx context.Context, caseID, identityUUID string) error {
	if _, err := db.exec(ctx, "UPDATE reactivations SET identity_uuid = $1 WHERE case_id = $2", nullString(identityUUID), caseID); err != nil {
		return db.wrap("recording the reactivated identity", err)
	}
	return nil
}
