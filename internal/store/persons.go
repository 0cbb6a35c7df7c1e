package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/openmitid/openmitid/internal/cpr"
)

// InsertDemoPerson adds a person to the demo register's additions; it returns
// cpr.ErrDuplicate for a CPR number already there.
func (db *DB) InsertDemoPerson(ctx context.Context, p cpr.Person) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	key := p.CPR.Digits()
	if p.CPR.IsZero() {
		key = "doc:" + strings.ToUpper(p.Nationality) + ":" + strings.ToUpper(p.DocumentNumber)
	}
	// DO NOTHING rather than a unique violation, which on PostgreSQL would
	// abort the caller's transaction: the test tool mints another number and
	// tries again inside it.
	res, err := db.exec(ctx, "INSERT INTO demo_persons (cpr, person, created_at) VALUES ($1, $2, $3) ON CONFLICT (cpr) DO NOTHING",
		key, string(b), db.Now().UnixMicro())
	if err != nil {
		return db.wrap("inserting demo person", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return cpr.ErrDuplicate
	}
	return nil
}

func (db *DB) demoPerson(ctx context.Context, key string) (cpr.Person, error) {
	var s string
	err := db.q(ctx).QueryRowContext(ctx, "SELECT person FROM demo_persons WHERE cpr = $1", key).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return cpr.Person{}, cpr.ErrNotFound
	}
	if err != nil {
		return cpr.Person{}, db.wrap("reading demo person", err)
	}
	var p cpr.Person
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return cpr.Person{}, db.wrap("decoding demo person", err)
	}
	return p, nil
}

// DemoPerson returns a person the test tool added, by CPR number.
func (db *DB) DemoPerson(ctx context.Context, n cpr.Number) (cpr.Person, error) {
	return db.demoPerson(ctx, n.Digits())
}

// DemoPersonByDocument returns a person without CPR the test tool added.
func (db *DB) DemoPersonByDocument(ctx context.Context, nationality, documentNumber string) (cpr.Person, error) {
	return db.demoPerson(ctx, "doc:"+strings.ToUpper(strings.TrimSpace(nationality))+":"+strings.ToUpper(strings.TrimSpace(documentNumber)))
}
