// Package fido is the chip: FIDO2 security keys used through WebAuthn (W3C Web Authentication
// Level 3; Level 2 clients produce the same messages), on github.com/go-webauthn/webauthn.
//
// It is a library without storage or HTTP. The login engine calls [Service.BeginRegistration]
// and [Service.FinishRegistration] to register a chip to an identity, and [Service.BeginLogin]
// and [Service.FinishLogin] to log in with one; it stores the [Credential]s and the sessions.
//
// # What the engine stores
//
//   - Per chip, the [Credential], written with [Credential.MarshalBinary] and read with
//     [UnmarshalCredential], keyed by its ID, which must be unique across all identities.
//     After every successful login, the Credential FinishLogin returns replaces the stored one
//     in the same transaction that accepts the login: its sign counter is what detects a cloned
//     chip, and a counter not written back turns the next login into a false alarm.
//   - Per ceremony, the session bytes a Begin method returns, server-side (never in the
//     browser), bound to the login transaction and its browser, until the matching Finish
//     method. A session is single-use: the engine must delete it when Finish is called,
//     whatever the outcome. As a backstop, a session is also refused after it expires
//     ([Config.Timeout]) and once the identity's chips have changed since it began (a login
//     with a chip that counts changes its counter, so a finished session cannot be finished
//     again); chips whose counter is always zero get only the engine's protection.
//
// # What the browser is given and sends back
//
// The options a Begin method returns are JSON with base64url in place of binary members, the
// form of PublicKeyCredential.parseCreationOptionsFromJSON() and
// parseRequestOptionsFromJSON(): the page passes options.publicKey to them, or decodes
// challenge, user.id and the credential IDs itself, then calls navigator.credentials.create()
// or get(). What the Finish methods take is the JSON of the resulting PublicKeyCredential, as
// credential.toJSON() writes it:
//
//	{"id":"…","rawId":"…","type":"public-key","authenticatorAttachment":"cross-platform",
//	 "response":{"clientDataJSON":"…","attestationObject":"…","transports":["usb"]},
//	 "clientExtensionResults":{}}
//
// for a registration, and for a login
//
//	{"id":"…","rawId":"…","type":"public-key","authenticatorAttachment":"cross-platform",
//	 "response":{"clientDataJSON":"…","authenticatorData":"…","signature":"…","userHandle":null},
//	 "clientExtensionResults":{}}
//
// Both are refused above [MaxResponseSize]. Package softkey makes the same messages without a
// browser, for tests and the load benchmark.
//
// In a real browser under test, Chromium's virtual authenticator (CDP
// WebAuthn.addVirtualAuthenticator) answers these options when it is a roaming key that keeps
// its credentials' backup flags off: {protocol: "ctap2", transport: "usb", hasResidentKey:
// false, hasUserVerification: false, automaticPresenceSimulation: true}, with the default
// defaultBackupEligibility false. An "internal" (platform) authenticator is not offered for
// authenticatorAttachment "cross-platform", and a backup-eligible one is refused. Serve the
// pages at http://localhost:port with RP ID "localhost": an IP address cannot be an RP ID.
//
// # Why user verification is discouraged
//
// In MitID the chip is used after the user ID, and with the password for substantial: the
// password is the knowledge factor and the chip the possession factor, so the level policy never
// counts the chip's own PIN or fingerprint (the UV flag). Asking for it ("preferred") would only
// make chips with a PIN ask for it, one more step that changes nothing, and "preferred" can never
// be relied on anyway, as the client may skip it. So userVerification is "discouraged"
// (WebAuthn Level 3, §5.8.6) in both ceremonies, and the UV flag is neither required nor
// recorded. A chip that verifies its user regardless is accepted.
//
// # Why no attestation, and no synced credentials
//
// The options ask for no attestation (§5.4.7): without a trust list of chip models (FIDO
// Metadata Service) an attestation proves nothing, and asking for it makes browsers warn the
// person. The AAGUID and attestation type are stored so that a later policy can require
// certified models. A credential that reports itself backup eligible (BE, §6.1.3), a passkey
// that may be synced to other devices, is refused at registration ([ErrBackupEligible]): the
// level policy counts the chip as a copy-resistant authenticator (app + chip is high).
package fido
