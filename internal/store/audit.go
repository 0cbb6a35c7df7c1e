package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
)

const maxUserAgent = 256

// Record adds an audit event to the transaction in ctx; it is written, sealed
// into its chain, when the transaction commits. It implements [audit.Log].
func (db *DB) Record(ctx context.Context, e audit.Event) error {
	st := db.txFrom(ctx)
	if st == nil || st.readOnly {
		return audit.ErrNoTransaction
	}
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("store: audit event without actor or action: %+v", e)
	}
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("store: making an event id: %w", err)
		}
		e.ID = id.String()
	}
	if e.At.IsZero() {
		e.At = db.now()
	}
	e.At = time.UnixMicro(e.At.UnixMicro()).UTC() // what is stored
	o := audit.OriginFrom(ctx)
	if e.IP == "" {
		e.IP = o.IP
	}
	e.Details = maps.Clone(e.Details)
	if ua := o.UserAgent; ua != "" {
		if e.Details == nil {
			e.Details = map[string]string{}
		}
		if _, set := e.Details["user_agent"]; !set {
			if len(ua) > maxUserAgent {
				ua = ua[:maxUserAgent]
			}
			e.Details["user_agent"] = ua
		}
	}
	st.events = append(st.events, e)
	return nil
}

// flushAudit seals the transaction's events into one chain and writes them
// with the chain's new head. It runs last before the commit so that the
// chain's row lock (on PostgreSQL) is held as briefly as possible.
func (db *DB) flushAudit(ctx context.Context, st *txState) error {
	if len(st.events) == 0 {
		return nil
	}
	s := db.sealer.Load()
	if s == nil {
		return errors.New("store: audit events recorded before the audit key was set")
	}
	chain := audit.ChainFor(st.events[0].Identity, st.events[0].ID)
	tx := db.runner(st)
	var (
		seq  int64
		prev []byte
	)
	if err := tx.QueryRowContext(ctx,
		"SELECT seq, mac FROM audit_chains WHERE chain = $1"+db.forUpdate(), chain).Scan(&seq, &prev); err != nil {
		return db.wrap("reading audit chain head", err)
	}
	// All of the transaction's events in one statement: each statement costs
	// a round trip on PostgreSQL and a parse-and-run on SQLite.
	var q strings.Builder
	q.WriteString("INSERT INTO audit_events (chain, seq, id, at, actor, action, identity, ip, details, prev, mac) VALUES ")
	args := make([]any, 0, 11*len(st.events))
	for i := range st.events {
		e := &st.events[i]
		seq++
		s.Seal(e, chain, seq, prev)
		details := "{}"
		if len(e.Details) > 0 {
			b, err := json.Marshal(e.Details)
			if err != nil {
				return fmt.Errorf("store: encoding audit details: %w", err)
			}
			details = string(b)
		}
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)",
			n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11)
		args = append(args, chain, seq, e.ID, e.At.UnixMicro(), e.Actor, e.Action, e.Identity, e.IP, details, nonNil(e.Prev), e.MAC)
		prev = e.MAC
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return db.wrap("writing audit events", err)
	}
	if _, err := tx.ExecContext(ctx,
		"UPDATE audit_chains SET seq = $1, mac = $2 WHERE chain = $3", seq, prev, chain); err != nil {
		return db.wrap("writing audit chain head", err)
	}
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

const auditColumns = "chain, seq, id, at, actor, action, identity, ip, details, prev, mac"

func scanEvent(rows interface{ Scan(...any) error }) (audit.Event, error) {
	var (
		e       audit.Event
		at      int64
		details string
	)
	if err := rows.Scan(&e.Chain, &e.Seq, &e.ID, &at, &e.Actor, &e.Action, &e.Identity, &e.IP, &details, &e.Prev, &e.MAC); err != nil {
		return e, err
	}
	e.At = time.UnixMicro(at).UTC()
	if details != "{}" && details != "" {
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			// Kept as found so that verification reports the entry as altered.
			e.Details = map[string]string{"\x00undecodable": details}
		}
	}
	return e, nil
}

// ChainEntries calls fn with each entry of chain in order. It implements [audit.Reader].
func (db *DB) ChainEntries(ctx context.Context, chain int, fn func(audit.Event) error) error {
	rows, err := db.q(ctx).QueryContext(ctx,
		"SELECT "+auditColumns+" FROM audit_events WHERE chain = $1 ORDER BY seq", chain)
	if err != nil {
		return db.wrap("reading audit events", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return db.wrap("reading audit event", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ChainHead returns the recorded head of chain. It implements [audit.Reader].
func (db *DB) ChainHead(ctx context.Context, chain int) (int64, []byte, error) {
	var (
		seq int64
		mac []byte
	)
	err := db.q(ctx).QueryRowContext(ctx, "SELECT seq, mac FROM audit_chains WHERE chain = $1", chain).Scan(&seq, &mac)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("store: audit chain %d does not exist (the chain heads were removed)", chain)
	}
	if err != nil {
		return 0, nil, db.wrap("reading audit chain head", err)
	}
	return seq, mac, nil
}

// VerifyAudit checks the whole audit log in one consistent snapshot.
func (db *DB) VerifyAudit(ctx context.Context, s *audit.Sealer) (audit.Report, error) {
	var rep audit.Report
	err := db.ReadSnapshot(ctx, func(ctx context.Context) error {
		var err error
		rep, err = audit.Verify(ctx, db, s)
		return err
	})
	return rep, err
}

// AuditEvents returns the newest events about identity, newest first, at most limit.
func (db *DB) AuditEvents(ctx context.Context, identity string, limit int) ([]audit.Event, error) {
	rows, err := db.q(ctx).QueryContext(ctx,
		"SELECT "+auditColumns+" FROM audit_events WHERE identity = $1 ORDER BY at DESC, seq DESC LIMIT $2", identity, limit)
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
