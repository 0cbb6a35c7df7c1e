package softkey

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
)

// COSE algorithm ES256 (RFC 9053, §2.1) and the values of its COSE_Key (RFC 9053, §7.1).
const (
	algES256  = -7
	coseKtyEC = 2
	coseP256  = 1
)

// Authenticator data flags (WebAuthn Level 3, §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// The errors a browser reports as DOMExceptions (§5.1.3 and §5.1.4), here as Go errors.
var (
	// ErrExcluded: the key holds a credential in excludeCredentials (InvalidStateError).
	ErrExcluded = errors.New("softkey: the key is already registered (InvalidStateError)")
	// ErrNotAllowed: the key holds no credential in allowCredentials (NotAllowedError).
	ErrNotAllowed = errors.New("softkey: the key has no credential for this request (NotAllowedError)")
	// ErrUnsupported: pubKeyCredParams does not offer ES256 (NotSupportedError).
	ErrUnsupported = errors.New("softkey: ES256 not offered in pubKeyCredParams (NotSupportedError)")
)

// descriptor is a PublicKeyCredentialDescriptorJSON (§5.8.3).
type descriptor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// param is a PublicKeyCredentialParameters (§5.3).
type param struct {
	Type string `json:"type"`
	Alg  int    `json:"alg"`
}

// creationOptions is the part of PublicKeyCredentialCreationOptionsJSON (§5.4) the key reads.
type creationOptions struct {
	RP struct {
		ID string `json:"id"`
	} `json:"rp"`
	Challenge string       `json:"challenge"`
	Params    []param      `json:"pubKeyCredParams"`
	Exclude   []descriptor `json:"excludeCredentials"`
	Selection struct {
		UserVerification string `json:"userVerification"`
	} `json:"authenticatorSelection"`
}

// requestOptions is the part of PublicKeyCredentialRequestOptionsJSON (§5.5) the key reads.
type requestOptions struct {
	Challenge        string       `json:"challenge"`
	RPID             string       `json:"rpId"`
	Allow            []descriptor `json:"allowCredentials"`
	UserVerification string       `json:"userVerification"`
}

// decodeOptions reads options given as {"publicKey": {...}} (a CredentialCreation or
// CredentialAssertion, what package fido's Begin methods return) or as the bare dictionary.
func decodeOptions(b []byte, v any) error {
	var wrapped struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(b, &wrapped); err != nil {
		return fmt.Errorf("softkey: options: %v", err)
	}
	if wrapped.PublicKey != nil {
		b = wrapped.PublicKey
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("softkey: options: %v", err)
	}
	return nil
}

// rpIDFor returns rpID, or the origin's host when the options name none (§5.1.3 and §5.1.4: the
// RP ID defaults to the origin's effective domain).
func rpIDFor(rpID, origin string) (string, error) {
	if rpID != "" {
		return rpID, nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("softkey: origin %q has no host", origin)
	}
	return u.Hostname(), nil
}

// wantsUV reports whether a key with user verification performs it: for "required" and
// "preferred" (§5.8.6, "preferred" being the default), not for "discouraged".
func wantsUV(requirement string) bool {
	return requirement != "discouraged"
}

// Register answers navigator.credentials.create() with the options a relying party sent (the
// JSON of a CredentialCreation, or of the bare PublicKeyCredentialCreationOptionsJSON), as a page
// at origin would get it, and returns the PublicKeyCredential as RegistrationResponseJSON
// (§5.1): clientDataJSON of type "webauthn.create" with the challenge and origin; an attestation
// object of format "none" (§8.7) whose authenticator data has the UP flag (unless
// [Key.SetUserPresence] said otherwise), UV if user verification was not discouraged, the BE and
// BS flags of [Key.SetBackup], AT, the current counter, an all-zero AAGUID (as browsers send for
// "none"), and the credential ID and COSE_Key of the EC2 P-256 public key (§6.5.2). It returns
// [ErrExcluded] if excludeCredentials names the key's credential and [ErrUnsupported] if ES256
// is not offered.
func (k *Key) Register(optionsJSON []byte, origin string) ([]byte, error) {
	var o creationOptions
	if err := decodeOptions(optionsJSON, &o); err != nil {
		return nil, err
	}
	challenge, err := b64.DecodeString(o.Challenge)
	if err != nil || len(challenge) == 0 {
		return nil, fmt.Errorf("softkey: options challenge %q is not base64url", o.Challenge)
	}
	rpID, err := rpIDFor(o.RP.ID, origin)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(o.Params, param{Type: "public-key", Alg: algES256}) {
		return nil, ErrUnsupported
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.listed(o.Exclude) {
		return nil, ErrExcluded
	}
	cdj := clientDataJSON("webauthn.create", challenge, origin)
	authData := k.authData(rpID, wantsUV(o.Selection.UserVerification), k.count, true)
	attObj := cborAttestationNone(authData)
	spki, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("softkey: encoding the public key: %w", err)
	}
	id := b64.EncodeToString(k.id)
	return json.Marshal(map[string]any{
		"id":                      id,
		"rawId":                   id,
		"type":                    "public-key",
		"authenticatorAttachment": "cross-platform",
		"response": map[string]any{
			"clientDataJSON":     b64.EncodeToString(cdj),
			"attestationObject":  b64.EncodeToString(attObj),
			"authenticatorData":  b64.EncodeToString(authData),
			"transports":         []string{"usb"},
			"publicKey":          b64.EncodeToString(spki),
			"publicKeyAlgorithm": algES256,
		},
		"clientExtensionResults": map[string]any{},
	})
}

// Assert answers navigator.credentials.get() with the options a relying party sent (the JSON of
// a CredentialAssertion, or of the bare PublicKeyCredentialRequestOptionsJSON), as a page at
// origin would get it, and returns the PublicKeyCredential as AuthenticationResponseJSON (§5.1):
// clientDataJSON of type "webauthn.get", authenticator data with the rpIdHash of rpId, the flags
// as for [Key.Register] but without AT, and the counter increased by one, and the ES256 signature
// over both (§6.3.3). There is no user handle: the credential is not resident. It returns
// [ErrNotAllowed] if allowCredentials is empty or does not name the key's credential.
func (k *Key) Assert(optionsJSON []byte, origin string) ([]byte, error) {
	var o requestOptions
	if err := decodeOptions(optionsJSON, &o); err != nil {
		return nil, err
	}
	challenge, err := b64.DecodeString(o.Challenge)
	if err != nil || len(challenge) == 0 {
		return nil, fmt.Errorf("softkey: options challenge %q is not base64url", o.Challenge)
	}
	rpID, err := rpIDFor(o.RPID, origin)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.listed(o.Allow) {
		return nil, ErrNotAllowed
	}
	k.count++
	cdj := clientDataJSON("webauthn.get", challenge, origin)
	authData := k.authData(rpID, wantsUV(o.UserVerification), k.count, false)
	sig, err := k.sign(authData, cdj)
	if err != nil {
		return nil, err
	}
	id := b64.EncodeToString(k.id)
	return json.Marshal(map[string]any{
		"id":                      id,
		"rawId":                   id,
		"type":                    "public-key",
		"authenticatorAttachment": "cross-platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cdj),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(sig),
		},
		"clientExtensionResults": map[string]any{},
	})
}

// listed reports whether ds names the key's credential.
func (k *Key) listed(ds []descriptor) bool {
	for _, d := range ds {
		if id, err := b64.DecodeString(d.ID); err == nil && d.Type == "public-key" && bytes.Equal(id, k.id) {
			return true
		}
	}
	return false
}

// clientDataJSON returns the collected client data (§5.8.1) serialized as browsers do
// (§5.8.1.1): type, challenge, origin, crossOrigin, in that order.
func clientDataJSON(typ string, challenge []byte, origin string) []byte {
	// json.Marshal of a struct keeps the field order, which is the order of §5.8.1.1.
	b, _ := json.Marshal(struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}{typ, b64.EncodeToString(challenge), origin, false})
	return b
}

// authData returns the authenticator data (§6.1): rpIdHash, flags, signCount, and with attested
// the attested credential data (§6.5.2). The caller holds k.mu.
func (k *Key) authData(rpID string, uv bool, count uint32, attested bool) []byte {
	h := sha256.Sum256([]byte(rpID))
	var flags byte
	if !k.absent {
		flags |= flagUP
	}
	if uv {
		flags |= flagUV
	}
	if k.backupEligible {
		flags |= flagBE
	}
	if k.backupState {
		flags |= flagBS
	}
	if attested {
		flags |= flagAT
	}
	b := append(h[:], flags)
	b = binary.BigEndian.AppendUint32(b, count)
	if attested {
		b = append(b, make([]byte, 16)...) // AAGUID: all zero, as for "none" attestation
		b = binary.BigEndian.AppendUint16(b, uint16(len(k.id)))
		b = append(b, k.id...)
		b = append(b, k.coseKey()...)
	}
	return b
}

// coseKey returns the public key as a COSE_Key (§6.5.2; RFC 9053, §7.1) in CTAP2 canonical CBOR:
// {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
func (k *Key) coseKey() []byte {
	// Bytes of an uncompressed point: 0x04 ‖ x ‖ y, 32 bytes each for P-256. It fails only for
	// a key not on a NIST curve, and k.priv is always P-256.
	pt, _ := k.priv.PublicKey.Bytes()
	var b []byte
	b = cborHead(b, 5, 5)
	b = cborInt(b, 1)
	b = cborInt(b, coseKtyEC)
	b = cborInt(b, 3)
	b = cborInt(b, algES256)
	b = cborInt(b, -1)
	b = cborInt(b, coseP256)
	b = cborInt(b, -2)
	b = cborBytes(b, pt[1:33])
	b = cborInt(b, -3)
	b = cborBytes(b, pt[33:65])
	return b
}

// cborAttestationNone returns the attestation object (§6.5) of format "none" (§8.7):
// {"fmt": "none", "attStmt": {}, "authData": authData}, keys in CTAP2 canonical order (shorter
// encodings first).
func cborAttestationNone(authData []byte) []byte {
	var b []byte
	b = cborHead(b, 5, 3)
	b = cborText(b, "fmt")
	b = cborText(b, "none")
	b = cborText(b, "attStmt")
	b = cborHead(b, 5, 0)
	b = cborText(b, "authData")
	b = cborBytes(b, authData)
	return b
}

// The few CBOR encodings (RFC 8949, §3) the key needs, in their shortest form as CTAP2 canonical
// encoding requires.

func cborHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

func cborInt(b []byte, v int64) []byte {
	if v >= 0 {
		return cborHead(b, 0, uint64(v))
	}
	return cborHead(b, 1, uint64(-1-v))
}

func cborBytes(b, v []byte) []byte { return append(cborHead(b, 2, uint64(len(v))), v...) }

func cborText(b []byte, s string) []byte { return append(cborHead(b, 3, uint64(len(s))), s...) }

func sha256Sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}
