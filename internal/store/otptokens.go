package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
)

// InsertOTPToken implements [codedisplay.Store].
func (db *DB) InsertOTPToken(ctx context.Context, t codedisplay.Token) error {
	_, err := db.exec(ctx, `INSERT INTO otp_tokens (serial, kind, secret, algorithm, digits, period, manufacturer, model, imported_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, t.Serial, string(t.Kind), t.SealedSecret, t.Algorithm.String(),
		t.Digits, int64(t.Period/time.Second), t.Manufacturer, t.Model, t.ImportedAt.UnixMicro())
	if uniqueViolation(err) != "" {
		return codedisplay.ErrDuplicate
	}
	if err != nil {
		return db.wrap("inserting OTP token", err)
	}
	return nil
}

// OTPToken implements [codedisplay.Store].
func (db *DB) OTPToken(ctx context.Context, serial string) (codedisplay.Token, error) {
	var (
		t        codedisplay.Token
		kind     string
		alg      string
		period   int64
		imported int64
		assigned sql.NullString
	)
	err := db.q(ctx).QueryRowContext(ctx, `SELECT serial, kind, secret, algorithm, digits, period, manufacturer, model,
		imported_at, assigned_to FROM otp_tokens WHERE serial = $1`, serial).Scan(&t.Serial, &kind, &t.SealedSecret, &alg,
		&t.Digits, &period, &t.Manufacturer, &t.Model, &imported, &assigned)
	if errors.Is(err, sql.ErrNoRows) {
		return t, codedisplay.ErrUnknownSerial
	}
	if err != nil {
		return t, db.wrap("reading OTP token", err)
	}
	t.Kind, t.AssignedTo, t.Period = authenticator.Kind(kind), assigned.String, time.Duration(period)*time.Second
	t.ImportedAt = time.UnixMicro(imported).UTC()
	if t.Algorithm, err = otp.ParseAlgorithm(alg); err != nil {
		return t, err
	}
	return t, nil
}

// AssignOTPToken implements [codedisplay.Store].
func (db *DB) AssignOTPToken(ctx context.Context, serial, authenticatorID string) error {
	res, err := db.exec(ctx, "UPDATE otp_tokens SET assigned_to = $1 WHERE serial = $2 AND assigned_to IS NULL", authenticatorID, serial)
	if err != nil {
		return db.wrap("assigning OTP token", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return codedisplay.ErrAssigned
	}
	return nil
}
