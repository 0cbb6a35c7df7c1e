package i18n_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/web/i18n"
)

// verbs finds fmt's verbs (and %%) in a text.
var verbs = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

func TestCataloguesAreComplete(t *testing.T) {
	langs := i18n.Langs()
	all := map[string]bool{}
	for _, l := range langs {
		for _, k := range i18n.Keys(l) {
			all[k] = true
		}
	}
	if len(all) < 50 {
		t.Fatalf("only %d keys in all: the catalogues did not load", len(all))
	}
	for k := range all {
		var first []string
		for i, l := range langs {
			if !l.Has(k) {
				t.Errorf("%q is missing from %s", k, l)
				continue
			}
			s := l.T(k)
			if strings.TrimSpace(s) == "" {
				t.Errorf("%q is empty in %s", k, l)
			}
			if s != strings.TrimSpace(s) {
				t.Errorf("%q in %s has spaces around it: %q", k, l, s)
			}
			vs := verbs.FindAllString(s, -1)
			if i == 0 {
				first = vs
			} else if !slices.Equal(vs, first) {
				t.Errorf("%q takes %v in %s but %v in %s", k, vs, l, first, langs[0])
			}
		}
	}
}

// TestContractNames pins the accessible names CONTRACT.md promises in English
// (browser tests find the controls by them) and their Danish counterparts.
func TestContractNames(t *testing.T) {
	want := map[string][2]string{ // key → {Danish, English}
		"identify.label":  {"Bruger-ID", "User ID"},
		"password.label":  {"Adgangskode", "Password"},
		"code.label":      {"Kode", "Code"},
		"button.continue": {"Fortsæt", "Continue"},
		"button.cancel":   {"Annuller", "Cancel"},
		"link.methods":    {"Vælg en anden metode", "Choose another method"},
	}
	for k, w := range want {
		if got := i18n.Danish.T(k); got != w[0] {
			t.Errorf("da %s = %q, want %q", k, got, w[0])
		}
		if got := i18n.English.T(k); got != w[1] {
			t.Errorf("en %s = %q, want %q", k, got, w[1])
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   i18n.Lang
	}{
		{"", i18n.Danish},
		{"da", i18n.Danish},
		{"da-DK,da;q=0.9,en;q=0.8", i18n.Danish},
		{"en", i18n.English},
		{"en-US,en;q=0.9", i18n.English},
		{"en-GB,en;q=0.9,da;q=0.5", i18n.English},
		{"da;q=0.4,en;q=0.9", i18n.English},
		{"de-DE", i18n.Danish},     // neither: the default
		{"*", i18n.Danish},         //
		{"en;q=0", i18n.Danish},    // "not English"
		{"@@@,;;q=x", i18n.Danish}, // malformed
		{strings.Repeat("en,", 300), i18n.Danish},
	} {
		if got := i18n.Match(tt.header); got != tt.want {
			t.Errorf("Match(%.40q) = %s, want %s", tt.header, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"da", "en"} {
		if l, ok := i18n.Parse(s); !ok || string(l) != s {
			t.Errorf("Parse(%q) = %q, %v", s, l, ok)
		}
	}
	for _, s := range []string{"", "EN", "en-US", "de", "da ", "<script>"} {
		if l, ok := i18n.Parse(s); ok || l != "" {
			t.Errorf("Parse(%q) = %q, %v; want nothing", s, l, ok)
		}
	}
}

func TestTAndMinutes(t *testing.T) {
	if got := i18n.English.T("login.to", "Den Danske Bank"); got != "Log in to Den Danske Bank" {
		t.Errorf("T with an argument = %q", got)
	}
	if got := i18n.Danish.T("no.such.key"); got != "⟦no.such.key⟧" {
		t.Errorf("a missing key = %q", got)
	}
	for _, tt := range []struct {
		l    i18n.Lang
		n    int
		want string
	}{
		{i18n.Danish, 0, "1 minut"}, {i18n.Danish, 1, "1 minut"}, {i18n.Danish, 15, "15 minutter"},
		{i18n.English, 1, "1 minute"}, {i18n.English, 5, "5 minutes"},
	} {
		if got := tt.l.Minutes(tt.n); got != tt.want {
			t.Errorf("%s.Minutes(%d) = %q, want %q", tt.l, tt.n, got, tt.want)
		}
	}
	if i18n.Danish.Other() != i18n.English || i18n.English.Other() != i18n.Danish {
		t.Error("Other does not switch")
	}
}
