package cpr

import (
	"math/rand/v2"
	"time"
)

// The second PCG seed of each part of the register. Each part draws from its
// own stream so that changing one part leaves the people of the others as
// they were; the year-anchored streams mix in the year.
const (
	streamAdults   uint64 = 0x6164756c7473       // "adults"
	streamFamilies uint64 = 0x66616d696c79 << 16 // "family", ^ year
	streamMint     uint64 = 0x6d696e74 << 16     // "mint", ^ year
)

// The shape of the register; NewSynthetic's comment promises these.
const (
	firstAdultYear, lastAdultYear = 1920, 2007
	adultsPerYear                 = 8
	foreignResidentPercent        = 3 // of fixed adults: CPR holders of another nationality
	foreignNationals              = 30
	childrenPerYear               = 40
	newborns                      = 4
	// Families' birth years reach back from asOf's year by 18 (the eldest
	// children), 45 (a guardian's age at the youngest child's birth) and 5
	// (the second guardian's difference): within 1858–2057 for these years.
	minAnchorYear, maxAnchorYear = 1858 + 18 + 45 + 5 + 4, 2057
	// peopleHint is about how many people are generated, to size maps once.
	peopleHint = (lastAdultYear-firstAdultYear+1)*adultsPerYear + foreignNationals + 2*(18*childrenPerYear+newborns)
)

// generate fills the empty s with the people of seed for year.
func generate(s *Synthetic, seed int64, year int) {
	r := rand.New(rand.NewPCG(uint64(seed), streamAdults))
	fixed := generateFixed(s, r)
	// Only now, when every fixed person has a number, may the year decide
	// who is left out: the numbers do not depend on it.
	newYear := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range fixed {
		if p.AgeOn(newYear) >= 18 {
			s.insert(p)
		}
	}
	clear(s.reserved) // the numbers of those left out are free for families

	r = rand.New(rand.NewPCG(uint64(seed), streamFamilies^uint64(year)))
	generateFamilies(s, r, year)
}

// generateFixed returns the adults and foreign nationals, the people that
// depend on the seed alone, with their CPR numbers reserved in s.
func generateFixed(s *Synthetic, r *rand.Rand) []Person {
	fixed := make([]Person, 0, (lastAdultYear-firstAdultYear+1)*adultsPerYear+foreignNationals)
	for y := firstAdultYear; y <= lastAdultYear; y++ {
		for _, born := range spread(r, y, adultsPerYear) {
			p := Person{Birthdate: born, Sex: randomSex(r), Nationality: "DNK"}
			if r.IntN(100) < foreignResidentPercent {
				c := &foreignCountries[r.IntN(len(foreignCountries))]
				p.Nationality = c.code
				p.GivenName, p.FamilyName = c.name(r, p.Sex)
			} else {
				p.GivenName, p.FamilyName = danishGivenName(r, p.Sex), pick(r, danishFamilyNames)
			}
			p.CPR = mint(s, r, born, p.Sex)
			s.reserved[p.CPR] = struct{}{}
			fixed = append(fixed, p)
		}
	}
	documents := make(map[string]bool, foreignNationals)
	for i := range foreignNationals {
		c := &foreignCountries[i%len(foreignCountries)] // every country, evenly
		p := Person{Birthdate: randomDate(r, 1950+r.IntN(56)), Sex: randomSex(r), Nationality: c.code}
		p.GivenName, p.FamilyName = c.name(r, p.Sex)
		for p.DocumentNumber == "" || documents[docKey(c.code, p.DocumentNumber)] {
			p.DocumentNumber = c.document(r)
		}
		documents[docKey(c.code, p.DocumentNumber)] = true
		fixed = append(fixed, p)
	}
	return fixed
}

// generateFamilies adds families whose children are born from 18 years
// before year to 1 January of year. Each birth year has childrenPerYear
// children with birthdays spread evenly over it, so that on any day of year
// the children of each age from 1 to 17 number childrenPerYear, give or take
// one (those of age a are the ones born a years before whose birthday has
// come, and those born a+1 years before whose birthday has not). The
// newborns, born on 1 January of year, are 0 on every day of it.
func generateFamilies(s *Synthetic, r *rand.Rand, year int) {
	var pools [19][]time.Time // [0]: born 18 years before year … [18]: born in year
	for k := range 18 {
		pools[k] = spread(r, year-18+k, childrenPerYear)
	}
	for range newborns {
		pools[18] = append(pools[18], time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	pop := func(k int) time.Time {
		i, last := r.IntN(len(pools[k])), len(pools[k])-1
		born := pools[k][i]
		pools[k][i] = pools[k][last]
		pools[k] = pools[k][:last]
		return born
	}
	for first := 0; first < len(pools); {
		if len(pools[first]) == 0 {
			first++
			continue
		}
		want := 1 + r.IntN(5)/2 // one or two children as often, three half as often
		kids := []time.Time{pop(first)}
		for k := first + 2 + r.IntN(3); len(kids) < want; k += 2 + r.IntN(3) {
			for k < len(pools) && len(pools[k]) == 0 {
				k++
			}
			if k >= len(pools) {
				break
			}
			kids = append(kids, pop(k))
		}
		addFamily(s, r, kids)
	}
}

// addFamily adds one or two guardians and the children born on kids, eldest
// first.
func addFamily(s *Synthetic, r *rand.Rand, kids []time.Time) {
	eldest, span := kids[0].Year(), kids[len(kids)-1].Year()-kids[0].Year()
	// The first guardian is 20 to 45 at the youngest child's birth.
	family := pick(r, danishFamilyNames)
	g1 := newDane(s, r, randomDate(r, eldest-20-r.IntN(max(1, 26-span))), randomSex(r), family)
	s.insert(g1)
	guardians, childFamily := []Number{g1.CPR}, family
	if r.IntN(5) > 0 { // four in five children have two guardians
		sex := Female + Male - g1.Sex
		if r.IntN(20) == 0 {
			sex = g1.Sex
		}
		family2 := family
		if r.IntN(5) < 2 {
			family2 = pick(r, danishFamilyNames)
		}
		born := min(g1.Birthdate.Year()+r.IntN(11)-5, eldest-19) // an adult at the eldest's birth
		g2 := newDane(s, r, randomDate(r, born), sex, family2)
		s.insert(g2)
		guardians = append(guardians, g2.CPR)
		if family2 != family && r.IntN(10) < 3 {
			childFamily = family2
		}
	}
	for _, born := range kids {
		child := newDane(s, r, born, randomSex(r), childFamily)
		child.Guardians = guardians // shared, but never written: readers get clones
		s.insert(child)
	}
}

func newDane(s *Synthetic, r *rand.Rand, born time.Time, sex Sex, family string) Person {
	return Person{
		CPR:         mint(s, r, born, sex),
		GivenName:   danishGivenName(r, sex),
		FamilyName:  family,
		Birthdate:   born,
		Sex:         sex,
		Nationality: "DNK",
	}
}

// mint returns a free number during generation. It cannot fail: every birth
// year generated is within 1858–2057 (fixed adults by their constants,
// families because NewSynthetic clamps the year to minAnchorYear–
// maxAnchorYear), and no birth date gets more than a few hundred people of
// one sex while each has at least 2,000 numbers (four seventh digits × 500).
func mint(s *Synthetic, r *rand.Rand, born time.Time, sex Sex) Number {
	n, err := s.mintLocked(r, born, sex)
	if err != nil {
		panic("cpr: generating the synthetic register: " + err.Error())
	}
	return n
}

// spread returns n dates in year, one in each of n equal slices of it, in
// order, so that every part of the year has its share of birthdays.
func spread(r *rand.Rand, year, n int) []time.Time {
	days := time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC).YearDay()
	dates := make([]time.Time, n)
	for i := range dates {
		lo, hi := i*days/n, (i+1)*days/n
		dates[i] = time.Date(year, 1, 1+lo+r.IntN(hi-lo), 0, 0, 0, 0, time.UTC)
	}
	return dates
}

func randomDate(r *rand.Rand, year int) time.Time {
	return spread(r, year, 1)[0]
}

func randomSex(r *rand.Rand) Sex {
	return Female + Sex(r.IntN(2))
}

func pick(r *rand.Rand, names []string) string { return names[r.IntN(len(names))] }

// danishGivenName returns one given name, or two as about one in seven
// Danes have.
func danishGivenName(r *rand.Rand, sex Sex) string {
	names := danishFemaleNames
	if sex == Male {
		names = danishMaleNames
	}
	name := pick(r, names)
	if r.IntN(7) == 0 {
		if second := pick(r, names); second != name {
			name += " " + second
		}
	}
	return name
}

func (c *foreignCountry) name(r *rand.Rand, sex Sex) (given, family string) {
	if sex == Male {
		return pick(r, c.male), pick(r, c.familyMale)
	}
	return pick(r, c.female), pick(r, c.familyFemale)
}

// document returns a passport number of c's shape.
func (c *foreignCountry) document(r *rand.Rand) string {
	const (
		digits  = "0123456789"
		letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		alnum   = "CFGHJKLMNPRTVWXYZ0123456789" // Germany's, which avoids look-alikes
	)
	b := []byte(c.passport)
	for i, ch := range b {
		switch ch {
		case '#':
			b[i] = digits[r.IntN(len(digits))]
		case '@':
			b[i] = letters[r.IntN(len(letters))]
		case '*':
			b[i] = alnum[r.IntN(len(alnum))]
		}
	}
	return string(b)
}
