package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/openmitid/openmitid/internal/pki"
)

// LockSigningKeys implements [pki.SigningKeyStore].
func (db *DB) LockSigningKeys(ctx context.Context) error {
	return db.lock(ctx, "signing_keys")
}

// lock takes the named lock row for the rest of the transaction in ctx. On
// SQLite the transaction already excludes every other writer.
func (db *DB) lock(ctx context.Context, name string) error {
	_, err := db.exec(ctx, "UPDATE locks SET n = n + 1 WHERE name = $1", name)
	if err != nil {
		return db.wrap("locking "+name, err)
	}
	return nil
}

// SigningKeys implements [pki.SigningKeyStore].
func (db *DB) SigningKeys(ctx context.Context) ([]pki.StoredSigningKey, error) {
	rows, err := db.q(ctx).QueryContext(ctx,
		"SELECT kid, alg, public_key, private_key, created_at, activate_at, expires_at FROM signing_keys ORDER BY activate_at")
	if err != nil {
		return nil, db.wrap("reading signing keys", err)
	}
	defer rows.Close()
	var out []pki.StoredSigningKey
	for rows.Next() {
		var (
			k                 pki.StoredSigningKey
			created, activate int64
			expires           sql.NullInt64
		)
		if err := rows.Scan(&k.KID, &k.Alg, &k.PublicDER, &k.SealedKey, &created, &activate, &expires); err != nil {
			return nil, db.wrap("reading signing keys", err)
		}
		k.CreatedAt, k.ActivateAt = time.UnixMicro(created).UTC(), time.UnixMicro(activate).UTC()
		if expires.Valid {
			k.ExpiresAt = time.UnixMicro(expires.Int64).UTC()
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// InsertSigningKey implements [pki.SigningKeyStore].
func (db *DB) InsertSigningKey(ctx context.Context, k pki.StoredSigningKey) error {
	_, err := db.exec(ctx, `INSERT INTO signing_keys (kid, alg, public_key, private_key, created_at, activate_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		k.KID, k.Alg, k.PublicDER, k.SealedKey, k.CreatedAt.UnixMicro(), k.ActivateAt.UnixMicro())
	if err != nil {
		return db.wrap("inserting signing key", err)
	}
	return nil
}

// SetSigningKeyExpiry implements [pki.SigningKeyStore].
func (db *DB) SetSigningKeyExpiry(ctx context.Context, kid string, expires time.Time) error {
	_, err := db.exec(ctx, "UPDATE signing_keys SET expires_at = $1 WHERE kid = $2", expires.UnixMicro(), kid)
	if err != nil {
		return db.wrap("updating signing key", err)
	}
	return nil
}

// DeleteSigningKey implements [pki.SigningKeyStore].
func (db *DB) DeleteSigningKey(ctx context.Context, kid string) error {
	_, err := db.exec(ctx, "DELETE FROM signing_keys WHERE kid = $1", kid)
	if err != nil {
		return db.wrap("deleting signing key", err)
	}
	return nil
}
