package emrtd_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// TestMRZGolden parses every testdata/mrz file and checks the outcome it
// names: the fields for "ok", or the error and the field whose check digit
// is wrong.
func TestMRZGolden(t *testing.T) {
	for _, g := range goldenFiles(t, "mrz/*.txt") {
		t.Run(g.name, func(t *testing.T) {
			m, err := emrtd.ParseMRZ(g.body)
			switch want := g.header["expect"]; want {
			case "ok":
				if err != nil {
					t.Fatalf("ParseMRZ: %v", err)
				}
				got := map[string]string{
					"format": m.Format.String(), "document_code": m.DocumentCode, "issuing_state": m.IssuingState,
					"surname": m.Surname, "given_names": m.GivenNames, "document_number": m.DocumentNumber,
					"nationality": m.Nationality, "date_of_birth": m.DateOfBirth, "sex": m.Sex,
					"date_of_expiry": m.DateOfExpiry, "optional_data": m.OptionalData,
					"optional_data2": m.OptionalData2, "mrz_info": m.MRZInfo(),
				}
				for k, v := range got {
					if w, ok := g.header[k]; !ok {
						t.Errorf("golden file lacks %s", k)
					} else if v != w {
						t.Errorf("%s = %q, want %q", k, v, w)
					}
				}
				enc, err := m.Encode()
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				if enc != strings.TrimSpace(g.body) {
					t.Errorf("Encode =\n%s\nwant\n%s", enc, g.body)
				}
			case "check-digit":
				var cd *emrtd.CheckDigitError
				if !errors.As(err, &cd) || !errors.Is(err, emrtd.ErrCheckDigit) || !errors.Is(err, emrtd.ErrMRZ) {
					t.Fatalf("ParseMRZ error = %v, want a CheckDigitError", err)
				}
				if cd.Field != g.header["field"] {
					t.Errorf("check digit error names %q, want %q", cd.Field, g.header["field"])
				}
				if m != nil {
					t.Errorf("ParseMRZ returned %+v with its error", m)
				}
			case "malformed":
				if !errors.Is(err, emrtd.ErrMRZ) || errors.Is(err, emrtd.ErrCheckDigit) {
					t.Fatalf("ParseMRZ error = %v, want ErrMRZ", err)
				}
				if m != nil {
					t.Errorf("ParseMRZ returned %+v with its error", m)
				}
			default:
				t.Fatalf("unknown expectation %q", want)
			}
		})
	}
}

const specimenTD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"

func TestParseMRZRejects(t *testing.T) {
	l1, l2, _ := strings.Cut(specimenTD3, "\n")
	tests := []struct {
		name  string
		in    string
		field string // check digit field, or "" for ErrMRZ alone
	}{
		{"empty", "", ""},
		{"one line", l1, ""},
		{"short line", l1[:43] + "\n" + l2 + "<", ""},
		{"lower case", strings.ToLower(l1) + "\n" + l2, ""},
		{"three TD3 lines", l1 + "\n" + l2 + "\n" + l2, ""},
		{"too long", strings.Repeat("<", 200), ""},
		{"unicode", "P<UTOÉRIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<\n" + l2, ""},
		{"bad sex", l1 + "\n" + l2[:20] + "Q" + l2[21:], ""},
		{"month 13", l1 + "\n" + "L898902C36UTO7413122F1204159ZE184226B<<<<<10", ""},
		{"expiry 31 feb", l1 + "\n" + "L898902C36UTO7408122F1202319ZE184226B<<<<<10", ""},
		{"digit issuing state", "P<U1OERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" + l2, ""},
		{"document number", l1 + "\n" + l2[:9] + "7" + l2[10:], "document number"},
		{"date of birth", l1 + "\n" + l2[:19] + "3" + l2[20:], "date of birth"},
		{"date of expiry", l1 + "\n" + l2[:27] + "0" + l2[28:], "date of expiry"},
		{"optional data", l1 + "\n" + l2[:42] + "2" + l2[43:], "optional data"},
		{"composite", l1 + "\n" + l2[:43] + "9", "composite"},
		{"changed birth keeps its check digit", l1 + "\n" + "L898902C36UTO7508122F1204159ZE184226B<<<<<10", "date of birth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := emrtd.ParseMRZ(tt.in)
			if m != nil {
				t.Errorf("ParseMRZ returned %+v with error %v", m, err)
			}
			if !errors.Is(err, emrtd.ErrMRZ) {
				t.Fatalf("ParseMRZ error = %v, want ErrMRZ", err)
			}
			if !strings.HasPrefix(err.Error(), "emrtd: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			var cd *emrtd.CheckDigitError
			if tt.field == "" {
				if errors.As(err, &cd) {
					t.Errorf("error %v is a check digit error, want another", err)
				}
				return
			}
			if !errors.As(err, &cd) || cd.Field != tt.field {
				t.Errorf("error %v, want check digit error for %s", err, tt.field)
			}
		})
	}
}

func TestParseMRZAccepts(t *testing.T) {
	l1, l2, _ := strings.Cut(specimenTD3, "\n")
	for name, in := range map[string]string{
		"concatenated":       l1 + l2,
		"CRLF":               l1 + "\r\n" + l2 + "\r\n",
		"surrounding spaces": "  " + specimenTD3 + "\n\n",
	} {
		m, err := emrtd.ParseMRZ(in)
		if err != nil || m.DocumentNumber != "L898902C3" {
			t.Errorf("%s: ParseMRZ = %+v, %v", name, m, err)
		}
	}
}

func TestMRZDates(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		birth, want string
	}{
		{"740812", "1974-08-12"},
		{"260601", "2026-06-01"}, // today: not in the future
		{"260602", "1926-06-02"}, // tomorrow: a century ago
		{"000229", "2000-02-29"},
		{"101231", "2010-12-31"},
	}
	for _, tt := range tests {
		m := &emrtd.MRZ{DateOfBirth: tt.birth, DateOfExpiry: "991231"}
		got, err := m.BirthDate(now)
		if err != nil || got.Format(time.DateOnly) != tt.want {
			t.Errorf("BirthDate(%s) = %v, %v; want %s", tt.birth, got, err, tt.want)
		}
	}
	for _, bad := range []string{"74<<<<", "7408<<", "", "7402300"} {
		m := &emrtd.MRZ{DateOfBirth: bad}
		if got, err := m.BirthDate(now); !errors.Is(err, emrtd.ErrMRZ) || !got.IsZero() {
			t.Errorf("BirthDate(%q) = %v, %v; want ErrMRZ", bad, got, err)
		}
	}
	m := &emrtd.MRZ{DateOfExpiry: "991231"}
	if got, err := m.ExpiryDate(); err != nil || got.Year() != 2099 {
		t.Errorf("ExpiryDate(991231) = %v, %v; want 2099-12-31", got, err)
	}
}

func TestMRZUnknownBirthDay(t *testing.T) {
	// Part 3, section 4.6.2: an unknown day (and month) of birth is written
	// as fillers, which count as 0 in the check digit.
	m := &emrtd.MRZ{Format: emrtd.TD3, DocumentCode: "P", IssuingState: "UTO", Surname: "ERIKSSON",
		GivenNames: "ANNA", DocumentNumber: "L898902C3", Nationality: "UTO", DateOfBirth: "74<<<<",
		Sex: emrtd.SexFemale, DateOfExpiry: "120415"}
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := emrtd.ParseMRZ(enc)
	if err != nil || got.DateOfBirth != "74<<<<" {
		t.Fatalf("ParseMRZ(%q) = %+v, %v", enc, got, err)
	}
}

func TestMRZEncodeRoundTrip(t *testing.T) {
	tests := []emrtd.MRZ{
		{Format: emrtd.TD3, DocumentCode: "P", IssuingState: "DNK", Surname: "MØLLER", GivenNames: "X", DocumentNumber: "1", Nationality: "DNK", DateOfBirth: "900101", DateOfExpiry: "300101"},
		{Format: emrtd.TD3, DocumentCode: "P", IssuingState: "DNK", Surname: "HANSEN-BERG", GivenNames: "SØREN", DocumentNumber: "1", Nationality: "DNK", DateOfBirth: "900101", DateOfExpiry: "300101"},
	}
	for _, m := range tests {
		if _, err := m.Encode(); !errors.Is(err, emrtd.ErrMRZ) {
			t.Errorf("Encode(%+v) = %v, want ErrMRZ for a character outside the MRZ set", m, err)
		}
	}
	good := []emrtd.MRZ{
		{Format: emrtd.TD3, DocumentCode: "P", IssuingState: "D", Surname: "MUSTERMANN", GivenNames: "ERIKA", DocumentNumber: "C01X00T47", Nationality: "D", DateOfBirth: "640812", Sex: emrtd.SexFemale, DateOfExpiry: "310101"},
		{Format: emrtd.TD3, DocumentCode: "PD", IssuingState: "DNK", Surname: "HANSEN BERG", GivenNames: "LARS PETER", DocumentNumber: "207654321", Nationality: "DNK", DateOfBirth: "010203", Sex: emrtd.SexUnspecified, DateOfExpiry: "350203", OptionalData: "0102031234"},
		{Format: emrtd.TD1, DocumentCode: "ID", IssuingState: "DNK", Surname: "JENSEN", GivenNames: "METTE", DocumentNumber: "AB1234567890", Nationality: "DNK", DateOfBirth: "851130", Sex: emrtd.SexFemale, DateOfExpiry: "300101", OptionalData: "X1", OptionalData2: "Y2"},
	}
	for _, m := range good {
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("Encode(%+v): %v", m, err)
		}
		got, err := emrtd.ParseMRZ(enc)
		if err != nil {
			t.Fatalf("ParseMRZ(%q): %v", enc, err)
		}
		if *got != m {
			t.Errorf("round trip of\n%s\n= %+v\nwant %+v", enc, *got, m)
		}
	}
}

func TestCheckDigit(t *testing.T) {
	// ICAO 9303 part 3, section 4.9, example 1: the date 27 July 1952.
	if got := emrtd.CheckDigit("520727"); got != '3' {
		t.Errorf("CheckDigit(520727) = %c, want 3", got)
	}
	if got := emrtd.CheckDigit("AB2134<<<"); got != '5' {
		t.Errorf("CheckDigit(AB2134<<<) = %c, want 5", got)
	}
	if got := emrtd.CheckDigit("a"); got != 0xff {
		t.Errorf("CheckDigit(a) = %x, want ff", got)
	}
}

func TestTransliterate(t *testing.T) {
	tests := map[string]string{
		"Søren Ærø-Åberg":     "SOEREN AEROE-AABERG",
		"Müller-Lüdenscheidt": "MUELLER-LUEDENSCHEIDT",
		"Straße":              "STRASSE",
		"O'Brien":             "OBRIEN",
		"  José   María ":     "JOSE MARIA",
		"Þórunn Łukasiewicz":  "THORUNN LUKASIEWICZ",
		"Ольга":               "",
	}
	for in, want := range tests {
		if got := emrtd.Transliterate(in); got != want {
			t.Errorf("Transliterate(%q) = %q, want %q", in, got, want)
		}
	}
}
