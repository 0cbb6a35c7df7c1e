package testtool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openmitid/openmitid/internal/cpr"
)

// PersonStore keeps the people the test tool adds (internal/store).
type PersonStore interface {
	InsertDemoPerson(ctx context.Context, p cpr.Person) error
	DemoPerson(ctx context.Context, n cpr.Number) (cpr.Person, error)
	DemoPersonByDocument(ctx context.Context, nationality, documentNumber string) (cpr.Person, error)
}

// Register is the demo population register: the synthetic people every node
// generates alike, and the people the test tool added, kept in the database so
// that every node knows them.
type Register struct {
	base  *cpr.Synthetic
	added PersonStore
}

// NewRegister returns the demo register over base and the added people.
func NewRegister(base *cpr.Synthetic, added PersonStore) *Register {
	return &Register{base: base, added: added}
}

// Synthetic returns the generated part of the register.
func (r *Register) Synthetic() *cpr.Synthetic { return r.base }

// Person implements [cpr.Register].
func (r *Register) Person(ctx context.Context, n cpr.Number) (cpr.Person, error) {
	p, err := r.added.DemoPerson(ctx, n)
	if errors.Is(err, cpr.ErrNotFound) {
		return r.base.Person(ctx, n)
	}
	return p, err
}

// PersonByDocument implements [cpr.Register].
func (r *Register) PersonByDocument(ctx context.Context, nationality, documentNumber string) (cpr.Person, error) {
	p, err := r.added.DemoPersonByDocument(ctx, nationality, documentNumber)
	if errors.Is(err, cpr.ErrNotFound) {
		return r.base.PersonByDocument(ctx, nationality, documentNumber)
	}
	return p, err
}

// Guardians implements [cpr.Register].
func (r *Register) Guardians(ctx context.Context, n cpr.Number) ([]cpr.Person, error) {
	p, err := r.Person(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make([]cpr.Person, 0, len(p.Guardians))
	for _, g := range p.Guardians {
		gp, err := r.Person(ctx, g)
		if err != nil {
			return nil, fmt.Errorf("cpr: guardian %s of %s: %w", g.Masked(), n.Masked(), err)
		}
		out = append(out, gp)
	}
	return out, nil
}

// Add adds a person with a fresh CPR number for their birthdate and sex
// (unless they carry a document number and no CPR), refusing guardians who are
// not adults in the register. It returns the person as stored.
func (r *Register) Add(ctx context.Context, p cpr.Person, now time.Time) (cpr.Person, error) {
	if p.GivenName == "" || p.FamilyName == "" || p.Birthdate.IsZero() {
		return cpr.Person{}, fmt.Errorf("%w: a name and a birthdate are required", cpr.ErrInvalidPerson)
	}
	if p.Birthdate.After(now) {
		return cpr.Person{}, fmt.Errorf("%w: born in the future", cpr.ErrInvalidPerson)
	}
	age := cpr.AgeOn(p.Birthdate, now)
	if len(p.Guardians) > 0 && age >= 18 {
		return cpr.Person{}, fmt.Errorf("%w: an adult has no guardians", cpr.ErrInvalidPerson)
	}
	for _, g := range p.Guardians {
		gp, err := r.Person(ctx, g)
		if errors.Is(err, cpr.ErrNotFound) {
			return cpr.Person{}, fmt.Errorf("%w: guardian %s is not in the register", cpr.ErrInvalidPerson, g.Masked())
		}
		if err != nil {
			return cpr.Person{}, err
		}
		if gp.AgeOn(now) < 18 {
			return cpr.Person{}, fmt.Errorf("%w: guardian %s is not an adult", cpr.ErrInvalidPerson, g.Masked())
		}
	}
	if p.Nationality == "" {
		p.Nationality = "DNK"
	}
	if p.DocumentNumber != "" && p.CPR.IsZero() {
		if err := r.added.InsertDemoPerson(ctx, p); err != nil {
			return cpr.Person{}, err
		}
		return p, nil
	}
	for range 20 {
		n, err := r.base.NewCPR(p.Birthdate, p.Sex)
		if err != nil {
			return cpr.Person{}, err
		}
		p.CPR, p.Sex = n, n.Sex()
		err = r.added.InsertDemoPerson(ctx, p)
		if errors.Is(err, cpr.ErrDuplicate) {
			continue // another node minted the same number first
		}
		if err != nil {
			return cpr.Person{}, err
		}
		return p, nil
	}
	return cpr.Person{}, errors.New("testtool: no free CPR number for that birthdate")
}
