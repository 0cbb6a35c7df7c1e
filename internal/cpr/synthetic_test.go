package cpr_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/cpr"
)

var update = flag.Bool("update", false, "rewrite testdata/synthetic.golden from the current generator")

var _ cpr.Register = (*cpr.Synthetic)(nil)

// goldenDay is the day the golden register is generated for.
var goldenDay = date(2026, time.June, 15)

// canonical is the text of a person that the golden hash covers: every field.
func canonical(p cpr.Person) string {
	guardians := make([]string, len(p.Guardians))
	for i, g := range p.Guardians {
		guardians[i] = g.Digits()
	}
	return strings.Join([]string{p.CPR.Digits(), p.GivenName, p.FamilyName, p.Birthdate.Format(time.RFC3339),
		p.Sex.String(), p.Nationality, p.DocumentNumber, strings.Join(guardians, ",")}, "|") + "\n"
}

func hashPeople(people []cpr.Person) string {
	h := sha256.New()
	for _, p := range people {
		h.Write([]byte(canonical(p)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestSyntheticGolden notices any change in what NewSynthetic generates:
// tests and demos elsewhere may rely on the people of DemoSeed. If the change
// is meant, run go test ./internal/cpr -run Golden -update and say why in the
// commit.
func TestSyntheticGolden(t *testing.T) {
	all := cpr.NewSynthetic(cpr.DemoSeed, goldenDay).All()
	got := fmt.Sprintf("first50 %s\nall %s\n", hashPeople(all[:50]), hashPeople(all))
	path := filepath.Join("testdata", "synthetic.golden")
	header := "# SHA-256 of the canonical text (synthetic_test.go) of NewSynthetic(DemoSeed, 2026-06-15): the first 50 people, and all.\n"
	if *update {
		if err := os.WriteFile(path, []byte(header+got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != header+got {
		var first strings.Builder
		for _, p := range all[:5] {
			first.WriteString(canonical(p))
		}
		t.Errorf("the synthetic register changed:\n got %s\nwant %s\nfirst people now:\n%s", got, want, first.String())
	}
}

func TestSyntheticDeterministic(t *testing.T) {
	a := cpr.NewSynthetic(7, date(2026, time.January, 1)).All()
	b := cpr.NewSynthetic(7, time.Date(2026, time.December, 31, 23, 59, 0, 0, time.UTC)).All()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two registers of the same seed and year differ")
	}
	if c := cpr.NewSynthetic(8, date(2026, time.January, 1)).All(); hashPeople(c) == hashPeople(a) {
		t.Fatal("registers of seeds 7 and 8 are the same")
	}
	// Adults outside families are fixed by the seed: the same number is the
	// same person in a later year.
	later := map[cpr.Number]cpr.Person{}
	for _, p := range cpr.NewSynthetic(7, date(2035, time.March, 1)).All() {
		later[p.CPR] = p
	}
	same := 0
	for _, p := range fixedAdults(a) {
		q, ok := later[p.CPR]
		if !ok || canonical(q) != canonical(p) {
			t.Fatalf("adult %s of 2026 is %q in 2035", canonical(p), canonical(q))
		}
		same++
	}
	if same < 500 {
		t.Fatalf("only %d adults outside families", same)
	}
}

// fixedAdults returns the CPR holders who are neither guardians nor
// children in a family.
func fixedAdults(people []cpr.Person) []cpr.Person {
	guardian := map[cpr.Number]bool{}
	for _, p := range people {
		for _, g := range p.Guardians {
			guardian[g] = true
		}
	}
	var fixed []cpr.Person
	for _, p := range people {
		if !p.CPR.IsZero() && len(p.Guardians) == 0 && !guardian[p.CPR] {
			fixed = append(fixed, p)
		}
	}
	return fixed
}

// TestSyntheticShape checks what NewSynthetic promises on days across the
// years, including the edges of a year and today.
func TestSyntheticShape(t *testing.T) {
	days := []time.Time{date(2026, time.January, 1), date(2026, time.February, 28), goldenDay,
		date(2026, time.December, 31), date(2028, time.February, 29), date(2035, time.July, 1),
		date(2057, time.December, 31), date(2024, time.May, 5), time.Now()}
	for _, day := range days {
		t.Run(day.Format(time.DateOnly), func(t *testing.T) {
			s := cpr.NewSynthetic(cpr.DemoSeed, day)
			checkShape(t, s.All(), day)
		})
	}
}

func checkShape(t *testing.T, all []cpr.Person, day time.Time) {
	if len(all) < 1000 {
		t.Errorf("%d people, want at least 1000", len(all))
	}
	byCPR := map[cpr.Number]cpr.Person{}
	docs := map[string]bool{}
	ages := map[int]int{}
	withoutCPR := 0
	for _, p := range all {
		if p.GivenName == "" || p.FamilyName == "" || p.Name() != p.GivenName+" "+p.FamilyName {
			t.Errorf("person %q has a missing name", canonical(p))
		}
		if len(p.Nationality) != 3 || strings.ToUpper(p.Nationality) != p.Nationality {
			t.Errorf("person %q: nationality is not ISO 3166-1 alpha-3", canonical(p))
		}
		if p.DocumentNumber != "" {
			key := p.Nationality + "/" + p.DocumentNumber
			if docs[key] {
				t.Errorf("two people hold passport %s", key)
			}
			docs[key] = true
		}
		if p.CPR.IsZero() {
			withoutCPR++
			if p.DocumentNumber == "" || p.Nationality == "DNK" || p.AgeOn(day) < 18 || p.Sex == cpr.SexUnspecified {
				t.Errorf("person without CPR %q: want an adult foreign national with a passport", canonical(p))
			}
			continue
		}
		if _, ok := byCPR[p.CPR]; ok {
			t.Errorf("two people have CPR number %v", p.CPR)
		}
		byCPR[p.CPR] = p
		if !p.Birthdate.Equal(p.CPR.Birthdate()) || p.Sex != p.CPR.Sex() {
			t.Errorf("person %q: birth date or sex disagrees with the CPR number", canonical(p))
		}
		ages[p.AgeOn(day)]++
	}
	if withoutCPR < 20 {
		t.Errorf("%d people without CPR, want at least 20", withoutCPR)
	}
	for age := 0; age <= 17; age++ {
		want := 1
		if age >= 12 {
			want = 30
		}
		if ages[age] < want {
			t.Errorf("%d children aged %d, want at least %d", ages[age], age, want)
		}
	}
	if day.Year() == 2026 {
		for age := 18; age <= 100; age++ {
			if ages[age] == 0 {
				t.Errorf("no one aged %d", age)
			}
		}
	}
	for _, p := range all {
		if p.AgeOn(day) < 18 && (len(p.Guardians) < 1 || len(p.Guardians) > 2) {
			t.Errorf("minor %q has %d guardians", canonical(p), len(p.Guardians))
		}
		if len(p.Guardians) > 0 && p.AgeOn(day) > 18 {
			t.Errorf("%q is %d and has guardians", canonical(p), p.AgeOn(day))
		}
		for i, g := range p.Guardians {
			guardian, ok := byCPR[g]
			switch {
			case !ok:
				t.Errorf("guardian %v of %q is not in the register", g, canonical(p))
			case guardian.AgeOn(day) < 18:
				t.Errorf("guardian %q of %q is %d", canonical(guardian), canonical(p), guardian.AgeOn(day))
			case g == p.CPR || (i == 1 && g == p.Guardians[0]):
				t.Errorf("%q: guardians %v", canonical(p), p.Guardians)
			}
		}
	}
}

// The names are meant to exercise letters outside ASCII everywhere names go.
func TestSyntheticNames(t *testing.T) {
	letters := map[rune]int{}
	danes := 0
	all := cpr.NewSynthetic(cpr.DemoSeed, goldenDay).All()
	for _, p := range all {
		for _, r := range strings.ToLower(p.Name()) {
			if strings.ContainsRune("æøåüłö", r) {
				letters[r]++
			}
		}
		if p.Nationality == "DNK" {
			danes++
		}
	}
	for _, r := range "æøå" {
		if letters[r] < 10 {
			t.Errorf("only %d names with %c", letters[r], r)
		}
	}
	if danes < len(all)*9/10 {
		t.Errorf("%d of %d are Danish", danes, len(all))
	}
}

func TestRegisterContract(t *testing.T) {
	ctx := context.Background()
	s := cpr.NewSynthetic(cpr.DemoSeed, goldenDay)
	child, ok := s.AnyOfAge(13)
	if !ok {
		t.Fatal("no 13-year-old")
	}
	got, err := s.Person(ctx, child.CPR)
	if err != nil || canonical(got) != canonical(child) {
		t.Fatalf("Person(%v) = %q, %v", child.CPR, canonical(got), err)
	}
	// The caller owns what it gets.
	got.Guardians[0] = cpr.Number{}
	if again, _ := s.Person(ctx, child.CPR); again.Guardians[0].IsZero() {
		t.Fatal("changing a returned person changed the register")
	}

	guardians, err := s.Guardians(ctx, child.CPR)
	if err != nil || len(guardians) != len(child.Guardians) {
		t.Fatalf("Guardians(%v) = %d people, %v; want %d", child.CPR, len(guardians), err, len(child.Guardians))
	}
	for i, g := range guardians {
		if g.CPR != child.Guardians[i] || g.AgeOn(s.AsOf()) < 18 {
			t.Errorf("guardian %d = %q", i, canonical(g))
		}
	}
	adult, _ := s.AnyOfAge(40)
	if g, err := s.Guardians(ctx, adult.CPR); err != nil || g != nil {
		t.Errorf("Guardians of an adult = %v, %v; want nil, nil", g, err)
	}

	foreigner := s.Find(func(p cpr.Person) bool { return p.CPR.IsZero() })[0]
	got, err = s.PersonByDocument(ctx, strings.ToLower(foreigner.Nationality), " "+strings.ToLower(foreigner.DocumentNumber)+" ")
	if err != nil || canonical(got) != canonical(foreigner) {
		t.Fatalf("PersonByDocument(%s, %s) = %q, %v", foreigner.Nationality, foreigner.DocumentNumber, canonical(got), err)
	}

	unknown := mustParse(t, "010203-0000")
	if _, err := s.Person(ctx, unknown); err == nil {
		unknown = mustParse(t, "010203-0002")
	}
	notFound := []struct {
		name string
		call func() (any, error)
	}{
		{"Person of an unknown number", func() (any, error) { return s.Person(ctx, unknown) }},
		{"Person of the zero Number", func() (any, error) { return s.Person(ctx, cpr.Number{}) }},
		{"Guardians of an unknown number", func() (any, error) { return s.Guardians(ctx, unknown) }},
		{"Guardians of the zero Number", func() (any, error) { return s.Guardians(ctx, cpr.Number{}) }},
		{"PersonByDocument of an unknown passport", func() (any, error) { return s.PersonByDocument(ctx, "DEU", "C00000000") }},
		{"PersonByDocument of the wrong country", func() (any, error) {
			return s.PersonByDocument(ctx, "DNK", foreigner.DocumentNumber)
		}},
		{"PersonByDocument with no number", func() (any, error) { return s.PersonByDocument(ctx, foreigner.Nationality, "") }},
	}
	for _, tt := range notFound {
		v, err := tt.call()
		if !errors.Is(err, cpr.ErrNotFound) || !strings.HasPrefix(err.Error(), "cpr: ") || strings.Contains(err.Error(), unknown.String()) {
			t.Errorf("%s: error %v, want ErrNotFound without the full number", tt.name, err)
		}
		if p, ok := v.(cpr.Person); (ok && !reflect.DeepEqual(p, cpr.Person{})) || (!ok && !reflect.ValueOf(v).IsNil()) {
			t.Errorf("%s returned %v with its error", tt.name, v)
		}
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Person(done, child.CPR); !errors.Is(err, context.Canceled) || errors.Is(err, cpr.ErrNotFound) {
		t.Errorf("Person with a cancelled context: %v", err)
	}
	if _, err := s.Guardians(done, child.CPR); !errors.Is(err, context.Canceled) {
		t.Errorf("Guardians with a cancelled context: %v", err)
	}
	if _, err := s.PersonByDocument(done, foreigner.Nationality, foreigner.DocumentNumber); !errors.Is(err, context.Canceled) {
		t.Errorf("PersonByDocument with a cancelled context: %v", err)
	}
}

func TestPerson(t *testing.T) {
	p := cpr.Person{GivenName: "Anne Sofie", FamilyName: "Bærentzen", Birthdate: date(2012, 3, 4)}
	if got := p.Name(); got != "Anne Sofie Bærentzen" {
		t.Errorf("Name() = %q", got)
	}
	if got := (cpr.Person{FamilyName: "Bærentzen"}).Name(); got != "Bærentzen" {
		t.Errorf("Name() of a family name alone = %q", got)
	}
	if got := p.AgeOn(date(2026, 3, 4)); got != 14 {
		t.Errorf("AgeOn = %d, want 14", got)
	}
	if got := (cpr.Person{}).AgeOn(date(2026, 1, 1)); got != -1 {
		t.Errorf("AgeOn of a person without birth date = %d, want -1", got)
	}
}

func TestAnyOfAge(t *testing.T) {
	s := cpr.NewSynthetic(cpr.DemoSeed, goldenDay)
	for age := 0; age <= 100; age++ {
		p, ok := s.AnyOfAge(age)
		if !ok || p.AgeOn(s.AsOf()) != age || p.CPR.IsZero() {
			t.Errorf("AnyOfAge(%d) = %q, %v", age, canonical(p), ok)
		}
		if age < 18 {
			if g, err := s.Guardians(context.Background(), p.CPR); err != nil || len(g) == 0 {
				t.Errorf("AnyOfAge(%d): guardians %v, %v", age, g, err)
			}
		}
	}
	if p, ok := s.AnyOfAge(150); ok {
		t.Errorf("AnyOfAge(150) = %q", canonical(p))
	}
	if !s.AsOf().Equal(goldenDay) {
		t.Errorf("AsOf() = %v", s.AsOf())
	}
}

func TestAdd(t *testing.T) {
	ctx := context.Background()
	s := cpr.NewSynthetic(cpr.DemoSeed, goldenDay)
	adult, _ := s.AnyOfAge(40)
	otherAdult, _ := s.AnyOfAge(41)
	child, _ := s.AnyOfAge(10)
	foreigner := s.Find(func(p cpr.Person) bool { return p.CPR.IsZero() })[0]
	born := date(2014, time.March, 3)
	fresh, err := s.NewCPR(born, cpr.Female)
	if err != nil {
		t.Fatal(err)
	}
	valid := cpr.Person{CPR: fresh, GivenName: "Åse", FamilyName: "Ørsted", Guardians: []cpr.Number{adult.CPR}}
	invalid := []struct {
		name string
		edit func(p *cpr.Person)
		err  error
		want string // in the message
	}{
		{"no given name", func(p *cpr.Person) { p.GivenName = "  " }, cpr.ErrInvalidPerson, `needs a given name and a family name`},
		{"no family name", func(p *cpr.Person) { p.FamilyName = "" }, cpr.ErrInvalidPerson, `needs a given name and a family name`},
		{"birth date disagrees", func(p *cpr.Person) { p.Birthdate = born.AddDate(0, 0, 1) }, cpr.ErrInvalidPerson, `birth date 2014-03-04 disagrees with CPR number 030314-XXXX`},
		{"sex disagrees", func(p *cpr.Person) { p.Sex = cpr.Male }, cpr.ErrInvalidPerson, `sex male disagrees with CPR number 030314-XXXX, which is female`},
		{"no such sex", func(p *cpr.Person) { p.Sex = 7 }, cpr.ErrInvalidPerson, `Sex(7) is not one of the values of cpr.Sex`},
		{"nationality of two letters", func(p *cpr.Person) { p.Nationality = "DK" }, cpr.ErrInvalidPerson, `nationality "DK" is not an ISO 3166-1 alpha-3 code`},
		{"nationality with a digit", func(p *cpr.Person) { p.Nationality = "D1K" }, cpr.ErrInvalidPerson, `nationality "D1K" is not`},
		{"document with a filler", func(p *cpr.Person) { p.DocumentNumber = "AB<123" }, cpr.ErrInvalidPerson, `document number "AB<123" is not 1–20 letters and digits`},
		{"document too long", func(p *cpr.Person) { p.DocumentNumber = strings.Repeat("A", 21) }, cpr.ErrInvalidPerson, `is not 1–20 letters and digits`},
		{"three guardians", func(p *cpr.Person) { p.Guardians = []cpr.Number{adult.CPR, otherAdult.CPR, fresh} }, cpr.ErrInvalidPerson, `3 guardians given`},
		{"the same guardian twice", func(p *cpr.Person) { p.Guardians = []cpr.Number{adult.CPR, adult.CPR} }, cpr.ErrInvalidPerson, `is given twice`},
		{"their own guardian", func(p *cpr.Person) { p.Guardians = []cpr.Number{fresh} }, cpr.ErrInvalidPerson, `030314-XXXX cannot be their own guardian`},
		{"a zero guardian", func(p *cpr.Person) { p.Guardians = []cpr.Number{{}} }, cpr.ErrInvalidPerson, `a guardian's CPR number is missing`},
		{"a guardian not in the register", func(p *cpr.Person) { p.Guardians = []cpr.Number{mustParse(t, "010180-0000")} }, cpr.ErrInvalidPerson, `guardian 010180-XXXX is not in the register`},
		{"a child as guardian", func(p *cpr.Person) { p.Guardians = []cpr.Number{child.CPR} }, cpr.ErrInvalidPerson, `is not an adult on 2026-06-15`},
		{"guardians of an adult", func(p *cpr.Person) {
			p.CPR, _ = s.NewCPR(date(1990, 1, 1), cpr.SexUnspecified)
		}, cpr.ErrInvalidPerson, `guardians given for someone who is an adult on 2026-06-15`},
		{"no CPR and no passport", func(p *cpr.Person) { p.CPR, p.Birthdate, p.Nationality, p.Guardians = cpr.Number{}, born, "POL", nil }, cpr.ErrInvalidPerson, `without CPR number needs a birth date, a nationality and a passport's document number`},
		{"no CPR and no birth date", func(p *cpr.Person) {
			p.CPR, p.Nationality, p.DocumentNumber, p.Guardians = cpr.Number{}, "POL", "EA1234567", nil
		}, cpr.ErrInvalidPerson, `without CPR number needs`},
		{"no CPR and no nationality", func(p *cpr.Person) {
			p.CPR, p.Birthdate, p.DocumentNumber, p.Guardians = cpr.Number{}, born, "EA1234567", nil
		}, cpr.ErrInvalidPerson, `without CPR number needs`},
		{"a CPR number in the register", func(p *cpr.Person) { p.CPR, p.Guardians = adult.CPR, nil }, cpr.ErrDuplicate, `is already in the register`},
		{"a passport in the register", func(p *cpr.Person) {
			p.CPR, p.Birthdate, p.Nationality, p.DocumentNumber, p.Guardians = cpr.Number{}, born, foreigner.Nationality, strings.ToLower(foreigner.DocumentNumber), nil
		}, cpr.ErrDuplicate, `passport "` + foreigner.DocumentNumber + `" is already in the register`},
	}
	before := len(s.All())
	for _, tt := range invalid {
		p := valid
		p.Guardians = append([]cpr.Number(nil), valid.Guardians...)
		tt.edit(&p)
		err := s.Add(p)
		if !errors.Is(err, tt.err) || !strings.HasPrefix(err.Error(), "cpr: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Add with %s: %v, want %v saying %q", tt.name, err, tt.err, tt.want)
		}
	}
	if n := len(s.All()); n != before {
		t.Fatalf("refused people changed the register from %d to %d people", before, n)
	}

	if err := s.Add(valid); err != nil {
		t.Fatalf("Add: %v", err)
	}
	got, err := s.Person(ctx, fresh)
	if err != nil || !got.Birthdate.Equal(born) || got.Sex != cpr.Female || got.Nationality != "DNK" || got.Name() != "Åse Ørsted" {
		t.Fatalf("Person after Add = %q, %v", canonical(got), err)
	}
	if g, err := s.Guardians(ctx, fresh); err != nil || len(g) != 1 || g[0].CPR != adult.CPR {
		t.Fatalf("Guardians after Add = %v, %v", g, err)
	}
	if err := s.Add(valid); !errors.Is(err, cpr.ErrDuplicate) {
		t.Fatalf("Add twice: %v, want ErrDuplicate", err)
	}
	visitor := cpr.Person{GivenName: "Olena", FamilyName: "Melnyk", Birthdate: time.Date(1985, 4, 2, 15, 0, 0, 0, time.UTC),
		Sex: cpr.Female, Nationality: "ukr", DocumentNumber: " fa123456"}
	if err := s.Add(visitor); err != nil {
		t.Fatalf("Add of a person without CPR: %v", err)
	}
	got, err = s.PersonByDocument(ctx, "UKR", "FA123456")
	if err != nil || !got.Birthdate.Equal(date(1985, 4, 2)) || got.Nationality != "UKR" || !got.CPR.IsZero() {
		t.Fatalf("PersonByDocument after Add = %q, %v", canonical(got), err)
	}
}

func TestNewCPR(t *testing.T) {
	s := cpr.NewSynthetic(cpr.DemoSeed, goldenDay)
	ctx := context.Background()
	seen := map[cpr.Number]bool{}
	for i := range 300 {
		born := date(1950+i%60, time.Month(1+i%12), 1+i%28)
		sex := []cpr.Sex{cpr.Female, cpr.Male, cpr.SexUnspecified}[i%3]
		n, err := s.NewCPR(born, sex)
		if err != nil {
			t.Fatalf("NewCPR(%s, %v): %v", born.Format(time.DateOnly), sex, err)
		}
		if !n.Birthdate().Equal(born) || (sex != cpr.SexUnspecified && n.Sex() != sex) || seen[n] {
			t.Fatalf("NewCPR(%s, %v) = %v", born.Format(time.DateOnly), sex, n)
		}
		if _, err := s.Person(ctx, n); !errors.Is(err, cpr.ErrNotFound) {
			t.Fatalf("NewCPR returned %v, which is in the register", n)
		}
		seen[n] = true
	}
	// The same seed mints the same numbers in the same order.
	a, b := cpr.NewSynthetic(3, goldenDay), cpr.NewSynthetic(3, goldenDay)
	for range 10 {
		x, _ := a.NewCPR(date(2000, 5, 5), cpr.Male)
		y, _ := b.NewCPR(date(2000, 5, 5), cpr.Male)
		if x != y {
			t.Fatalf("the same seed minted %v and %v", x, y)
		}
	}
	// A birth date in 2040 has four seventh digits (5–8): 2,000 numbers per sex.
	for i := range 2000 {
		if _, err := s.NewCPR(date(2040, 1, 1), cpr.Male); err != nil {
			t.Fatalf("NewCPR number %d for 2040-01-01: %v", i+1, err)
		}
	}
	if n, err := s.NewCPR(date(2040, 1, 1), cpr.Male); !errors.Is(err, cpr.ErrRange) || !n.IsZero() {
		t.Fatalf("NewCPR when all are taken = %v, %v; want ErrRange", n, err)
	}
	if n, err := s.NewCPR(date(2040, 1, 1), cpr.Female); err != nil || n.Sex() != cpr.Female {
		t.Fatalf("NewCPR of the other sex = %v, %v", n, err)
	}
	for _, bad := range []struct {
		born time.Time
		sex  cpr.Sex
		err  error
	}{{date(1857, 1, 1), cpr.Male, cpr.ErrRange}, {date(2058, 1, 1), cpr.Male, cpr.ErrRange}, {date(1990, 1, 1), 9, cpr.ErrInvalidPerson}} {
		if n, err := s.NewCPR(bad.born, bad.sex); !errors.Is(err, bad.err) || !n.IsZero() {
			t.Errorf("NewCPR(%s, %d) = %v, %v; want %v", bad.born.Format(time.DateOnly), bad.sex, n, err, bad.err)
		}
	}
}

// The test tool adds people from many requests at once.
func TestSyntheticConcurrentUse(t *testing.T) {
	s := cpr.NewSynthetic(cpr.DemoSeed, goldenDay)
	before := len(s.All())
	guardian, _ := s.AnyOfAge(35)
	var wg sync.WaitGroup
	errs := make(chan error, 8*25)
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				born := date(2015, time.Month(1+w), 1+i)
				n, err := s.NewCPR(born, cpr.SexUnspecified)
				if err == nil {
					err = s.Add(cpr.Person{CPR: n, GivenName: "Ida", FamilyName: "Holm", Guardians: []cpr.Number{guardian.CPR}})
				}
				if err == nil {
					_, err = s.Person(context.Background(), n)
				}
				if err != nil {
					errs <- err
				}
				s.Find(func(p cpr.Person) bool { return p.AgeOn(s.AsOf()) == 10 })
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(s.All()); got != before+8*25 {
		t.Errorf("%d people after adding %d to %d", got, 8*25, before)
	}
}

func BenchmarkNewSynthetic(b *testing.B) {
	day := time.Now()
	for b.Loop() {
		cpr.NewSynthetic(cpr.DemoSeed, day)
	}
}
