package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// Sealed values have this layout (all of it authenticated):
//
//	version(1) | kek id(8) | dek nonce(12) | wrapped dek(32+16) | data nonce(12) | ciphertext+tag
//
// Each value has its own random data-encryption key (DEK), wrapped by the KEK
// with AES-256-GCM; the data is encrypted by the DEK with AES-256-GCM. Both
// operations take the header and the caller's context as additional data, so a
// sealed value moved to another row, column or purpose does not open.
const (
	sealVersion  = 1
	headerLen    = 1 + 8
	nonceLen     = 12
	tagLen       = 16
	wrappedDEK   = KEKSize + tagLen
	sealOverhead = headerLen + nonceLen + wrappedDEK + nonceLen + tagLen
)

var (
	// ErrMalformed is returned for a sealed value too short or of an unknown version.
	ErrMalformed = errors.New("pki: malformed sealed value")
	// ErrUnknownKEK is returned for a value sealed under a key this keyring does not hold.
	ErrUnknownKEK = errors.New("pki: sealed under an unknown key-encryption key")
	// ErrTampered is returned when authentication fails: the value was altered,
	// or is being opened with another context than it was sealed with.
	ErrTampered = errors.New("pki: sealed value failed authentication (altered, or wrong context)")
)

// A Keyring seals and opens secrets at rest. It seals under its primary KEK and
// opens values sealed under the primary or any retired KEK it was given, so a
// KEK can be rotated while old values are rewrapped.
type Keyring struct {
	primary *KEK
	keys    map[[8]byte]*KEK
	rand    io.Reader
}

// NewKeyring returns a keyring that seals under primary. retired keys are used
// only to open.
func NewKeyring(primary *KEK, retired ...*KEK) *Keyring {
	kr := &Keyring{primary: primary, keys: map[[8]byte]*KEK{primary.id: primary}, rand: rand.Reader}
	for _, k := range retired {
		kr.keys[k.id] = k
	}
	return kr
}

// WithRand returns a copy of the keyring that takes randomness from r (for
// reproducible tests).
func (kr *Keyring) WithRand(r io.Reader) *Keyring {
	c := *kr
	c.rand = r
	return &c
}

// Primary returns the key new values are sealed under.
func (kr *Keyring) Primary() *KEK { return kr.primary }

// Seal encrypts plaintext under a fresh data-encryption key wrapped by the
// primary KEK. context names what the value is and where it belongs (for
// example "otp-seed/" + authenticator id); [Keyring.Open] must be given the
// same context.
func (kr *Keyring) Seal(plaintext []byte, context string) ([]byte, error) {
	var dek [KEKSize]byte
	if _, err := io.ReadFull(kr.rand, dek[:]); err != nil {
		return nil, fmt.Errorf("pki: reading randomness: %w", err)
	}
	defer clear(dek[:])
	out := make([]byte, headerLen+nonceLen, sealOverhead+len(plaintext))
	out[0] = sealVersion
	copy(out[1:headerLen], kr.primary.id[:])
	if _, err := io.ReadFull(kr.rand, out[headerLen:headerLen+nonceLen]); err != nil {
		return nil, fmt.Errorf("pki: reading randomness: %w", err)
	}
	aad := additionalData(out[:headerLen], context)
	out = gcm(kr.primary.key[:]).Seal(out, out[headerLen:headerLen+nonceLen], dek[:], aad)
	n := len(out)
	out = out[:n+nonceLen]
	if _, err := io.ReadFull(kr.rand, out[n:]); err != nil {
		return nil, fmt.Errorf("pki: reading randomness: %w", err)
	}
	return gcm(dek[:]).Seal(out, out[n:], plaintext, aad), nil
}

// Open authenticates and decrypts a value made by [Keyring.Seal] with the
// same context. It returns [ErrMalformed], [ErrUnknownKEK] or [ErrTampered],
// and no plaintext, when anything is wrong.
func (kr *Keyring) Open(sealed []byte, context string) ([]byte, error) {
	if len(sealed) < sealOverhead {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrMalformed, len(sealed), sealOverhead)
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: version %d", ErrMalformed, sealed[0])
	}
	var id [8]byte
	copy(id[:], sealed[1:headerLen])
	kek, ok := kr.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w: %x", ErrUnknownKEK, id)
	}
	aad := additionalData(sealed[:headerLen], context)
	p := headerLen
	dek, err := gcm(kek.key[:]).Open(nil, sealed[p:p+nonceLen], sealed[p+nonceLen:p+nonceLen+wrappedDEK], aad)
	if err != nil {
		return nil, ErrTampered
	}
	defer clear(dek)
	p += nonceLen + wrappedDEK
	plaintext, err := gcm(dek).Open(nil, sealed[p:p+nonceLen], sealed[p+nonceLen:], aad)
	if err != nil {
		return nil, ErrTampered
	}
	return plaintext, nil
}

// SealedUnder reports whether a sealed value was sealed under the primary KEK;
// values that were not are due for rewrapping.
func (kr *Keyring) SealedUnder(sealed []byte) bool {
	return len(sealed) >= headerLen && subtle.ConstantTimeCompare(sealed[1:headerLen], kr.primary.id[:]) == 1
}

func additionalData(header []byte, context string) []byte {
	aad := make([]byte, 0, len(header)+len(context))
	return append(append(aad, header...), context...)
}

func gcm(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		// Every key here is 32 bytes by construction (KEKSize), and
		// aes.NewCipher fails only for other lengths.
		panic("pki: " + err.Error())
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		// cipher.NewGCM fails only for block sizes other than 16; AES has 16.
		panic("pki: " + err.Error())
	}
	return a
}
