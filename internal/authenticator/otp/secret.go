package otp

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// SecretLen is the length of the secrets [NewSecret] makes: 160 bits, the length RFC 4226,
// Section 4, R6 recommends and SHA-1's output size.
const SecretLen = 20

// NewSecret returns a new random secret of [SecretLen] bytes read from random (crypto/rand's
// Reader if random is nil).
func NewSecret(random io.Reader) ([]byte, error) {
	if random == nil {
		random = rand.Reader
	}
	secret := make([]byte, SecretLen)
	if _, err := io.ReadFull(random, secret); err != nil {
		return nil, fmt.Errorf("otp: reading a secret: %w", err)
	}
	return secret, nil
}

// b32 is RFC 4648, Section 6 base32 without padding, the form of secrets in otpauth:// URIs.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeSecret returns secret in base32 (RFC 4648, Section 6), upper case, without padding, as
// authenticator apps and oathtool (--base32) read it.
func EncodeSecret(secret []byte) string {
	return b32.EncodeToString(secret)
}

// DecodeSecret decodes a base32 secret (RFC 4648, Section 6) as people and apps write it: case is
// ignored, as are spaces and trailing padding ('='). It refuses other characters and lengths that
// no whole number of bytes encodes, naming the problem.
func DecodeSecret(s string) ([]byte, error) {
	clean := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	clean = strings.TrimRight(clean, "=")
	if clean == "" {
		return nil, fmt.Errorf("otp: empty base32 secret")
	}
	for i, c := range clean {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return nil, fmt.Errorf("otp: base32 secret has %q at position %d (want A-Z and 2-7)", c, i+1)
		}
	}
	// Lengths 1, 3 and 6 (mod 8) leave bits that are not a whole byte.
	switch len(clean) % 8 {
	case 1, 3, 6:
		return nil, fmt.Errorf("otp: base32 secret of %d characters is truncated", len(clean))
	}
	b, err := b32.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("otp: base32 secret: %v", err)
	}
	return b, nil
}

// URI returns the otpauth:// URI that authenticator apps scan as a QR code (the Key URI Format of
// Google Authenticator, github.com/google/google-authenticator/wiki/Key-Uri-Format), for the test
// tool and demo: otpauth://totp/Issuer:account?secret=...&issuer=Issuer&algorithm=SHA1&digits=6&period=30.
// Neither issuer nor account may contain a colon, and account must not be empty; t must be valid.
func (t TOTP) URI(issuer, account string) (string, error) {
	if err := t.Validate(); err != nil {
		return "", err
	}
	if account == "" || strings.Contains(account, ":") || strings.Contains(issuer, ":") {
		return "", fmt.Errorf("otp: otpauth label %q:%q: account must be non-empty, and neither may contain ':'", issuer, account)
	}
	label := url.PathEscape(account)
	if issuer != "" {
		label = url.PathEscape(issuer) + ":" + label
	}
	q := url.Values{}
	q.Set("secret", EncodeSecret(t.Secret))
	if issuer != "" {
		q.Set("issuer", issuer)
	}
	q.Set("algorithm", t.Algorithm.String())
	q.Set("digits", strconv.Itoa(t.digits()))
	q.Set("period", strconv.FormatInt(t.period(), 10))
	return "otpauth://totp/" + label + "?" + q.Encode(), nil
}
