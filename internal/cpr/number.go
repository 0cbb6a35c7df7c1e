// Package cpr holds Danish CPR numbers (personnumre), the population register
// that maps them to people, and an embedded register of synthetic people for
// development and tests.
//
// The rules for reading a CPR number follow the CPR office's description
// "Personnummeret i CPR" (CPR-kontoret, Social- og Indenrigsministeriet): ten
// digits DDMMYY-SSSS, where the date is the birth date, the first serial digit
// together with the year gives the century of birth, and the last digit gives
// the sex. The old modulus-11 check is not applied: since 2007 the CPR office
// also issues numbers that fail it, so enforcing it would refuse real people.
package cpr

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors returned, wrapped, by this package. Test for them with [errors.Is];
// the wrapping error's text names the value and the rule it broke.
var (
	// ErrSyntax is a CPR number that is not ten digits, with or without one
	// dash after the sixth.
	ErrSyntax = errors.New("cpr: malformed number")
	// ErrDate is a CPR number whose first six digits are not a calendar date
	// in the century its seventh digit gives.
	ErrDate = errors.New("cpr: no such birth date")
	// ErrRange is a birth date or serial that no CPR number can hold (see
	// [Make]), or a birth date for which every number is taken (see
	// [Synthetic.NewCPR]).
	ErrRange = errors.New("cpr: out of range")
)

// Number is a CPR number. The zero Number means "no CPR number" (people
// without one are identified by passport, see [Person]); every other value
// came from [Parse], [Make] or [Number.UnmarshalText] and is valid.
//
// Numbers are comparable with == and usable as map keys: two Numbers are
// equal exactly when their ten digits are.
type Number struct {
	// v is the ten digits read as one decimal integer. The largest possible
	// value, 3112999999, fits in 32 bits, and 0 is never a valid number
	// (day 00 does not exist), so it is free to mean "none".
	v uint32
}

// Sex is a person's legal sex as the population register records it.
type Sex uint8

// The values of [Sex]. The zero value is [SexUnspecified], so a forgotten
// field never claims a sex.
const (
	SexUnspecified Sex = iota
	Female
	Male
)

// String returns "female", "male" or "unspecified", and "Sex(N)" for a
// value that is none of the constants.
func (s Sex) String() string {
	switch s {
	case Female:
		return "female"
	case Male:
		return "male"
	case SexUnspecified:
		return "unspecified"
	default:
		return "Sex(" + strconv.Itoa(int(s)) + ")"
	}
}

// Parse reads a CPR number written as "DDMMYY-SSSS" or "DDMMYYSSSS". Spaces
// (U+0020) around the number are ignored; no other separator, space or
// character is accepted.
//
// Parse rejects, with an error wrapping [ErrSyntax]: an empty value, a wrong
// length, a character that is not an ASCII digit, and a dash anywhere but
// after the sixth digit. It rejects, with an error wrapping [ErrDate]: month
// 00 or above 12, day 00, and a day past the end of its month in the birth
// year, which the seventh digit and the year give (see [Number.Birthdate]),
// so 29 February is refused in years that are not leap years. On error the
// zero Number is returned.
//
// The error text contains the rejected value, so that a developer sees what
// was wrong; log it only where the value may be logged.
func Parse(s string) (Number, error) {
	v := strings.Trim(s, " ")
	if v == "" {
		return Number{}, syntaxError(v, "empty; want DDMMYY-SSSS or DDMMYYSSSS")
	}
	// Accumulate in 64 bits: ten digits can exceed 32 bits (day 45 does),
	// and only a valid number is known to fit in Number's uint32.
	var v64 uint64
	digits, pos := 0, 0
	for _, r := range v {
		pos++
		if pos > 11 {
			// Stop before reading hostile input to its end; the count in
			// the message is all that is left to compute.
			return Number{}, syntaxError(v, fmt.Sprintf("%d characters; want DDMMYY-SSSS (11) or DDMMYYSSSS (10)", utf8.RuneCountInString(v)))
		}
		switch {
		case '0' <= r && r <= '9':
			digits++
			v64 = v64*10 + uint64(r-'0')
		case r == '-':
			if pos != 7 {
				return Number{}, syntaxError(v, fmt.Sprintf("dash at position %d; the dash goes after the birth date, DDMMYY-SSSS", pos))
			}
		default:
			return Number{}, syntaxError(v, fmt.Sprintf("character %q at position %d is not a digit", r, pos))
		}
	}
	if digits != 10 {
		return Number{}, syntaxError(v, fmt.Sprintf("%d digits; want 10, DDMMYY-SSSS or DDMMYYSSSS", digits))
	}
	day, month, yy, serial := int(v64/1e8), int(v64/1e6%100), int(v64/1e4%100), int(v64%1e4)
	if month < 1 || month > 12 {
		return Number{}, dateError(v, fmt.Sprintf("month %02d does not exist", month))
	}
	year := centuryOf(serial/1000, yy) + yy
	if day < 1 {
		return Number{}, dateError(v, "day 00 does not exist")
	}
	if last := daysIn(year, time.Month(month)); day > last {
		rule := fmt.Sprintf("day %d does not exist in %s %d", day, time.Month(month), year)
		if month == 2 && day == 29 {
			rule += ", which is not a leap year"
		}
		return Number{}, dateError(v, rule)
	}
	// day ≤ 31, so v64 ≤ 3112999999 < 1<<32.
	return Number{uint32(v64)}, nil
}

// Make returns the CPR number for someone born on birthdate (its calendar
// date in its own location; the clock is ignored) with the given four-digit
// serial, 0 to 9999. It is meant for generators of synthetic people and for
// the test tool; real numbers are issued by the CPR office.
//
// The serial's first digit is the number's seventh digit, which together with
// the year has to give the century of birth (see [Number.Birthdate]). If it
// does, the serial is used as it is, so Make(n.Birthdate(), serial of n)
// gives back n for every valid n. If it does not, Make replaces that digit by
// one that does: the digits valid for the year, in increasing order, indexed
// by the given digit modulo their count. The last three digits, and so the
// sex, are always kept.
//
// Make rejects, with an error wrapping [ErrRange], a serial outside 0–9999
// and a birth year outside 1858–2057, the only years the century table can
// express.
func Make(birthdate time.Time, serial int) (Number, error) {
	year, month, day := birthdate.Date()
	if serial < 0 || serial > 9999 {
		return Number{}, wrapf(ErrRange, "cpr: serial %d is not four digits (0000–9999)", serial)
	}
	valid, ok := seventhDigits(year)
	if !ok {
		return Number{}, wrapf(ErrRange, "cpr: birth year %d cannot be written in a CPR number, which holds 1858–2057", year)
	}
	d7 := serial / 1000
	if !strings.ContainsRune(valid, rune('0'+d7)) {
		d7 = int(valid[d7%len(valid)] - '0')
	}
	serial = d7*1000 + serial%1000
	v := uint32(day)*1e8 + uint32(month)*1e6 + uint32(year%100)*1e4 + uint32(serial)
	return Number{v}, nil
}

// IsZero reports whether n is the zero Number, meaning "no CPR number".
func (n Number) IsZero() bool { return n.v == 0 }

// Digits returns the ten digits, "DDMMYYSSSS", or "" for the zero Number.
func (n Number) Digits() string {
	if n.IsZero() {
		return ""
	}
	var b [10]byte
	n.put(b[:])
	return string(b[:])
}

// String returns the canonical form "DDMMYY-SSSS", or "" for the zero Number.
// It is the full number: log [Number.Masked] instead (a Number given to
// log/slog is masked by [Number.LogValue]).
func (n Number) String() string {
	if n.IsZero() {
		return ""
	}
	var b [11]byte
	n.put(b[:])
	copy(b[7:], b[6:10])
	b[6] = '-'
	return string(b[:])
}

// Masked returns "DDMMYY-XXXX": the birth date without the serial, which is
// what makes the number personal. It returns "" for the zero Number.
func (n Number) Masked() string {
	if n.IsZero() {
		return ""
	}
	return n.String()[:7] + "XXXX"
}

// LogValue makes log/slog write the masked number, so that a Number logged by
// mistake does not put a full CPR number in the logs.
func (n Number) LogValue() slog.Value { return slog.StringValue(n.Masked()) }

// MarshalText returns [Number.String], so that a Number is a JSON string.
func (n Number) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalText parses text with [Parse]; empty text is the zero Number. On
// error n is left unchanged.
func (n *Number) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*n = Number{}
		return nil
	}
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*n = p
	return nil
}

// Birthdate returns the date of birth at 00:00 UTC, or the zero time for the
// zero Number. The century comes from the seventh digit and the year,
// following the CPR office's table in "Personnummeret i CPR":
//
//	7th digit   YY 00–36   YY 37–57   YY 58–99
//	0–3         1900s      1900s      1900s
//	4, 9        2000s      1900s      1900s
//	5–8         2000s      2000s      1800s
func (n Number) Birthdate() time.Time {
	if n.IsZero() {
		return time.Time{}
	}
	day, month, yy, serial := n.fields()
	year := centuryOf(serial/1000, yy) + yy
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// Sex returns [Male] when the last digit is odd and [Female] when it is even,
// as the CPR office assigns them, or [SexUnspecified] for the zero Number.
func (n Number) Sex() Sex {
	switch {
	case n.IsZero():
		return SexUnspecified
	case n.v%2 == 1:
		return Male
	default:
		return Female
	}
}

// AgeOn returns the age in whole years on day of the person with this
// number; see [AgeOn]. For the zero Number, which has no birth date, it
// returns -1, so that no age limit is met by mistake.
func (n Number) AgeOn(day time.Time) int {
	if n.IsZero() {
		return -1
	}
	return AgeOn(n.Birthdate(), day)
}

// AgeOn returns the age in whole years, on day, of someone born on
// birthdate. Both are taken as calendar dates, each in its own location, so
// pass day in the time zone where the age matters (Europe/Copenhagen).
//
// Danish law counts age from the birthday: a person is a year older on the
// day of their birthday. Someone born on 29 February becomes a year older on
// 1 March in years without that day, not on 28 February: only then has a
// whole year passed since the last birthday, and an age limit (13, 15, 18) is
// never met a day early. The age is negative when day is before birthdate.
func AgeOn(birthdate, day time.Time) int {
	by, bm, bd := birthdate.Date()
	y, m, d := day.Date()
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return age
}

// fields splits n into its day, month, two-digit year and serial.
func (n Number) fields() (day, month, yy, serial int) {
	v := int(n.v)
	return v / 1e8, v / 1e6 % 100, v / 1e4 % 100, v % 1e4
}

// put writes the ten digits of n into b[:10].
func (n Number) put(b []byte) {
	v := n.v
	for i := 9; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// centuryOf returns the century (1800, 1900 or 2000) that the seventh digit
// d7 gives together with the two-digit year yy, by the table in
// [Number.Birthdate].
func centuryOf(d7, yy int) int {
	switch {
	case d7 <= 3:
		return 1900
	case d7 == 4 || d7 == 9:
		if yy <= 36 {
			return 2000
		}
		return 1900
	default: // 5–8
		if yy <= 57 {
			return 2000
		}
		return 1800
	}
}

// seventhDigits returns, in increasing order, the seventh digits that give
// year's century, and false when no digit does (before 1858 or after 2057).
func seventhDigits(year int) (string, bool) {
	if year < 1858 || year > 2057 {
		return "", false
	}
	yy := year % 100
	var b [10]byte
	k := 0
	for d := 0; d <= 9; d++ {
		if centuryOf(d, yy)+yy == year {
			b[k] = byte('0' + d)
			k++
		}
	}
	return string(b[:k]), true
}

// daysIn returns the number of days in month of year (Gregorian calendar).
func daysIn(year int, month time.Month) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// cprError is an error with its own text that still matches a sentinel with
// errors.Is, so that messages can name the value without repeating the
// sentinel's text.
type cprError struct {
	msg string
	err error
}

func (e *cprError) Error() string { return e.msg }
func (e *cprError) Unwrap() error { return e.err }

func wrapf(sentinel error, format string, args ...any) error {
	return &cprError{msg: fmt.Sprintf(format, args...), err: sentinel}
}

func syntaxError(value, rule string) error {
	return &cprError{msg: "cpr: " + quote(value) + ": " + rule, err: ErrSyntax}
}

func dateError(value, rule string) error {
	return &cprError{msg: "cpr: " + quote(value) + ": " + rule, err: ErrDate}
}

// quote quotes value for an error message, cut to a length that keeps a
// hostile megabyte out of the logs.
func quote(value string) string {
	const max = 24
	if len(value) <= max {
		return strconv.Quote(value)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(value[cut]) {
		cut--
	}
	return strconv.Quote(value[:cut]) + "…"
}
