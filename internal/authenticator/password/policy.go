package password

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

//go:generate go run ./gen -o commonpasswords.txt

// Policy limits, in characters: runes after normalisation, combining marks not counted.
//
// MinLength is the project's rule (issue 2) and that of NIST SP 800-63B and OWASP ASVS 5.0
// (V6.2.1: at least 8, 15 strongly recommended); ASVS 4.0.3, V2.1.1 asks for 12, and V2.1.2 refuses
// more than 128. MaxLength allows any pass phrase (both ask that at least 64 be allowed) and bounds
// the work of checking one.
const (
	MinLength = 8
	MaxLength = 256
)

// CheckPolicy reports whether pw may be chosen as a new password by the person with userID. It
// refuses, in this order, with:
//   - [ErrInvalidCharacters]: not valid UTF-8, or control characters (tabs, line breaks), which
//     cannot be typed alike on every device;
//   - [ErrTooShort], [ErrTooLong]: fewer than [MinLength] or more than [MaxLength] characters,
//     counted after composing accented letters (a + U+030A is one å) and ignoring the remaining
//     combining marks;
//   - [ErrContainsUserID]: equal to or containing the user ID, ignoring case (also after undoing
//     leetspeak);
//   - [ErrCommon]: in the list of common passwords shipped with this package, ignoring case, also
//     after stripping leading and trailing digits and punctuation and after undoing leetspeak
//     (@→a, 0→o, 1→i or l, 3→e, 4→a, $→s, 5→s, 7→t), so that "Sommer2024!" and "P@ssw0rd1" are
//     refused.
//
// Spaces, emoji and any other printable characters count like letters: pass phrases are welcome
// (OWASP ASVS 4.0.3, V2.1.4), and no mix of character classes is required (V2.1.9).
func CheckPolicy(pw, userID string) error {
	if !utf8.ValidString(pw) || strings.IndexFunc(pw, unicode.IsControl) >= 0 {
		return ErrInvalidCharacters
	}
	if len(pw) > 4*MaxLength {
		// More bytes than 256 characters can take: spare the normalisation.
		return fmt.Errorf("%w: %d bytes, more than %d characters can take", ErrTooLong, len(pw), MaxLength)
	}
	norm := normalize(pw)
	n := 0
	for _, r := range norm {
		if !unicode.Is(unicode.Mn, r) {
			n++
		}
	}
	switch {
	case n < MinLength:
		return fmt.Errorf("%w: %d characters, at least %d", ErrTooShort, n, MinLength)
	case n > MaxLength:
		return fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, n, MaxLength)
	}
	lower := strings.ToLower(norm)
	if containsUserID(lower, userID) {
		return ErrContainsUserID
	}
	if isCommon(lower) {
		return ErrCommon
	}
	return nil
}

// containsUserID reports whether lower contains the user ID, ignoring case and leetspeak on both
// sides ("J3n$en77" contains "jensen77").
func containsUserID(lower, userID string) bool {
	uid := strings.ToLower(normalize(strings.TrimSpace(userID)))
	if uid == "" {
		return false
	}
	if utf8.RuneCountInString(uid) < minVariantLen {
		// User IDs have at least 6 characters; a shorter one (a test, a legacy record) would make
		// every password containing, say, "ab" refused.
		return lower == uid
	}
	if strings.Contains(lower, uid) {
		return true
	}
	for _, one := range []rune{'i', 'l'} {
		if strings.Contains(unleet(lower, one), unleet(uid, one)) {
			return true
		}
	}
	return false
}

//go:embed commonpasswords.txt
var commonList string

// commonSet is the embedded list as a set, built on first use (about 4,000 entries).
var commonSet = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 4096)
	for line := range strings.Lines(commonList) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			set[line] = struct{}{}
		}
	}
	return set
})

// minVariantLen is the shortest stripped or unleeted variant looked up in the list: a password of
// 8 characters whose core is "mor" or "ok" is not thereby common.
const minVariantLen = 4

// isCommon reports whether lower (lower-cased, normalised) or a simple variant of it is in the
// list of common passwords.
func isCommon(lower string) bool {
	set := commonSet()
	if _, ok := set[lower]; ok {
		return true
	}
	lookup := func(s string) bool {
		if utf8.RuneCountInString(s) < minVariantLen {
			return false
		}
		_, ok := set[s]
		return ok
	}
	trimmed := strings.TrimFunc(lower, isDecoration)
	if lookup(trimmed) {
		return true
	}
	// Leet characters are also decoration, so the order matters: stripping both ends first keeps
	// "p@ssw0rd1" from becoming "passwordi"; stripping one end only keeps "$ommer2024" and "@nna1"
	// from losing their first letter, and "2024$ommer" its last.
	right := strings.TrimRightFunc(lower, isDecoration)
	left := strings.TrimLeftFunc(lower, isDecoration)
	for _, one := range []rune{'i', 'l'} {
		for _, s := range []string{trimmed, right, left} {
			if lookup(unleet(s, one)) {
				return true
			}
		}
		if lookup(strings.TrimFunc(unleet(lower, one), isDecoration)) {
			return true
		}
	}
	return false
}

// isDecoration reports whether r is what people put around a common word to pass a policy: digits,
// punctuation, symbols and spaces.
func isDecoration(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

// unleet undoes the usual leetspeak substitutions; one is what '1' stands for ('i' or 'l').
func unleet(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '@', '4':
			return 'a'
		case '0':
			return 'o'
		case '1':
			return one
		case '3':
			return 'e'
		case '$', '5':
			return 's'
		case '7':
			return 't'
		}
		return r
	}, s)
}
