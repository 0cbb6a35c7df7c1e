package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/oidc"
)

const clientColumns = `id, name, secret_hash, auth_method, jwks, redirect_uris, post_logout_redirect_uris,
	backchannel_logout_uri, application_type, loopback_any_port, scopes, cpr_allowed, pcode_allowed, min_level,
	id_token_alg, subject_type, created_at, updated_at`

func scanClient(row interface{ Scan(...any) error }) (*oidc.Client, error) {
	var (
		c                               oidc.Client
		method, redirects, postLogout   string
		appType, scopes, level, subject string
		loopback, cprAllowed, pcode     int
		created, updated                int64
	)
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &method, &c.JWKS, &redirects, &postLogout, &c.BackchannelLogoutURI,
		&appType, &loopback, &scopes, &cprAllowed, &pcode, &level, &c.IDTokenAlg, &subject, &created, &updated); err != nil {
		return nil, err
	}
	c.AuthMethod = zoidc.AuthMethod(method)
	if err := json.Unmarshal([]byte(redirects), &c.RedirectURIs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(postLogout), &c.PostLogoutRedirectURIs); err != nil {
		return nil, err
	}
	c.Native, c.Scopes = appType == "native", strings.Fields(scopes)
	c.CPRAllowed, c.PCodeAllowed, c.PublicSubject = cprAllowed == 1, pcode == 1, subject == "public"
	var err error
	if c.MinLevel, err = nsis.Parse(level); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return &c, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// InsertClient implements [oidc.Store].
func (db *DB) InsertClient(ctx context.Context, c *oidc.Client) error {
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
	_, err := db.exec(ctx, "INSERT INTO oidc_clients ("+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		c.ID, c.Name, c.SecretHash, string(c.AuthMethod), c.JWKS, string(redirects), string(postLogout), c.BackchannelLogoutURI,
		appType, boolInt(c.Native), strings.Join(c.Scopes, " "), boolInt(c.CPRAllowed), boolInt(c.PCodeAllowed),
		c.MinLevel.String(), c.IDTokenAlg, subject, c.CreatedAt.UnixMicro(), c.UpdatedAt.UnixMicro())
	if uniqueViolation(err) != "" {
		return oidc.ErrClientExists
	}
	if err != nil {
		return db.wrap("inserting client", err)
	}
	return nil
}

// Client implements [oidc.Store].
// Outside a transaction it may answer from memory, with what the database
// held at most [clientTTL] ago.
func (db *DB) Client(ctx context.Context, id string) (*oidc.Client, error) {
	inTx := db.txFrom(ctx) != nil
	read := time.Now()
	if !inTx {
		if c := db.clients.get(id, read); c != nil {
			return c, nil
		}
	}
	c, err := scanClient(db.q(ctx).QueryRowContext(ctx, "SELECT "+clientColumns+" FROM oidc_clients WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, db.wrap("reading client", err)
	}
	if !inTx {
		db.clients.put(c, read)
	}
	return c, nil
}

// Clients implements [oidc.Store].
func (db *DB) Clients(ctx context.Context) ([]*oidc.Client, error) {
	rows, err := db.q(ctx).QueryContext(ctx, "SELECT "+clientColumns+" FROM oidc_clients ORDER BY id")
	if err != nil {
		return nil, db.wrap("reading clients", err)
	}
	defer rows.Close()
	var out []*oidc.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, db.wrap("reading clients", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteClient implements [oidc.Store].
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	db.forgetClient(ctx, id)
	defer db.forgetClient(ctx, id)
	res, err := db.exec(ctx, "DELETE FROM oidc_clients WHERE id = $1", id)
	if err != nil {
		return db.wrap("deleting client", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return oidc.ErrNotFound
	}
	return nil
}

const authRequestColumns = "id, client_id, request, level, flow_id, identity_uuid, result, created_at, expires_at"

func scanAuthRequest(row interface{ Scan(...any) error }) (*oidc.AuthRequest, error) {
	var (
		a                      oidc.AuthRequest
		request, level, result string
		created, expires       int64
	)
	if err := row.Scan(&a.ID, &a.ClientID, &request, &level, &a.FlowID, &a.Identity, &result, &created, &expires); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(request), &a.Request); err != nil {
		return nil, err
	}
	var err error
	if a.Level, err = nsis.Parse(level); err != nil {
		return nil, err
	}
	if result != "" {
		a.Result = &oidc.LoginResult{}
		if err := json.Unmarshal([]byte(result), a.Result); err != nil {
			return nil, err
		}
	}
	a.CreatedAt, a.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	return &a, nil
}

// InsertAuthRequest implements [oidc.Store].
func (db *DB) InsertAuthRequest(ctx context.Context, a *oidc.AuthRequest) error {
	req, err := json.Marshal(a.Request)
	if err != nil {
		return err
	}
	_, err = db.exec(ctx, `INSERT INTO oidc_auth_requests (id, client_id, request, level, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.ID, a.ClientID, string(req), a.Level.String(), a.CreatedAt.UnixMicro(), a.ExpiresAt.UnixMicro())
	if err != nil {
		return db.wrap("inserting authorization request", err)
	}
	return nil
}

// AuthRequest implements [oidc.Store].
func (db *DB) AuthRequest(ctx context.Context, id string) (*oidc.AuthRequest, error) {
	a, err := scanAuthRequest(db.q(ctx).QueryRowContext(ctx, "SELECT "+authRequestColumns+" FROM oidc_auth_requests WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, db.wrap("reading authorization request", err)
	}
	return a, nil
}

// BeginAuthRequest implements [oidc.Store].
func (db *DB) BeginAuthRequest(ctx context.Context, id, flowID string) error {
	res, err := db.exec(ctx, "UPDATE oidc_auth_requests SET flow_id = $1 WHERE id = $2 AND flow_id = ''", flowID, id)
	if err != nil {
		return db.wrap("beginning authorization request", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return oidc.ErrAlreadyBegun
	}
	return nil
}

// SetAuthRequestResult implements [oidc.Store].
func (db *DB) SetAuthRequestResult(ctx context.Context, id, identity string, r oidc.LoginResult) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	res, err := db.exec(ctx, "UPDATE oidc_auth_requests SET identity_uuid = $1, result = $2 WHERE id = $3 AND result = ''",
		identity, string(b), id)
	if err != nil {
		return db.wrap("finishing authorization request", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return oidc.ErrAlreadyBegun
	}
	return nil
}

// ReplaceAuthCode implements [oidc.Store]: only a finished request whose
// code has not been redeemed gets another, and the one before stops working.
func (db *DB) ReplaceAuthCode(ctx context.Context, id string, codeHash []byte) error {
	res, err := db.exec(ctx, "UPDATE oidc_auth_requests SET code_hash = $1 WHERE id = $2 AND code_hash IS NOT NULL AND code_used = 0 AND result <> ''",
		codeHash, id)
	if err != nil {
		return db.wrap("replacing code", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return oidc.ErrCodeUsed
	}
	return nil
}

// SaveAuthCode implements [oidc.Store].
func (db *DB) SaveAuthCode(ctx context.Context, id string, codeHash []byte) error {
	res, err := db.exec(ctx, "UPDATE oidc_auth_requests SET code_hash = $1 WHERE id = $2 AND code_hash IS NULL", codeHash, id)
	if err != nil {
		return db.wrap("saving code", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return oidc.ErrCodeUsed // a second code for one request: refused
	}
	return nil
}

// ConsumeAuthCode implements [oidc.Store]: the request of an unused code is
// removed and returned by one statement, so two exchanges racing with one
// code cannot both get it, and nothing is left for the token endpoint's
// clean-up to delete (one commit fewer per login).
func (db *DB) ConsumeAuthCode(ctx context.Context, codeHash []byte) (*oidc.AuthRequest, error) {
	var a *oidc.AuthRequest
	err := db.InTx(ctx, func(ctx context.Context) error {
		var err error
		a, err = scanAuthRequest(db.runner(db.txFrom(ctx)).QueryRowContext(ctx,
			"DELETE FROM oidc_auth_requests WHERE code_hash = $1 AND code_used = 0 RETURNING "+authRequestColumns, codeHash))
		if errors.Is(err, sql.ErrNoRows) {
			return oidc.ErrCodeUsed
		}
		return err
	})
	if errors.Is(err, oidc.ErrCodeUsed) {
		return nil, err
	}
	if err != nil {
		return nil, db.wrap("consuming code", err)
	}
	return a, nil
}

// DeleteAuthRequest implements [oidc.Store].
func (db *DB) DeleteAuthRequest(ctx context.Context, id string) error {
	if _, err := db.exec(ctx, "DELETE FROM oidc_auth_requests WHERE id = $1", id); err != nil {
		return db.wrap("deleting authorization request", err)
	}
	return nil
}

const tokenColumns = "id, client_id, identity_uuid, subject, scopes, audience, auth_request, result, cpr_tries, created_at, expires_at, revoked_at"

func scanToken(row interface{ Scan(...any) error }) (*oidc.Token, error) {
	var (
		t                        oidc.Token
		scopes, audience, result string
		created, expires         int64
		revoked                  sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.ClientID, &t.Identity, &t.Subject, &scopes, &audience, &t.AuthRequest, &result,
		&t.CPRTries, &created, &expires, &revoked); err != nil {
		return nil, err
	}
	t.Scopes, t.Audience = strings.Fields(scopes), strings.Fields(audience)
	if err := json.Unmarshal([]byte(result), &t.Result); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	if revoked.Valid {
		t.RevokedAt = time.UnixMicro(revoked.Int64).UTC()
	}
	return &t, nil
}

// InsertToken implements [oidc.Store].
func (db *DB) InsertToken(ctx context.Context, t *oidc.Token) error {
	result, err := json.Marshal(t.Result)
	if err != nil {
		return err
	}
	_, err = db.exec(ctx, "INSERT INTO oidc_tokens ("+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)`,
		t.ID, t.ClientID, t.Identity, t.Subject, strings.Join(t.Scopes, " "), strings.Join(t.Audience, " "), t.AuthRequest,
		string(result), t.CPRTries, t.CreatedAt.UnixMicro(), t.ExpiresAt.UnixMicro())
	if err != nil {
		return db.wrap("inserting token", err)
	}
	return nil
}

// Token implements [oidc.Store].
func (db *DB) Token(ctx context.Context, id string) (*oidc.Token, error) {
	t, err := scanToken(db.q(ctx).QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM oidc_tokens WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, db.wrap("reading token", err)
	}
	return t, nil
}

// RevokeToken implements [oidc.Store].
func (db *DB) RevokeToken(ctx context.Context, id string, now time.Time) error {
	if _, err := db.exec(ctx, "UPDATE oidc_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", now.UnixMicro(), id); err != nil {
		return db.wrap("revoking token", err)
	}
	return nil
}

// RevokeTokensOf implements [oidc.Store].
func (db *DB) RevokeTokensOf(ctx context.Context, identity, clientID string, now time.Time) ([]*oidc.Token, error) {
	var out []*oidc.Token
	err := db.InTx(ctx, func(ctx context.Context) error {
		tx := db.runner(db.txFrom(ctx))
		rows, err := tx.QueryContext(ctx, "SELECT "+tokenColumns+` FROM oidc_tokens
			WHERE identity_uuid = $1 AND ($2 = '' OR client_id = $2) AND revoked_at IS NULL AND expires_at > $3`,
			identity, clientID, now.UnixMicro())
		if err != nil {
			return err
		}
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE oidc_tokens SET revoked_at = $1
			WHERE identity_uuid = $2 AND ($3 = '' OR client_id = $3) AND revoked_at IS NULL`, now.UnixMicro(), identity, clientID)
		return err
	})
	if err != nil {
		return nil, db.wrap("revoking tokens", err)
	}
	return out, nil
}

// CountCPRTry implements [oidc.Store].
func (db *DB) CountCPRTry(ctx context.Context, tokenID string, max int) (int, error) {
	var n int
	err := db.InTx(ctx, func(ctx context.Context) error {
		tx := db.runner(db.txFrom(ctx))
		res, err := tx.ExecContext(ctx, "UPDATE oidc_tokens SET cpr_tries = cpr_tries + 1 WHERE id = $1 AND cpr_tries < $2", tokenID, max)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return oidc.ErrTooManyTries
		}
		return tx.QueryRowContext(ctx, "SELECT cpr_tries FROM oidc_tokens WHERE id = $1", tokenID).Scan(&n)
	})
	if errors.Is(err, oidc.ErrTooManyTries) {
		return max, err
	}
	if err != nil {
		return 0, db.wrap("counting CPR match", err)
	}
	return n, nil
}

// InsertPAR implements [oidc.Store].
func (db *DB) InsertPAR(ctx context.Context, p oidc.PAR) error {
	if _, err := db.exec(ctx, "INSERT INTO oidc_par (id, client_id, params, expires_at) VALUES ($1, $2, $3, $4)",
		p.ID, p.ClientID, p.Params, p.ExpiresAt.UnixMicro()); err != nil {
		return db.wrap("inserting pushed request", err)
	}
	return nil
}

// UsePAR implements [oidc.Store].
func (db *DB) UsePAR(ctx context.Context, id, clientID string, now time.Time) (string, error) {
	var params string
	err := db.InTx(ctx, func(ctx context.Context) error {
		tx := db.runner(db.txFrom(ctx))
		res, err := tx.ExecContext(ctx, `UPDATE oidc_par SET used_at = $1
			WHERE id = $2 AND client_id = $3 AND used_at IS NULL AND expires_at > $1`, now.UnixMicro(), id, clientID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return oidc.ErrPARUsed
		}
		return tx.QueryRowContext(ctx, "SELECT params FROM oidc_par WHERE id = $1", id).Scan(&params)
	})
	if errors.Is(err, oidc.ErrPARUsed) {
		return "", err
	}
	if err != nil {
		return "", db.wrap("using pushed request", err)
	}
	return params, nil
}

// InsertLogoutDelivery implements [oidc.Store].
func (db *DB) InsertLogoutDelivery(ctx context.Context, d oidc.LogoutDelivery) error {
	_, err := db.exec(ctx, `INSERT INTO logout_deliveries (id, client_id, uri, logout_token, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, d.ID, d.ClientID, d.URI, d.LogoutToken, d.NextAttemptAt.UnixMicro(), d.CreatedAt.UnixMicro())
	if err != nil {
		return db.wrap("queueing logout", err)
	}
	return nil
}

// DueLogoutDeliveries implements [oidc.Store].
func (db *DB) DueLogoutDeliveries(ctx context.Context, now time.Time, limit int) ([]oidc.LogoutDelivery, error) {
	rows, err := db.q(ctx).QueryContext(ctx, `SELECT id, client_id, uri, logout_token, attempts, next_attempt_at, created_at
		FROM logout_deliveries WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2`,
		now.UnixMicro(), limit)
	if err != nil {
		return nil, db.wrap("reading logouts", err)
	}
	defer rows.Close()
	var out []oidc.LogoutDelivery
	for rows.Next() {
		var (
			d             oidc.LogoutDelivery
			next, created int64
		)
		if err := rows.Scan(&d.ID, &d.ClientID, &d.URI, &d.LogoutToken, &d.Attempts, &next, &created); err != nil {
			return nil, db.wrap("reading logouts", err)
		}
		d.NextAttemptAt, d.CreatedAt = time.UnixMicro(next).UTC(), time.UnixMicro(created).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// FinishLogoutDelivery implements [oidc.Store].
func (db *DB) FinishLogoutDelivery(ctx context.Context, id string, delivered bool, next time.Time, errText string) error {
	var err error
	if delivered {
		_, err = db.exec(ctx, "UPDATE logout_deliveries SET delivered_at = $1, attempts = attempts + 1, last_error = '' WHERE id = $2",
			next.UnixMicro(), id)
	} else {
		_, err = db.exec(ctx, "UPDATE logout_deliveries SET next_attempt_at = $1, attempts = attempts + 1, last_error = $2 WHERE id = $3",
			next.UnixMicro(), errText, id)
	}
	if err != nil {
		return db.wrap("recording logout delivery", err)
	}
	return nil
}

// DeleteExpiredOIDC removes authorization requests, tokens and pushed requests
// that expired more than a day ago.
func (db *DB) DeleteExpiredOIDC(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-24 * time.Hour).UnixMicro()
	for _, q := range []string{
		"DELETE FROM oidc_auth_requests WHERE expires_at < $1",
		"DELETE FROM oidc_tokens WHERE expires_at < $1",
		"DELETE FROM oidc_par WHERE expires_at < $1",
		"DELETE FROM logout_deliveries WHERE created_at < $1 AND (delivered_at IS NOT NULL OR attempts >= 10)",
	} {
		if _, err := db.exec(ctx, q, cutoff); err != nil {
			return db.wrap("deleting expired", err)
		}
	}
	return nil
}

// IdentityOfSubject implements [oidc.Store].
func (db *DB) IdentityOfSubject(ctx context.Context, subject, clientID string) (string, error) {
	var id string
	err := db.q(ctx).QueryRowContext(ctx, "SELECT identity_uuid FROM oidc_tokens WHERE subject = $1 AND client_id = $2 LIMIT 1",
		subject, clientID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", oidc.ErrNotFound
	}
	if err != nil {
		return "", db.wrap("reading subject", err)
	}
	return id, nil
}
