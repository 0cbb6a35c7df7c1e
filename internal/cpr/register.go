package cpr

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Errors of the register, wrapped with the value concerned. Test for them
// with [errors.Is].
var (
	// ErrNotFound is a person the register does not hold.
	ErrNotFound = errors.New("cpr: person not in the register")
	// ErrDuplicate is a person whose CPR number or passport is already in
	// the register.
	ErrDuplicate = errors.New("cpr: person already in the register")
	// ErrInvalidPerson is a person record the register refuses to hold; the
	// wrapping error says which field broke which rule.
	ErrInvalidPerson = errors.New("cpr: invalid person")
)

// Person is a person as the population register records them.
//
// People with a CPR number have CPR set, and their Birthdate and Sex agree
// with it. People without one (foreign nationals, who can get a P-code
// instead) have the zero CPR and are identified by their passport:
// Nationality and DocumentNumber.
type Person struct {
	// CPR is the person's CPR number, or the zero Number for people without.
	CPR Number
	// GivenName holds all given names and middle names, space-separated, as
	// the register spells them (with æ, ø, å and other letters outside ASCII).
	GivenName string
	// FamilyName is the surname.
	FamilyName string
	// Birthdate is the date of birth at 00:00 UTC.
	Birthdate time.Time
	// Sex is the legal sex; for CPR holders the one their number gives.
	Sex Sex
	// Guardians are the CPR numbers of those holding parental custody
	// (forældremyndighed), one or two, for a minor. Custody ends at 18; a
	// register may still list guardians of someone who has just turned 18,
	// so decide anything on a guardian's behalf only after checking the
	// person's age on your own day.
	Guardians []Number
	// Nationality is the ISO 3166-1 alpha-3 code of the person's
	// citizenship, "DNK" for Danes. A CPR number does not imply Danish
	// citizenship: foreign residents have one too.
	Nationality string
	// DocumentNumber is the number of the passport (ICAO 9303 document
	// number) that identifies a person without CPR; it may also be set for
	// others. Upper-case letters and digits, without filler characters.
	DocumentNumber string
}

// Name returns the full name: the given names followed by the family name.
func (p Person) Name() string {
	return strings.TrimSpace(p.GivenName + " " + p.FamilyName)
}

// AgeOn returns p's age in whole years on day, by [AgeOn], or -1 if p has no
// birth date.
func (p Person) AgeOn(day time.Time) int {
	if p.Birthdate.IsZero() {
		return -1
	}
	return AgeOn(p.Birthdate, day)
}

// clone returns a copy of p that shares no memory with it.
func (p Person) clone() Person {
	if p.Guardians != nil {
		p.Guardians = append([]Number(nil), p.Guardians...)
	}
	return p
}

// Register is the population register: where the platform learns who a
// person is. The project ships [Synthetic] for development and tests;
// production deployments implement Register over their own access to the CPR.
//
// The contract, for every implementation:
//   - A person who is not found is an error wrapping [ErrNotFound], together
//     with the zero Person (or nil slice); other errors mean the register
//     could not answer (unreachable, ctx done) and must not be taken as
//     "not found".
//   - Returned values are the caller's: changing them changes nothing in the
//     register.
//   - Methods are safe for concurrent use and honour ctx.
type Register interface {
	// Person returns the person with CPR number n. The zero Number is never
	// found.
	Person(ctx context.Context, n Number) (Person, error)
	// PersonByDocument returns the person identified by the passport with
	// documentNumber issued by nationality (ISO 3166-1 alpha-3); both are
	// compared without regard to case. It is how people without CPR are
	// found, and may find people with CPR whose passport is recorded.
	PersonByDocument(ctx context.Context, nationality, documentNumber string) (Person, error)
	// Guardians returns the people holding custody of the person with CPR
	// number n, in the order of [Person.Guardians]; none (nil) for a person
	// without guardians. An unknown n, or a listed guardian the register
	// cannot find, is an error wrapping [ErrNotFound].
	Guardians(ctx context.Context, n Number) ([]Person, error)
}
