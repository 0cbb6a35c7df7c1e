package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
)

const identityColumns = "uuid, user_id, password_hash, state, ial, restrictions, cpr_index, cpr_sealed, pcode, created_at, updated_at, version"

// identityScan holds a row's identity columns while they are scanned.
type identityScan struct {
	id                identity.Identity
	hash, pcode       sql.NullString
	state, ial        string
	created, updated  int64
	restrictions      int64
	cprIndex, cprSeal []byte
}

// dest lists where the columns of identityColumns go, in order.
func (x *identityScan) dest() []any {
	return []any{&x.id.UUID, &x.id.UserID, &x.hash, &x.state, &x.ial, &x.restrictions, &x.cprIndex, &x.cprSeal,
		&x.pcode, &x.created, &x.updated, &x.id.Version}
}

func (x *identityScan) finish() (*identity.Identity, error) {
	id := x.id
	var err error
	if id.State, err = identity.ParseState(x.state); err != nil {
		return nil, err
	}
	if id.IAL, err = nsis.Parse(x.ial); err != nil {
		return nil, err
	}
	id.PasswordHash, id.PCode = x.hash.String, x.pcode.String
	id.Restrictions = identity.Restrictions(x.restrictions)
	id.CPRIndex, id.CPRSealed = x.cprIndex, x.cprSeal
	id.CreatedAt, id.UpdatedAt = time.UnixMicro(x.created).UTC(), time.UnixMicro(x.updated).UTC()
	return &id, nil
}

func scanIdentity(row interface{ Scan(...any) error }) (*identity.Identity, error) {
	var x identityScan
	if err := row.Scan(x.dest()...); err != nil {
		return nil, err
	}
	return x.finish()
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// InsertIdentity implements [identity.Store].
func (db *DB) InsertIdentity(ctx context.Context, id *identity.Identity) error {
	id.Version = 1
	_, err := db.exec(ctx, "INSERT INTO identities ("+identityColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		id.UUID, id.UserID, nullString(id.PasswordHash), string(id.State), id.IAL.String(), int64(id.Restrictions),
		id.CPRIndex, id.CPRSealed, nullString(id.PCode), id.CreatedAt.UnixMicro(), id.UpdatedAt.UnixMicro(), id.Version)
	switch col := uniqueViolation(err); {
	case col == "":
	case strings.Contains(col, "cpr_index"):
		return identity.ErrAlreadyEnrolled
	case strings.Contains(col, "pcode"):
		return identity.ErrPCodeTaken
	}
	if err != nil {
		return db.wrap("inserting identity", err)
	}
	return nil
}

// UpdateIdentity implements [identity.Store].
func (db *DB) UpdateIdentity(ctx context.Context, id *identity.Identity) error {
	res, err := db.exec(ctx, `UPDATE identities SET user_id = $1, password_hash = $2, state = $3, ial = $4,
		restrictions = $5, updated_at = $6, version = version + 1
		WHERE uuid = $7 AND version = $8`,
		id.UserID, nullString(id.PasswordHash), string(id.State), id.IAL.String(), int64(id.Restrictions),
		id.UpdatedAt.UnixMicro(), id.UUID, id.Version)
	if uniqueViolation(err) != "" {
		// Unblocking or un-revoking into a second live identity of one person.
		return identity.ErrAlreadyEnrolled
	}
	if err != nil {
		return db.wrap("updating identity", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return identity.ErrConflict
	}
	id.Version++
	return nil
}

func (db *DB) identityWhere(ctx context.Context, where string, arg any) (*identity.Identity, error) {
	row := db.q(ctx).QueryRowContext(ctx, "SELECT "+identityColumns+" FROM identities WHERE "+where, arg)
	id, err := scanIdentity(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, identity.ErrNotFound
	}
	if err != nil {
		return nil, db.wrap("reading identity", err)
	}
	return id, nil
}

// IdentityByUUID implements [identity.Store].
func (db *DB) IdentityByUUID(ctx context.Context, uuid string) (*identity.Identity, error) {
	return db.identityWhere(ctx, "uuid = $1", uuid)
}

// IdentityByUserIDKey implements [identity.Store].
func (db *DB) IdentityByUserIDKey(ctx context.Context, key string) (*identity.Identity, error) {
	return db.identityWhere(ctx,
		"uuid = (SELECT identity_uuid FROM user_ids WHERE user_id_key = $1 AND retired_at IS NULL)", key)
}

// IdentityByCPRIndex implements [identity.Store].
func (db *DB) IdentityByCPRIndex(ctx context.Context, index []byte) (*identity.Identity, error) {
	return db.identityWhere(ctx, "cpr_index = $1 AND state <> 'revoked'", index)
}

// IdentityByPCode implements [identity.Store].
func (db *DB) IdentityByPCode(ctx context.Context, pcode string) (*identity.Identity, error) {
	return db.identityWhere(ctx, "pcode = $1", pcode)
}

// ClaimUserID implements [identity.Store]. The claim is one statement: it
// inserts the user ID, or takes over a retired one whose quarantine is over or
// that the same identity held; anything else leaves the row alone, and no row
// changed means the user ID is taken. So two people racing for one user ID
// cannot both get it, on either engine.
func (db *DB) ClaimUserID(ctx context.Context, identityUUID, userID, key string, now, reservedAfter time.Time) error {
	res, err := db.exec(ctx, `INSERT INTO user_ids (user_id_key, user_id, identity_uuid, claimed_at, retired_at)
		VALUES ($1, $2, $3, $4, NULL)
		ON CONFLICT (user_id_key) DO UPDATE SET user_id = excluded.user_id, identity_uuid = excluded.identity_uuid,
			claimed_at = excluded.claimed_at, retired_at = NULL
		WHERE user_ids.retired_at IS NOT NULL
		  AND (user_ids.identity_uuid = excluded.identity_uuid OR user_ids.retired_at <= $5)`,
		key, userID, identityUUID, now.UnixMicro(), reservedAfter.UnixMicro())
	if uniqueViolation(err) != "" {
		// The identity has a current user ID already (user_ids_current).
		return fmt.Errorf("store: identity %s already has a current user ID", identityUUID)
	}
	if err != nil {
		return db.wrap("claiming user ID", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: %q", identity.ErrUserIDTaken, userID)
	}
	return nil
}

// RetireUserID implements [identity.Store].
func (db *DB) RetireUserID(ctx context.Context, identityUUID string, now time.Time) error {
	_, err := db.exec(ctx, "UPDATE user_ids SET retired_at = $1 WHERE identity_uuid = $2 AND retired_at IS NULL",
		now.UnixMicro(), identityUUID)
	if err != nil {
		return db.wrap("retiring user ID", err)
	}
	return nil
}

// UserIDHistory implements [identity.Store].
func (db *DB) UserIDHistory(ctx context.Context, identityUUID string) ([]identity.UserIDClaim, error) {
	rows, err := db.q(ctx).QueryContext(ctx, `SELECT user_id, claimed_at, retired_at FROM user_ids
		WHERE identity_uuid = $1 ORDER BY claimed_at DESC`, identityUUID)
	if err != nil {
		return nil, db.wrap("reading user IDs", err)
	}
	defer rows.Close()
	var out []identity.UserIDClaim
	for rows.Next() {
		var (
			c       identity.UserIDClaim
			claimed int64
			retired sql.NullInt64
		)
		if err := rows.Scan(&c.UserID, &claimed, &retired); err != nil {
			return nil, db.wrap("reading user IDs", err)
		}
		c.ClaimedAt = time.UnixMicro(claimed).UTC()
		if retired.Valid {
			c.RetiredAt = time.UnixMicro(retired.Int64).UTC()
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CountIdentities returns how many identities exist, in any state.
func (db *DB) CountIdentities(ctx context.Context) (int64, error) {
	var n int64
	if err := db.q(ctx).QueryRowContext(ctx, "SELECT count(*) FROM identities").Scan(&n); err != nil {
		return 0, db.wrap("counting identities", err)
	}
	return n, nil
}
