package identity_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/identity"
)

func TestNormalizeUserID(t *testing.T) {
	good := []struct{ in, display, key string }{
		{"anna.hansen", "anna.hansen", "anna.hansen"},
		{"  Anna_Hansen-1 ", "Anna_Hansen-1", "anna_hansen-1"},
		{"SørenÆblegård", "SørenÆblegård", "sørenæblegård"},
		{"so\u0308ren1", "", ""}, // o + combining diaeresis composes to ö, which is not allowed
		{"abcdef", "abcdef", "abcdef"},
		{strings.Repeat("x", 40), strings.Repeat("x", 40), strings.Repeat("x", 40)},
		{"ÅÅÅÅÅÅ", "ÅÅÅÅÅÅ", "åååååå"},
		{"123456", "123456", "123456"},
		{"010190123", "010190123", "010190123"}, // nine digits: not a CPR number
	}
	for _, tt := range good {
		d, k, err := identity.NormalizeUserID(tt.in)
		if tt.display == "" {
			if !errors.Is(err, identity.ErrUserIDCharacters) {
				t.Errorf("NormalizeUserID(%q) = %q, %q, %v; want ErrUserIDCharacters", tt.in, d, k, err)
			}
			continue
		}
		if err != nil || d != tt.display || k != tt.key {
			t.Errorf("NormalizeUserID(%q) = %q, %q, %v; want %q, %q", tt.in, d, k, err, tt.display, tt.key)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{"", identity.ErrUserIDLength},
		{"abcde", identity.ErrUserIDLength},
		{"     abcde  ", identity.ErrUserIDLength},
		{strings.Repeat("x", 41), identity.ErrUserIDLength},
		{strings.Repeat("å", 41), identity.ErrUserIDLength},
		{"anna hansen", identity.ErrUserIDCharacters},
		{"anna@hansen", identity.ErrUserIDCharacters},
		{"аnna.hansen", identity.ErrUserIDCharacters}, // Cyrillic а
		{"anna\u200bhansen", identity.ErrUserIDCharacters},
		{"anna\x00hansen", identity.ErrUserIDCharacters},
		{"anna/hansen", identity.ErrUserIDCharacters},
		{"müller.hans", identity.ErrUserIDCharacters},
		{"0101901234", identity.ErrUserIDIsCPR},
		{"010190-1234", identity.ErrUserIDIsCPR},
		{"anna0101901234", identity.ErrUserIDIsCPR},
		{"x.311299-4321.y", identity.ErrUserIDIsCPR},
	}
	for _, tt := range bad {
		d, k, err := identity.NormalizeUserID(tt.in)
		if !errors.Is(err, tt.want) || d != "" || k != "" {
			t.Errorf("NormalizeUserID(%q) = %q, %q, %v; want %v", tt.in, d, k, err, tt.want)
		}
	}
}

func TestUserIDKeyMatchesNormalize(t *testing.T) {
	for _, in := range []string{"Anna.Hansen", " SØREN_1 ", "so\u0308ren12"} {
		_, k, err := identity.NormalizeUserID(in)
		if err != nil {
			continue
		}
		if got := identity.UserIDKey(in); got != k {
			t.Errorf("UserIDKey(%q) = %q, NormalizeUserID key %q", in, got, k)
		}
	}
}

func TestTransitions(t *testing.T) {
	all := []identity.State{identity.Pending, identity.Active, identity.Blocked, identity.Revoked}
	legal := map[[2]identity.State]bool{
		{identity.Pending, identity.Active}:  true,
		{identity.Pending, identity.Revoked}: true,
		{identity.Active, identity.Blocked}:  true,
		{identity.Active, identity.Revoked}:  true,
		{identity.Blocked, identity.Active}:  true,
		{identity.Blocked, identity.Revoked}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := from.CanBecome(to); got != legal[[2]identity.State{from, to}] {
				t.Errorf("%s → %s allowed = %v", from, to, got)
			}
		}
	}
	if _, err := identity.ParseState("deleted"); err == nil {
		t.Error(`ParseState("deleted") succeeded`)
	}
}
