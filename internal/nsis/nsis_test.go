package nsis_test

import (
	"errors"
	"testing"

	"github.com/openmitid/openmitid/internal/nsis"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want nsis.Level
	}{
		{"low", nsis.Low},
		{"Substantial", nsis.Substantial},
		{" HIGH ", nsis.High},
		{"https://data.gov.dk/concept/core/nsis/Low", nsis.Low},
		{"https://data.gov.dk/concept/core/nsis/Substantial", nsis.Substantial},
		{"https://data.gov.dk/concept/core/nsis/High", nsis.High},
	}
	for _, tt := range tests {
		got, err := nsis.Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back, _ := nsis.Parse(got.URI()); back != got {
			t.Errorf("Parse(URI(%v)) = %v", got, back)
		}
		if back, _ := nsis.Parse(got.String()); back != got {
			t.Errorf("Parse(String(%v)) = %v", got, back)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "none", "medium", "3", "https://data.gov.dk/concept/core/nsis/", "http://data.gov.dk/concept/core/nsis/High", "lowx"} {
		got, err := nsis.Parse(in)
		if !errors.Is(err, nsis.ErrUnknownLevel) || got != nsis.None {
			t.Errorf("Parse(%q) = %v, %v; want None, ErrUnknownLevel", in, got, err)
		}
	}
}

func TestMin(t *testing.T) {
	if got := nsis.Min(nsis.High, nsis.Substantial, nsis.High); got != nsis.Substantial {
		t.Errorf("Min = %v", got)
	}
	if got := nsis.Min(); got != nsis.None {
		t.Errorf("Min() = %v", got)
	}
	if nsis.None.URI() != "" || nsis.None.Valid() || !nsis.Low.Valid() {
		t.Error("None must be invalid and have no URI")
	}
	if !nsis.High.AtLeast(nsis.Substantial) || nsis.Low.AtLeast(nsis.Substantial) {
		t.Error("AtLeast wrong")
	}
}
