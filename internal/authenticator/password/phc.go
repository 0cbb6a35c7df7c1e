package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors returned for a stored hash that cannot be used. Verify and Decode wrap them with the detail
// of what is wrong; test with errors.Is.
var (
	// ErrMalformedHash means the stored string is not a PHC string of the form
	// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>.
	ErrMalformedHash = errors.New("password: malformed PHC string")
	// ErrUnsupportedHash means the string is well formed but names another algorithm or version, or
	// parameters outside the bounds a stored hash may have (see [Params.Validate]).
	ErrUnsupportedHash = errors.New("password: unsupported hash")
)

const (
	phcVariant = "argon2id"
	// phcVersion is Argon2 version 1.3 (0x13), the only one golang.org/x/crypto/argon2 computes
	// (RFC 9106, Section 3.1).
	phcVersion = 19
	// maxEncodedLen bounds the string we are willing to parse: the largest salt and key that
	// Params allows come to well under 300 characters.
	maxEncodedLen = 512
)

// b64 is the PHC string format's B64: the standard alphabet without padding. Strict refuses
// non-zero trailing bits so that every hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// encode returns the PHC string for an argon2id hash (PHC string format; the parameter order
// m, t, p is the one the reference implementation writes and expects).
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s",
		phcVariant, phcVersion, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Decode returns the parameters of an argon2id PHC string such as
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", without verifying anything. It lets operators see
// which stored hashes were made at an older cost. It refuses what [Hasher.Verify] refuses: other
// variants, versions other than 19, missing or extra fields, bad base64, and parameters out of
// bounds, with an error wrapping [ErrMalformedHash] or [ErrUnsupportedHash].
func Decode(encoded string) (Params, error) {
	p, _, _, err := decode(encoded)
	return p, err
}

// decode parses a PHC string (github.com/P-H-C/phc-string-format) and checks its parameters
// against the bounds of Params.Validate before anyone spends memory on them.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	if len(encoded) > maxEncodedLen {
		return Params{}, nil, nil, fmt.Errorf("%w: %d bytes long, the limit is %d", ErrMalformedHash, len(encoded), maxEncodedLen)
	}
	fields := strings.Split(encoded, "$")
	if fields[0] != "" {
		return Params{}, nil, nil, fmt.Errorf("%w: does not start with '$'", ErrMalformedHash)
	}
	fields = fields[1:]
	if len(fields) > 0 && fields[0] != phcVariant {
		if strings.HasPrefix(fields[0], "argon2") {
			return Params{}, nil, nil, fmt.Errorf("%w: variant %q, want %q", ErrUnsupportedHash, fields[0], phcVariant)
		}
		return Params{}, nil, nil, fmt.Errorf("%w: algorithm %q, want %q", ErrUnsupportedHash, fields[0], phcVariant)
	}
	if len(fields) == 4 && strings.HasPrefix(fields[1], "m=") {
		// The reference implementation omits v= for version 1.0 (0x10).
		return Params{}, nil, nil, fmt.Errorf("%w: no version field (version 16), want v=%d", ErrUnsupportedHash, phcVersion)
	}
	if len(fields) != 5 {
		return Params{}, nil, nil, fmt.Errorf("%w: %d '$'-separated fields, want 5 (variant, version, parameters, salt, hash)", ErrMalformedHash, len(fields))
	}
	version, ok := strings.CutPrefix(fields[1], "v=")
	if !ok {
		return Params{}, nil, nil, fmt.Errorf("%w: version field %q does not start with \"v=\"", ErrMalformedHash, fields[1])
	}
	v, err := parseDecimal("v", version)
	if err != nil {
		return Params{}, nil, nil, err
	}
	if v != phcVersion {
		return Params{}, nil, nil, fmt.Errorf("%w: version %d, want %d", ErrUnsupportedHash, v, phcVersion)
	}
	if p, err = parseParams(fields[2]); err != nil {
		return Params{}, nil, nil, err
	}
	// maxEncodedLen above already bounds what decoding can allocate.
	if salt, err = decodeB64("salt", fields[3]); err != nil {
		return Params{}, nil, nil, err
	}
	if key, err = decodeB64("hash", fields[4]); err != nil {
		return Params{}, nil, nil, err
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if problem := p.problem(); problem != "" {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrUnsupportedHash, problem)
	}
	return p, salt, key, nil
}

// parseParams parses "m=<KiB>,t=<passes>,p=<lanes>" in that order, as the reference implementation
// does. Optional PHC parameters (keyid, data) are refused: x/crypto cannot use them.
func parseParams(s string) (Params, error) {
	parts := strings.Split(s, ",")
	names := [...]string{"m", "t", "p"}
	if len(parts) != len(names) {
		return Params{}, fmt.Errorf("%w: parameters %q, want exactly m=<KiB>,t=<passes>,p=<lanes>", ErrMalformedHash, s)
	}
	var values [3]uint32
	for i, part := range parts {
		name, value, ok := strings.Cut(part, "=")
		if !ok || name != names[i] {
			return Params{}, fmt.Errorf("%w: parameter %d is %q, want %s=<decimal>", ErrMalformedHash, i+1, part, names[i])
		}
		n, err := parseDecimal(name, value)
		if err != nil {
			return Params{}, err
		}
		values[i] = n
	}
	if values[2] > 255 {
		return Params{}, fmt.Errorf("%w: p=%d, the limit is %d", ErrUnsupportedHash, values[2], maxThreads)
	}
	return Params{Memory: values[0], Time: values[1], Threads: uint8(values[2])}, nil
}

// parseDecimal parses a PHC decimal value: digits only, no sign, no leading zero, fits in 32 bits.
func parseDecimal(name, s string) (uint32, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: %s has no value", ErrMalformedHash, name)
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %s=%q is not a decimal number", ErrMalformedHash, name, s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%w: %s=%q has a leading zero", ErrMalformedHash, name, s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: %s=%q does not fit in 32 bits", ErrUnsupportedHash, name, s)
	}
	return uint32(n), nil
}

func decodeB64(name, s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty %s", ErrMalformedHash, name)
	}
	if strings.ContainsAny(s, "\r\n") {
		// encoding/base64 skips line breaks even in strict mode; a stored hash has none.
		return nil, fmt.Errorf("%w: %s contains a line break", ErrMalformedHash, name)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not unpadded standard base64: %v", ErrMalformedHash, name, err)
	}
	return b, nil
}
