package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/openmitid/openmitid/internal/notify"
)

// PutContactEmail implements [notify.Store].
func (db *DB) PutContactEmail(ctx context.Context, identityUUID string, sealed []byte, now time.Time) error {
	var err error
	if sealed == nil {
		_, err = db.exec(ctx, "DELETE FROM contact_addresses WHERE identity_uuid = $1", identityUUID)
	} else {
		_, err = db.exec(ctx, `INSERT INTO contact_addresses (identity_uuid, email_sealed, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (identity_uuid) DO UPDATE SET email_sealed = excluded.email_sealed, updated_at = excluded.updated_at`,
			identityUUID, sealed, now.UnixMicro())
	}
	if err != nil {
		return db.wrap("storing the contact address", err)
	}
	return nil
}

// ContactEmail implements [notify.Store].
func (db *DB) ContactEmail(ctx context.Context, identityUUID string) ([]byte, error) {
	var sealed []byte
	err := db.q(ctx).QueryRowContext(ctx, "SELECT email_sealed FROM contact_addresses WHERE identity_uuid = $1", identityUUID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notify.ErrNoAddress
	}
	if err != nil {
		return nil, db.wrap("reading the contact address", err)
	}
	return sealed, nil
}

// InsertMessage implements [notify.Store].
func (db *DB) InsertMessage(ctx context.Context, m *notify.Message) error {
	params, err := json.Marshal(m.Params)
	if err != nil {
		return err
	}
	if m.Params == nil {
		params = []byte("{}")
	}
	_, err = db.exec(ctx, `INSERT INTO notifications (id, identity_uuid, channel, template, params, state, attempts,
		next_attempt_at, last_error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		m.ID, m.Identity, string(m.Channel), string(m.Template), string(params), string(m.State), m.Attempts,
		m.NextAttemptAt.UnixMicro(), m.LastError, m.CreatedAt.UnixMicro())
	if err != nil {
		return db.wrap("inserting a notification", err)
	}
	return nil
}

const messageColumns = "id, identity_uuid, channel, template, params, state, attempts, next_attempt_at, last_error, created_at, sent_at"

func scanMessage(row interface{ Scan(...any) error }) (*notify.Message, error) {
	var (
		m                    notify.Message
		channel, tmpl, state string
		params               string
		next, created        int64
		sent                 sql.NullInt64
	)
	if err := row.Scan(&m.ID, &m.Identity, &channel, &tmpl, &params, &state, &m.Attempts, &next, &m.LastError, &created, &sent); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &m.Params); err != nil {
		return nil, err
	}
	m.Channel, m.Template, m.State = notify.Channel(channel), notify.Template(tmpl), notify.State(state)
	m.NextAttemptAt, m.CreatedAt = time.UnixMicro(next).UTC(), time.UnixMicro(created).UTC()
	if sent.Valid {
		m.SentAt = time.UnixMicro(sent.Int64).UTC()
	}
	return &m, nil
}

func (db *DB) queryMessages(ctx context.Context, q querier, query string, args ...any) ([]*notify.Message, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*notify.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ClaimMessages implements [notify.Store]. It is one statement: on PostgreSQL
// the rows it picks are locked with SKIP LOCKED, so senders on several nodes
// take disjoint batches without waiting for each other; SQLite has one writer
// at a time, so the statement is exclusive by itself.
func (db *DB) ClaimMessages(ctx context.Context, claim string, now, claimedUntil time.Time, limit int) ([]*notify.Message, error) {
	skip := ""
	if db.cfg.Engine == Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	query := `UPDATE notifications SET state = 'sending', claim = $1, claimed_until = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM notifications
			WHERE (state = 'pending' AND next_attempt_at <= $3) OR (state = 'sending' AND claimed_until <= $3)
			ORDER BY next_attempt_at LIMIT $4` + skip + `)
		RETURNING ` + messageColumns
	// Most of the time nothing is due: find that out with a read, not with a
	// write transaction (SQLite's one writer) every few seconds on every node.
	var due int
	err := db.q(ctx).QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM notifications
		WHERE (state = 'pending' AND next_attempt_at <= $1) OR (state = 'sending' AND claimed_until <= $1) LIMIT 1) d`,
		now.UnixMicro()).Scan(&due)
	if err != nil {
		return nil, db.wrap("looking for due notifications", err)
	}
	if due == 0 {
		return nil, nil
	}
	var out []*notify.Message
	err = db.InTx(ctx, func(ctx context.Context) error {
		var err error
		out, err = db.queryMessages(ctx, db.runner(db.txFrom(ctx)), query, claim, claimedUntil.UnixMicro(), now.UnixMicro(), limit)
		return err
	})
	if err != nil {
		return nil, db.wrap("claiming notifications", err)
	}
	return out, nil
}

// FinishMessage implements [notify.Store].
func (db *DB) FinishMessage(ctx context.Context, id, claim string, o notify.Outcome) (bool, error) {
	var sent sql.NullInt64
	if o.State == notify.Sent {
		sent = nullTime(o.At)
	}
	res, err := db.exec(ctx, `UPDATE notifications SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at),
		last_error = $3, sent_at = $4, claim = NULL, claimed_until = NULL WHERE id = $5 AND state = 'sending' AND claim = $6`,
		string(o.State), nullTime(o.NextAttemptAt), o.Error, sent, id, claim)
	if err != nil {
		return false, db.wrap("finishing a notification", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Messages implements [notify.Store].
func (db *DB) Messages(ctx context.Context, identityUUID string) ([]*notify.Message, error) {
	out, err := db.queryMessages(ctx, db.q(ctx), "SELECT "+messageColumns+
		" FROM notifications WHERE identity_uuid = $1 ORDER BY created_at, id", identityUUID)
	if err != nil {
		return nil, db.wrap("reading notifications", err)
	}
	return out, nil
}
