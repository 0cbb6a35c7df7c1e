package proofing_test

import (
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/proofing"
)

func TestNamesMatch(t *testing.T) {
	for _, tt := range []struct {
		surname, given string // as the MRZ holds them
		format         emrtd.Format
		family, first  string // as the register spells them
		want           bool
	}{
		{"HANSEN", "ANNA MARIE", emrtd.TD3, "Hansen", "Anna Marie", true},
		{"OESTERGAARD HANSEN", "AASE", emrtd.TD3, "Østergård-Hansen", "Åse", true},
		{"AEROE", "SOEREN", emrtd.TD3, "Ærø", "Søren", true},
		{"MUELLER", "JUERGEN", emrtd.TD3, "Müller", "Jürgen", true},
		{"OBRIEN", "SEAN", emrtd.TD3, "O'Brien", "Seán", true},
		{"HANSEN", "ANNA", emrtd.TD3, "Hansen", "Anna Marie", false},       // a given name missing, with room for it
		{"HANSEN", "ANNA MARIE", emrtd.TD3, "Jensen", "Anna Marie", false}, // another family
		{"HANSEN", "", emrtd.TD3, "Hansen", "Anna", false},
		{"HANSEN", "", emrtd.TD3, "Hansen", "", true},
		{"", "ANNA", emrtd.TD3, "", "Anna", false}, // no family name: nothing to match
		// Truncated to the 39 characters of the TD3 name field.
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA ANTONIA", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", true},
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA ANTONIA", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antoniasen", true}, // cut inside a name
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA ANTONIX", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", false},
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA ANTONIA", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia", true},
		// Not full, so not truncated: a prefix is not enough.
		{"HANSEN", "ANNA MARI", emrtd.TD3, "Hansen", "Anna Marie", false},
		// TD1 holds 30 characters.
		{"CHRISTOPHERSEN", "ANNE SOPHIE LO", emrtd.TD1, "Christophersen", "Anne Sophie Louise", true},
		{"CHRISTOPHERSEN", "ANNE SOPHIE LO", emrtd.TD3, "Christophersen", "Anne Sophie Louise", false}, // a TD3 had room
		// Given names shortened to initials, where the register's names do not fit.
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA A E", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", true},
		{"VANDERSTRAATEN BRUGGEMAN", "M A E", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", true},
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA ANTONIA E", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", true},
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA A", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", true},      // the last left out
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA E A", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", false},   // out of order
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA B E", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", false},   // another initial
		{"VANDERSTRAATEN BRUGGEMAN", "MARIA A E X", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", false}, // a name too many
		{"VANDERSTRAATEN", "MARIA A E", emrtd.TD3, "Vanderstraaten-Bruggeman", "Maria Antonia Elisabeth", false},             // the family name cut short
		{"HANSEN", "A M", emrtd.TD3, "Hansen", "Anna Marie", false},                                                          // the names fit: no initials
		{"CHRISTOPHERSEN", "ANNE S L", emrtd.TD1, "Christophersen", "Anne Sophie Louise", true},
	} {
		m := &emrtd.MRZ{Format: tt.format, Surname: tt.surname, GivenNames: tt.given}
		p := cpr.Person{FamilyName: tt.family, GivenName: tt.first}
		if got := proofing.NamesMatch(m, p); got != tt.want {
			t.Errorf("NamesMatch(%q %q, %q %q) = %v", tt.surname, tt.given, tt.first, tt.family, got)
		}
	}
}

func TestBirthdateMatches(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	p := cpr.Person{Birthdate: time.Date(1950, 12, 31, 0, 0, 0, 0, time.UTC)}
	for dob, want := range map[string]bool{"501231": true, "501230": false, "50<<<<": false, "5012<<": false} {
		if got := proofing.BirthdateMatches(&emrtd.MRZ{DateOfBirth: dob}, p, now); got != want {
			t.Errorf("%s: %v", dob, got)
		}
	}
	// Two-digit years: a child born in 2013 is not taken for 1913.
	kid := cpr.Person{Birthdate: time.Date(2013, 5, 1, 0, 0, 0, 0, time.UTC)}
	if !proofing.BirthdateMatches(&emrtd.MRZ{DateOfBirth: "130501"}, kid, now) {
		t.Error("2013 read as another century")
	}
}

func TestAgeRule(t *testing.T) {
	cph, _ := time.LoadLocation("Europe/Copenhagen")
	born := time.Date(2013, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		now  time.Time
		rule proofing.AgeRule
		age  int
	}{
		{time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), proofing.TooYoung, 12},
		// Midnight of the birthday in Copenhagen is still the day before in UTC.
		{time.Date(2026, 11, 25, 0, 30, 0, 0, cph), proofing.NeedsConsent, 13},
		{time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC), proofing.NeedsConsent, 13},
		{time.Date(2028, 11, 24, 12, 0, 0, 0, time.UTC), proofing.NeedsConsent, 14},
		{time.Date(2028, 11, 25, 12, 0, 0, 0, time.UTC), proofing.Adult, 15},
	} {
		if rule, age := proofing.AgeRuleFor(born, tt.now); rule != tt.rule || age != tt.age {
			t.Errorf("on %v: %v, %d; want %v, %d", tt.now, rule, age, tt.rule, tt.age)
		}
	}
}
