// Package pki keeps the platform's keys: the key-encryption key (KEK) that
// protects every secret at rest by envelope encryption, the named secrets
// derived under it, and the token-signing keys with their rotation.
package pki

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// KEKSize is the length of a key-encryption key: an AES-256 key.
const KEKSize = 32

// A KEK is a key-encryption key. It never encrypts data itself: it wraps the
// data-encryption key of each sealed value (see [Keyring.Seal]), so that it can
// be rotated by rewrapping, and it never leaves the process.
type KEK struct {
	key [KEKSize]byte
	id  [8]byte
}

var (
	// ErrKEKFile is returned for a key file that is not a base64 32-byte key.
	ErrKEKFile = errors.New("pki: malformed key-encryption key file")
	// ErrKEKMissing is returned by [LoadKEK] when the file does not exist.
	ErrKEKMissing = errors.New("pki: key-encryption key file does not exist")
)

// NewKEK makes a fresh key from r (crypto/rand when r is nil).
func NewKEK(r io.Reader) (*KEK, error) {
	if r == nil {
		r = rand.Reader
	}
	var key [KEKSize]byte
	if _, err := io.ReadFull(r, key[:]); err != nil {
		return nil, fmt.Errorf("pki: making a key-encryption key: %w", err)
	}
	return kekFrom(key), nil
}

func kekFrom(key [KEKSize]byte) *KEK {
	k := &KEK{key: key}
	// The id names the key in every sealed value so that a keyring holding old
	// keys after a rotation knows which one to use. It is a hash of the key, so
	// it reveals nothing useful and cannot be chosen.
	h := sha256.New()
	h.Write([]byte("openmitid kek id v1\x00"))
	h.Write(key[:])
	copy(k.id[:], h.Sum(nil))
	return k
}

// ParseKEK reads the file format: the key in standard base64, surrounding white
// space ignored. It rejects anything that does not decode to exactly 32 bytes.
func ParseKEK(b []byte) (*KEK, error) {
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil {
		return nil, fmt.Errorf("%w: not base64: %v", ErrKEKFile, err)
	}
	if len(raw) != KEKSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrKEKFile, len(raw), KEKSize)
	}
	var key [KEKSize]byte
	copy(key[:], raw)
	clear(raw)
	return kekFrom(key), nil
}

// Marshal returns the file format read by [ParseKEK].
func (k *KEK) Marshal() []byte {
	return []byte(base64.StdEncoding.EncodeToString(k.key[:]) + "\n")
}

// ID returns the key's identifier as hex, for logs and diagnostics.
func (k *KEK) ID() string { return fmt.Sprintf("%x", k.id) }

// Check returns a value that identifies this key without revealing it. The
// database stores it on first start so that starting with another key is
// refused instead of silently making secrets nobody can open.
func (k *KEK) Check() []byte {
	m := hmac.New(sha256.New, k.key[:])
	m.Write([]byte("openmitid kek check v1"))
	return m.Sum(nil)[:16]
}

// LoadKEK reads a key file. It returns an error wrapping [ErrKEKMissing] if the
// file does not exist, so that the caller decides whether a new key may be made.
func LoadKEK(path string) (*KEK, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrKEKMissing, path)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: reading key-encryption key: %w", err)
	}
	k, err := ParseKEK(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// CreateKEKFile makes a new key and writes it to path with mode 0600. It never
// overwrites: an existing file is an error, because replacing a key-encryption
// key makes every secret sealed under it unreadable.
func CreateKEKFile(path string, r io.Reader) (*KEK, error) {
	k, err := NewKEK(r)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pki: creating key-encryption key file: %w", err)
	}
	if _, err := f.Write(k.Marshal()); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("pki: writing key-encryption key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("pki: writing key-encryption key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("pki: writing key-encryption key file: %w", err)
	}
	return k, nil
}
