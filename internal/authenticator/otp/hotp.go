// Package otp implements the one-time passwords of code displays and audio code readers: HOTP
// (RFC 4226) and TOTP (RFC 6238), the base32 seeds and otpauth:// URIs that authenticator apps
// read, and the PSKC files (RFC 6030) in which token vendors deliver hardware tokens' seeds.
//
// It holds no state: the login engine stores each token's last used time step and passes it to
// [TOTP.Verify], which refuses that step and every earlier one, and counts wrong codes for lockout.
package otp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// Algorithm is the HMAC hash function of HOTP and TOTP (RFC 6238, Section 1.2: SHA-1, SHA-256 or
// SHA-512). The zero value is SHA1, the algorithm of RFC 4226 and of nearly every hardware token.
type Algorithm int

// The algorithms of RFC 6238, Section 1.2.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

// String returns the name used in otpauth:// URIs: "SHA1", "SHA256" or "SHA512".
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// ParseAlgorithm returns the Algorithm named s, ignoring case and an "HMAC-" prefix and a hyphen
// ("SHA1", "sha-256", "HMAC-SHA512", the spellings of otpauth:// URIs and PSKC <Suite> elements).
func ParseAlgorithm(s string) (Algorithm, error) {
	name := strings.ToUpper(strings.TrimSpace(s))
	name = strings.TrimPrefix(name, "HMAC-")
	name = strings.ReplaceAll(name, "-", "")
	switch name {
	case "SHA1":
		return SHA1, nil
	case "SHA256":
		return SHA256, nil
	case "SHA512":
		return SHA512, nil
	}
	return 0, fmt.Errorf("otp: unknown algorithm %q (want SHA1, SHA256 or SHA512)", s)
}

func (a Algorithm) hash() func() hash.Hash {
	switch a {
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return nil
}

// Digits a code may have: RFC 4226, Section 5.3 asks for at least 6; 10 digits already exceed the
// 31 bits that dynamic truncation yields.
const (
	minDigits = 6
	maxDigits = 10
)

// Generate returns the HOTP value for counter (RFC 4226, Section 5.3): HMAC(secret, counter as 8
// big-endian bytes), dynamically truncated to 31 bits, modulo 10^digits, zero-padded to digits
// characters. TOTP is the same with the time step as counter (RFC 6238, Section 4.2).
//
// digits must be 6 to 10 and alg one of the constants; otherwise Generate returns "", which no
// [TOTP.Verify] accepts. Those are set by configuration (checked by [TOTP.Validate] and
// [ParsePSKC]), never by a person's input.
func Generate(secret []byte, counter uint64, digits int, alg Algorithm) string {
	newHash := alg.hash()
	if newHash == nil || digits < minDigits || digits > maxDigits {
		return ""
	}
	var buf [maxDigits]byte
	return string(generate(buf[:0], hmac.New(newHash, secret), counter, digits))
}

// generate appends the code for counter to dst, using mac, an HMAC keyed with the secret, which
// Verify resets and reuses across time steps.
func generate(dst []byte, mac hash.Hash, counter uint64, digits int) []byte {
	mac.Reset()
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	var sumBuf [sha512.Size]byte
	sum := mac.Sum(sumBuf[:0])
	// Dynamic truncation (RFC 4226, Section 5.3): the low 4 bits of the last byte pick an offset;
	// the 31 bits from there, without the sign bit, are the value.
	offset := sum[len(sum)-1] & 0x0f
	value := uint64(binary.BigEndian.Uint32(sum[offset:]) & 0x7fffffff)
	var code [maxDigits]byte
	for i := digits - 1; i >= 0; i-- {
		code[i] = byte('0' + value%10)
		value /= 10
	}
	return append(dst, code[:digits]...)
}
