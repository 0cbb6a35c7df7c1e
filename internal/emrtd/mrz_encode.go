package emrtd

import (
	"fmt"
	"strings"
)

// Encode writes m as a machine readable zone, lines separated by "\n", with
// every check digit computed (ICAO 9303 part 3, section 4.9; part 4, section
// 4.2.2 for TD3; part 5, section 4.2.2 for TD1). Spaces and hyphens in text
// fields become fillers. It does not transliterate or truncate (part 3,
// section 6): a field with a character outside A-Z 0-9, or too long for its
// place, is an error naming the field.
func (m *MRZ) Encode() (string, error) {
	code, err := mrzField("document code", m.DocumentCode, 2)
	if err != nil {
		return "", err
	}
	state, err := mrzField("issuing state", m.IssuingState, 3)
	if err != nil {
		return "", err
	}
	nationality, err := mrzField("nationality", m.Nationality, 3)
	if err != nil {
		return "", err
	}
	if !isStateCode(state) || !isStateCode(nationality) {
		return "", fmt.Errorf("%w: issuing state %q and nationality %q must be letter codes", ErrMRZ, m.IssuingState, m.Nationality)
	}
	var sex string
	switch m.Sex {
	case SexMale, SexFemale:
		sex = m.Sex
	case SexUnspecified, "":
		sex = "<"
	default:
		return "", fmt.Errorf("%w: sex %q is not M, F or X", ErrMRZ, m.Sex)
	}
	if err := checkMRZDate("date of birth", pad(m.DateOfBirth, 6), true); err != nil || len(m.DateOfBirth) != 6 {
		return "", fmt.Errorf("%w: date of birth %q is not YYMMDD", ErrMRZ, m.DateOfBirth)
	}
	if err := checkMRZDate("date of expiry", pad(m.DateOfExpiry, 6), false); err != nil || len(m.DateOfExpiry) != 6 {
		return "", fmt.Errorf("%w: date of expiry %q is not YYMMDD", ErrMRZ, m.DateOfExpiry)
	}
	birth := m.DateOfBirth + string(CheckDigit(m.DateOfBirth))
	expiry := m.DateOfExpiry + string(CheckDigit(m.DateOfExpiry))

	switch m.Format {
	case TD3:
		name, err := mrzName(m.Surname, m.GivenNames, 39)
		if err != nil {
			return "", err
		}
		number, err := mrzField("document number", m.DocumentNumber, 9)
		if err != nil {
			return "", err
		}
		opt, err := mrzField("optional data", m.OptionalData, 14)
		if err != nil {
			return "", err
		}
		if m.OptionalData2 != "" {
			return "", fmt.Errorf("%w: a TD3 has no second optional data field", ErrMRZ)
		}
		optCheck := CheckDigit(opt)
		if m.OptionalData == "" {
			optCheck = '<'
		}
		l1 := code + state + name
		l2 := number + string(CheckDigit(number)) + nationality + birth + sex + expiry + opt + string(optCheck)
		l2 += string(CheckDigit(l2[0:10] + l2[13:20] + l2[21:43]))
		return l1 + "\n" + l2, nil

	case TD1:
		name, err := mrzName(m.Surname, m.GivenNames, 30)
		if err != nil {
			return "", err
		}
		number := strings.ToUpper(strings.ReplaceAll(m.DocumentNumber, " ", "<"))
		var l1 string
		if len(number) <= 9 {
			n := pad(number, 9)
			opt, err := mrzField("optional data", m.OptionalData, 15)
			if err != nil {
				return "", err
			}
			l1 = code + state + n + string(CheckDigit(n)) + opt
		} else {
			// Part 5, section 4.2.2, note j: the overflow of a long number,
			// its check digit and a filler go first in the optional data.
			opt, err := mrzField("optional data", number[9:]+string(CheckDigit(number))+"<"+m.OptionalData, 15)
			if err != nil {
				return "", fmt.Errorf("%w: document number %q and optional data do not fit 24 characters", ErrMRZ, m.DocumentNumber)
			}
			l1 = code + state + number[:9] + "<" + opt
		}
		if !isMRZText(number) {
			return "", fmt.Errorf("%w: document number %q has characters outside A-Z 0-9", ErrMRZ, m.DocumentNumber)
		}
		opt2, err := mrzField("second optional data", m.OptionalData2, 11)
		if err != nil {
			return "", err
		}
		l2 := birth + sex + expiry + nationality + opt2
		l2 += string(CheckDigit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]))
		return l1 + "\n" + l2 + "\n" + name, nil
	}
	return "", fmt.Errorf("%w: format %v is neither TD1 nor TD3", ErrMRZ, m.Format)
}

// mrzField writes a text field padded with fillers to width.
func mrzField(field, value string, width int) (string, error) {
	v := strings.ToUpper(strings.NewReplacer(" ", "<", "-", "<").Replace(value))
	if len(v) > width {
		return "", fmt.Errorf("%w: %s %q is longer than its %d characters", ErrMRZ, field, value, width)
	}
	if !isMRZText(v) {
		return "", fmt.Errorf("%w: %s %q has characters outside A-Z 0-9", ErrMRZ, field, value)
	}
	return pad(v, width), nil
}

// mrzName writes the name field: primary identifier, two fillers, secondary
// identifier (part 3, section 4.6.1).
func mrzName(surname, given string, width int) (string, error) {
	if strings.TrimSpace(surname) == "" {
		return "", fmt.Errorf("%w: surname is empty", ErrMRZ)
	}
	name := strings.TrimSpace(surname)
	if g := strings.TrimSpace(given); g != "" {
		name += "<<" + g
	}
	return mrzField("name", name, width)
}

func isMRZText(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isMRZChar(s[i]) {
			return false
		}
	}
	return true
}

func pad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return s + strings.Repeat("<", width-len(s))
}
