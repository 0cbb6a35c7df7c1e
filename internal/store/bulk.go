package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
)

// BulkIdentity is one identity with what it holds, for
// [DB.BulkInsertIdentities]: the bulk loader's synthetic identities.
type BulkIdentity struct {
	Person         *cpr.Person // added to the demo register when not nil
	Identity       *identity.Identity
	UserIDKey      string
	Authenticators []*authenticator.Authenticator
	Tokens         []codedisplay.Token // the code displays' tokens, assigned to their authenticators
	AssignedTo     []string            // Tokens[i] is held by the authenticator AssignedTo[i]
}

// maxParams keeps a statement under SQLite's limit of 32,766 host
// parameters and PostgreSQL's of 65,535.
const maxParams = 30000

// BulkInsertIdentities writes the identities, their user IDs, people and
// authenticators with multi-row INSERTs in one transaction, with one audit
// event for them all: the bulk loader's way of making a million test
// identities in minutes rather than hours. It checks nothing beyond the
// schema's constraints; a violation fails the whole batch.
func (db *DB) BulkInsertIdentities(ctx context.Context, rows []BulkIdentity, event audit.Event) error {
	now := db.Now().UnixMicro()
	var persons, ids, userIDs, auths, tokens [][]any
	for _, r := range rows {
		id := r.Identity
		id.Version = 1
		if r.Person != nil {
			b, err := json.Marshal(r.Person)
			if err != nil {
				return err
			}
			persons = append(persons, []any{r.Person.CPR.Digits(), string(b), now})
		}
		ids = append(ids, []any{id.UUID, id.UserID, nullString(id.PasswordHash), string(id.State), id.IAL.String(),
			int64(id.Restrictions), id.CPRIndex, id.CPRSealed, nullString(id.PCode), id.CreatedAt.UnixMicro(),
			id.UpdatedAt.UnixMicro(), id.Version})
		userIDs = append(userIDs, []any{r.UserIDKey, id.UserID, id.UUID, id.CreatedAt.UnixMicro()})
		for _, a := range r.Authenticators {
			a.Version = 1
			auths = append(auths, []any{a.ID, a.Identity, string(a.Kind), string(a.State), a.Name, a.Level.String(),
				a.PublicKey, nullString(a.Serial), a.CredentialID, a.Credential, int64(a.SignCount), a.OTPLastStep,
				a.UsableFrom.UnixMicro(), a.CreatedAt.UnixMicro(), a.UpdatedAt.UnixMicro(), nullTime(a.LastUsedAt), a.Version})
		}
		if len(r.AssignedTo) != len(r.Tokens) {
			return fmt.Errorf("store: %d tokens but %d holders for identity %s", len(r.Tokens), len(r.AssignedTo), id.UUID)
		}
		for i, t := range r.Tokens {
			tokens = append(tokens, []any{t.Serial, string(t.Kind), t.SealedSecret, t.Algorithm.String(), t.Digits,
				int64(t.Period / time.Second), t.Manufacturer, t.Model, t.ImportedAt.UnixMicro(), r.AssignedTo[i]})
		}
	}
	return db.InTx(ctx, func(ctx context.Context) error {
		if db.cfg.Engine == SQLite {
			// Random keys (UUIDs, CPR index HMACs) land all over the
			// indexes; with SQLite's default 2 MiB page cache, a loader past a
			// few hundred thousand identities reads its own pages back from
			// the file on every insert. This is the loader's connection.
			if _, err := db.txFrom(ctx).tx.ExecContext(ctx, "PRAGMA cache_size = -262144"); err != nil {
				return db.wrap("setting the page cache", err)
			}
		}
		for _, ins := range []struct {
			table, columns string
			rows           [][]any
		}{
			{"demo_persons", "cpr, person, created_at", persons},
			{"identities", identityColumns, ids},
			{"user_ids", "user_id_key, user_id, identity_uuid, claimed_at", userIDs},
			{"authenticators", authenticatorColumns, auths},
			{"otp_tokens", "serial, kind, secret, algorithm, digits, period, manufacturer, model, imported_at, assigned_to", tokens},
		} {
			if err := db.insertRows(ctx, ins.table, ins.columns, ins.rows); err != nil {
				return err
			}
		}
		return db.Record(ctx, event)
	})
}

// insertRows inserts rows into table with as few statements as the
// parameter limits allow. The statements run on the transaction directly,
// not through the prepared-statement cache: each is used once.
func (db *DB) insertRows(ctx context.Context, table, columns string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	st := db.txFrom(ctx)
	ncol := len(rows[0])
	per := max(1, maxParams/ncol)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
		args := make([]any, 0, len(chunk)*ncol)
		for i, r := range chunk {
			if len(r) != ncol {
				return fmt.Errorf("store: a row of %s has %d values, not %d", table, len(r), ncol)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := range r {
				if j > 0 {
					b.WriteByte(',')
				}
				if db.cfg.Engine == SQLite {
					// Positional: SQLite looks each $N up in a list, which for
					// thousands of parameters costs more than the insert.
					b.WriteByte('?')
				} else {
					b.WriteByte('$')
					b.WriteString(strconv.Itoa(len(args) + j + 1))
				}
			}
			b.WriteByte(')')
			args = append(args, r...)
		}
		if _, err := st.tx.ExecContext(ctx, b.String(), args...); err != nil {
			return db.wrap("bulk inserting into "+table, err)
		}
	}
	return nil
}

// DemoPersonCPRs calls fn with the CPR number of every person the test tool
// or the bulk loader added to the demo register, so that the loader mints no
// number that is taken.
func (db *DB) DemoPersonCPRs(ctx context.Context, fn func(digits string)) error {
	rows, err := db.r.QueryContext(ctx, "SELECT cpr FROM demo_persons")
	if err != nil {
		return db.wrap("listing demo persons", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return db.wrap("listing demo persons", err)
		}
		fn(s)
	}
	return rows.Err()
}
