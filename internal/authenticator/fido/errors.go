package fido

import "errors"

// An Error is a reason the chip was refused. Each has a stable Code for the web layer and the JSON
// API, and a Message a person can read in Danish or English; Error is for developers' logs and
// names the rule that was broken. The values are the sentinels below, returned wrapped with the
// offending value where that helps a developer (never a key or a signature); test with errors.Is,
// or use [Code] to get at the code.
type Error struct {
	code   string
	detail string // for developers, after "fido: "
	en, da string // for the person holding the chip
}

// The refusals. Section numbers are of WebAuthn Level 3 (W3C); most refusals enforce a step of
// §7.1 "Registering a New Credential" or §7.2 "Verifying an Authentication Assertion", named here
// by what the step checks, as the step numbers move between drafts.
var (
	// ErrInvalidConfig: [New] was given a configuration that cannot work (§5.1.3, the RP ID
	// must be a registrable domain suffix of every origin).
	ErrInvalidConfig = &Error{code: "fido_invalid_config", detail: "invalid configuration",
		en: "Logging in with a chip is not available right now.",
		da: "Login med chip er ikke tilgængeligt lige nu."}
	// ErrInvalidUser: the [User] has no valid identity UUID or user ID, or a credential
	// without an ID. A bug in the caller, never the person's fault.
	ErrInvalidUser = &Error{code: "fido_invalid_user", detail: "invalid user",
		en: "Logging in with a chip is not available right now.",
		da: "Login med chip er ikke tilgængeligt lige nu."}
	// ErrNoCredentials: [Service.BeginLogin] for an identity without a registered chip.
	ErrNoCredentials = &Error{code: "fido_no_credentials", detail: "the identity has no registered chip",
		en: "You have no chip registered to your MitID. Choose another way to log in.",
		da: "Du har ingen chip tilknyttet dit MitID. Vælg en anden måde at logge på."}
	// ErrResponseTooLarge: a browser response over [MaxResponseSize], refused before parsing.
	ErrResponseTooLarge = &Error{code: "fido_response_too_large", detail: "response too large",
		en: "Your browser sent an answer that is too large. Try again.",
		da: "Din browser sendte et svar, der er for stort. Prøv igen."}
	// ErrMalformedResponse: not the JSON of a PublicKeyCredential (§5.1), or its client data,
	// authenticator data or attestation object cannot be decoded (§7.1 and §7.2: JSON parsing of
	// cData, CBOR decoding of the attestation object, §6.1 authenticator data).
	ErrMalformedResponse = &Error{code: "fido_malformed_response", detail: "malformed response",
		en: "The answer from your chip could not be read. Try again.",
		da: "Svaret fra din chip kunne ikke læses. Prøv igen."}
	// ErrInvalidSession: the session bytes are not a session of this package for this ceremony.
	ErrInvalidSession = &Error{code: "fido_invalid_session", detail: "invalid session",
		en: "This attempt is no longer valid. Start again.",
		da: "Dette forsøg er ikke længere gyldigt. Start forfra."}
	// ErrSessionExpired: the ceremony took longer than [Config.Timeout] (§15.1 and §13.4.3:
	// a challenge is valid for the ceremony's timeout only).
	ErrSessionExpired = &Error{code: "fido_session_expired", detail: "session expired",
		en: "It took too long to use your chip. Start again.",
		da: "Det tog for lang tid at bruge din chip. Start forfra."}
	// ErrSessionUsed: the identity's chips changed since the session began: it was finished
	// already, or another login or registration finished in between (§13.4.3: a challenge is
	// used once).
	ErrSessionUsed = &Error{code: "fido_session_used", detail: "session already used, or the chips changed since it began",
		en: "This attempt has already been used. Start again.",
		da: "Dette forsøg er allerede brugt. Start forfra."}
	// ErrUserMismatch: the session was made for another identity, or the response's user
	// handle names another identity (§7.2: the user handle must be the owner's).
	ErrUserMismatch = &Error{code: "fido_user_mismatch", detail: "session or user handle of another identity",
		en: "The chip answered for another MitID. Start again.",
		da: "Chippen svarede for et andet MitID. Start forfra."}
	// ErrWrongCeremony: the client data's type is not the ceremony's, "webauthn.create" or
	// "webauthn.get" (§7.1 and §7.2, C.type), which stops one signature passing for another.
	ErrWrongCeremony = &Error{code: "fido_wrong_ceremony", detail: "client data of another ceremony type",
		en: "The answer from your chip was for another step. Start again.",
		da: "Svaret fra din chip var til et andet trin. Start forfra."}
	// ErrChallengeMismatch: the client data's challenge is not the session's (§7.1 and §7.2,
	// C.challenge).
	ErrChallengeMismatch = &Error{code: "fido_challenge_mismatch", detail: "challenge mismatch",
		en: "Your chip answered another request. Start again.",
		da: "Din chip svarede på en anden anmodning. Start forfra."}
	// ErrWrongOrigin: the client data's origin is not one of [Config.Origins], or the
	// ceremony ran in a frame of another site (§7.1 and §7.2, C.origin and C.topOrigin).
	ErrWrongOrigin = &Error{code: "fido_wrong_origin", detail: "wrong origin",
		en: "Your chip was used on another website than MitID. Only use your chip on the MitID login page.",
		da: "Din chip blev brugt på et andet websted end MitID. Brug kun din chip på MitID's loginside."}
	// ErrWrongRPID: the authenticator data's rpIdHash is not SHA-256 of [Config.RPID] (§7.1
	// and §7.2, rpIdHash).
	ErrWrongRPID = &Error{code: "fido_wrong_rp_id", detail: "rpIdHash is not that of the RP ID",
		en: "Your chip answered for another website. Only use your chip on the MitID login page.",
		da: "Din chip svarede for et andet websted. Brug kun din chip på MitID's loginside."}
	// ErrUnknownCredential: the credential is not in the session's allowCredentials or no
	// longer among the identity's chips (§7.2, allowCredentials).
	ErrUnknownCredential = &Error{code: "fido_unknown_credential", detail: "credential not allowed for this login",
		en: "This chip is not registered to your MitID. Use your own chip, or choose another way to log in.",
		da: "Denne chip er ikke tilknyttet dit MitID. Brug din egen chip, eller vælg en anden måde at logge på."}
	// ErrUserNotPresent: the UP flag is not set (§7.1 and §7.2, the UP bit of the flags).
	ErrUserNotPresent = &Error{code: "fido_user_not_present", detail: "user present (UP) flag not set",
		en: "Your chip did not confirm that you touched it. Touch your chip when it flashes.",
		da: "Din chip bekræftede ikke, at du rørte ved den. Rør ved din chip, når den blinker."}
	// ErrBackupEligible: registration of a credential whose key can leave the device (BE flag,
	// §6.1.3): a synced passkey is not a chip, and the level policy counts the chip as a
	// copy-resistant authenticator.
	ErrBackupEligible = &Error{code: "fido_backup_eligible", detail: "credential is backup eligible (BE flag), so its key can be copied",
		en: "This security key cannot be used as a MitID chip, because its key can be copied to other devices.",
		da: "Denne sikkerhedsnøgle kan ikke bruges som MitID-chip, fordi dens nøgle kan kopieres til andre enheder."}
	// ErrBackupFlags: the BE flag differs from the one registered, or BS is set without BE
	// (§7.2, the BE and BS bits; §6.1.3).
	ErrBackupFlags = &Error{code: "fido_backup_flags", detail: "backup flags inconsistent with the registered credential",
		en: "Your chip reported something unexpected. Start again, and contact MitID support if it keeps happening.",
		da: "Din chip meldte noget uventet. Start forfra, og kontakt MitID-support, hvis det bliver ved."}
	// ErrAlreadyRegistered: the new credential is already one of the identity's chips (§7.1:
	// the credentialId must not be registered yet).
	ErrAlreadyRegistered = &Error{code: "fido_already_registered", detail: "credential already registered",
		en: "This chip is already registered to your MitID.",
		da: "Denne chip er allerede tilknyttet dit MitID."}
	// ErrAttestation: the attestation statement, or the credential public key's algorithm, does
	// not verify (§7.1: the alg of the credential public key, the attestation statement; §8).
	ErrAttestation = &Error{code: "fido_attestation", detail: "attestation does not verify",
		en: "Your chip could not prove what kind of device it is. Use a MitID chip.",
		da: "Din chip kunne ikke bevise, hvilken slags enhed den er. Brug en MitID-chip."}
	// ErrBadSignature: the assertion signature does not verify under the registered public key
	// (§7.2: sig over authData and the hash of cData).
	ErrBadSignature = &Error{code: "fido_bad_signature", detail: "assertion signature does not verify",
		en: "The signature from your chip is not valid. Start again.",
		da: "Signaturen fra din chip er ikke gyldig. Start forfra."}
	// ErrClonedAuthenticator: the signature counter did not increase though one side is
	// non-zero (§7.2, signCount; §6.1.1): two copies of the key exist. The engine should block
	// the chip and record it.
	ErrClonedAuthenticator = &Error{code: "fido_cloned_authenticator", detail: "signature counter did not increase: the chip may be cloned",
		en: "Your chip may have been copied, so it can no longer be used. Contact MitID support.",
		da: "Din chip kan være blevet kopieret, så den kan ikke længere bruges. Kontakt MitID-support."}
)

func (e *Error) Error() string { return "fido: " + e.detail }

// Code returns the stable machine-readable code, such as "fido_bad_signature", for API error
// bodies ({"error": code, "message": ...}) and for the web layer's translations.
func (e *Error) Code() string { return e.code }

// Message returns the error written for the person holding the chip, in Danish for lang "da"
// (the login pages' default) and in English otherwise.
func (e *Error) Message(lang string) string {
	if lang == "da" {
		return e.da
	}
	return e.en
}

// Code returns the [Error.Code] of the fido error in err's chain, or "" if there is none.
func Code(err error) string {
	if fe, ok := errors.AsType[*Error](err); ok {
		return fe.code
	}
	return ""
}
