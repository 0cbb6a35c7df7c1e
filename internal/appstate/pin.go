package appstate

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// PIN lengths. The MitID app asks for at least 4 digits; 12 is room to spare.
const (
	MinPINLength = 4
	MaxPINLength = 12
)

// ErrBadPIN is returned for a PIN that is not 4 to 12 digits.
var ErrBadPIN = errors.New("a PIN is 4 to 12 digits")

// CheckPIN reports whether pin is [MinPINLength] to [MaxPINLength] ASCII
// digits. The error, wrapping [ErrBadPIN], says what is wrong without
// repeating the PIN.
func CheckPIN(pin string) error {
	if n := utf8.RuneCountInString(pin); n < MinPINLength || n > MaxPINLength {
		return fmt.Errorf("%w; this one has %d characters", ErrBadPIN, n)
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return fmt.Errorf("%w; this one has a character that is not a digit", ErrBadPIN)
		}
	}
	return nil
}
