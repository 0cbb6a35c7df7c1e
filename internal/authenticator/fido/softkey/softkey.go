// Package softkey is a FIDO2 security key in software, with the browser around it: given the
// options a relying party sends, it returns the PublicKeyCredential JSON a browser would, as
// Chromium's virtual authenticator does (CDP WebAuthn.addVirtualAuthenticator). It holds one
// non-resident ES256 credential and a signature counter, and makes "none" attestations.
//
// It is for tests, the test tool and the load benchmark: a test identity's chip can be handed out
// as JSON ([Key.Marshal]) and used by another process. It protects nothing: the private key is in
// memory and in the JSON. Unlike a browser it does not check that the RP ID suits the origin, so
// that tests can make what a misbehaving client would.
package softkey

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Key is one software security key with one credential (WebAuthn Level 3, §6: an authenticator
// and its public key credential source). Its methods are safe for concurrent use; each assertion
// takes the next counter value.
type Key struct {
	mu    sync.Mutex
	priv  *ecdsa.PrivateKey
	id    []byte
	count uint32

	// The behaviour of the person and the device, like the settings of Chromium's virtual
	// authenticator (isUserConsenting, and the BE and BS flags of its credentials).
	absent         bool // the person does not touch the key: UP is not set
	backupEligible bool
	backupState    bool
}

// credentialIDLen is the length of the credential IDs New makes. Real keys use 16 to 128 bytes
// (wrapped key handles are long); 32 random bytes are unique enough.
const credentialIDLen = 32

// New returns a key with a fresh P-256 key pair and credential ID, both read from random, and a
// signature counter at 0. The same random bytes make the same key, so tests can make
// reproducible keys with a seeded reader. New panics if random fails: crypto/rand's Reader never
// does, and a test reader that runs dry is a bug in the test.
func New(random io.Reader) *Key {
	var scalar [32]byte
	var priv *ecdsa.PrivateKey
	// A P-256 private key is a scalar in [1, n-1]; 32 random bytes fall outside with probability
	// about 2⁻³², so this loop runs once but for a reader that keeps returning zeros or 0xff.
	for tries := 0; priv == nil; tries++ {
		if tries == 64 {
			panic("softkey: random reader gave no valid P-256 scalar in 64 tries")
		}
		if _, err := io.ReadFull(random, scalar[:]); err != nil {
			panic("softkey: reading randomness: " + err.Error())
		}
		priv, _ = ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	}
	id := make([]byte, credentialIDLen)
	if _, err := io.ReadFull(random, id); err != nil {
		panic("softkey: reading randomness: " + err.Error())
	}
	return &Key{priv: priv, id: id}
}

// CredentialID returns a copy of the credential ID.
func (k *Key) CredentialID() []byte {
	return bytes.Clone(k.id)
}

// SignCount returns the signature counter: the value in the last assertion made, 0 before any.
func (k *Key) SignCount() uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.count
}

// SetUserPresence sets whether the person touches the key. With false, the key still answers but
// without the UP flag (§6.1), which a relying party must refuse; a browser would have timed out
// instead.
func (k *Key) SetUserPresence(present bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.absent = !present
}

// SetBackup sets the BE and BS flags (§6.1.3) the key reports, to play a synced passkey. A key is
// made with both false, as a security key's credentials are.
func (k *Key) SetBackup(eligible, state bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.backupEligible, k.backupState = eligible, state
}

// Clone returns an independent copy of k with the same key, credential ID, counter and settings:
// the copy an attacker would have made of a chip. The two then count on their own, so whichever
// signs second repeats a counter value the relying party has seen.
func (k *Key) Clone() *Key {
	k.mu.Lock()
	defer k.mu.Unlock()
	return &Key{priv: k.priv, id: bytes.Clone(k.id), count: k.count,
		absent: k.absent, backupEligible: k.backupEligible, backupState: k.backupState}
}

// stored is the JSON form of a Key: {"credential_id", "private_key", "sign_count"}, the binary
// members in base64url without padding, the private key as the 32-byte big-endian P-256 scalar
// (SEC 1, §2.3.7). The settings of SetUserPresence and SetBackup are not kept.
type stored struct {
	CredentialID string `json:"credential_id"`
	PrivateKey   string `json:"private_key"`
	SignCount    uint32 `json:"sign_count"`
}

var b64 = base64.RawURLEncoding

// Marshal returns k as JSON, {"credential_id":"…","private_key":"…","sign_count":n}, for
// [Unmarshal] in another process. The JSON holds the private key.
func (k *Key) Marshal() ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	scalar, err := k.priv.Bytes()
	if err != nil {
		return nil, fmt.Errorf("softkey: encoding the private key: %w", err)
	}
	return json.Marshal(stored{
		CredentialID: b64.EncodeToString(k.id),
		PrivateKey:   b64.EncodeToString(scalar),
		SignCount:    k.count,
	})
}

// Unmarshal reads a key written by [Key.Marshal]. It refuses unknown members, a credential ID
// that is empty or longer than 1023 bytes (§6.5.2), and a private key that is not a P-256 scalar
// in [1, n-1].
func Unmarshal(b []byte) (*Key, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s stored
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("softkey: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("softkey: data after the JSON object")
	}
	id, err := b64.Strict().DecodeString(s.CredentialID)
	if err != nil || len(id) == 0 || len(id) > 1023 {
		return nil, fmt.Errorf("softkey: credential_id must be 1 to 1023 bytes in base64url (%d bytes, %v)", len(id), err)
	}
	scalar, err := b64.Strict().DecodeString(s.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("softkey: private_key: %v", err)
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
	if err != nil {
		return nil, fmt.Errorf("softkey: private_key is not a P-256 private key: %v", err)
	}
	return &Key{priv: priv, id: id, count: s.SignCount}, nil
}

// sign returns the DER-encoded ECDSA signature over authData ‖ SHA-256(clientDataJSON) (§6.3.3),
// with the nonce derived from the key and the message (RFC 6979), so that a key and a message
// always give the same signature.
func (k *Key) sign(authData, clientDataJSON []byte) ([]byte, error) {
	cdh := sha256Sum(clientDataJSON)
	digest := sha256Sum(append(bytes.Clone(authData), cdh...))
	sig, err := k.priv.Sign(nil, digest, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("softkey: signing: %w", err)
	}
	return sig, nil
}

// PKCS8 returns the private key in PKCS #8, the form Chromium's virtual
// authenticator takes (DevTools protocol WebAuthn.addCredential), so that a
// browser under test can use a key made here.
func (k *Key) PKCS8() ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return x509.MarshalPKCS8PrivateKey(k.priv)
}
