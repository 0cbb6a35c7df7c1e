package fido_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/fido"
)

func TestNew(t *testing.T) {
	ok := fido.Config{RPID: "mitid.test", RPName: "MitID", Origins: []string{"https://mitid.test"}}
	with := func(f func(c *fido.Config)) fido.Config {
		c := ok
		c.Origins = append([]string(nil), ok.Origins...)
		f(&c)
		return c
	}
	tests := []struct {
		name string
		c    fido.Config
		ok   bool
	}{
		{"minimal", ok, true},
		{"subdomain origin", with(func(c *fido.Config) { c.Origins = []string{"https://login.mitid.test"} }), true},
		{"origin with port", with(func(c *fido.Config) { c.Origins = []string{"https://mitid.test:8443"} }), true},
		{"origin with default port", with(func(c *fido.Config) { c.Origins = []string{"https://mitid.test:443"} }), true},
		{"upper-case origin host", with(func(c *fido.Config) { c.Origins = []string{"https://MitID.test"} }), true},
		{"localhost over http", fido.Config{RPID: "localhost", RPName: "MitID", Origins: []string{"http://localhost:8080"}}, true},
		{"timeout at the minimum", with(func(c *fido.Config) { c.Timeout = fido.MinTimeout }), true},
		{"timeout at the maximum", with(func(c *fido.Config) { c.Timeout = fido.MaxTimeout }), true},

		{"zero config", fido.Config{}, false},
		{"empty RP ID", with(func(c *fido.Config) { c.RPID = "" }), false},
		{"upper-case RP ID", with(func(c *fido.Config) { c.RPID = "MitID.test" }), false},
		{"RP ID with scheme", with(func(c *fido.Config) { c.RPID = "https://mitid.test" }), false},
		{"RP ID with port", with(func(c *fido.Config) { c.RPID = "mitid.test:443" }), false},
		{"RP ID with trailing dot", with(func(c *fido.Config) { c.RPID = "mitid.test." }), false},
		{"RP ID an IP address", fido.Config{RPID: "127.0.0.1", RPName: "MitID", Origins: []string{"https://127.0.0.1"}}, false},
		{"RP ID a single label", with(func(c *fido.Config) { c.RPID = "mitid" }), false},
		{"RP ID not ASCII", with(func(c *fido.Config) { c.RPID = "mitid.dk\u00e6" }), false},
		{"empty RP name", with(func(c *fido.Config) { c.RPName = "" }), false},
		{"blank RP name", with(func(c *fido.Config) { c.RPName = "  " }), false},
		{"no origins", with(func(c *fido.Config) { c.Origins = nil }), false},
		{"empty origin", with(func(c *fido.Config) { c.Origins = []string{""} }), false},
		{"origin of another site", with(func(c *fido.Config) { c.Origins = []string{"https://evil.test"} }), false},
		{"origin of a look-alike site", with(func(c *fido.Config) { c.Origins = []string{"https://notmitid.test"} }), false},
		{"origin of a parent domain", with(func(c *fido.Config) { c.Origins = []string{"https://test"} }), false},
		{"origin with path", with(func(c *fido.Config) { c.Origins = []string{"https://mitid.test/login"} }), false},
		{"origin with trailing slash", with(func(c *fido.Config) { c.Origins = []string{"https://mitid.test/"} }), false},
		{"origin with query", with(func(c *fido.Config) { c.Origins = []string{"https://mitid.test?x=1"} }), false},
		{"origin with empty query", with(func(c *fido.Config) { c.Origins = []string{"https://mitid.test?"} }), false},
		{"origin with fragment", with(func(c *fido.Config) { c.Origins = []string{"https://mitid.test#top"} }), false},
		{"origin with user", with(func(c *fido.Config) { c.Origins = []string{"https://u@mitid.test"} }), false},
		{"origin without scheme", with(func(c *fido.Config) { c.Origins = []string{"mitid.test"} }), false},
		{"origin of another scheme", with(func(c *fido.Config) { c.Origins = []string{"ftp://mitid.test"} }), false},
		{"http origin not localhost", with(func(c *fido.Config) { c.Origins = []string{"http://mitid.test"} }), false},
		{"one bad origin among good", with(func(c *fido.Config) { c.Origins = append(c.Origins, "https://evil.test") }), false},
		{"negative timeout", with(func(c *fido.Config) { c.Timeout = -time.Second }), false},
		{"timeout too short", with(func(c *fido.Config) { c.Timeout = fido.MinTimeout - time.Millisecond }), false},
		{"timeout too long", with(func(c *fido.Config) { c.Timeout = fido.MaxTimeout + time.Second }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := fido.New(tt.c)
			if tt.ok {
				if err != nil || s == nil {
					t.Fatalf("New(%+v) = %v, %v; want a service", tt.c, s, err)
				}
				return
			}
			if !errors.Is(err, fido.ErrInvalidConfig) || s != nil {
				t.Fatalf("New(%+v) = %v, %v; want nil, ErrInvalidConfig", tt.c, s, err)
			}
			if !strings.HasPrefix(err.Error(), "fido: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestErrors checks that every refusal has a code, and a message for a person in both languages
// that is not the developer's text.
func TestErrors(t *testing.T) {
	all := []*fido.Error{
		fido.ErrInvalidConfig, fido.ErrInvalidUser, fido.ErrNoCredentials, fido.ErrResponseTooLarge,
		fido.ErrMalformedResponse, fido.ErrInvalidSession, fido.ErrSessionExpired, fido.ErrSessionUsed,
		fido.ErrUserMismatch, fido.ErrWrongCeremony, fido.ErrChallengeMismatch, fido.ErrWrongOrigin,
		fido.ErrWrongRPID, fido.ErrUnknownCredential, fido.ErrUserNotPresent, fido.ErrBackupEligible,
		fido.ErrBackupFlags, fido.ErrAlreadyRegistered, fido.ErrAttestation, fido.ErrBadSignature,
		fido.ErrClonedAuthenticator,
	}
	codes := map[string]bool{}
	for _, e := range all {
		if !strings.HasPrefix(e.Error(), "fido: ") {
			t.Errorf("%q lacks the package prefix", e.Error())
		}
		if !strings.HasPrefix(e.Code(), "fido_") || codes[e.Code()] {
			t.Errorf("code %q is not fido_… or not unique", e.Code())
		}
		codes[e.Code()] = true
		da, en := e.Message("da"), e.Message("en")
		if da == "" || en == "" || da == en || strings.Contains(en, "fido") {
			t.Errorf("%s: messages da %q, en %q", e.Code(), da, en)
		}
		if got := fido.Code(errors.Join(errors.New("context"), e)); got != e.Code() {
			t.Errorf("Code of a wrapped %s = %q", e.Code(), got)
		}
	}
	if got := fido.Code(errors.New("other")); got != "" {
		t.Errorf("Code of another error = %q, want empty", got)
	}
}
