package fido

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
)

// User is an identity as the ceremonies see it, with the chips registered to it. It implements
// [webauthn.User].
type User struct {
	IdentityUUID string // the identity's stable UUID; its 16 bytes are the user handle
	UserID       string // the user ID the person chose, shown by some browsers while registering
	DisplayName  string // the person's name; UserID when empty
	Credentials  []Credential
}

// User is what go-webauthn's ceremonies take as the account.
var _ webauthn.User = User{}

// WebAuthnID returns the user handle (WebAuthn Level 3, §5.4.3 and §14.6.1 "User Handle
// Contents"): the 16 bytes of the identity UUID, which reveal nothing about the person. Never the
// CPR number, and never the user ID, which the person may change and which an authenticator may
// show to whoever holds it. It returns nil if IdentityUUID is not a UUID.
func (u User) WebAuthnID() []byte {
	id, err := uuid.Parse(u.IdentityUUID)
	if err != nil {
		return nil
	}
	return id[:]
}

// WebAuthnName returns the user ID, the account name of §5.4.3 (user.name).
func (u User) WebAuthnName() string { return u.UserID }

// WebAuthnDisplayName returns DisplayName, or the user ID when it is empty (§5.4.3,
// user.displayName).
func (u User) WebAuthnDisplayName() string {
	if u.DisplayName == "" {
		return u.UserID
	}
	return u.DisplayName
}

// WebAuthnCredentials returns the chips as go-webauthn's credential records (§4, "Credential
// Record").
func (u User) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.Credentials))
	for i, c := range u.Credentials {
		out[i] = c.record()
	}
	return out
}

// check returns the user handle, or [ErrInvalidUser] if u cannot take part in a ceremony.
func (u User) check() ([]byte, error) {
	handle := u.WebAuthnID()
	switch {
	case handle == nil:
		return nil, fmt.Errorf("%w: identity UUID %q is not a UUID", ErrInvalidUser, u.IdentityUUID)
	case u.UserID == "":
		return nil, fmt.Errorf("%w: empty user ID for identity %s", ErrInvalidUser, u.IdentityUUID)
	}
	for i, c := range u.Credentials {
		if len(c.ID) == 0 || len(c.ID) > maxCredentialIDLen {
			return nil, fmt.Errorf("%w: credential %d of identity %s has an ID of %d bytes", ErrInvalidUser, i, u.IdentityUUID, len(c.ID))
		}
	}
	return handle, nil
}

// credential returns the registered chip with the given credential ID.
func (u User) credential(id []byte) (Credential, bool) {
	for _, c := range u.Credentials {
		if bytes.Equal(c.ID, id) {
			return c, true
		}
	}
	return Credential{}, false
}

// Credential is what the engine stores for one registered chip: the credential record of
// WebAuthn Level 3, §4, less what a chip that is never synced does not need. Store it with
// [Credential.MarshalBinary]; after each login store the Credential [Service.FinishLogin]
// returns, in the same transaction that accepts the login, or the sign counter stops protecting.
type Credential struct {
	ID        []byte // credential ID (§6.5.2), 1 to 1023 bytes; unique across all identities
	PublicKey []byte // credential public key, COSE_Key in CTAP2 canonical CBOR (§6.5.2)
	// AttestationType is the attestation type (§6.5.3) of the statement that verified at
	// registration: "none", or for example "basic_full" if the chip sent one although none was
	// asked for. Its certificate chain is not checked against a trust list of chip models.
	AttestationType string
	AAGUID          []byte   // the authenticator model (§6.5.2), 16 bytes, all zero if not told
	SignCount       uint32   // signature counter at the last use (§6.1.1)
	BackupEligible  bool     // BE flag (§6.1.3); a chip is never backup eligible
	BackupState     bool     // BS flag at the last use (§6.1.3)
	Transports      []string // how the browser reached it, such as "usb" or "nfc" (§5.8.4)
}

// Limits of a stored credential.
const (
	maxCredentialIDLen  = 1023 // §5.8.3 and §6.5.2
	maxCredentialRecord = 16 << 10
)

// record returns c as go-webauthn's credential record. The flags are rebuilt from BE and BS; UP
// is always set on a registered credential and UV is not used by the chip (see the package
// documentation).
func (c Credential) record() webauthn.Credential {
	flags := protocol.FlagUserPresent
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:              c.ID,
		PublicKey:       c.PublicKey,
		AttestationType: c.AttestationType,
		Transport:       transports,
		Flags:           webauthn.NewCredentialFlags(flags),
		Authenticator:   webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
	}
}

// descriptor returns the entry of c in excludeCredentials or allowCredentials (§5.8.3).
func (c Credential) descriptor() protocol.CredentialDescriptor {
	r := c.record()
	return r.Descriptor()
}

// CredentialFormat is the version of the stored form that [Credential.MarshalBinary] writes.
const CredentialFormat = 1

// storedCredential is the stored form, version 1: a JSON object
//
//	{"v":1,
//	 "id":"<credential ID, base64url without padding>",
//	 "public_key":"<COSE_Key, base64url without padding>",
//	 "attestation_type":"none",
//	 "aaguid":"<the AAGUID as a UUID string, 8-4-4-4-12 hex digits>",
//	 "sign_count":7,
//	 "backup_eligible":false,
//	 "backup_state":false,
//	 "transports":["usb"]}
//
// Members are never removed or reinterpreted within a version; a change that old readers would
// misread gets a new "v", and [UnmarshalCredential] keeps reading the old ones.
type storedCredential struct {
	V               int      `json:"v"`
	ID              string   `json:"id"`
	PublicKey       string   `json:"public_key"`
	AttestationType string   `json:"attestation_type"`
	AAGUID          string   `json:"aaguid"`
	SignCount       uint32   `json:"sign_count"`
	BackupEligible  bool     `json:"backup_eligible"`
	BackupState     bool     `json:"backup_state"`
	Transports      []string `json:"transports"`
}

var b64 = base64.RawURLEncoding

// MarshalBinary returns c in the stored form, version [CredentialFormat] (see the comment on
// storedCredential in credential.go). It refuses a credential that [UnmarshalCredential] would
// refuse, so whatever is stored can be read back.
func (c Credential) MarshalBinary() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	aaguid, err := uuid.FromBytes(c.AAGUID)
	if err != nil {
		return nil, fmt.Errorf("fido: credential AAGUID of %d bytes, want 16", len(c.AAGUID))
	}
	transports := c.Transports
	if transports == nil {
		transports = []string{}
	}
	return json.Marshal(storedCredential{
		V:               CredentialFormat,
		ID:              b64.EncodeToString(c.ID),
		PublicKey:       b64.EncodeToString(c.PublicKey),
		AttestationType: c.AttestationType,
		AAGUID:          aaguid.String(),
		SignCount:       c.SignCount,
		BackupEligible:  c.BackupEligible,
		BackupState:     c.BackupState,
		Transports:      transports,
	})
}

// UnmarshalCredential reads a credential stored by [Credential.MarshalBinary]. It refuses an
// unknown version, unknown members, more than 16 KiB, a credential ID that is empty or longer
// than 1023 bytes, a public key that is not a COSE_Key go-webauthn can verify with, an AAGUID
// that is not a UUID, and BS without BE (§6.1.3), naming the problem.
func UnmarshalCredential(b []byte) (Credential, error) {
	if len(b) > maxCredentialRecord {
		return Credential{}, fmt.Errorf("fido: stored credential of %d bytes, more than %d", len(b), maxCredentialRecord)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s storedCredential
	if err := dec.Decode(&s); err != nil {
		return Credential{}, fmt.Errorf("fido: stored credential: %v", err)
	}
	if dec.More() {
		return Credential{}, fmt.Errorf("fido: stored credential: data after the JSON object")
	}
	if s.V != CredentialFormat {
		return Credential{}, fmt.Errorf("fido: stored credential of version %d, want %d", s.V, CredentialFormat)
	}
	// Strict: one credential has one stored text, so records can be compared as text too.
	id, err := b64.Strict().DecodeString(s.ID)
	if err != nil {
		return Credential{}, fmt.Errorf("fido: stored credential ID: %v", err)
	}
	pk, err := b64.Strict().DecodeString(s.PublicKey)
	if err != nil {
		return Credential{}, fmt.Errorf("fido: stored credential public key: %v", err)
	}
	aaguid, err := uuid.Parse(s.AAGUID)
	if err != nil {
		return Credential{}, fmt.Errorf("fido: stored credential AAGUID %q: %v", s.AAGUID, err)
	}
	if len(s.Transports) == 0 {
		s.Transports = nil // as registered when the browser named none; written as []
	}
	c := Credential{
		ID:              id,
		PublicKey:       pk,
		AttestationType: s.AttestationType,
		AAGUID:          aaguid[:],
		SignCount:       s.SignCount,
		BackupEligible:  s.BackupEligible,
		BackupState:     s.BackupState,
		Transports:      s.Transports,
	}
	if err := c.validate(); err != nil {
		return Credential{}, err
	}
	return c, nil
}

// validate checks what a stored credential must satisfy to be usable in a login.
func (c Credential) validate() error {
	switch {
	case len(c.ID) == 0 || len(c.ID) > maxCredentialIDLen:
		return fmt.Errorf("fido: credential ID of %d bytes, want 1 to %d", len(c.ID), maxCredentialIDLen)
	case len(c.AAGUID) != 16:
		return fmt.Errorf("fido: credential AAGUID of %d bytes, want 16", len(c.AAGUID))
	case c.BackupState && !c.BackupEligible:
		return fmt.Errorf("fido: credential with backup state but not backup eligible (WebAuthn Level 3, §6.1.3)")
	case slices.Contains(c.Transports, ""):
		return fmt.Errorf("fido: credential with an empty transport")
	}
	if _, err := webauthncose.ParsePublicKey(c.PublicKey); err != nil {
		return fmt.Errorf("fido: credential public key is not a usable COSE_Key: %v", err)
	}
	return nil
}
