package pki_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/openmitid/openmitid/internal/pki"
)

func newKeyring(t *testing.T) *pki.Keyring {
	t.Helper()
	k, err := pki.NewKEK(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pki.NewKeyring(k)
}

func TestSealOpenRoundTrip(t *testing.T) {
	kr := newKeyring(t)
	for _, pt := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("seed"), 1000)} {
		s, err := kr.Seal(pt, "otp-seed/a1")
		if err != nil {
			t.Fatal(err)
		}
		got, err := kr.Open(s, "otp-seed/a1")
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, %v; want %q", got, err, pt)
		}
		if !kr.SealedUnder(s) {
			t.Error("SealedUnder(primary) = false")
		}
	}
	a, _ := kr.Seal([]byte("same"), "c")
	b, _ := kr.Seal([]byte("same"), "c")
	if bytes.Equal(a, b) {
		t.Error("two seals of the same value are equal: keys or nonces are reused")
	}
}

func TestOpenDetectsTampering(t *testing.T) {
	kr := newKeyring(t)
	s, err := kr.Seal([]byte("a TOTP seed of twenty"), "otp-seed/a1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range s {
		for _, bit := range []byte{0x01, 0x80} {
			c := bytes.Clone(s)
			c[i] ^= bit
			got, err := kr.Open(c, "otp-seed/a1")
			if err == nil || got != nil {
				t.Fatalf("byte %d bit %#x flipped: Open = %q, %v", i, bit, got, err)
			}
		}
	}
	bad := []struct {
		name    string
		sealed  []byte
		context string
		want    error
	}{
		{"wrong context", s, "otp-seed/a2", pki.ErrTampered},
		{"empty context", s, "", pki.ErrTampered},
		{"truncated", s[:len(s)-1], "otp-seed/a1", pki.ErrTampered},
		{"too short", s[:20], "otp-seed/a1", pki.ErrMalformed},
		{"empty", nil, "otp-seed/a1", pki.ErrMalformed},
		{"version", append([]byte{2}, s[1:]...), "otp-seed/a1", pki.ErrMalformed},
		{"extended", append(bytes.Clone(s), 0), "otp-seed/a1", pki.ErrTampered},
	}
	for _, tt := range bad {
		got, err := kr.Open(tt.sealed, tt.context)
		if !errors.Is(err, tt.want) || got != nil {
			t.Errorf("%s: Open = %q, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	other := newKeyring(t)
	if got, err := other.Open(s, "otp-seed/a1"); !errors.Is(err, pki.ErrUnknownKEK) || got != nil {
		t.Errorf("another KEK: Open = %q, %v; want ErrUnknownKEK", got, err)
	}
}

func TestKEKRotationOpensOldValues(t *testing.T) {
	old, _ := pki.NewKEK(nil)
	s, _ := pki.NewKeyring(old).Seal([]byte("v"), "c")
	fresh, _ := pki.NewKEK(nil)
	kr := pki.NewKeyring(fresh, old)
	if got, err := kr.Open(s, "c"); err != nil || string(got) != "v" {
		t.Fatalf("Open of a value under a retired KEK = %q, %v", got, err)
	}
	if kr.SealedUnder(s) {
		t.Error("a value under the retired key reports the primary")
	}
}

func TestKEKFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "openmitid.kek")
	if _, err := pki.LoadKEK(path); !errors.Is(err, pki.ErrKEKMissing) {
		t.Fatalf("LoadKEK of a missing file = %v, want ErrKEKMissing", err)
	}
	k, err := pki.CreateKEKFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, err := pki.CreateKEKFile(path, nil); err == nil {
		t.Fatal("CreateKEKFile overwrote an existing key")
	}
	l, err := pki.LoadKEK(path)
	if err != nil || l.ID() != k.ID() || !bytes.Equal(l.Check(), k.Check()) {
		t.Fatalf("LoadKEK = %v, %v; want the key written", l, err)
	}
	for _, bad := range []string{"", "not base64!", "c2hvcnQ=", "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"} {
		if _, err := pki.ParseKEK([]byte(bad)); !errors.Is(err, pki.ErrKEKFile) {
			t.Errorf("ParseKEK(%q) = %v, want ErrKEKFile", bad, err)
		}
	}
}

type memSettings map[string][]byte

func (m memSettings) Setting(_ context.Context, name string) ([]byte, error) { return m[name], nil }
func (m memSettings) SetSettingOnce(_ context.Context, name string, v []byte) ([]byte, error) {
	if old, ok := m[name]; ok {
		return old, nil
	}
	m[name] = v
	return v, nil
}

func TestBindAndSecrets(t *testing.T) {
	ctx := context.Background()
	st := memSettings{}
	kr := newKeyring(t)
	if err := kr.Bind(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := kr.Bind(ctx, st); err != nil {
		t.Fatalf("second Bind with the same key: %v", err)
	}
	if err := newKeyring(t).Bind(ctx, st); !errors.Is(err, pki.ErrWrongKEK) {
		t.Fatalf("Bind with another key = %v, want ErrWrongKEK", err)
	}
	a, err := kr.Secret(ctx, st, "audit-mac", 32)
	if err != nil || len(a) != 32 {
		t.Fatal(a, err)
	}
	b, _ := kr.Secret(ctx, st, "audit-mac", 32)
	c, _ := kr.Secret(ctx, st, "cpr-index", 32)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatal("a secret changed between calls, or two names share one")
	}
	if _, err := newKeyring(t).Secret(ctx, st, "audit-mac", 32); !errors.Is(err, pki.ErrUnknownKEK) {
		t.Fatalf("Secret under another key = %v, want ErrUnknownKEK", err)
	}
	if _, err := kr.Secret(ctx, st, "audit-mac", 16); err == nil {
		t.Fatal("a secret of another size was returned")
	}
}
