package otp

import (
	"crypto/hmac"
	"crypto/subtle"
	"fmt"
	"time"
)

// TOTP is a time-based one-time password token (RFC 6238): a code display's or audio code
// reader's seed and settings. The zero values of Digits and Period mean RFC 6238's defaults of 6
// digits and 30 seconds; time steps count from the Unix epoch (T0 = 0, RFC 6238, Section 4.1).
type TOTP struct {
	Secret    []byte        // the shared secret K, at least 16 bytes (RFC 4226, Section 4, R6)
	Digits    int           // 6 or 8 (RFC 4226, Section 5.3; RFC 6238, Appendix A); 0 means 6
	Period    time.Duration // the time step X in whole seconds; 0 means 30 s (RFC 6238, Section 4.1)
	Algorithm Algorithm     // SHA1 unless the token says otherwise
}

// MaxWindow is the largest window [TOTP.Verify] accepts: ±10 steps of 30 s is ±5 minutes, already
// more clock drift than RFC 6238, Section 5.2 suggests allowing.
const MaxWindow = 10

// Limits on a TOTP's settings.
const (
	minSecretLen = 16 // RFC 4226, Section 4, R6: at least 128 bits
	maxSecretLen = 128
	maxPeriod    = 10 * time.Minute
)

func (t TOTP) digits() int {
	if t.Digits == 0 {
		return 6
	}
	return t.Digits
}

func (t TOTP) period() int64 {
	if t.Period == 0 {
		return 30
	}
	return int64(t.Period / time.Second)
}

// Validate reports whether t can make and check codes: a secret of 16 to 128 bytes, 6 or 8
// digits, a period of whole seconds up to 10 minutes, and a known algorithm.
func (t TOTP) Validate() error {
	switch {
	case len(t.Secret) < minSecretLen || len(t.Secret) > maxSecretLen:
		return fmt.Errorf("otp: TOTP secret of %d bytes, want %d to %d (RFC 4226, Section 4)", len(t.Secret), minSecretLen, maxSecretLen)
	case t.digits() != 6 && t.digits() != 8:
		return fmt.Errorf("otp: TOTP with %d digits, want 6 or 8", t.Digits)
	case t.Period < 0 || t.Period > maxPeriod || t.Period%time.Second != 0 || (t.Period != 0 && t.Period < time.Second):
		return fmt.Errorf("otp: TOTP period %v, want whole seconds up to %v", t.Period, maxPeriod)
	case t.Algorithm.hash() == nil:
		return fmt.Errorf("otp: TOTP with unknown %v", t.Algorithm)
	}
	return nil
}

// Step returns the time step T that at falls in: floor((Unix time − T0) / X) (RFC 6238,
// Section 4.2), also for times before 1970.
func (t TOTP) Step(at time.Time) int64 {
	sec, x := at.Unix(), t.period()
	step := sec / x
	if sec%x < 0 {
		step-- // floor, not truncation toward zero
	}
	return step
}

// At returns the code a token shows at time at (RFC 6238, Section 4.2), or "" if t is not valid
// (see [TOTP.Validate]).
func (t TOTP) At(at time.Time) string {
	if t.Validate() != nil {
		return ""
	}
	step := t.Step(at)
	if step < 0 {
		return ""
	}
	return Generate(t.Secret, uint64(step), t.digits(), t.Algorithm)
}

// Verify reports whether code is the token's code for a time step within ±window steps of at's
// step that is later than lastUsedStep, and returns that step, which the caller must store as the
// token's new last used step in the same transaction that accepts the login. A step is thereby
// usable once, and after a newer code has been used an older one can never be replayed (RFC 6238,
// Section 5.2: "The verifier MUST NOT accept the second attempt of the OTP after the successful
// validation has been issued for the first OTP"). Pass -1 as lastUsedStep for a token never used.
//
// A code of the wrong length or with anything but ASCII digits is refused at once. Otherwise every
// candidate step is computed and compared in constant time, without returning early, so the time
// taken tells nothing of which step (if any) matched. Should two steps match (a one-in-a-million
// collision of 6-digit codes), the later is returned, which uses up more steps, not fewer.
//
// Verify returns false if t is not valid (see [TOTP.Validate]) or window is outside 0..[MaxWindow].
func (t TOTP) Verify(code string, at time.Time, window int, lastUsedStep int64) (step int64, ok bool) {
	digits := t.digits()
	if len(code) != digits || window < 0 || window > MaxWindow || t.Validate() != nil {
		return 0, false
	}
	var want [maxDigits]byte
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
		want[i] = code[i]
	}
	mac := hmac.New(t.Algorithm.hash(), t.Secret)
	now := t.Step(at)
	var matched int64
	found := 0
	var buf [maxDigits]byte
	for s := now - int64(window); s <= now+int64(window); s++ {
		got := generate(buf[:0], mac, uint64(s), digits)
		// Which steps are eligible is no secret; what matters is that every step is computed and
		// compared, and that the match is folded in without a data-dependent branch.
		hit := subtle.ConstantTimeCompare(got, want[:digits]) & b2i(s > lastUsedStep && s >= 0)
		mask := -int64(hit)
		matched = s&mask | matched&^mask
		found |= hit
	}
	return matched, found == 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
