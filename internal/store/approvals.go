package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
)

const approvalColumns = `id, identity_uuid, flow_id, kind, request, binding_code, state, device_id, binding, bind_failures,
	signature, created_at, expires_at, answered_at`

func scanApproval(row interface{ Scan(...any) error }) (*approval.Approval, error) {
	var (
		a                approval.Approval
		identity, device sql.NullString
		kind, state      string
		created, expires int64
		answered         sql.NullInt64
	)
	if err := row.Scan(&a.ID, &identity, &a.FlowID, &kind, &a.Request, &a.BindingCode, &state, &device, &a.Binding,
		&a.BindFailures, &a.Signature, &created, &expires, &answered); err != nil {
		return nil, err
	}
	a.Identity, a.DeviceID, a.Kind, a.State = identity.String, device.String, approval.Kind(kind), approval.State(state)
	a.CreatedAt, a.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	if answered.Valid {
		a.AnsweredAt = time.UnixMicro(answered.Int64).UTC()
	}
	return &a, nil
}

// InsertApproval implements [approval.Store].
func (db *DB) InsertApproval(ctx context.Context, a *approval.Approval) error {
	_, err := db.exec(ctx, "INSERT INTO approvals ("+approvalColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		a.ID, nullString(a.Identity), a.FlowID, string(a.Kind), a.Request, a.BindingCode, string(a.State), nullString(a.DeviceID),
		a.Binding, a.BindFailures, a.Signature, a.CreatedAt.UnixMicro(), a.ExpiresAt.UnixMicro(), nullTime(a.AnsweredAt))
	if uniqueViolation(err) != "" {
		return approval.ErrOpenExists
	}
	if err != nil {
		return db.wrap("inserting approval", err)
	}
	return nil
}

// Approval implements [approval.Store].
func (db *DB) Approval(ctx context.Context, id string) (*approval.Approval, error) {
	a, err := scanApproval(db.q(ctx).QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE id = $1"+db.forUpdateInTx(ctx), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, approval.ErrNotFound
	}
	if err != nil {
		return nil, db.wrap("reading approval", err)
	}
	return a, nil
}

// OpenApproval implements [approval.Store].
func (db *DB) OpenApproval(ctx context.Context, identity string) (*approval.Approval, error) {
	a, err := scanApproval(db.q(ctx).QueryRowContext(ctx, "SELECT "+approvalColumns+
		" FROM approvals WHERE identity_uuid = $1 AND state IN ('pending', 'bound')"+db.forUpdateInTx(ctx), identity))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, approval.ErrNotFound
	}
	if err != nil {
		return nil, db.wrap("reading approval", err)
	}
	return a, nil
}

// UpdateApproval implements [approval.Store].
func (db *DB) UpdateApproval(ctx context.Context, a *approval.Approval, from approval.State) error {
	res, err := db.exec(ctx, `UPDATE approvals SET state = $1, device_id = $2, binding = $3, bind_failures = $4,
		signature = $5, answered_at = $6 WHERE id = $7 AND state = $8`,
		string(a.State), nullString(a.DeviceID), a.Binding, a.BindFailures, a.Signature, nullTime(a.AnsweredAt), a.ID, string(from))
	if err != nil {
		return db.wrap("updating approval", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return approval.ErrConflict
	}
	return nil
}

// DueApprovals implements [approval.Store].
func (db *DB) DueApprovals(ctx context.Context, now time.Time, limit int) ([]*approval.Approval, error) {
	rows, err := db.q(ctx).QueryContext(ctx, "SELECT "+approvalColumns+
		" FROM approvals WHERE state IN ('pending', 'bound') AND expires_at <= $1 ORDER BY expires_at LIMIT $2", now.UnixMicro(), limit)
	if err != nil {
		return nil, db.wrap("reading approvals", err)
	}
	defer rows.Close()
	var out []*approval.Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, db.wrap("reading approvals", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// forUpdateInTx locks the row read for the rest of the transaction on
// PostgreSQL, when there is a write transaction; plain reads take no lock.
func (db *DB) forUpdateInTx(ctx context.Context) string {
	if st := db.txFrom(ctx); st != nil && !st.readOnly {
		return db.forUpdate()
	}
	return ""
}
