// Package nsis defines the assurance levels of the Danish National Standard for
// Identities' Assurance Levels (NSIS), which follow eIDAS: low, substantial and
// high.
//
// The level of a login is the lower of the identity's level (IAL, how the person
// was proofed) and the authenticators' level (AAL, how the person proved
// possession now); the federation level is always high, so LoA = min(IAL, AAL).
package nsis

import (
	"errors"
	"fmt"
	"strings"
)

// Level is an NSIS assurance level. The zero value is [None]: no assurance,
// which is below [Low] and is never issued in a token.
type Level int8

const (
	None Level = iota
	Low
	Substantial
	High
)

// URIPrefix is the namespace of the level URIs that tokens carry in the
// claims loa, ial and aal (the Danish OIDC profile and OIOSAML 3).
const URIPrefix = "https://data.gov.dk/concept/core/nsis/"

// ErrUnknownLevel is returned by [Parse] for anything that is not a level.
var ErrUnknownLevel = errors.New("nsis: unknown assurance level")

// Parse reads a level written as a word ("low", "substantial", "high", in any
// case) or as its URI ("https://data.gov.dk/concept/core/nsis/Substantial").
// It rejects everything else, including "none": nobody may ask for no assurance.
func Parse(s string) (Level, error) {
	word := strings.TrimPrefix(strings.TrimSpace(s), URIPrefix)
	switch strings.ToLower(word) {
	case "low":
		return Low, nil
	case "substantial":
		return Substantial, nil
	case "high":
		return High, nil
	}
	return None, fmt.Errorf("%w: %q (want low, substantial or high)", ErrUnknownLevel, s)
}

// String returns the level as the lower-case word used in APIs and storage.
func (l Level) String() string {
	switch l {
	case Low:
		return "low"
	case Substantial:
		return "substantial"
	case High:
		return "high"
	}
	return "none"
}

// URI returns the level's NSIS URI, as tokens carry it; "" for [None].
func (l Level) URI() string {
	switch l {
	case Low:
		return URIPrefix + "Low"
	case Substantial:
		return URIPrefix + "Substantial"
	case High:
		return URIPrefix + "High"
	}
	return ""
}

// Valid reports whether l is one of Low, Substantial and High.
func (l Level) Valid() bool { return l >= Low && l <= High }

// AtLeast reports whether l meets the required level.
func (l Level) AtLeast(required Level) bool { return l >= required }

// Min returns the lower of the levels: a chain is only as strong as its
// weakest link (LoA = min(IAL, AAL)).
func Min(levels ...Level) Level {
	if len(levels) == 0 {
		return None
	}
	m := levels[0]
	for _, l := range levels[1:] {
		if l < m {
			m = l
		}
	}
	return m
}
