package password_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/password"
)

func TestCheckPolicy(t *testing.T) {
	tests := []struct {
		pw, userID string
		want       error
	}{
		// Accepted.
		{"correct horse battery staple", "jensen77", nil},
		{"Vi ses i Tivoli på fredag", "jensen77", nil},
		{"Xk9#mQ2$vL", "jensen77", nil},
		{"blåbærgrød og is", "jensen77", nil},
		{"8 tegn!!", "jensen77", nil},
		{"Sommerfugl2024", "jensen77", nil}, // "sommerfugl" is not in the list
		{strings.Repeat("ab", 128), "jensen77", nil},
		{"æøåÆØÅ12", "", nil},
		// Length, counted in characters after composition.
		{"", "jensen77", password.ErrTooShort},
		{"Kort1!", "jensen77", password.ErrTooShort},
		{"7tegn!x", "jensen77", password.ErrTooShort},
		{"a\u030Aa\u030Aa\u030Aa\u030A", "", password.ErrTooShort}, // 4 characters, 8 runes before composing
		{"e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301", "", password.ErrTooShort},
		{strings.Repeat("ab", 128) + "c", "jensen77", password.ErrTooLong},
		{strings.Repeat("ø", 257), "", password.ErrTooLong},
		{strings.Repeat("x", 5000), "", password.ErrTooLong},
		// Characters that cannot be used.
		{"tab\there1234", "", password.ErrInvalidCharacters},
		{"line\nbreak1234", "", password.ErrInvalidCharacters},
		{"nul\x00nul12345", "", password.ErrInvalidCharacters},
		{"bad\xffutf8xyz", "", password.ErrInvalidCharacters},
		// The user ID, ignoring case and leetspeak.
		{"jensen77", "jensen77", password.ErrContainsUserID},
		{"JENSEN77", "Jensen77", password.ErrContainsUserID},
		{"mit-jensen77-kodeord!", "jensen77", password.ErrContainsUserID},
		{"J3n$en77 er mig", "jensen77", password.ErrContainsUserID},
		{"ole.hansen1!", "Ole.Hansen", password.ErrContainsUserID},
		{"Qxab7!kvZ", "ab", nil}, // a user ID too short to look for inside passwords
		// Common passwords and their simple variants.
		{"password", "", password.ErrCommon},
		{"Password1", "", password.ErrCommon},
		{"P@ssw0rd1", "", password.ErrCommon},
		{"p@$$w0rd!", "", password.ErrCommon},
		{"12345678", "", password.ErrCommon},
		{"123456789", "", password.ErrCommon},
		{"qwertyuiop", "", password.ErrCommon},
		{"Qwerty123!", "", password.ErrCommon},
		{"1qaz2wsx", "", password.ErrCommon},
		{"Sommer2024!", "", password.ErrCommon},
		{"$ommer2024", "", password.ErrCommon},
		{"VINTER2023", "", password.ErrCommon},
		{"kodeord123", "", password.ErrCommon},
		{"K0de0rd!!", "", password.ErrCommon},
		{"Hejmeddig1", "", password.ErrCommon},
		{"hej med dig", "", password.ErrCommon},
		{"Danmark1234", "", password.ErrCommon},
		{"København2000", "", password.ErrCommon},
		{"Kobenhavn!!", "", password.ErrCommon},
		{"Koebenhavn1", "", password.ErrCommon},
		{"A\u030Arhus2024", "", password.ErrCommon}, // "Århus" with a combining ring
		{"Brøndby1964", "", password.ErrCommon},
		{"Liverpool!", "", password.ErrCommon},
		{"december2022", "", password.ErrCommon},
		{"Januar#1", "", password.ErrCommon},
		{"2024Februar", "", password.ErrCommon},
		{"Mathias2010", "", password.ErrCommon},
		{"!!Michael!!", "", password.ErrCommon},
		{"11111111", "", password.ErrCommon},
		{"aaaaaaaa", "", password.ErrCommon},
		{"asdfghjklæø", "", password.ErrCommon},
		{"zaq12wsx", "", password.ErrCommon},
		{"1q2w3e4r5t", "", password.ErrCommon},
		{"iloveyou", "", password.ErrCommon},
		{"Jegelskerdig", "", password.ErrCommon},
		{"Fodbold4ever", "", password.ErrContainsUserID}, // see userID below
	}
	// The last row's user ID makes it a user-ID case, to show the order of the checks.
	tests[len(tests)-1].userID = "fodbold4"
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.30q", tt.pw), func(t *testing.T) {
			err := password.CheckPolicy(tt.pw, tt.userID)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckPolicy(%q, %q) = %v, want nil", tt.pw, tt.userID, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckPolicy(%q, %q) = %v, want %v", tt.pw, tt.userID, err, tt.want)
			}
		})
	}
}

func TestPolicyErrorsForPeopleAndMachines(t *testing.T) {
	codes := map[string]bool{}
	for _, err := range []*password.PolicyError{password.ErrTooShort, password.ErrTooLong, password.ErrContainsUserID,
		password.ErrCommon, password.ErrInvalidCharacters} {
		if !strings.HasPrefix(err.Error(), "password: ") {
			t.Errorf("%q lacks the package prefix", err)
		}
		code := err.Code()
		if !strings.HasPrefix(code, "password_") || codes[code] {
			t.Errorf("code %q is not a distinct password_ code", code)
		}
		codes[code] = true
		if password.Code(fmt.Errorf("setting password: %w", err)) != code {
			t.Errorf("Code does not find %q through wrapping", code)
		}
		da, en := err.Message("da"), err.Message("en")
		if da == "" || en == "" || da == en || !strings.HasSuffix(da, ".") || !strings.HasSuffix(en, ".") {
			t.Errorf("messages for %s: da %q, en %q", code, da, en)
		}
	}
	if password.Code(errors.New("other")) != "" || password.Code(nil) != "" {
		t.Error("Code of a non-policy error is not empty")
	}
}

func BenchmarkCheckPolicy(b *testing.B) {
	for b.Loop() {
		password.CheckPolicy("Tr0ub4dor&3 horse", "jensen77")
	}
}
