package fido

import (
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// BeginRegistration starts registering a chip for u (WebAuthn Level 3, §7.1). It returns the
// options for navigator.credentials.create(), as the JSON of a CredentialCreation
// ({"publicKey": PublicKeyCredentialCreationOptionsJSON}, §5.4; binary members in base64url), and
// the session to keep server-side until [Service.FinishRegistration]. The options:
//
//   - exclude u's chips already registered (excludeCredentials, §5.4), so a chip cannot be
//     registered twice;
//   - ask for a roaming authenticator (authenticatorAttachment "cross-platform", hint
//     "security-key"; §5.4.5 and the user-agent hints of §5.8): the chip is a device of its own,
//     not the computer;
//   - discourage resident keys (§5.4.6): the user ID is always typed first, so the chip need
//     not store anything, and its few resident slots are left alone;
//   - discourage user verification (§5.8.6): see the package documentation;
//   - ask for no attestation (§5.4.7): see the package documentation;
//   - offer EdDSA, ES256 and RS256 (§5.3, the algorithms Level 3 recommends).
func (s *Service) BeginRegistration(u User) (options, session []byte, err error) {
	if _, err := u.check(); err != nil {
		return nil, nil, err
	}
	challenge, err := s.challenge()
	if err != nil {
		return nil, nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(u.Credentials))
	for i, c := range u.Credentials {
		exclude[i] = c.descriptor()
	}
	creation, data, err := s.wa.BeginRegistration(u,
		func(o *protocol.PublicKeyCredentialCreationOptions) error {
			o.Challenge = challenge
			return nil
		},
		webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			AuthenticatorAttachment: protocol.CrossPlatform,
			RequireResidentKey:      protocol.ResidentKeyNotRequired(),
			ResidentKey:             protocol.ResidentKeyRequirementDiscouraged,
			UserVerification:        protocol.VerificationDiscouraged,
		}),
		webauthn.WithPublicKeyCredentialHints([]protocol.PublicKeyCredentialHints{protocol.PublicKeyCredentialHintSecurityKey}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		webauthn.WithCredentialParameters(webauthn.CredentialParametersRecommendedL3()),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("fido: beginning a registration: %w", err)
	}
	if options, err = json.Marshal(creation); err != nil {
		return nil, nil, fmt.Errorf("fido: encoding registration options: %w", err)
	}
	if session, err = s.newSession(ceremonyRegistration, data, u.Credentials); err != nil {
		return nil, nil, fmt.Errorf("fido: encoding a registration session: %w", err)
	}
	return options, session, nil
}

// FinishRegistration verifies the browser's answer to the options of
// [Service.BeginRegistration] (§7.1) and returns the new chip's [Credential] to store with u.
// response is the JSON of the PublicKeyCredential (RegistrationResponseJSON, §5.1: id, rawId,
// type, response.clientDataJSON and response.attestationObject in base64url, optional
// response.transports). session is the one BeginRegistration returned with the options; u must be
// the same identity with the same chips.
//
// It refuses, with the sentinel named: a response over [MaxResponseSize]
// ([ErrResponseTooLarge]); session bytes that are not a registration session
// ([ErrInvalidSession]), are for another identity ([ErrUserMismatch]), have expired
// ([ErrSessionExpired]), or were made before u's chips last changed ([ErrSessionUsed]); a response
// that cannot be decoded ([ErrMalformedResponse]); client data of another ceremony
// ([ErrWrongCeremony]), challenge ([ErrChallengeMismatch]) or origin ([ErrWrongOrigin]); an
// rpIdHash of another RP ID ([ErrWrongRPID]); no UP flag ([ErrUserNotPresent]); a credential that
// can be synced ([ErrBackupEligible]); one already registered to u ([ErrAlreadyRegistered]); and
// an attestation or public key algorithm that does not verify ([ErrAttestation]). On error the
// returned Credential is the zero value.
//
// The caller must also make sure that no other identity has a credential with the same ID
// (§7.1: a credential ID registered to another account fails the ceremony); a unique index on the
// stored ID does it.
func (s *Service) FinishRegistration(u User, session, response []byte) (Credential, error) {
	if err := checkSize(response); err != nil {
		return Credential{}, err
	}
	handle, err := u.check()
	if err != nil {
		return Credential{}, err
	}
	ss, err := s.openSession(session, ceremonyRegistration, u, handle)
	if err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Credential{}, libraryError(err, ErrMalformedResponse)
	}
	if err := s.checkClientData(parsed.Response.CollectedClientData, protocol.CreateCeremony, ss.Data.Challenge); err != nil {
		return Credential{}, err
	}
	authData := parsed.Response.AttestationObject.AuthData
	if err := s.checkAuthData(authData, ss.Data.RelyingPartyID); err != nil {
		return Credential{}, err
	}
	// A chip counts as copy-resistant in the level policy (app + chip is high); a credential
	// whose key may be synced to other devices is not, whatever it was sold as.
	if authData.Flags.HasBackupEligible() {
		return Credential{}, fmt.Errorf("%w (flags %08b)", ErrBackupEligible, byte(authData.Flags))
	}
	if _, dup := u.credential(authData.AttData.CredentialID); dup {
		return Credential{}, fmt.Errorf("%w: credential %s", ErrAlreadyRegistered, b64.EncodeToString(authData.AttData.CredentialID))
	}
	rec, err := s.wa.CreateCredential(u, ss.Data, parsed)
	if err != nil {
		return Credential{}, libraryError(err, ErrAttestation)
	}
	transports := make([]string, 0, len(rec.Transport))
	for _, t := range rec.Transport {
		if t != "" {
			transports = append(transports, string(t))
		}
	}
	c := Credential{
		ID:              rec.ID,
		PublicKey:       rec.PublicKey,
		AttestationType: rec.AttestationType,
		AAGUID:          rec.Authenticator.AAGUID,
		SignCount:       rec.Authenticator.SignCount,
		BackupEligible:  rec.Flags.BackupEligible,
		BackupState:     rec.Flags.BackupState,
		Transports:      transports,
	}
	// What is returned must be storable: the engine should never hold a credential it cannot
	// write or read back.
	if err := c.validate(); err != nil {
		return Credential{}, fmt.Errorf("%w: %v", ErrMalformedResponse, err)
	}
	return c, nil
}
