package emrtd

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Format is the size of a machine readable travel document, which fixes the
// layout of its machine readable zone (ICAO 9303 part 3, section 4.1).
type Format int

const (
	// TD3 is the passport size: two lines of 44 characters (ICAO 9303 part 4).
	TD3 Format = 3
	// TD1 is the identity card size: three lines of 30 characters (ICAO 9303 part 5).
	TD1 Format = 1
)

// String returns "TD1" or "TD3".
func (f Format) String() string {
	switch f {
	case TD1:
		return "TD1"
	case TD3:
		return "TD3"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Sex values as the MRZ writes them (ICAO 9303 part 4, section 4.2.2.2).
const (
	SexMale        = "M"
	SexFemale      = "F"
	SexUnspecified = "X" // '<' in the MRZ
)

// ErrMRZ is returned, wrapped, for every MRZ that does not follow ICAO 9303
// parts 3 to 5; [CheckDigitError] is one case of it.
var ErrMRZ = errors.New("emrtd: malformed MRZ")

// ErrCheckDigit is returned, wrapped in a [*CheckDigitError], when a check
// digit in the MRZ does not match its field (ICAO 9303 part 3, section 4.9).
var ErrCheckDigit = errors.New("emrtd: MRZ check digit mismatch")

// CheckDigitError names the MRZ field whose check digit is wrong.
type CheckDigitError struct {
	Field    string // "document number", "date of birth", "date of expiry", "optional data", "composite"
	Printed  byte   // the check digit as printed in the MRZ
	Computed byte   // the check digit computed from the field
}

// Error names the field and both digits.
func (e *CheckDigitError) Error() string {
	return fmt.Sprintf("emrtd: MRZ check digit for %s is %q, computed %q", e.Field, e.Printed, e.Computed)
}

// Unwrap makes errors.Is(err, ErrCheckDigit) and errors.Is(err, ErrMRZ) hold.
func (e *CheckDigitError) Unwrap() []error { return []error{ErrCheckDigit, ErrMRZ} }

// MRZ is the content of a machine readable zone. Text fields hold the MRZ
// characters with the filler '<' read as a space and leading and trailing
// fillers removed; dates are kept as printed (YYMMDD, '<' where a part is
// unknown) because the century is not written: see [MRZ.BirthDate] and
// [MRZ.ExpiryDate].
type MRZ struct {
	Format         Format
	DocumentCode   string // "P", "PD", "I", "ID", "AC", ...
	IssuingState   string // three-letter code, "D" for Germany
	Surname        string // primary identifier
	GivenNames     string // secondary identifier, names separated by one space
	DocumentNumber string
	Nationality    string
	DateOfBirth    string // YYMMDD
	Sex            string // SexMale, SexFemale or SexUnspecified
	DateOfExpiry   string // YYMMDD
	// OptionalData is the personal number of a TD3 or the first optional
	// data field of a TD1 (without the overflow of a long document number).
	OptionalData string
	// OptionalData2 is the second optional data field of a TD1.
	OptionalData2 string
}

// maxMRZInput bounds what ParseMRZ reads: three TD1 lines of 30 characters or
// two TD3 lines of 44, with line ends and some stray white space.
const maxMRZInput = 128

// ParseMRZ parses a TD3 (ICAO 9303 part 4, section 4.2.2) or TD1 (part 5,
// section 4.2.2) machine readable zone and verifies every check digit (part 3,
// section 4.9). Lines may be separated by newlines (LF or CRLF) or
// concatenated. It rejects anything but the MRZ character set (A-Z, 0-9, <),
// impossible dates, an unknown sex and a wrong check digit, naming the field.
func ParseMRZ(s string) (*MRZ, error) {
	if len(s) > maxMRZInput {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d an MRZ can take", ErrMRZ, len(s), maxMRZInput)
	}
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	joined := strings.Join(lines, "")
	for i := 0; i < len(joined); i++ {
		if !isMRZChar(joined[i]) {
			return nil, fmt.Errorf("%w: character %q at offset %d is not in the MRZ character set A-Z 0-9 <", ErrMRZ, joined[i], i)
		}
	}
	switch {
	case len(joined) == 88 && (len(lines) == 1 || len(lines) == 2 && len(lines[0]) == 44):
		return parseTD3(joined[:44], joined[44:])
	case len(joined) == 90 && (len(lines) == 1 || len(lines) == 3 && len(lines[0]) == 30 && len(lines[1]) == 30):
		return parseTD1(joined[:30], joined[30:60], joined[60:])
	}
	return nil, fmt.Errorf("%w: %d lines and %d characters, want 2 lines of 44 (TD3) or 3 lines of 30 (TD1)", ErrMRZ, len(lines), len(joined))
}

func parseTD3(l1, l2 string) (*MRZ, error) {
	m := &MRZ{Format: TD3}
	if err := m.parseHeader(l1[0:2], l1[2:5]); err != nil {
		return nil, err
	}
	if err := m.parseName(l1[5:44]); err != nil {
		return nil, err
	}
	m.DocumentNumber = unfill(l2[0:9])
	if err := verifyCheckDigit("document number", l2[0:9], l2[9]); err != nil {
		return nil, err
	}
	if err := m.parseCommon(l2[13:20], l2[20], l2[21:28], l2[10:13]); err != nil {
		return nil, err
	}
	m.OptionalData = unfill(l2[28:42])
	// Part 4, section 4.2.2.2, note k: the check digit of an empty personal
	// number may be the filler instead of 0.
	if !(m.OptionalData == "" && l2[42] == '<') {
		if err := verifyCheckDigit("optional data", l2[28:42], l2[42]); err != nil {
			return nil, err
		}
	}
	composite := l2[0:10] + l2[13:20] + l2[21:43]
	if err := verifyCheckDigit("composite", composite, l2[43]); err != nil {
		return nil, err
	}
	return m, nil
}

func parseTD1(l1, l2, l3 string) (*MRZ, error) {
	m := &MRZ{Format: TD1}
	if err := m.parseHeader(l1[0:2], l1[2:5]); err != nil {
		return nil, err
	}
	opt1 := l1[15:30]
	if l1[14] == '<' && l1[5:14] != "<<<<<<<<<" {
		// Part 5, section 4.2.2, note j: a document number longer than nine
		// characters goes on into the optional data, ended by its check digit
		// and a filler, and the check digit position holds a filler.
		end := strings.IndexByte(opt1, '<')
		if end < 2 {
			return nil, fmt.Errorf("%w: document number continues into the optional data but has no check digit there", ErrMRZ)
		}
		number := l1[5:14] + opt1[:end-1]
		m.DocumentNumber = unfill(number)
		if err := verifyCheckDigit("document number", number, opt1[end-1]); err != nil {
			return nil, err
		}
		m.OptionalData = unfill(opt1[end:])
	} else {
		m.DocumentNumber = unfill(l1[5:14])
		if err := verifyCheckDigit("document number", l1[5:14], l1[14]); err != nil {
			return nil, err
		}
		m.OptionalData = unfill(opt1)
	}
	if err := m.parseCommon(l2[0:7], l2[7], l2[8:15], l2[15:18]); err != nil {
		return nil, err
	}
	m.OptionalData2 = unfill(l2[18:29])
	composite := l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
	if err := verifyCheckDigit("composite", composite, l2[29]); err != nil {
		return nil, err
	}
	if err := m.parseName(l3); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *MRZ) parseHeader(code, state string) error {
	if code[0] < 'A' || code[0] > 'Z' {
		return fmt.Errorf("%w: document code %q does not start with a letter", ErrMRZ, code)
	}
	m.DocumentCode = unfill(code)
	m.IssuingState = unfill(state)
	if !isStateCode(state) {
		return fmt.Errorf("%w: issuing state %q is not a code of letters", ErrMRZ, state)
	}
	return nil
}

// parseCommon reads the fields TD1 and TD3 share: birth date and its check
// digit, sex, expiry date and its check digit, nationality.
func (m *MRZ) parseCommon(birth string, sex byte, expiry, nationality string) error {
	if err := checkMRZDate("date of birth", birth[:6], true); err != nil {
		return err
	}
	if err := verifyCheckDigit("date of birth", birth[:6], birth[6]); err != nil {
		return err
	}
	m.DateOfBirth = birth[:6]
	switch sex {
	case 'M':
		m.Sex = SexMale
	case 'F':
		m.Sex = SexFemale
	case '<', 'X':
		m.Sex = SexUnspecified
	default:
		return fmt.Errorf("%w: sex %q is not M, F or <", ErrMRZ, sex)
	}
	if err := checkMRZDate("date of expiry", expiry[:6], false); err != nil {
		return err
	}
	if err := verifyCheckDigit("date of expiry", expiry[:6], expiry[6]); err != nil {
		return err
	}
	m.DateOfExpiry = expiry[:6]
	if !isStateCode(nationality) {
		return fmt.Errorf("%w: nationality %q is not a code of letters", ErrMRZ, nationality)
	}
	m.Nationality = unfill(nationality)
	return nil
}

// isStateCode reports whether s is a three-character state code: letters
// padded with fillers on the right ("D<<" for Germany).
func isStateCode(s string) bool {
	t := strings.TrimRight(s, "<")
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 'A' || t[i] > 'Z' {
			return false
		}
	}
	return true
}

// checkMRZDate checks a YYMMDD date. A birth date may have its day, or its
// month and day, unknown and written as fillers (part 3, section 4.6.2); an
// expiry date is always complete.
func checkMRZDate(field, d string, unknownAllowed bool) error {
	yy, mm, dd := d[0:2], d[2:4], d[4:6]
	if !isDigits(yy) {
		return fmt.Errorf("%w: %s %q: year is not two digits", ErrMRZ, field, d)
	}
	if unknownAllowed && dd == "<<" && (mm == "<<" || isDigits(mm)) {
		if mm != "<<" && (mm < "01" || mm > "12") {
			return fmt.Errorf("%w: %s %q: month %s out of range", ErrMRZ, field, d, mm)
		}
		return nil
	}
	if !isDigits(mm) || !isDigits(dd) {
		return fmt.Errorf("%w: %s %q is not YYMMDD", ErrMRZ, field, d)
	}
	if _, err := time.Parse("060102", d); err != nil {
		return fmt.Errorf("%w: %s %q is not a calendar date", ErrMRZ, field, d)
	}
	return nil
}

// BirthDate returns the date of birth, choosing the century so that the date
// is not after now: the MRZ writes only two digits of the year, and a person
// cannot be born in the future. It fails when the day or month is unknown.
func (m *MRZ) BirthDate(now time.Time) (time.Time, error) {
	if len(m.DateOfBirth) != 6 || !isDigits(m.DateOfBirth) {
		return time.Time{}, fmt.Errorf("%w: date of birth %q is not a complete YYMMDD date", ErrMRZ, m.DateOfBirth)
	}
	t, err := time.Parse("20060102", "20"+m.DateOfBirth)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: date of birth %q is not a calendar date", ErrMRZ, m.DateOfBirth)
	}
	if t.After(now) {
		t = t.AddDate(-100, 0, 0)
	}
	return t, nil
}

// ExpiryDate returns the date of expiry, always in the years 2000 to 2099:
// no machine readable document expired before 2000 is in circulation.
func (m *MRZ) ExpiryDate() (time.Time, error) {
	t, err := time.Parse("20060102", "20"+m.DateOfExpiry)
	if err != nil || len(m.DateOfExpiry) != 6 {
		return time.Time{}, fmt.Errorf("%w: date of expiry %q is not a complete YYMMDD date", ErrMRZ, m.DateOfExpiry)
	}
	return t, nil
}

// MRZDate formats t as an MRZ date, YYMMDD.
func MRZDate(t time.Time) string { return t.Format("060102") }

// CheckDigit computes the check digit of an MRZ field (ICAO 9303 part 3,
// section 4.9): weights 7, 3, 1 repeated; digits count as their value,
// letters A to Z as 10 to 35, the filler as 0; the sum modulo 10.
// It returns 0xff for a character outside the MRZ character set.
func CheckDigit(field string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(field); i++ {
		c := field[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		case c == '<':
			v = 0
		default:
			return 0xff
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10)
}

func verifyCheckDigit(field, value string, printed byte) error {
	computed := CheckDigit(value)
	if printed != computed {
		return &CheckDigitError{Field: field, Printed: printed, Computed: computed}
	}
	return nil
}

// parseName reads the name field; the primary identifier is never empty
// (part 3, section 4.6.1: a single name is written as the primary one).
func (m *MRZ) parseName(field string) error {
	m.Surname, m.GivenNames = splitName(field)
	if m.Surname == "" {
		return fmt.Errorf("%w: name field %q has no primary identifier", ErrMRZ, field)
	}
	return nil
}

// splitName splits the name field at the first double filler into the
// primary and secondary identifiers (part 3, section 4.6.1), with single
// fillers read as spaces.
func splitName(field string) (surname, given string) {
	field = strings.TrimRight(field, "<")
	primary, secondary, _ := strings.Cut(field, "<<")
	return unfill(primary), unfill(secondary)
}

// unfill turns fillers into spaces, drops them at the ends, and collapses
// runs: "ANNA<MARIA<<<" becomes "ANNA MARIA".
func unfill(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '<' }), " ")
}

func isMRZChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '<'
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
