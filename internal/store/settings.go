package store

import (
	"context"
	"database/sql"
	"errors"
)

// Setting returns the value stored under name, or nil if there is none.
// It implements [pki.SecretStore].
func (db *DB) Setting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := db.q(ctx).QueryRowContext(ctx, "SELECT value FROM settings WHERE name = $1", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, db.wrap("reading setting "+name, err)
	}
	return v, nil
}

// SetSettingOnce stores value under name unless a value is there, and returns
// the value stored afterwards. It implements [pki.SecretStore].
func (db *DB) SetSettingOnce(ctx context.Context, name string, value []byte) ([]byte, error) {
	var stored []byte
	err := db.InTx(ctx, func(ctx context.Context) error {
		tx := db.runner(db.txFrom(ctx))
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT value FROM settings WHERE name = $1", name).Scan(&stored)
	})
	if err != nil {
		return nil, db.wrap("storing setting "+name, err)
	}
	return stored, nil
}
