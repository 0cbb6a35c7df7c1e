// Package i18n holds the texts of the login pages, in Danish and English, and
// picks the language a request asks for.
//
// The catalogues are Go maps (da.go, en.go) with the same keys; a test checks
// that every key is in both and takes the same format verbs. Pages ask for a
// text by key with [Lang.T]; a key missing from a catalogue renders as
// "⟦key⟧", which the page tests look for.
package i18n

import (
	"fmt"
	"sort"

	"golang.org/x/text/language"
)

// Lang is a language the pages speak, as its BCP 47 tag ("da", "en"): what
// <html lang> says.
type Lang string

const (
	Danish  Lang = "da"
	English Lang = "en"
)

// Default is the language of a request that asks for none of ours.
const Default = Danish

var catalogues = map[Lang]map[string]string{Danish: da, English: en}

// Langs returns the languages there are catalogues for, the default first.
func Langs() []Lang { return []Lang{Danish, English} }

// Parse reads a language as the ?lang= parameter and the language cookie
// carry it: "da" or "en", nothing else.
func Parse(s string) (Lang, bool) {
	switch l := Lang(s); l {
	case Danish, English:
		return l, true
	}
	return "", false
}

// The matcher's first tag is its fallback: a browser that asks for neither
// Danish nor English (nor a language close to one) gets Danish.
var matcher = language.NewMatcher([]language.Tag{language.Danish, language.English})

// Match picks the language for an Accept-Language header (RFC 9110,
// Section 12.5.4) by x/text's matcher: English when the browser prefers it
// ("en-GB,en;q=0.9,da;q=0.5"), Danish when it prefers Danish or a language the
// matcher finds close to it (Norwegian Bokmål), and Danish when it asks for
// something else or the header is missing or malformed.
func Match(acceptLanguage string) Lang {
	if acceptLanguage == "" || len(acceptLanguage) > 512 {
		return Default
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return Langs()[i]
}

// Other returns the language a page offers to switch to.
func (l Lang) Other() Lang {
	if l == English {
		return Danish
	}
	return English
}

// T returns the text for key in l, formatted with args by fmt.Sprintf when
// there are any. A key missing from l's catalogue gives "⟦key⟧".
func (l Lang) T(key string, args ...any) string {
	s, ok := catalogues[l][key]
	if !ok {
		return "⟦" + key + "⟧"
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Has reports whether l's catalogue has key.
func (l Lang) Has(key string) bool {
	_, ok := catalogues[l][key]
	return ok
}

// Minutes says "n minutes" in l, for how long until a lock ends; n below 1
// counts as 1.
func (l Lang) Minutes(n int) string {
	if n <= 1 {
		return l.T("minutes.one")
	}
	return l.T("minutes.other", n)
}

// Keys returns the keys of l's catalogue, sorted.
func Keys(l Lang) []string {
	keys := make([]string, 0, len(catalogues[l]))
	for k := range catalogues[l] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
