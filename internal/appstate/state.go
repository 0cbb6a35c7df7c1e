// Package appstate keeps the reference app's device key in a file, encrypted
// under the person's PIN, as a phone keeps it in its key store.
//
// The file is JSON: the server, device id, user id and identity in the clear,
// and the private key (PKCS#8) sealed with AES-256-GCM under a key derived
// from the PIN with argon2id (RFC 9106) at the OWASP parameters, with a
// random 16-byte salt; the additional data binds the ciphertext to the clear
// fields, so that a file edited to name another server or device does not
// open. Five wrong PINs in a row lock the file for good: the key is wiped and
// the app must be activated again.
//
// What this protects against, and what not: a PIN of 4 digits has 10,000
// values, so anyone who copies the file can try them all offline in minutes;
// the failure counter, kept in the file, only stops guessing through the app
// itself. A phone's secure element enforces the counter in hardware; a file
// cannot. The reference app exists to exercise the protocol, and must not be
// mistaken for a safe place for a real identity's key.
package appstate

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"

	"github.com/openmitid/openmitid/internal/authenticator/password"
)

// Version is the state file format this package writes and reads.
const Version = 1

// MaxPINFailures is how many wrong PINs in a row lock the file.
const MaxPINFailures = 5

// maxFileSize caps what is read of a state file: a real one is under 2 KiB.
const maxFileSize = 64 << 10

const (
	kdfName    = "argon2id"
	derivedLen = 64 // 32 bytes of AES-256 key, then 32 of PIN check
	saltLen    = 16 // RFC 9106, Section 3.1: 128 bits
	checkLen   = 32
)

var (
	// ErrWrongPIN is returned by [Unlock] for a PIN that does not open the
	// file. The error wrapping it says how many tries are left.
	ErrWrongPIN = errors.New("wrong PIN")
	// ErrAppLocked is returned by [Unlock] once [MaxPINFailures] wrong PINs
	// in a row have wiped the key.
	ErrAppLocked = errors.New("the app is locked after 5 wrong PINs; activate it again")
	// ErrExists is returned by [Create] and [CheckNew] for a file that exists
	// and may not be replaced.
	ErrExists = errors.New("appstate: a state file exists there already")
	// ErrCorrupt is returned by [Unlock] for a file that is not a state file
	// of this version, or whose sealed key does not open under the right PIN
	// (it was altered).
	ErrCorrupt = errors.New("appstate: the state file is damaged or was altered")
)

// Account is what the state file holds in the clear: where and as whom the
// device was activated.
type Account struct {
	Server   string // the server's issuer URL
	DeviceID string
	UserID   string
	Identity string // the identity's UUID, if the server told it; may be empty
}

// file is the JSON on disk. The key fields are absent once locked.
type file struct {
	Version    int    `json:"version"`
	Server     string `json:"server"`
	DeviceID   string `json:"device_id"`
	UserID     string `json:"user_id"`
	Identity   string `json:"identity,omitempty"`
	KDF        *kdf   `json:"kdf,omitempty"`
	PINCheck   []byte `json:"pin_check,omitempty"`     // the last 32 bytes derived from the PIN
	Nonce      []byte `json:"nonce,omitempty"`         // AES-GCM nonce, 12 bytes
	Key        []byte `json:"encrypted_key,omitempty"` // AES-256-GCM(PKCS#8 private key)
	FailedPINs int    `json:"failed_pins"`             // wrong PINs in a row
	Locked     bool   `json:"locked"`
}

type kdf struct {
	Name    string `json:"name"`
	Memory  uint32 `json:"memory_kib"`
	Time    uint32 `json:"time"`
	Threads uint8  `json:"threads"`
	Salt    []byte `json:"salt"`
}

func (k *kdf) params() password.Params {
	return password.Params{Memory: k.Memory, Time: k.Time, Threads: k.Threads, SaltLen: uint32(len(k.Salt)), KeyLen: derivedLen}
}

// An Option configures [Create].
type Option func(*config)

type config struct {
	params    password.Params
	overwrite bool
}

// Overwrite lets [Create] replace an existing file (openmitid app activate --force).
func Overwrite() Option { return func(c *config) { c.overwrite = true } }

// WithParams derives the key at p (memory, time and threads; the salt is
// always 16 bytes) instead of [password.OWASP]. Tests use it to run fast.
func WithParams(p password.Params) Option { return func(c *config) { c.params = p } }

// CheckNew reports whether [Create] could write path: that its directory
// exists and, unless overwrite, that nothing is there yet. The app checks
// before activating, so that an activation code is not spent on a device
// whose key then has nowhere to go.
func CheckNew(path string, overwrite bool) error {
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("appstate: the state file's directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("appstate: %s is not a directory", filepath.Dir(path))
	}
	if overwrite {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("appstate: %w", err)
	}
	return nil
}

// Create writes a new state file at path holding a and key, sealed under
// pin. It refuses a PIN that breaks the rules of [CheckPIN], a key that is
// not P-256, an account without server or device id, and (unless
// [Overwrite]) an existing file. The file is written atomically with mode
// 0600.
func Create(path string, a Account, key *ecdsa.PrivateKey, pin string, opts ...Option) error {
	c := config{params: password.OWASP}
	for _, o := range opts {
		o(&c)
	}
	if err := CheckPIN(pin); err != nil {
		return err
	}
	if key == nil || key.Curve != elliptic.P256() {
		return errors.New("appstate: the device key must be an ECDSA P-256 private key")
	}
	if a.Server == "" || a.DeviceID == "" || a.UserID == "" {
		return errors.New("appstate: the account needs a server, a device id and a user id")
	}
	if err := CheckNew(path, c.overwrite); err != nil {
		return err
	}
	f := &file{
		Version: Version, Server: a.Server, DeviceID: a.DeviceID, UserID: a.UserID, Identity: a.Identity,
		KDF: &kdf{Name: kdfName, Memory: c.params.Memory, Time: c.params.Time, Threads: c.params.Threads, Salt: make([]byte, saltLen)},
	}
	if err := f.KDF.params().Validate(); err != nil {
		return fmt.Errorf("appstate: %w", err)
	}
	rand.Read(f.KDF.Salt) // crypto/rand.Read never fails (Go 1.24)
	f.Nonce = make([]byte, 12)
	rand.Read(f.Nonce)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("appstate: encoding the key: %w", err)
	}
	defer clear(der)
	aead, check := f.derive(pin)
	f.PINCheck = check
	f.Key = aead.Seal(nil, f.Nonce, der, f.additionalData())
	return write(path, f)
}

// derive returns the AEAD and the PIN check value for pin under f's KDF.
func (f *file) derive(pin string) (cipher.AEAD, []byte) {
	k := argon2.IDKey([]byte(pin), f.KDF.Salt, f.KDF.Time, f.KDF.Memory, f.KDF.Threads, derivedLen)
	defer clear(k[:32])
	block, err := aes.NewCipher(k[:32])
	if err != nil {
		panic(err) // a 32-byte key is always a valid AES key
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err) // the standard nonce size is always supported
	}
	return aead, k[32:]
}

// additionalData binds the sealed key to every field in the clear, each
// length-prefixed so that no two accounts give the same bytes.
func (f *file) additionalData() []byte {
	b := []byte("openmitid app state\x00")
	b = binary.AppendUvarint(b, uint64(f.Version))
	for _, s := range []string{f.Server, f.DeviceID, f.UserID, f.Identity} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// Unlock opens the state file at path with pin and returns its account and
// key. A PIN that breaks the rules of [CheckPIN] is refused without counting.
// A wrong PIN returns an error wrapping [ErrWrongPIN] and is counted in the
// file before the PIN is tried, so that stopping the program mid-way saves no
// try; the [MaxPINFailures]th wrong PIN in a row wipes the key and returns an
// error wrapping both [ErrWrongPIN] and [ErrAppLocked], and every later call
// [ErrAppLocked]. The right PIN resets the count.
func Unlock(path, pin string) (Account, *ecdsa.PrivateKey, error) {
	if err := CheckPIN(pin); err != nil {
		return Account{}, nil, err
	}
	f, err := read(path)
	if err != nil {
		return Account{}, nil, err
	}
	if f.Locked {
		return Account{}, nil, ErrAppLocked
	}
	f.FailedPINs++
	if err := write(path, f); err != nil {
		return Account{}, nil, fmt.Errorf("appstate: recording the PIN try: %w", err)
	}
	aead, check := f.derive(pin)
	if subtle.ConstantTimeCompare(check, f.PINCheck) != 1 {
		if f.FailedPINs < MaxPINFailures {
			left := MaxPINFailures - f.FailedPINs
			tries := "tries"
			if left == 1 {
				tries = "try"
			}
			return Account{}, nil, fmt.Errorf("%w (%d %s left)", ErrWrongPIN, left, tries)
		}
		f.lock()
		if err := write(path, f); err != nil {
			return Account{}, nil, fmt.Errorf("%w; %w, but wiping the key failed: %v", ErrWrongPIN, ErrAppLocked, err)
		}
		return Account{}, nil, fmt.Errorf("%w; %w", ErrWrongPIN, ErrAppLocked)
	}
	f.FailedPINs = 0
	if err := write(path, f); err != nil {
		return Account{}, nil, fmt.Errorf("appstate: resetting the PIN count: %w", err)
	}
	der, err := aead.Open(nil, f.Nonce, f.Key, f.additionalData())
	if err != nil {
		return Account{}, nil, fmt.Errorf("%w: the key does not open under the right PIN", ErrCorrupt)
	}
	defer clear(der)
	k, err := x509.ParsePKCS8PrivateKey(der)
	key, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok || key.Curve != elliptic.P256() {
		return Account{}, nil, fmt.Errorf("%w: the sealed key is not a P-256 private key", ErrCorrupt)
	}
	return Account{Server: f.Server, DeviceID: f.DeviceID, UserID: f.UserID, Identity: f.Identity}, key, nil
}

// lock wipes the key material and marks the file locked.
func (f *file) lock() {
	f.Locked = true
	f.KDF, f.PINCheck, f.Nonce, f.Key = nil, nil, nil, nil
}

// read parses a state file, refusing anything but a well-formed one of
// [Version]: unknown fields, KDF parameters outside the bounds of
// [password.Params.Validate] (a file edited to ask for 1 TiB must not be able
// to take the machine down), wrong sizes.
func read(path string) (*file, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("appstate: %w", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("appstate: %w", err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorrupt, path, maxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: %s: data after the JSON object", ErrCorrupt, path)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("%w: %s is a state file of version %d; this program reads version %d", ErrCorrupt, path, f.Version, Version)
	}
	if f.Server == "" || f.DeviceID == "" || f.UserID == "" {
		return nil, fmt.Errorf("%w: %s lacks the server, device id or user id", ErrCorrupt, path)
	}
	if f.Locked {
		return &f, nil
	}
	switch {
	case f.KDF == nil || f.KDF.Name != kdfName:
		return nil, fmt.Errorf("%w: %s: no argon2id parameters", ErrCorrupt, path)
	case f.KDF.params().Validate() != nil:
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, f.KDF.params().Validate())
	case len(f.PINCheck) != checkLen || len(f.Nonce) != 12 || len(f.Key) < 16:
		return nil, fmt.Errorf("%w: %s: the sealed key's fields have the wrong sizes", ErrCorrupt, path)
	case f.FailedPINs < 0 || f.FailedPINs >= MaxPINFailures:
		return nil, fmt.Errorf("%w: %s: failed_pins=%d is outside 0..%d", ErrCorrupt, path, f.FailedPINs, MaxPINFailures-1)
	}
	return &f, nil
}

// write replaces path with f atomically: a temporary file in the same
// directory, mode 0600, synced, then renamed over path, and the directory
// synced. A crash leaves the old file or the new one, never half of either.
func write(path string, f *file) (err error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("appstate: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("appstate: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("appstate: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("appstate: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("appstate: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("appstate: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("appstate: %w", err)
	}
	// Make the rename itself durable. Not every platform can sync a
	// directory; the rename is atomic without it.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
