package otp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

//go:generate go run ./internal/pskcgen -dir testdata/pskc

// Kind is the OTP algorithm profile of a PSKC key (RFC 6030, Section 10, and the TOTP profile of
// the PSKC algorithm profiles, RFC 6030 reference [PSKC-ALGORITHM-PROFILES]).
type Kind string

// The algorithm profiles ParsePSKC accepts.
const (
	KindHOTP Kind = "hotp" // urn:ietf:params:xml:ns:keyprov:pskc:hotp (RFC 4226)
	KindTOTP Kind = "totp" // urn:ietf:params:xml:ns:keyprov:pskc:totp (RFC 6238)
)

var kindByURI = map[string]Kind{
	"urn:ietf:params:xml:ns:keyprov:pskc:hotp": KindHOTP,
	"urn:ietf:params:xml:ns:keyprov:pskc:totp": KindTOTP,
}

// A Token is one hardware token from a PSKC document: the device, its key and the key's settings.
type Token struct {
	Serial       string // DeviceInfo/SerialNo (RFC 6030, Section 4.3.1), unique in the document
	Manufacturer string // DeviceInfo/Manufacturer
	Model        string // DeviceInfo/Model
	KeyID        string // Key/@Id (Section 4.1)
	Issuer       string // Key/Issuer

	Kind      Kind
	Algorithm Algorithm     // from AlgorithmParameters/Suite; SHA1 if absent
	Digits    int           // AlgorithmParameters/ResponseFormat/@Length: 6 or 8
	Secret    []byte        // Data/Secret, decrypted; 16 to 128 bytes
	Counter   uint64        // Data/Counter, the HOTP moving factor
	Period    time.Duration // Data/TimeInterval: the TOTP time step, 30 s if absent; 0 for HOTP
	TimeDrift int64         // Data/TimeDrift in time steps, for information

	// Policy/StartDate and Policy/ExpiryDate (Section 5), zero if absent: the key "MUST" only be
	// used between them, which the caller enforces (a file is often imported before a batch's
	// StartDate).
	NotBefore, NotAfter time.Time
}

// TOTP returns the token as a [TOTP], or an error if it is not a TOTP token.
func (t Token) TOTP() (TOTP, error) {
	if t.Kind != KindTOTP {
		return TOTP{}, fmt.Errorf("otp: token %q is %s, not TOTP", t.Serial, t.Kind)
	}
	tot := TOTP{Secret: t.Secret, Digits: t.Digits, Period: t.Period, Algorithm: t.Algorithm}
	return tot, tot.Validate()
}

// Errors from [ParsePSKC]. A problem with one KeyPackage is a [*PSKCError] that wraps one of
// these; test with errors.Is.
var (
	ErrPSKCMalformed       = errors.New("otp: PSKC: malformed")
	ErrPSKCTooLarge        = errors.New("otp: PSKC: document too large")
	ErrPSKCUnsupported     = errors.New("otp: PSKC: not supported")
	ErrPSKCNoKey           = errors.New("otp: PSKC: decryption key unavailable")
	ErrPSKCMACMismatch     = errors.New("otp: PSKC: ValueMAC mismatch")
	ErrPSKCMissingSerial   = errors.New("otp: PSKC: no serial number")
	ErrPSKCDuplicateSerial = errors.New("otp: PSKC: duplicate serial number")
)

// A PSKCError is what is wrong with one KeyPackage of a PSKC document.
type PSKCError struct {
	KeyPackage int    // position in the document, from 1
	Serial     string // its serial number, if it has one
	Err        error  // wraps one of the ErrPSKC errors, with the detail
}

// Error names the KeyPackage and the problem: `otp: PSKC KeyPackage 4 (serial "9999999"):
// duplicate serial number: also in KeyPackage 3`.
func (e *PSKCError) Error() string {
	where := "KeyPackage " + strconv.Itoa(e.KeyPackage)
	if e.Serial != "" {
		where += fmt.Sprintf(" (serial %q)", e.Serial)
	}
	return "otp: PSKC " + where + ": " + strings.TrimPrefix(e.Err.Error(), "otp: PSKC: ")
}

// Unwrap returns Err, so that errors.Is finds the ErrPSKC error it wraps.
func (e *PSKCError) Unwrap() error { return e.Err }

// Limits on PSKC documents, checked before anything else is done with them.
const (
	MaxPSKCSize     = 16 << 20 // bytes
	MaxPSKCKeys     = 20_000   // KeyPackages in one document
	maxReportedErrs = 20
	maxTextLen      = 128
)

// ParsePSKC reads a token vendor's seed file, a Portable Symmetric Key Container (RFC 6030), and
// returns its tokens, all or none: if any KeyPackage is refused, ParsePSKC returns no tokens and an
// error joining a [*PSKCError] for each (the first 20), so that an operator sees every problem.
//
// It reads KeyContainer (Version 1.0), and in each KeyPackage the DeviceInfo (Manufacturer,
// SerialNo, Model) and one Key with Id and Algorithm (HOTP or TOTP), Issuer, AlgorithmParameters
// (Suite, ResponseFormat), Data (Secret, Counter, Time, TimeInterval, TimeDrift) and Policy
// (StartDate, ExpiryDate, KeyUsage, PINPolicy). Values may be plain or encrypted with AES-CBC under
// a pre-shared key (Section 6.1) or a PBKDF2 passphrase (Section 6.2), which keys supplies (nil if
// the file is known to be plain); each encrypted value's ValueMAC is checked in constant time
// before it is decrypted.
//
// It refuses, naming the KeyPackage and the problem: input over [MaxPSKCSize] bytes or with more
// than [MaxPSKCKeys] KeyPackages; DTDs and entity declarations; other namespaces or versions;
// algorithms other than HOTP and TOTP; a missing or duplicated serial number; response formats
// other than 6 or 8 DECIMAL digits; secrets shorter than 16 bytes; keys derived from a master key
// (KeyReference); asymmetric encryption (Section 6.3); a MAC mismatch; a TOTP <Time> other than 0;
// and policies it cannot honour (Section 5: a KeyUsage without OTP, a PIN checked by the server,
// NumberOfTransactions, or an element it does not know).
//
// A <Signature> (Section 7) is not verified: the file's integrity rests on the ValueMACs and on how
// it reached the operator. Extensions are ignored.
func ParsePSKC(r io.Reader, keys KeyProvider) ([]Token, error) {
	doc, err := io.ReadAll(io.LimitReader(r, MaxPSKCSize+1))
	if err != nil {
		return nil, fmt.Errorf("otp: reading PSKC document: %w", err)
	}
	if len(doc) > MaxPSKCSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrPSKCTooLarge, MaxPSKCSize)
	}
	if err := scanPSKC(doc, MaxPSKCKeys); err != nil {
		return nil, err
	}
	c, err := decodePSKC(doc)
	if err != nil {
		return nil, err
	}
	if v := strings.TrimSpace(c.Version); v != "1.0" {
		return nil, fmt.Errorf("%w: KeyContainer Version %q, want \"1.0\"", ErrPSKCUnsupported, v)
	}
	if len(c.KeyPackages) == 0 {
		return nil, fmt.Errorf("%w: no KeyPackage", ErrPSKCMalformed)
	}
	var prot *protection
	if hasEncrypted(c) {
		if prot, err = newProtection(c, keys); err != nil {
			return nil, err
		}
	}

	tokens := make([]Token, 0, len(c.KeyPackages))
	firstSeen := map[string]int{}
	var errs []error
	for i := range c.KeyPackages {
		n := i + 1
		tok, err := convertKeyPackage(&c.KeyPackages[i], prot)
		if err == nil {
			if prev, dup := firstSeen[tok.Serial]; dup {
				err = fmt.Errorf("%w: also in KeyPackage %d", ErrPSKCDuplicateSerial, prev)
			} else {
				firstSeen[tok.Serial] = n
			}
		}
		if err != nil {
			errs = append(errs, &PSKCError{KeyPackage: n, Serial: tok.Serial, Err: err})
			continue
		}
		tokens = append(tokens, tok)
	}
	if len(errs) > maxReportedErrs {
		more := fmt.Errorf("otp: PSKC: %d more KeyPackages refused", len(errs)-maxReportedErrs)
		errs = append(errs[:maxReportedErrs], more)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return tokens, nil
}

// hasEncrypted reports whether any value in c is encrypted, so that keys are asked for only then.
func hasEncrypted(c *xmlContainer) bool {
	for _, kp := range c.KeyPackages {
		for _, k := range kp.Key {
			for _, d := range k.Data {
				for _, vs := range [][]xmlValue{d.Secret, d.Counter, d.Time, d.TimeInterval, d.TimeDrift} {
					for _, v := range vs {
						if len(v.EncryptedValue) > 0 {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// convertKeyPackage checks one KeyPackage and returns its token. The token's Serial is set as soon
// as it is known, so that errors can name it.
func convertKeyPackage(kp *xmlKeyPackage, prot *protection) (Token, error) {
	var tok Token
	di, err := one(kp.DeviceInfo, "DeviceInfo")
	if err != nil {
		return tok, fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	if di == nil || len(di.SerialNo) == 0 {
		return tok, fmt.Errorf("%w: no DeviceInfo/SerialNo, by which the token would be assigned", ErrPSKCMissingSerial)
	}
	for _, f := range []struct {
		dst  *string
		xs   []string
		what string
	}{{&tok.Serial, di.SerialNo, "SerialNo"}, {&tok.Manufacturer, di.Manufacturer, "Manufacturer"}, {&tok.Model, di.Model, "Model"}} {
		if *f.dst, err = text(f.xs, f.what); err != nil {
			return tok, err
		}
	}
	if tok.Serial == "" {
		return tok, fmt.Errorf("%w: empty SerialNo", ErrPSKCMissingSerial)
	}
	if len(kp.Key) != 1 {
		return tok, fmt.Errorf("%w: %d Key elements, want one", ErrPSKCMalformed, len(kp.Key))
	}
	k := &kp.Key[0]
	tok.KeyID = strings.TrimSpace(k.ID)
	if tok.Issuer, err = text(k.Issuer, "Issuer"); err != nil {
		return tok, err
	}
	var ok bool
	if tok.Kind, ok = kindByURI[strings.TrimSpace(k.Algorithm)]; !ok {
		return tok, fmt.Errorf("%w: Key algorithm %q, want HOTP or TOTP (urn:ietf:params:xml:ns:keyprov:pskc:hotp or :totp)", ErrPSKCUnsupported, k.Algorithm)
	}
	if len(k.KeyReference) > 0 {
		return tok, fmt.Errorf("%w: key derived from a master key (KeyReference, RFC 6030, Section 4.4)", ErrPSKCUnsupported)
	}
	if err := readAlgorithmParameters(k, &tok); err != nil {
		return tok, err
	}
	if err := readData(k, prot, &tok); err != nil {
		return tok, err
	}
	if err := readPolicy(k, &tok); err != nil {
		return tok, err
	}
	return tok, nil
}

// text returns the single value of xs, trimmed, refusing control characters and overlong values
// (they end up in logs and on the operator's screen).
func text(xs []string, what string) (string, error) {
	v, err := one(xs, what)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	if v == nil {
		return "", nil
	}
	s := strings.TrimSpace(*v)
	if len(s) > maxTextLen || strings.ContainsFunc(s, unicode.IsControl) {
		return "", fmt.Errorf("%w: %s is longer than %d bytes or has control characters", ErrPSKCMalformed, what, maxTextLen)
	}
	return s, nil
}

// readAlgorithmParameters reads the hash (Suite) and the code format (ResponseFormat, RFC 6030,
// Section 4.3.4). The HOTP profile (Section 10.1) requires ResponseFormat; so do we, for both.
func readAlgorithmParameters(k *xmlKey, tok *Token) error {
	ap, err := one(k.AlgorithmParameters, "AlgorithmParameters")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	if ap == nil {
		return fmt.Errorf("%w: no AlgorithmParameters/ResponseFormat giving the number of digits", ErrPSKCMalformed)
	}
	if len(ap.ChallengeFormat) > 0 {
		return fmt.Errorf("%w: challenge-response (ChallengeFormat)", ErrPSKCUnsupported)
	}
	if suite, err := text(ap.Suite, "Suite"); err != nil {
		return err
	} else if suite != "" {
		if tok.Algorithm, err = ParseAlgorithm(suite); err != nil {
			return fmt.Errorf("%w: Suite %q, want HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512", ErrPSKCUnsupported, suite)
		}
	}
	rf, err := one(ap.ResponseFormat, "ResponseFormat")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	if rf == nil {
		return fmt.Errorf("%w: no ResponseFormat giving the number of digits", ErrPSKCMalformed)
	}
	if enc := strings.TrimSpace(rf.Encoding); enc != "DECIMAL" {
		return fmt.Errorf("%w: ResponseFormat Encoding %q, want DECIMAL", ErrPSKCUnsupported, enc)
	}
	for _, cd := range []string{rf.CheckDigits, rf.CheckDigit} {
		if cd := strings.TrimSpace(cd); cd == "true" || cd == "1" {
			return fmt.Errorf("%w: codes with a Luhn check digit (ResponseFormat CheckDigits)", ErrPSKCUnsupported)
		}
	}
	digits, err := strconv.Atoi(strings.TrimSpace(rf.Length))
	if err != nil || (digits != 6 && digits != 8) {
		return fmt.Errorf("%w: ResponseFormat Length %q, want 6 or 8 digits", ErrPSKCUnsupported, rf.Length)
	}
	tok.Digits = digits
	return nil
}

// readData reads the secret and the moving factor's settings (RFC 6030, Section 4.1).
func readData(k *xmlKey, prot *protection, tok *Token) error {
	data, err := one(k.Data, "Data")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	if data == nil || len(data.Secret) == 0 {
		return fmt.Errorf("%w: no Data/Secret", ErrPSKCMalformed)
	}
	if len(data.Secret) > 1 {
		return fmt.Errorf("%w: %d Secret elements, want one", ErrPSKCMalformed, len(data.Secret))
	}
	if tok.Secret, err = readBinary(&data.Secret[0], prot, "Secret"); err != nil {
		return err
	}
	if l := len(tok.Secret); l < minSecretLen || l > maxSecretLen {
		return fmt.Errorf("%w: Secret of %d bytes, want %d to %d (RFC 4226, Section 4; RFC 6030, Section 10.1)", ErrPSKCUnsupported, l, minSecretLen, maxSecretLen)
	}
	counter, _, err := readInt(data.Counter, prot, "Counter", 0, 1<<62)
	if err != nil {
		return err
	}
	tok.Counter = uint64(counter)
	if tok.Kind != KindTOTP {
		return nil
	}
	interval, set, err := readInt(data.TimeInterval, prot, "TimeInterval", 1, int64(maxPeriod/time.Second))
	if err != nil {
		return err
	}
	tok.Period = 30 * time.Second
	if set {
		tok.Period = time.Duration(interval) * time.Second
	}
	// <Time> would shift the start of counting; TOTP here counts from the Unix epoch (T0 = 0).
	if t0, _, err := readInt(data.Time, prot, "Time", -1<<62, 1<<62); err != nil {
		return err
	} else if t0 != 0 {
		return fmt.Errorf("%w: TOTP Time %d: only T0 = 0 (the Unix epoch) is supported", ErrPSKCUnsupported, t0)
	}
	if tok.TimeDrift, _, err = readInt(data.TimeDrift, prot, "TimeDrift", -1<<20, 1<<20); err != nil {
		return err
	}
	return nil
}

// readBinary returns the bytes of a binaryDataType value, plain or encrypted.
func readBinary(v *xmlValue, prot *protection, what string) ([]byte, error) {
	switch {
	case len(v.PlainValue) == 1 && len(v.EncryptedValue) == 0:
		b, err := decodeBase64(v.PlainValue[0])
		if err != nil {
			return nil, fmt.Errorf("%w: %s PlainValue is not base64", ErrPSKCMalformed, what)
		}
		return b, nil
	case len(v.PlainValue) == 0 && len(v.EncryptedValue) == 1:
		b, err := prot.open(&v.EncryptedValue[0], v.ValueMAC)
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", err, what)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: %s needs one PlainValue or one EncryptedValue", ErrPSKCMalformed, what)
}

// readInt returns the value of an optional integer element in lo..hi, and whether it was there.
// An encrypted integer is taken as ASCII decimal (with an optional minus sign) if that is all it
// holds, and otherwise as an unsigned big-endian number of at most 8 bytes: RFC 6030 does not say,
// and vendors do both.
func readInt(vs []xmlValue, prot *protection, what string, lo, hi int64) (int64, bool, error) {
	v, err := one(vs, what)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	if v == nil {
		return 0, false, nil
	}
	var s string
	switch {
	case len(v.PlainValue) == 1 && len(v.EncryptedValue) == 0:
		s = strings.TrimSpace(v.PlainValue[0])
	case len(v.PlainValue) == 0 && len(v.EncryptedValue) == 1:
		b, err := prot.open(&v.EncryptedValue[0], v.ValueMAC)
		if err != nil {
			return 0, false, fmt.Errorf("%w (%s)", err, what)
		}
		if digits := bytes.TrimPrefix(b, []byte("-")); len(digits) > 0 && len(digits) <= 19 &&
			!slices.ContainsFunc(digits, func(c byte) bool { return c < '0' || c > '9' }) {
			s = string(b)
		} else if len(b) > 0 && len(b) <= 8 {
			var be [8]byte
			copy(be[8-len(b):], b)
			s = strconv.FormatUint(binary.BigEndian.Uint64(be[:]), 10)
		} else {
			return 0, false, fmt.Errorf("%w: encrypted %s of %d bytes is not a number", ErrPSKCMalformed, what, len(b))
		}
	default:
		return 0, false, fmt.Errorf("%w: %s needs one PlainValue or one EncryptedValue", ErrPSKCMalformed, what)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, false, fmt.Errorf("%w: %s %q, want a whole number from %d to %d", ErrPSKCMalformed, what, s, lo, hi)
	}
	return n, true, nil
}

// readPolicy applies RFC 6030, Section 5: a key whose policy we cannot honour is not imported.
func readPolicy(k *xmlKey, tok *Token) error {
	pol, err := one(k.Policy, "Policy")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPSKCMalformed, err)
	}
	if pol == nil {
		return nil
	}
	if len(pol.Other) > 0 {
		return fmt.Errorf("%w: Policy element <%s>, which RFC 6030, Section 5 says to treat as forbidding use", ErrPSKCUnsupported, pol.Other[0].XMLName.Local)
	}
	if len(pol.NumberOfTransactions) > 0 {
		return fmt.Errorf("%w: Policy NumberOfTransactions (a limit on uses)", ErrPSKCUnsupported)
	}
	if len(pol.KeyUsage) > 0 && !slices.ContainsFunc(pol.KeyUsage, func(u string) bool { return strings.TrimSpace(u) == "OTP" }) {
		return fmt.Errorf("%w: Policy KeyUsage %q does not allow OTP", ErrPSKCUnsupported, pol.KeyUsage)
	}
	for _, pin := range pol.PINPolicy {
		// A PIN the token checks itself is no concern of the server's; one prepended or appended to
		// the code, or mixed into it, would need checking here.
		if mode := strings.TrimSpace(pin.PINUsageMode); mode != "Local" {
			return fmt.Errorf("%w: PINPolicy PINUsageMode %q, only Local", ErrPSKCUnsupported, mode)
		}
	}
	for _, d := range []struct {
		dst  *time.Time
		xs   []string
		what string
	}{{&tok.NotBefore, pol.StartDate, "StartDate"}, {&tok.NotAfter, pol.ExpiryDate, "ExpiryDate"}} {
		s, err := text(d.xs, d.what)
		if err != nil || s == "" {
			if err != nil {
				return err
			}
			continue
		}
		if *d.dst, err = parseDateTime(s); err != nil {
			return fmt.Errorf("%w: Policy %s %q is not an xs:dateTime", ErrPSKCMalformed, d.what, s)
		}
	}
	if !tok.NotBefore.IsZero() && !tok.NotAfter.IsZero() && tok.NotAfter.Before(tok.NotBefore) {
		return fmt.Errorf("%w: Policy ExpiryDate before StartDate", ErrPSKCMalformed)
	}
	return nil
}

// parseDateTime parses an xs:dateTime; one without a time zone is taken as UTC.
func parseDateTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}
