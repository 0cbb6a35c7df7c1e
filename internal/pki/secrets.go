package pki

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// A SecretStore keeps small named values (the store's settings table). It is
// implemented by internal/store.
type SecretStore interface {
	// Setting returns the value stored under name, or nil and no error if
	// there is none.
	Setting(ctx context.Context, name string) ([]byte, error)
	// SetSettingOnce stores value under name unless a value is there already,
	// and returns the value that is stored afterwards: the caller's, or the one
	// another node stored first.
	SetSettingOnce(ctx context.Context, name string, value []byte) ([]byte, error)
}

// ErrWrongKEK is returned by [Keyring.Bind] when the database was set up with
// another key-encryption key.
var ErrWrongKEK = errors.New("pki: the key-encryption key is not the one this database was set up with")

const kekCheckSetting = "kek_check"

// Bind ties the keyring to a database: on the first start it records the
// primary KEK's check value; on every later start it refuses a keyring that
// holds neither that key nor, during a rotation, a retired one that matches.
func (kr *Keyring) Bind(ctx context.Context, st SecretStore) error {
	stored, err := st.SetSettingOnce(ctx, kekCheckSetting, kr.primary.Check())
	if err != nil {
		return err
	}
	for _, k := range kr.keys {
		if subtle.ConstantTimeCompare(stored, k.Check()) == 1 {
			return nil
		}
	}
	return fmt.Errorf("%w (this key is %s)", ErrWrongKEK, kr.primary.ID())
}

// Secret returns the named random secret of size bytes, making it on first use.
// Secrets are kept sealed in st, so every node of a deployment gets the same
// one, and rotating the KEK only rewraps them. Uses: the audit chain's MAC key,
// the blind-index key for CPR numbers, the QR-code binding key.
func (kr *Keyring) Secret(ctx context.Context, st SecretStore, name string, size int) ([]byte, error) {
	sealedName := "secret/" + name
	sealed, err := st.Setting(ctx, sealedName)
	if err != nil {
		return nil, err
	}
	if sealed == nil {
		fresh := make([]byte, size)
		if _, err := io.ReadFull(kr.rand, fresh); err != nil {
			return nil, fmt.Errorf("pki: reading randomness: %w", err)
		}
		mine, err := kr.Seal(fresh, sealedName)
		clear(fresh)
		if err != nil {
			return nil, err
		}
		if sealed, err = st.SetSettingOnce(ctx, sealedName, mine); err != nil {
			return nil, err
		}
	}
	secret, err := kr.Open(sealed, sealedName)
	if err != nil {
		return nil, fmt.Errorf("pki: opening secret %q: %w", name, err)
	}
	if len(secret) != size {
		return nil, fmt.Errorf("pki: secret %q has %d bytes, want %d", name, len(secret), size)
	}
	return secret, nil
}
