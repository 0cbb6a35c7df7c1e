package cpr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/cpr"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func mustParse(t testing.TB, s string) cpr.Number {
	t.Helper()
	n, err := cpr.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return n
}

// The century table of the CPR office's "Personnummeret i CPR", written out
// by hand (not computed) for every seventh digit at each year boundary.
func TestCenturyTable(t *testing.T) {
	yys := [6]int{0, 36, 37, 57, 58, 99}
	table := []struct {
		digits string
		years  [6]int // birth year for YY 00, 36, 37, 57, 58, 99
	}{
		{"0123", [6]int{1900, 1936, 1937, 1957, 1958, 1999}},
		{"49", [6]int{2000, 2036, 1937, 1957, 1958, 1999}},
		{"5678", [6]int{2000, 2036, 2037, 2057, 1858, 1899}},
	}
	seen := map[byte]bool{}
	for _, row := range table {
		for _, d := range []byte(row.digits) {
			seen[d] = true
			for i, yy := range yys {
				s := fmt.Sprintf("1503%02d-%c123", yy, d)
				n := mustParse(t, s)
				if got, want := n.Birthdate(), date(row.years[i], time.March, 15); !got.Equal(want) {
					t.Errorf("Parse(%q).Birthdate() = %s, want %s", s, got.Format(time.DateOnly), want.Format(time.DateOnly))
				}
			}
		}
	}
	if len(seen) != 10 {
		t.Fatalf("the table covers %d of the 10 seventh digits", len(seen))
	}
}

func TestParseForms(t *testing.T) {
	want := mustParse(t, "010190-1234")
	for _, s := range []string{"0101901234", "  010190-1234", "0101901234   ", " 0101901234 "} {
		if got := mustParse(t, s); got != want {
			t.Errorf("Parse(%q) = %v, want %v", s, got, want)
		}
	}
	if got := want.String(); got != "010190-1234" {
		t.Errorf("String() = %q", got)
	}
	if got := want.Digits(); got != "0101901234" {
		t.Errorf("Digits() = %q", got)
	}
	if got := want.Masked(); got != "010190-XXXX" {
		t.Errorf("Masked() = %q", got)
	}
	if want.IsZero() {
		t.Error("IsZero() = true for a parsed number")
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		in   string
		err  error
		want string // the whole message, or a part of it after "…"
	}{
		{"", cpr.ErrSyntax, `cpr: "": empty; want DDMMYY-SSSS or DDMMYYSSSS`},
		{"    ", cpr.ErrSyntax, `…empty`},
		{"010190123", cpr.ErrSyntax, `cpr: "010190123": 9 digits; want 10, DDMMYY-SSSS or DDMMYYSSSS`},
		{"010190-123", cpr.ErrSyntax, `…9 digits`},
		{"01019012345", cpr.ErrSyntax, `…11 digits`},
		{"010190-12345", cpr.ErrSyntax, `cpr: "010190-12345": 12 characters; want DDMMYY-SSSS (11) or DDMMYYSSSS (10)`},
		{strings.Repeat("0101901234", 1000), cpr.ErrSyntax, `cpr: "010190123401019012340101"…: 10000 characters; want DDMMYY-SSSS (11) or DDMMYYSSSS (10)`},
		{"01019O1234", cpr.ErrSyntax, `cpr: "01019O1234": character 'O' at position 6 is not a digit`},
		{"010190 1234", cpr.ErrSyntax, `…character ' ' at position 7`},
		{"010190\t1234", cpr.ErrSyntax, `…character '\t' at position 7`},
		{"\t0101901234", cpr.ErrSyntax, `…character '\t' at position 1`},
		{"0101901234\n", cpr.ErrSyntax, `…character '\n' at position 11`},
		{"\u00a00101901234", cpr.ErrSyntax, `…character '\u00a0' at position 1`},
		{"010190-123a", cpr.ErrSyntax, `…character 'a' at position 11`},
		{"01.01.90-1234", cpr.ErrSyntax, `…character '.' at position 3`},
		{"０１０１９０１２３４", cpr.ErrSyntax, `…character '０' at position 1`},
		{"\xff101901234", cpr.ErrSyntax, `…character '�' at position 1`},
		{"+4501901234", cpr.ErrSyntax, `…character '+' at position 1`},
		{"0101-901234", cpr.ErrSyntax, `cpr: "0101-901234": dash at position 5; the dash goes after the birth date, DDMMYY-SSSS`},
		{"-0101901234", cpr.ErrSyntax, `…dash at position 1`},
		{"0101901234-", cpr.ErrSyntax, `…dash at position 11`},
		{"010190--234", cpr.ErrSyntax, `…dash at position 8`},
		{"01019-01234", cpr.ErrSyntax, `…dash at position 6`},
		{"0100901234", cpr.ErrDate, `cpr: "0100901234": month 00 does not exist`},
		{"0113901234", cpr.ErrDate, `cpr: "0113901234": month 13 does not exist`},
		{"0199901234", cpr.ErrDate, `…month 99 does not exist`},
		{"0001901234", cpr.ErrDate, `cpr: "0001901234": day 00 does not exist`},
		{"3201901234", cpr.ErrDate, `cpr: "3201901234": day 32 does not exist in January 1990`},
		{"9912991234", cpr.ErrDate, `…day 99 does not exist in December 1999`},
		{"4501901234", cpr.ErrDate, `…day 45 does not exist`}, // beyond 32 bits as an integer
		{"3102901234", cpr.ErrDate, `cpr: "3102901234": day 31 does not exist in February 1990`},
		{"3104901234", cpr.ErrDate, `…day 31 does not exist in April 1990`},
		{"2902901234", cpr.ErrDate, `cpr: "2902901234": day 29 does not exist in February 1990, which is not a leap year`},
		{"290200-0123", cpr.ErrDate, `…day 29 does not exist in February 1900, which is not a leap year`},
		{"290258-5123", cpr.ErrDate, `…February 1858, which is not a leap year`},
		{"300200-4123", cpr.ErrDate, `…day 30 does not exist in February 2000`},
	}
	for _, tt := range tests {
		n, err := cpr.Parse(tt.in)
		if len(tt.in) > 40 {
			tt.in = tt.in[:40] + "…" // keep failure messages readable
		}
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error", tt.in, n)
			continue
		}
		if !n.IsZero() {
			t.Errorf("Parse(%q) returned %v with its error, want the zero Number", tt.in, n)
		}
		other := cpr.ErrDate
		if tt.err == cpr.ErrDate {
			other = cpr.ErrSyntax
		}
		if !errors.Is(err, tt.err) || errors.Is(err, other) {
			t.Errorf("Parse(%q) error %q: errors.Is(%v) = %v, errors.Is(%v) = %v", tt.in, err, tt.err, errors.Is(err, tt.err), other, errors.Is(err, other))
		}
		msg := err.Error()
		if part, ok := strings.CutPrefix(tt.want, "…"); ok {
			if !strings.HasPrefix(msg, "cpr: ") || !strings.Contains(msg, part) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, msg, part)
			}
		} else if msg != tt.want {
			t.Errorf("Parse(%q) error = %q, want %q", tt.in, msg, tt.want)
		}
	}
}

func TestParseAcceptsCalendarEdges(t *testing.T) {
	tests := []struct {
		in   string
		born time.Time
	}{
		{"2902961234", date(1996, time.February, 29)},
		{"290200-4123", date(2000, time.February, 29)}, // 2000 is a leap year, 1900 (digit 0) is not
		{"290260-5123", date(1860, time.February, 29)},
		{"290256-5123", date(2056, time.February, 29)},
		{"3112991234", date(1999, time.December, 31)},
		{"3101570000", date(1957, time.January, 31)},
		{"3012579999", date(1957, time.December, 30)}, // 9 with YY 37–57: the 1900s
		{"010158-5000", date(1858, time.January, 1)},
		{"311257-8999", date(2057, time.December, 31)},
		{"300490-1234", date(1990, time.April, 30)},
	}
	for _, tt := range tests {
		n, err := cpr.Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := n.Birthdate(); !got.Equal(tt.born) || got.Location() != time.UTC {
			t.Errorf("Parse(%q).Birthdate() = %v, want %v", tt.in, got, tt.born)
		}
	}
}

func TestSex(t *testing.T) {
	for last := range 10 {
		s := fmt.Sprintf("010190-123%d", last)
		want := cpr.Female
		if last%2 == 1 {
			want = cpr.Male
		}
		if got := mustParse(t, s).Sex(); got != want {
			t.Errorf("Parse(%q).Sex() = %v, want %v", s, got, want)
		}
	}
	for sex, want := range map[cpr.Sex]string{cpr.Female: "female", cpr.Male: "male", cpr.SexUnspecified: "unspecified", cpr.Sex(9): "Sex(9)"} {
		if got := sex.String(); got != want {
			t.Errorf("Sex(%d).String() = %q, want %q", sex, got, want)
		}
	}
}

func TestAgeOn(t *testing.T) {
	cph := time.FixedZone("CET", 3600)
	tests := []struct {
		name      string
		born, day time.Time
		want      int
	}{
		{"day before the birthday", date(1990, time.June, 15), date(2020, time.June, 14), 29},
		{"on the birthday", date(1990, time.June, 15), date(2020, time.June, 15), 30},
		{"day after", date(1990, time.June, 15), date(2020, time.June, 16), 30},
		{"end of the month before", date(1990, time.June, 15), date(2020, time.May, 31), 29},
		{"day of birth", date(2010, time.March, 3), date(2010, time.March, 3), 0},
		{"day before birth", date(2010, time.March, 3), date(2010, time.March, 2), -1},
		{"year before birth", date(2010, time.March, 3), date(2009, time.March, 3), -1},
		{"new year's eve", date(2012, time.January, 1), date(2025, time.December, 31), 13},
		{"new year's day", date(2012, time.January, 1), date(2026, time.January, 1), 14},
		{"29 Feb, leap year, day before", date(2000, time.February, 29), date(2004, time.February, 28), 3},
		{"29 Feb, leap year, on it", date(2000, time.February, 29), date(2004, time.February, 29), 4},
		{"29 Feb, other year, 28 Feb", date(2000, time.February, 29), date(2001, time.February, 28), 0},
		{"29 Feb, other year, 1 Mar", date(2000, time.February, 29), date(2001, time.March, 1), 1},
		{"29 Feb, turning 18 on 1 Mar", date(2008, time.February, 29), date(2026, time.March, 1), 18},
		{"29 Feb, not yet 18 on 28 Feb", date(2008, time.February, 29), date(2026, time.February, 28), 17},
		// The calendar date of day in its own zone counts: 00:30 in
		// Copenhagen on the birthday is still the day before in UTC.
		{"birthday begins in Copenhagen", date(2011, time.May, 10), time.Date(2026, time.May, 10, 0, 30, 0, 0, cph), 15},
		{"time of day ignored", date(2011, time.May, 10), time.Date(2026, time.May, 9, 23, 59, 59, 0, time.UTC), 14},
	}
	for _, tt := range tests {
		if got := cpr.AgeOn(tt.born, tt.day); got != tt.want {
			t.Errorf("%s: AgeOn(%s, %s) = %d, want %d", tt.name, tt.born.Format(time.DateOnly), tt.day.Format(time.RFC3339), got, tt.want)
		}
	}
	n := mustParse(t, "290208-4321")
	if got := n.AgeOn(date(2026, time.February, 28)); got != 17 {
		t.Errorf("Number.AgeOn = %d, want 17", got)
	}
	if got := (cpr.Number{}).AgeOn(date(2026, time.January, 1)); got != -1 {
		t.Errorf("zero Number.AgeOn = %d, want -1", got)
	}
}

func TestZeroNumber(t *testing.T) {
	var n cpr.Number
	if !n.IsZero() || n.String() != "" || n.Digits() != "" || n.Masked() != "" || !n.Birthdate().IsZero() || n.Sex() != cpr.SexUnspecified {
		t.Errorf("zero Number: IsZero %v, String %q, Digits %q, Masked %q, Birthdate %v, Sex %v",
			n.IsZero(), n.String(), n.Digits(), n.Masked(), n.Birthdate(), n.Sex())
	}
}

func TestNumberIsAMapKey(t *testing.T) {
	m := map[cpr.Number]string{}
	m[mustParse(t, "010190-1234")] = "a"
	m[mustParse(t, "0101901234")] = "b"
	m[mustParse(t, "010190-1235")] = "c"
	if len(m) != 2 || m[mustParse(t, " 010190-1234 ")] != "b" {
		t.Errorf("map = %v", m)
	}
}

func TestMake(t *testing.T) {
	// Every valid serial round-trips for birth dates in each century band.
	for _, born := range []time.Time{date(1858, 1, 1), date(1899, 12, 31), date(1900, 2, 28), date(1936, 7, 1),
		date(1937, 7, 1), date(1957, 7, 1), date(1958, 7, 1), date(1999, 12, 31), date(2000, 2, 29), date(2036, 7, 1),
		date(2037, 7, 1), date(2057, 12, 31)} {
		for serial := 0; serial <= 9999; serial += 7 {
			n, err := cpr.Make(born, serial)
			if err != nil {
				t.Fatalf("Make(%s, %d): %v", born.Format(time.DateOnly), serial, err)
			}
			if !n.Birthdate().Equal(born) {
				t.Fatalf("Make(%s, %04d) = %v, born %s", born.Format(time.DateOnly), serial, n, n.Birthdate().Format(time.DateOnly))
			}
			if got, want := n.Digits()[7:], fmt.Sprintf("%03d", serial%1000); got != want {
				t.Fatalf("Make(%s, %04d) = %v: last three digits %s, want %s", born.Format(time.DateOnly), serial, n, got, want)
			}
			if p := mustParse(t, n.Digits()); p != n {
				t.Fatalf("Make(%s, %04d) = %v, which parses to %v", born.Format(time.DateOnly), serial, n, p)
			}
		}
	}
	tests := []struct {
		born   time.Time
		serial int
		want   string
	}{
		{date(1990, 1, 1), 1234, "010190-1234"},                                              // kept: 1 gives the 1900s
		{date(1990, 1, 1), 4234, "010190-4234"},                                              // kept: 4 with YY 37–99 gives the 1900s
		{date(1990, 1, 1), 5234, "010190-9234"},                                              // replaced: 0,1,2,3,4,9 are valid; 5 mod 6 = 5 picks 9
		{date(1990, 1, 1), 7235, "010190-1235"},                                              // 7 mod 6 = 1 picks 1, with the sex kept
		{date(2010, 1, 1), 1234, "010110-5234"},                                              // 4–9 are valid; 1 picks 5
		{date(2040, 1, 1), 9234, "010140-6234"},                                              // 5–8 are valid; 9 mod 4 = 1 picks 6
		{date(1870, 1, 1), 0, "010170-5000"},                                                 // 5–8 are valid; 0 picks 5
		{time.Date(1990, 1, 1, 23, 30, 0, 0, time.FixedZone("CET", 3600)), 1, "010190-0001"}, // the date in its own zone
	}
	for _, tt := range tests {
		n, err := cpr.Make(tt.born, tt.serial)
		if err != nil || n.String() != tt.want {
			t.Errorf("Make(%s, %04d) = %v, %v; want %s", tt.born.Format(time.DateOnly), tt.serial, n, err, tt.want)
		}
	}
	for _, bad := range []struct {
		born   time.Time
		serial int
	}{{date(1857, 12, 31), 1234}, {date(2058, 1, 1), 1234}, {date(1990, 1, 1), -1}, {date(1990, 1, 1), 10000}, {time.Time{}, 0}} {
		n, err := cpr.Make(bad.born, bad.serial)
		if !errors.Is(err, cpr.ErrRange) || !n.IsZero() || !strings.HasPrefix(err.Error(), "cpr: ") {
			t.Errorf("Make(%s, %d) = %v, %v; want the zero Number and ErrRange", bad.born.Format(time.DateOnly), bad.serial, n, err)
		}
	}
}

func TestText(t *testing.T) {
	type record struct {
		CPR   cpr.Number
		Other cpr.Number `json:",omitzero"`
	}
	b, err := json.Marshal(record{CPR: mustParse(t, "0101901234")})
	if err != nil || string(b) != `{"CPR":"010190-1234"}` {
		t.Fatalf("json.Marshal = %s, %v", b, err)
	}
	var r record
	if err := json.Unmarshal([]byte(`{"CPR":"0101901234","Other":""}`), &r); err != nil || r.CPR != mustParse(t, "010190-1234") || !r.Other.IsZero() {
		t.Fatalf("json.Unmarshal = %+v, %v", r, err)
	}
	r = record{CPR: mustParse(t, "0101901234")}
	if err := json.Unmarshal([]byte(`{"CPR":"3102901234"}`), &r); !errors.Is(err, cpr.ErrDate) || r.CPR != mustParse(t, "0101901234") {
		t.Fatalf("json.Unmarshal of a bad number = %+v, %v; want ErrDate and the value unchanged", r, err)
	}
}

// A Number handed to log/slog by mistake must not put the full number in the logs.
func TestLogValueIsMasked(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("enrolled", "cpr", mustParse(t, "0101901234"))
	if out := buf.String(); strings.Contains(out, "1234") || !strings.Contains(out, `"cpr":"010190-XXXX"`) {
		t.Errorf("log line = %s", out)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"010190-1234", "0101901234", " 3112999999 ", "2902001234", "290200-4123", "3102901234",
		"0113901234", "0101-901234", "", "-", "01019O1234", "010158-5000", "311257-8999", "4501901234", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := cpr.Parse(s)
		if err != nil {
			if !n.IsZero() {
				t.Fatalf("Parse(%q) = %v with error %v", s, n, err)
			}
			if !errors.Is(err, cpr.ErrSyntax) && !errors.Is(err, cpr.ErrDate) {
				t.Fatalf("Parse(%q) error %v is neither ErrSyntax nor ErrDate", s, err)
			}
			if !strings.HasPrefix(err.Error(), "cpr: ") || len(err.Error()) > 200 {
				t.Fatalf("Parse(%q) error %q", s, err)
			}
			return
		}
		if n.IsZero() {
			t.Fatalf("Parse(%q) = the zero Number without an error", s)
		}
		for _, form := range []string{n.String(), n.Digits()} {
			if m, err := cpr.Parse(form); err != nil || m != n {
				t.Fatalf("Parse(%q) = %v; Parse(%q) = %v, %v", s, n, form, m, err)
			}
		}
		born := n.Birthdate()
		if y := born.Year(); y < 1858 || y > 2057 || born.Hour() != 0 || born.Location() != time.UTC {
			t.Fatalf("Parse(%q).Birthdate() = %v", s, born)
		}
		serial, _ := strconv.Atoi(n.Digits()[6:]) // not fmt.Sscan, which reads a leading 0 as octal
		if m, err := cpr.Make(born, serial); err != nil || m != n {
			t.Fatalf("Make(%v, %04d) = %v, %v; want %v", born, serial, m, err, n)
		}
		if m := n.Masked(); m[:7] != n.String()[:7] || m[7:] != "XXXX" {
			t.Fatalf("%v.Masked() = %q", n, m)
		}
	})
}
