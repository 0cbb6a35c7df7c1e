package identity

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/openmitid/openmitid/internal/cpr"
)

// User-ID rules, as the real scheme states them: 6 to 40 characters; the
// letters a–z and æ, ø, å (either case), digits, and - . _ ; unique without
// regard to case. Letters from other scripts are refused so that no two user IDs
// look alike on screen (Cyrillic "а" against Latin "a").
const (
	UserIDMinLength = 6
	UserIDMaxLength = 40
)

var (
	ErrUserIDLength     = errors.New("identity: user ID must be 6 to 40 characters")
	ErrUserIDCharacters = errors.New("identity: user ID may hold only the letters a-z, æ, ø, å, digits and - . _")
	ErrUserIDIsCPR      = errors.New("identity: user ID must not be or contain a CPR number")
	ErrUserIDTaken      = errors.New("identity: user ID is taken")
)

// NormalizeUserID checks a user ID that someone chose and returns it as it will
// be shown (NFC, surrounding spaces removed) and its key, the lower-case form
// under which it is unique. It rejects what breaks the rules with an error
// naming the value and the rule.
func NormalizeUserID(s string) (display, key string, err error) {
	display = norm.NFC.String(strings.TrimSpace(s))
	if n := utf8.RuneCountInString(display); n < UserIDMinLength || n > UserIDMaxLength {
		return "", "", fmt.Errorf("%w: %q has %d", ErrUserIDLength, truncate(display), n)
	}
	for _, r := range display {
		if !userIDRune(r) {
			return "", "", fmt.Errorf("%w: %q contains %q", ErrUserIDCharacters, display, r)
		}
	}
	if containsCPR(display) {
		return "", "", fmt.Errorf("%w: %q", ErrUserIDIsCPR, display)
	}
	return display, strings.ToLower(display), nil
}

// UserIDKey returns the key under which a typed user ID is looked up, without
// checking the rules: a login with a malformed user ID must take the same path
// as one with an unknown user ID.
func UserIDKey(s string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
}

func userIDRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("æøåÆØÅ-._", r)
}

// containsCPR reports whether s holds a CPR number, written with or without its
// dash: a user ID is shown to others and must not reveal one.
func containsCPR(s string) bool {
	b := []byte(s)
	for i := range b {
		for _, n := range []int{10, 11} {
			if i+n > len(b) {
				continue
			}
			if _, err := cpr.Parse(string(b[i : i+n])); err == nil {
				return true
			}
		}
	}
	return false
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= 50 {
		return s
	}
	return string([]rune(s)[:50]) + "…"
}
