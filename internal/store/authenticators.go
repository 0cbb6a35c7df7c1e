package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
)

const authenticatorColumns = `id, identity_uuid, kind, state, name, level, public_key, serial, credential_id, credential,
	sign_count, otp_last_step, usable_from, created_at, updated_at, last_used_at, version`

// authenticatorScan holds a row's authenticator columns while they are scanned.
type authenticatorScan struct {
	a                        authenticator.Authenticator
	kind, state, level       string
	serial                   sql.NullString
	usable, created, updated int64
	lastUsed                 sql.NullInt64
	signCount                int64
}

// dest lists where the columns of authenticatorColumns go, in order.
func (x *authenticatorScan) dest() []any {
	return []any{&x.a.ID, &x.a.Identity, &x.kind, &x.state, &x.a.Name, &x.level, &x.a.PublicKey, &x.serial, &x.a.CredentialID,
		&x.a.Credential, &x.signCount, &x.a.OTPLastStep, &x.usable, &x.created, &x.updated, &x.lastUsed, &x.a.Version}
}

func (x *authenticatorScan) finish() (*authenticator.Authenticator, error) {
	a := x.a
	var err error
	if a.Kind, err = authenticator.ParseKind(x.kind); err != nil {
		return nil, err
	}
	if a.Level, err = nsis.Parse(x.level); err != nil {
		return nil, err
	}
	a.State, a.Serial, a.SignCount = authenticator.State(x.state), x.serial.String, uint32(x.signCount)
	a.UsableFrom, a.CreatedAt, a.UpdatedAt = time.UnixMicro(x.usable).UTC(), time.UnixMicro(x.created).UTC(), time.UnixMicro(x.updated).UTC()
	if x.lastUsed.Valid {
		a.LastUsedAt = time.UnixMicro(x.lastUsed.Int64).UTC()
	}
	return &a, nil
}

func scanAuthenticator(row interface{ Scan(...any) error }) (*authenticator.Authenticator, error) {
	var x authenticatorScan
	if err := row.Scan(x.dest()...); err != nil {
		return nil, err
	}
	return x.finish()
}

func nullTime(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: !t.IsZero()}
}

// InsertAuthenticator implements [authenticator.Store].
func (db *DB) InsertAuthenticator(ctx context.Context, a *authenticator.Authenticator) error {
	a.Version = 1
	_, err := db.exec(ctx, "INSERT INTO authenticators ("+authenticatorColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		a.ID, a.Identity, string(a.Kind), string(a.State), a.Name, a.Level.String(), a.PublicKey, nullString(a.Serial),
		a.CredentialID, a.Credential, int64(a.SignCount), a.OTPLastStep, a.UsableFrom.UnixMicro(), a.CreatedAt.UnixMicro(),
		a.UpdatedAt.UnixMicro(), nullTime(a.LastUsedAt), a.Version)
	if uniqueViolation(err) != "" {
		return authenticator.ErrDuplicate
	}
	if err != nil {
		return db.wrap("inserting authenticator", err)
	}
	return nil
}

// UpdateAuthenticator implements [authenticator.Store].
func (db *DB) UpdateAuthenticator(ctx context.Context, a *authenticator.Authenticator) error {
	res, err := db.exec(ctx, `UPDATE authenticators SET state = $1, name = $2, level = $3, credential = $4,
		sign_count = $5, usable_from = $6, updated_at = $7, last_used_at = $8, version = version + 1
		WHERE id = $9 AND version = $10`,
		string(a.State), a.Name, a.Level.String(), a.Credential, int64(a.SignCount), a.UsableFrom.UnixMicro(),
		a.UpdatedAt.UnixMicro(), nullTime(a.LastUsedAt), a.ID, a.Version)
	if uniqueViolation(err) != "" {
		return authenticator.ErrDuplicate
	}
	if err != nil {
		return db.wrap("updating authenticator", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return authenticator.ErrConflict
	}
	a.Version++
	return nil
}

// Authenticator implements [authenticator.Store].
func (db *DB) Authenticator(ctx context.Context, id string) (*authenticator.Authenticator, error) {
	a, err := scanAuthenticator(db.q(ctx).QueryRowContext(ctx, "SELECT "+authenticatorColumns+" FROM authenticators WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, authenticator.ErrNotFound
	}
	if err != nil {
		return nil, db.wrap("reading authenticator", err)
	}
	return a, nil
}

// AuthenticatorsOf implements [authenticator.Store].
func (db *DB) AuthenticatorsOf(ctx context.Context, identityUUID string) ([]*authenticator.Authenticator, error) {
	rows, err := db.q(ctx).QueryContext(ctx, "SELECT "+authenticatorColumns+
		" FROM authenticators WHERE identity_uuid = $1 AND state <> 'revoked' ORDER BY created_at, id", identityUUID)
	if err != nil {
		return nil, db.wrap("reading authenticators", err)
	}
	defer rows.Close()
	var out []*authenticator.Authenticator
	for rows.Next() {
		a, err := scanAuthenticator(rows)
		if err != nil {
			return nil, db.wrap("reading authenticators", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AdvanceOTPStep implements [authenticator.Store]. It is one conditional
// update, so two requests with the same code cannot both use its time step.
func (db *DB) AdvanceOTPStep(ctx context.Context, id string, step int64, now time.Time) (bool, error) {
	res, err := db.exec(ctx, `UPDATE authenticators SET otp_last_step = $1, last_used_at = $2, updated_at = $2, version = version + 1
		WHERE id = $3 AND otp_last_step < $1`, step, now.UnixMicro(), id)
	if err != nil {
		return false, db.wrap("recording OTP step", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// prefixed qualifies a column list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

var deviceAndIdentityQuery = "SELECT " + prefixed("a", authenticatorColumns) + ", " + prefixed("i", identityColumns) +
	" FROM authenticators a JOIN identities i ON i.uuid = a.identity_uuid WHERE a.id = $1"

// DeviceAndIdentity returns an authenticator and its identity in one read
// (every request of the app is authenticated so). The identity's CPR number is
// left sealed.
func (db *DB) DeviceAndIdentity(ctx context.Context, id string) (*authenticator.Authenticator, *identity.Identity, error) {
	var (
		ax authenticatorScan
		ix identityScan
	)
	err := db.q(ctx).QueryRowContext(ctx, deviceAndIdentityQuery, id).Scan(append(ax.dest(), ix.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, authenticator.ErrNotFound
	}
	if err != nil {
		return nil, nil, db.wrap("reading device", err)
	}
	a, err := ax.finish()
	if err != nil {
		return nil, nil, err
	}
	i, err := ix.finish()
	if err != nil {
		return nil, nil, err
	}
	return a, i, nil
}
