package fido

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
)

// MaxResponseSize is the largest browser response [Service.FinishRegistration] and
// [Service.FinishLogin] read. A security key's registration response is about 1 KiB and an
// assertion less; 64 KiB leaves room for any attestation certificate chain while refusing a
// hostile body before any JSON, base64 or CBOR decoder sees it.
const MaxResponseSize = 64 << 10

func checkSize(response []byte) error {
	if len(response) > MaxResponseSize {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrResponseTooLarge, len(response), MaxResponseSize)
	}
	return nil
}

// The checks below run before go-webauthn's own verification, which repeats them. go-webauthn
// reports most failures as one error type with an English sentence; running the checks here
// first gives each failure its own sentinel without parsing those sentences, and the library
// then stays the second line of defence.

// checkClientData checks the collected client data (WebAuthn Level 3, §5.8.1) of a response
// against the session: C.type, C.challenge, C.origin, and that the ceremony did not run in a
// frame (§7.1 and §7.2).
func (s *Service) checkClientData(c protocol.CollectedClientData, ceremony protocol.CeremonyType, challenge string) error {
	if c.Type != ceremony {
		return fmt.Errorf("%w: client data type %q, want %q", ErrWrongCeremony, c.Type, ceremony)
	}
	if subtle.ConstantTimeCompare([]byte(c.Challenge), []byte(challenge)) != 1 {
		return fmt.Errorf("%w: client data challenge %.64q is not the session's", ErrChallengeMismatch, c.Challenge)
	}
	if !protocol.IsOriginInHaystack(c.Origin, s.origins) {
		return fmt.Errorf("%w: origin %.200q is not one of %q", ErrWrongOrigin, c.Origin, s.origins)
	}
	// The login pages send frame-ancestors 'none', so a ceremony in a frame is not ours: a
	// cross-origin frame could make the person touch the chip for a page they do not see.
	if c.CrossOrigin || c.TopOrigin != "" {
		return fmt.Errorf("%w: the ceremony ran in a cross-origin frame (top origin %.200q)", ErrWrongOrigin, c.TopOrigin)
	}
	return nil
}

// checkAuthData checks what the authenticator data (§6.1) says about the relying party and the
// person: rpIdHash and the UP and backup flags.
func (s *Service) checkAuthData(a protocol.AuthenticatorData, rpID string) error {
	want := sha256.Sum256([]byte(rpID))
	if !bytes.Equal(a.RPIDHash, want[:]) {
		return fmt.Errorf("%w: rpIdHash %x, want SHA-256(%q) = %x", ErrWrongRPID, a.RPIDHash, rpID, want)
	}
	if !a.Flags.HasUserPresent() {
		return fmt.Errorf("%w (flags %08b)", ErrUserNotPresent, byte(a.Flags))
	}
	if a.Flags.HasBackupState() && !a.Flags.HasBackupEligible() {
		return fmt.Errorf("%w: BS set without BE (flags %08b)", ErrBackupFlags, byte(a.Flags))
	}
	return nil
}

// containsID reports whether ids holds id.
func containsID(ids [][]byte, id []byte) bool {
	return slices.ContainsFunc(ids, func(x []byte) bool { return bytes.Equal(x, id) })
}

// libraryError turns an error of go-webauthn that got past the checks above into one of ours.
// Such an error means the response is well-formed and bound to this ceremony but does not verify
// cryptographically, or carries something the checks above do not look at (an extension output
// nobody asked for). fallback is the sentinel for what the ceremony calls a failed proof:
// [ErrBadSignature] for a login, [ErrAttestation] for a registration.
func libraryError(err error, fallback *Error) error {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		return fmt.Errorf("%w: %v", fallback, err)
	}
	// go-webauthn often repeats the inner error in DevInfo, and formats a nil one as "<nil>".
	msg := strings.TrimSuffix(pe.Details, ": <nil>")
	if pe.DevInfo != "" && !strings.Contains(msg, pe.DevInfo) {
		msg += " (" + pe.DevInfo + ")"
	}
	if pe.Err != nil && !strings.Contains(msg, pe.Err.Error()) {
		msg += ": " + pe.Err.Error()
	}
	switch pe.Type {
	case protocol.ErrAssertionSignature.Type:
		return fmt.Errorf("%w: %s", ErrBadSignature, msg)
	case protocol.ErrAttestation.Type, protocol.ErrInvalidAttestation.Type, protocol.ErrAttestationCertificate.Type,
		protocol.ErrUnsupportedKey.Type, protocol.ErrUnsupportedAlgorithm.Type, protocol.ErrMetadata.Type:
		return fmt.Errorf("%w: %s", ErrAttestation, msg)
	case protocol.ErrParsingData.Type, protocol.ErrBadRequest.Type:
		return fmt.Errorf("%w: %s", ErrMalformedResponse, msg)
	}
	return fmt.Errorf("%w: %s", fallback, msg)
}
