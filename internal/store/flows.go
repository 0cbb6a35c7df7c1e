package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/nsis"
)

const flowColumns = `id, token_hash, client_id, client_name, level, reference_text, action_text, state, method, methods,
	user_key, identity_uuid, factors, approval_id, challenge, webauthn, error, levels, origin_ip, browser, auth_request, created_at,
	updated_at, expires_at, done_at, version`

func scanFlow(row interface{ Scan(...any) error }) (*authn.Flow, error) {
	var (
		f                                 authn.Flow
		level, state, method, methods, fs string
		levels                            string
		identity, approvalID              sql.NullString
		created, updated, expires         int64
		done                              sql.NullInt64
	)
	if err := row.Scan(&f.ID, &f.TokenHash, &f.ClientID, &f.ClientName, &level, &f.ReferenceText, &f.ActionText, &state,
		&method, &methods, &f.UserKey, &identity, &fs, &approvalID, &f.Challenge, &f.WebAuthn, &f.Error, &levels, &f.OriginIP,
		&f.Browser, &f.AuthRequest, &created, &updated, &expires, &done, &f.Version); err != nil {
		return nil, err
	}
	var err error
	if f.Level, err = nsis.Parse(level); err != nil {
		return nil, err
	}
	f.State, f.Method, f.Factors = authn.State(state), authn.Method(method), authn.DecodeFactors(fs)
	f.Methods = authn.DecodeMethods(methods)
	if f.LoA, f.IAL, f.AAL, err = authn.DecodeLevels(levels); err != nil {
		return nil, err
	}
	f.Identity, f.ApprovalID = identity.String, approvalID.String
	f.CreatedAt, f.UpdatedAt, f.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC(), time.UnixMicro(expires).UTC()
	if done.Valid {
		f.DoneAt = time.UnixMicro(done.Int64).UTC()
	}
	return &f, nil
}

// InsertFlow implements [authn.Store].
func (db *DB) InsertFlow(ctx context.Context, f *authn.Flow) error {
	f.Version = 1
	_, err := db.exec(ctx, "INSERT INTO login_flows ("+flowColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
		$24, $25, $26)`,
		f.ID, f.TokenHash, f.ClientID, f.ClientName, f.Level.String(), f.ReferenceText, f.ActionText, string(f.State),
		string(f.Method), authn.EncodeMethods(f.Methods), f.UserKey, nullString(f.Identity), authn.EncodeFactors(f.Factors),
		nullString(f.ApprovalID), f.Challenge, f.WebAuthn, f.Error, authn.EncodeLevels(f.LoA, f.IAL, f.AAL), f.OriginIP,
		f.Browser, f.AuthRequest,
		f.CreatedAt.UnixMicro(), f.UpdatedAt.UnixMicro(), f.ExpiresAt.UnixMicro(), nullTime(f.DoneAt), f.Version)
	if err != nil {
		return db.wrap("inserting login flow", err)
	}
	return nil
}

// Flow implements [authn.Store].
func (db *DB) Flow(ctx context.Context, id string) (*authn.Flow, error) {
	f, err := scanFlow(db.q(ctx).QueryRowContext(ctx, "SELECT "+flowColumns+" FROM login_flows WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, authn.ErrFlowNotFound
	}
	if err != nil {
		return nil, db.wrap("reading login flow", err)
	}
	return f, nil
}

// UpdateFlow implements [authn.Store].
func (db *DB) UpdateFlow(ctx context.Context, f *authn.Flow) error {
	res, err := db.exec(ctx, `UPDATE login_flows SET state = $1, method = $2, methods = $3, user_key = $4, identity_uuid = $5,
		factors = $6, approval_id = $7, challenge = $8, webauthn = $9, error = $10, auth_request = $11, updated_at = $12,
		done_at = $13, levels = $14, version = version + 1 WHERE id = $15 AND version = $16`,
		string(f.State), string(f.Method), authn.EncodeMethods(f.Methods), f.UserKey, nullString(f.Identity),
		authn.EncodeFactors(f.Factors), nullString(f.ApprovalID), f.Challenge, f.WebAuthn, f.Error, f.AuthRequest,
		f.UpdatedAt.UnixMicro(), nullTime(f.DoneAt), authn.EncodeLevels(f.LoA, f.IAL, f.AAL), f.ID, f.Version)
	if err != nil {
		return db.wrap("updating login flow", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return authn.ErrFlowChanged
	}
	f.Version++
	return nil
}

// DeleteOldFlows removes flows that ended or expired more than a day ago
// (their audit events remain).
func (db *DB) DeleteOldFlows(ctx context.Context, now time.Time) error {
	if _, err := db.exec(ctx, "DELETE FROM login_flows WHERE expires_at < $1", now.Add(-24*time.Hour).UnixMicro()); err != nil {
		return db.wrap("deleting old flows", err)
	}
	return nil
}

// InsertFraudReport implements [authn.Store].
func (db *DB) InsertFraudReport(ctx context.Context, r authn.FraudReport) error {
	_, err := db.exec(ctx, `INSERT INTO fraud_reports (id, identity_uuid, approval_id, flow_id, client_id, origin_ip, browser, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.ID, r.Identity, r.ApprovalID, r.FlowID, r.ClientID, r.OriginIP, r.Browser,
		r.CreatedAt.UnixMicro())
	if err != nil {
		return db.wrap("inserting fraud report", err)
	}
	return nil
}

// FraudReports returns the identity's fraud reports, newest first.
func (db *DB) FraudReports(ctx context.Context, identityUUID string) ([]authn.FraudReport, error) {
	rows, err := db.q(ctx).QueryContext(ctx, `SELECT id, identity_uuid, approval_id, flow_id, client_id, origin_ip, browser, created_at
		FROM fraud_reports WHERE identity_uuid = $1 ORDER BY created_at DESC`, identityUUID)
	if err != nil {
		return nil, db.wrap("reading fraud reports", err)
	}
	defer rows.Close()
	var out []authn.FraudReport
	for rows.Next() {
		var (
			r  authn.FraudReport
			at int64
		)
		if err := rows.Scan(&r.ID, &r.Identity, &r.ApprovalID, &r.FlowID, &r.ClientID, &r.OriginIP, &r.Browser, &at); err != nil {
			return nil, db.wrap("reading fraud reports", err)
		}
		r.CreatedAt = time.UnixMicro(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
