package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/internal/operator"
)

// InsertOperator implements [operator.Store].
func (db *DB) InsertOperator(ctx context.Context, o operator.Operator) error {
	_, err := db.exec(ctx, "INSERT INTO operators (identity_uuid, role, added_by, added_at) VALUES ($1, $2, $3, $4)",
		o.Identity, string(o.Role), o.AddedBy, o.AddedAt.UnixMicro())
	if uniqueViolation(err) != "" {
		return operator.ErrExists
	}
	if err != nil {
		return db.wrap("inserting operator", err)
	}
	return nil
}

func scanOperator(row interface{ Scan(...any) error }) (operator.Operator, error) {
	var (
		o     operator.Operator
		role  string
		added int64
	)
	if err := row.Scan(&o.Identity, &role, &o.AddedBy, &added); err != nil {
		return o, err
	}
	o.Role, o.AddedAt = operator.Role(role), time.UnixMicro(added).UTC()
	return o, nil
}

// Operator implements [operator.Store].
func (db *DB) Operator(ctx context.Context, identityUUID string) (operator.Operator, error) {
	o, err := scanOperator(db.q(ctx).QueryRowContext(ctx,
		"SELECT identity_uuid, role, added_by, added_at FROM operators WHERE identity_uuid = $1", identityUUID))
	if errors.Is(err, sql.ErrNoRows) {
		return o, operator.ErrNotFound
	}
	if err != nil {
		return o, db.wrap("reading operator", err)
	}
	return o, nil
}

// Operators implements [operator.Store].
func (db *DB) Operators(ctx context.Context) ([]operator.Operator, error) {
	rows, err := db.q(ctx).QueryContext(ctx, "SELECT identity_uuid, role, added_by, added_at FROM operators ORDER BY added_at, identity_uuid")
	if err != nil {
		return nil, db.wrap("reading operators", err)
	}
	defer rows.Close()
	var out []operator.Operator
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, db.wrap("reading operators", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// DeleteOperator implements [operator.Store].
func (db *DB) DeleteOperator(ctx context.Context, identityUUID string) error {
	if _, err := db.exec(ctx, "DELETE FROM operator_sessions WHERE operator = $1", identityUUID); err != nil {
		return db.wrap("deleting operator sessions", err)
	}
	res, err := db.exec(ctx, "DELETE FROM operators WHERE identity_uuid = $1", identityUUID)
	if err != nil {
		return db.wrap("deleting operator", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return operator.ErrNotFound
	}
	return nil
}

// InsertOperatorSession implements [operator.Store].
func (db *DB) InsertOperatorSession(ctx context.Context, s *operator.Session) error {
	_, err := db.exec(ctx, `INSERT INTO operator_sessions (id_hash, operator, login_state, login_nonce, login_pkce, level,
		created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.IDHash, nullString(s.Operator), s.LoginState, s.LoginNonce, s.LoginPKCE, s.Level,
		s.CreatedAt.UnixMicro(), s.LastSeenAt.UnixMicro(), s.ExpiresAt.UnixMicro())
	if err != nil {
		return db.wrap("inserting operator session", err)
	}
	return nil
}

// OperatorSession implements [operator.Store].
func (db *DB) OperatorSession(ctx context.Context, idHash []byte) (*operator.Session, error) {
	var (
		s                      operator.Session
		op                     sql.NullString
		created, seen, expires int64
	)
	err := db.q(ctx).QueryRowContext(ctx, `SELECT id_hash, operator, login_state, login_nonce, login_pkce, level,
		created_at, last_seen_at, expires_at FROM operator_sessions WHERE id_hash = $1`, idHash).Scan(
		&s.IDHash, &op, &s.LoginState, &s.LoginNonce, &s.LoginPKCE, &s.Level, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, operator.ErrNoSession
	}
	if err != nil {
		return nil, db.wrap("reading operator session", err)
	}
	s.Operator = op.String
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(seen).UTC(), time.UnixMicro(expires).UTC()
	return &s, nil
}

// TouchOperatorSession implements [operator.Store].
func (db *DB) TouchOperatorSession(ctx context.Context, idHash []byte, at time.Time) error {
	if _, err := db.exec(ctx, "UPDATE operator_sessions SET last_seen_at = $1 WHERE id_hash = $2", at.UnixMicro(), idHash); err != nil {
		return db.wrap("touching operator session", err)
	}
	return nil
}

// DeleteOperatorSession implements [operator.Store]: [operator.ErrNoSession]
// if there was none, so a login's answer is taken once.
func (db *DB) DeleteOperatorSession(ctx context.Context, idHash []byte) error {
	res, err := db.exec(ctx, "DELETE FROM operator_sessions WHERE id_hash = $1", idHash)
	if err != nil {
		return db.wrap("deleting operator session", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return operator.ErrNoSession
	}
	return nil
}

// DeleteExpiredOperatorSessions implements [operator.Store].
func (db *DB) DeleteExpiredOperatorSessions(ctx context.Context, now, idleBefore time.Time) error {
	if _, err := db.exec(ctx, "DELETE FROM operator_sessions WHERE expires_at <= $1 OR last_seen_at < $2",
		now.UnixMicro(), idleBefore.UnixMicro()); err != nil {
		return db.wrap("deleting expired operator sessions", err)
	}
	return nil
}

// UpdateClient writes every field of an existing client but its id and
// creation; [oidc.ErrNotFound] if there is none. The server keeps its own
// clients (the operator console's) current with it.
func (db *DB) UpdateClient(ctx context.Context, c *oidc.Client) error {
	redirects, _ := json.Marshal(c.RedirectURIs)
	postLogout, _ := json.Marshal(append([]string{}, c.PostLogoutRedirectURIs...))
	appType, subject := "web", "pairwise"
	if c.Native {
		appType = "native"
	}
	if c.PublicSubject {
		subject = "public"
	}
	db.forgetClient(ctx, c.ID)
	defer db.forgetClient(ctx, c.ID)
	res, err := db.exec(ctx, `UPDATE oidc_clients SET name = $1, secret_hash = $2, auth_method = $3, jwks = $4,
		redirect_uris = $5, post_logout_redirect_uris = $6, backchannel_logout_uri = $7, application_type = $8, loopback_any_port = $9,
		scopes = $10, cpr_allowed = $11, pcode_allowed = $12, min_level = $13, id_token_alg = $14, subject_type = $15,
		updated_at = $16 WHERE id = $17`,
		c.Name, c.SecretHash, string(c.AuthMethod), c.JWKS, string(redirects), string(postLogout), c.BackchannelLogoutURI,
		appType, boolInt(c.Native), strings.Join(c.Scopes, " "), boolInt(c.CPRAllowed), boolInt(c.PCodeAllowed),
		c.MinLevel.String(), c.IDTokenAlg, subject, c.UpdatedAt.UnixMicro(), c.ID)
	if err != nil {
		return db.wrap("updating client", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return oidc.ErrNotFound
	}
	return nil
}

// FindAuditEvents returns the newest events with the action (all when
// "") about the identity (all when ""), newest first, at most limit; for
// `openmitid audit list`.
func (db *DB) FindAuditEvents(ctx context.Context, action, identity string, limit int) ([]audit.Event, error) {
	rows, err := db.q(ctx).QueryContext(ctx, "SELECT "+auditColumns+` FROM audit_events
		WHERE ($1 = '' OR action = $1) AND ($2 = '' OR identity = $2) ORDER BY at DESC, chain, seq DESC LIMIT $3`,
		action, identity, limit)
	if err != nil {
		return nil, db.wrap("reading audit events", err)
	}
	defer rows.Close()
	var out []audit.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, db.wrap("reading audit event", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
