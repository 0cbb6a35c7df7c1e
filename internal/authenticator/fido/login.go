package fido

import (
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// BeginLogin starts a login with one of u's chips (WebAuthn Level 3, §7.2). It returns the
// options for navigator.credentials.get(), as the JSON of a CredentialAssertion ({"publicKey":
// PublicKeyCredentialRequestOptionsJSON}, §5.5; binary members in base64url), and the session to
// keep server-side until [Service.FinishLogin]. allowCredentials lists all of u's chips with
// their transports, rpId is [Config.RPID], userVerification is "discouraged" (see the package
// documentation) and the hint is "security-key". It returns [ErrNoCredentials] if u has no chip.
func (s *Service) BeginLogin(u User) (options, session []byte, err error) {
	if _, err := u.check(); err != nil {
		return nil, nil, err
	}
	if len(u.Credentials) == 0 {
		return nil, nil, fmt.Errorf("%w: identity %s", ErrNoCredentials, u.IdentityUUID)
	}
	challenge, err := s.challenge()
	if err != nil {
		return nil, nil, err
	}
	assertion, data, err := s.wa.BeginLogin(u,
		webauthn.WithChallenge(challenge),
		webauthn.WithUserVerification(protocol.VerificationDiscouraged),
		webauthn.WithAssertionPublicKeyCredentialHints([]protocol.PublicKeyCredentialHints{protocol.PublicKeyCredentialHintSecurityKey}),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("fido: beginning a login: %w", err)
	}
	if options, err = json.Marshal(assertion); err != nil {
		return nil, nil, fmt.Errorf("fido: encoding login options: %w", err)
	}
	if session, err = s.newSession(ceremonyLogin, data, u.Credentials); err != nil {
		return nil, nil, fmt.Errorf("fido: encoding a login session: %w", err)
	}
	return options, session, nil
}

// FinishLogin verifies the browser's answer to the options of [Service.BeginLogin] (§7.2) and
// returns the chip that answered, updated with its new signature counter and backup state: store
// it in place of the old one, in the same transaction that accepts the login. response is the
// JSON of the PublicKeyCredential (AuthenticationResponseJSON, §5.1: id, rawId, type,
// response.clientDataJSON, response.authenticatorData and response.signature in base64url,
// optional response.userHandle). session is the one BeginLogin returned with the options; u must
// be the same identity with the same chips, sign counters included.
//
// It refuses, with the sentinel named: a response over [MaxResponseSize]
// ([ErrResponseTooLarge]); session bytes that are not a login session ([ErrInvalidSession]), are
// for another identity ([ErrUserMismatch]), have expired ([ErrSessionExpired]), or were made before
// u's chips last changed, as when the session was used already ([ErrSessionUsed]); a response that
// cannot be decoded ([ErrMalformedResponse]); a credential not in allowCredentials
// ([ErrUnknownCredential]); a user handle of another identity ([ErrUserMismatch]); client data of
// another ceremony ([ErrWrongCeremony]), challenge ([ErrChallengeMismatch]) or origin
// ([ErrWrongOrigin]); an rpIdHash of another RP ID ([ErrWrongRPID]); no UP flag
// ([ErrUserNotPresent]); backup flags that contradict the registration ([ErrBackupFlags]); a
// signature that does not verify ([ErrBadSignature]); and a signature counter that did not
// increase while it or the stored one is non-zero ([ErrClonedAuthenticator], §6.1.1 and §7.2,
// signCount). On error the returned Credential is the zero value.
//
// go-webauthn only warns of a counter that did not increase (CloneWarning) and leaves the choice
// to the relying party; here it fails the login, because a chip is a single device whose counter
// only goes up, so a counter going back means a second copy of its key has been signing.
func (s *Service) FinishLogin(u User, session, response []byte) (Credential, error) {
	if err := checkSize(response); err != nil {
		return Credential{}, err
	}
	handle, err := u.check()
	if err != nil {
		return Credential{}, err
	}
	ss, err := s.openSession(session, ceremonyLogin, u, handle)
	if err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Credential{}, libraryError(err, ErrMalformedResponse)
	}
	id := parsed.RawID
	if !containsID(ss.Data.AllowedCredentialIDs, id) {
		return Credential{}, fmt.Errorf("%w: credential %.80s is not in allowCredentials", ErrUnknownCredential, b64.EncodeToString(id))
	}
	stored, ok := u.credential(id)
	if !ok {
		// openSession found u's chips unchanged, so every allowed credential is still there.
		return Credential{}, fmt.Errorf("%w: credential %s is no longer registered", ErrUnknownCredential, b64.EncodeToString(id))
	}
	// A chip registered without a resident key usually returns no user handle; one that does
	// must name this identity.
	if uh := parsed.Response.UserHandle; len(uh) > 0 && string(uh) != string(handle) {
		return Credential{}, fmt.Errorf("%w: user handle %x is not identity %s", ErrUserMismatch, uh, u.IdentityUUID)
	}
	if err := s.checkClientData(parsed.Response.CollectedClientData, protocol.AssertCeremony, ss.Data.Challenge); err != nil {
		return Credential{}, err
	}
	authData := parsed.Response.AuthenticatorData
	if err := s.checkAuthData(authData, ss.Data.RelyingPartyID); err != nil {
		return Credential{}, err
	}
	if authData.Flags.HasBackupEligible() != stored.BackupEligible {
		return Credential{}, fmt.Errorf("%w: BE is %t, registered as %t", ErrBackupFlags, authData.Flags.HasBackupEligible(), stored.BackupEligible)
	}
	// go-webauthn repeats the checks above and verifies the signature. It is given only the chip
	// that answered, as user and as allowCredentials, so that its own ownership checks cannot
	// disagree with the ones made here.
	data := ss.Data
	data.AllowedCredentialIDs = [][]byte{id}
	only := u
	only.Credentials = []Credential{stored}
	if _, err := s.wa.ValidateLogin(only, data, parsed); err != nil {
		return Credential{}, libraryError(err, ErrBadSignature)
	}
	count := authData.Counter
	if (count != 0 || stored.SignCount != 0) && count <= stored.SignCount {
		return Credential{}, fmt.Errorf("%w: counter %d, last seen %d, credential %s", ErrClonedAuthenticator, count, stored.SignCount, b64.EncodeToString(id))
	}
	updated := stored
	updated.SignCount = count
	updated.BackupState = authData.Flags.HasBackupState()
	return updated, nil
}
