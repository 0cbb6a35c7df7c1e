package proofing

import (
	"strings"
	"time"
	_ "time/tzdata" // Europe/Copenhagen on hosts without a zone database

	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/identity"
)

// Age limits (the scheme's rules, DESIGN.md): no identity under MinAge; from
// MinAge to identity.AdultAge-1 only with a guardian's consent, as a minor.
const MinAge = 13

// copenhagen is where ages are counted: a person is a year older from
// midnight of their birthday in Denmark (cpr.AgeOn).
var copenhagen = mustLoad("Europe/Copenhagen")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// time/tzdata is linked in, so the zone is always found.
		panic(err)
	}
	return loc
}

// AgeRule is what the age rules allow.
type AgeRule int

const (
	TooYoung     AgeRule = iota // under MinAge: no identity
	NeedsConsent                // MinAge to 14: a guardian must approve; the identity is a minor's
	Adult                       // identity.AdultAge and over
)

// AgeRuleFor returns the rule for someone born on birthdate, on the
// calendar day that now is in Copenhagen.
func AgeRuleFor(birthdate, now time.Time) (AgeRule, int) {
	age := cpr.AgeOn(birthdate, now.In(copenhagen))
	switch {
	case age < MinAge:
		return TooYoung, age
	case age < identity.AdultAge:
		return NeedsConsent, age
	}
	return Adult, age
}

// today is the calendar date now is in Copenhagen, at 00:00 UTC, to compare
// with dates read from an MRZ or the register.
func today(now time.Time) time.Time {
	y, m, d := now.In(copenhagen).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// mrzForm writes a name as an MRZ holds it: transliterated (ICAO 9303 part 3,
// section 6), upper case, hyphens and spaces alike as single spaces (both
// are fillers in the MRZ).
func mrzForm(name string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(emrtd.Transliterate(name), "-", " ")), " ")
}

// nameFieldCapacity is the MRZ's name field length: 39 characters in TD3
// (passports), 30 in TD1 (ICAO 9303 parts 4 and 5).
func nameFieldCapacity(f emrtd.Format) int {
	if f == emrtd.TD1 {
		return 30
	}
	return 39
}

// NamesMatch reports whether the names in the MRZ are the register's
// person's: the family name as the primary identifier and the given names
// as the secondary, each in [mrzForm]. Where the register's names do not fit
// the MRZ's name field, the issuing state shortened them (ICAO 9303 part 3,
// section 4.6.5), in one of two ways, both recognised: it cut the field at
// its last character (then a full name field that is the start of the
// register's names matches), or it wrote given names as their initials and
// left out the last ones (then the family name must be whole, and each given
// name in the MRZ the register's, its initial, or, the last, its start).
func NamesMatch(m *emrtd.MRZ, p cpr.Person) bool {
	fam, giv := mrzForm(p.FamilyName), mrzForm(p.GivenName)
	if fam == "" {
		return false
	}
	mf, mg := mrzForm(m.Surname), mrzForm(m.GivenNames)
	if fam == mf && giv == mg {
		return true
	}
	want, got := nameField(fam, giv), nameField(mf, mg)
	if len(want) <= nameFieldCapacity(m.Format) {
		return false // the names fit: nothing may be shortened
	}
	if truncated(m) && len(want) > len(got) && strings.HasPrefix(want, got) {
		return true
	}
	return fam == mf && initialsMatch(mg, giv)
}

// nameField writes names as the MRZ's name field holds them, with "<" for
// spaces and "<<" between the family and the given names.
func nameField(fam, giv string) string {
	s := strings.ReplaceAll(fam, " ", "<")
	if giv != "" {
		s += "<<" + strings.ReplaceAll(giv, " ", "<")
	}
	return s
}

// initialsMatch reports whether the MRZ's given names are the register's
// shortened: in order, each whole or its initial, the last possibly cut, and
// the ones after it left out. Both are in [mrzForm].
func initialsMatch(mrz, reg string) bool {
	mt, rt := strings.Fields(mrz), strings.Fields(reg)
	if len(mt) == 0 || len(mt) > len(rt) {
		return false
	}
	for i, t := range mt {
		switch {
		case t == rt[i]:
		case len(t) == 1 && t[0] == rt[i][0]:
		case i == len(mt)-1 && strings.HasPrefix(rt[i], t):
		default:
			return false
		}
	}
	return true
}

// truncated reports whether the MRZ's name field is full to its last
// character, as a truncated name leaves it.
func truncated(m *emrtd.MRZ) bool {
	n := len(strings.ReplaceAll(m.Surname, " ", "<"))
	if m.GivenNames != "" {
		n += 2 + len(strings.ReplaceAll(m.GivenNames, " ", "<"))
	}
	return n >= nameFieldCapacity(m.Format)
}

// BirthdateMatches reports whether the MRZ's date of birth is the register's.
// An MRZ whose day or month is unknown ("<<") never matches: the register
// knows the date, so the two cannot be shown to agree.
func BirthdateMatches(m *emrtd.MRZ, p cpr.Person, now time.Time) bool {
	b, err := m.BirthDate(now)
	if err != nil || p.Birthdate.IsZero() {
		return false
	}
	y1, m1, d1 := b.Date()
	y2, m2, d2 := p.Birthdate.Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}

// registerState maps an issuing state's MRZ code to the ISO 3166-1 alpha-3
// code the register uses: they differ only for Germany, "D" in the MRZ
// (ICAO 9303 part 3, section 5).
func registerState(code string) string {
	if code == "D" {
		return "DEU"
	}
	return code
}
