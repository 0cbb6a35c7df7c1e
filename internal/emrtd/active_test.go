package emrtd_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// iso9796Sign builds an ISO/IEC 9796-2 scheme 1 signature by hand, with a
// chosen header, hash and trailer, to test each check of the verifier.
func iso9796Sign(t *testing.T, k *rsa.PrivateKey, header byte, h crypto.Hash, trailer []byte, m1, challenge []byte) []byte {
	t.Helper()
	hh := h.New()
	hh.Write(m1)
	hh.Write(challenge)
	f := append([]byte{header}, m1...)
	f = append(f, hh.Sum(nil)...)
	f = append(f, trailer...)
	size := (k.N.BitLen() + 7) / 8
	if len(f) != size {
		t.Fatalf("representative of %d bytes for a %d-byte modulus", len(f), size)
	}
	return new(big.Int).Exp(new(big.Int).SetBytes(f), k.D, k.N).FillBytes(make([]byte, size))
}

func TestActiveAuthenticateRSA(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	dg15 := emrtd.EncodeDG15(emrtd.NewRSAPublicKey(&k.PublicKey), false)
	challenge := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	m1 := func(n int) []byte { return make([]byte, n) }
	tests := []struct {
		name string
		sig  []byte
		ok   bool
	}{
		{"SHA-1 trailer BC", iso9796Sign(t, k, 0x6A, crypto.SHA1, []byte{0xBC}, m1(128-22), challenge[:]), true},
		{"SHA-256 trailer 34 CC", iso9796Sign(t, k, 0x6A, crypto.SHA256, []byte{0x34, 0xCC}, m1(128-35), challenge[:]), true},
		{"SHA-512 trailer 35 CC", iso9796Sign(t, k, 0x6A, crypto.SHA512, []byte{0x35, 0xCC}, m1(128-67), challenge[:]), true},
		{"trailer names another hash", iso9796Sign(t, k, 0x6A, crypto.SHA256, []byte{0x36, 0xCC}, m1(128-35), challenge[:]), false},
		{"unknown hash identifier", iso9796Sign(t, k, 0x6A, crypto.SHA256, []byte{0x99, 0xCC}, m1(128-35), challenge[:]), false},
		{"header 4A (total recovery)", iso9796Sign(t, k, 0x4A, crypto.SHA1, []byte{0xBC}, m1(128-22), challenge[:]), false},
		{"trailer BD", iso9796Sign(t, k, 0x6A, crypto.SHA1, []byte{0xBD}, m1(128-22), challenge[:]), false},
		{"other challenge", iso9796Sign(t, k, 0x6A, crypto.SHA1, []byte{0xBC}, m1(128-22), []byte("12345678")), false},
		{"empty", nil, false},
		{"short", make([]byte, 127), false},
		{"long", make([]byte, 129), false},
		{"not less than the modulus", k.N.FillBytes(make([]byte, 128)), false},
	}
	for _, tt := range tests {
		err := emrtd.ActiveAuthenticate(dg15, nil, challenge, tt.sig)
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, emrtd.ErrActiveAuthentication) {
			t.Errorf("%s: error %v, want ErrActiveAuthentication", tt.name, err)
		}
	}
	// SignChallenge makes what ActiveAuthenticate accepts.
	sig, err := emrtd.SignChallenge(rand.Reader, emrtd.NewRSAChipKey(k), nil, challenge)
	if err != nil {
		t.Fatal(err)
	}
	if err := emrtd.ActiveAuthenticate(dg15, nil, challenge, sig); err != nil {
		t.Errorf("SignChallenge's answer: %v", err)
	}
}

func TestActiveAuthenticateECDSA(t *testing.T) {
	for _, curve := range []string{"brainpoolP256r1", "brainpoolP384r1", "P-256", "P-384"} {
		key, err := emrtd.NewECChipKey(curve, []byte("a fixed test scalar, long enough"))
		if err != nil {
			t.Fatal(err)
		}
		dg14, err := emrtd.EncodeDG14(&emrtd.SecurityInfos{ActiveAuthentication: &emrtd.ActiveAuthenticationInfo{Version: 1, Hash: crypto.SHA256}})
		if err != nil {
			t.Fatal(err)
		}
		dg15 := emrtd.EncodeDG15(key.Public(), true)
		challenge := [8]byte{9, 9, 9}
		sig, err := emrtd.SignChallenge(rand.Reader, key, dg14, challenge)
		if err != nil {
			t.Fatal(err)
		}
		if err := emrtd.ActiveAuthenticate(dg15, dg14, challenge, sig); err != nil {
			t.Errorf("%s: %v", curve, err)
		}
		for name, bad := range map[string][]byte{"truncated": sig[:len(sig)-1], "DER instead of plain": append([]byte{0x30}, sig...), "flipped": flip(sig)} {
			if err := emrtd.ActiveAuthenticate(dg15, dg14, challenge, bad); !errors.Is(err, emrtd.ErrActiveAuthentication) {
				t.Errorf("%s %s: %v", curve, name, err)
			}
		}
		if err := emrtd.ActiveAuthenticate(dg15, nil, challenge, sig); !errors.Is(err, emrtd.ErrActiveAuthentication) {
			t.Errorf("%s without DG14: %v", curve, err)
		}
		other, _ := emrtd.EncodeDG14(&emrtd.SecurityInfos{ActiveAuthentication: &emrtd.ActiveAuthenticationInfo{Version: 1, Hash: crypto.SHA1}})
		if err := emrtd.ActiveAuthenticate(dg15, other, challenge, sig); !errors.Is(err, emrtd.ErrActiveAuthentication) {
			t.Errorf("%s with DG14 naming SHA-1: %v", curve, err)
		}
		noAA, _ := emrtd.EncodeDG14(&emrtd.SecurityInfos{})
		if err := emrtd.ActiveAuthenticate(dg15, noAA, challenge, sig); !errors.Is(err, emrtd.ErrActiveAuthentication) {
			t.Errorf("%s with DG14 lacking ActiveAuthenticationInfo: %v", curve, err)
		}
	}
}

func flip(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)/2] ^= 0x40
	return c
}

func TestChipKeyPKCS8(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := emrtd.NewECChipKey("brainpoolP256r1", []byte{7})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []*emrtd.ChipKey{emrtd.NewRSAChipKey(k), ec} {
		der, err := key.MarshalPKCS8()
		if err != nil {
			t.Fatal(err)
		}
		back, err := emrtd.ParseChipKey(der)
		if err != nil || !back.Public().Equal(key.Public()) {
			t.Errorf("ParseChipKey(MarshalPKCS8(%v)) = %v, %v", key.Public(), back, err)
		}
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, []byte("not a key")} {
		if k, err := emrtd.ParseChipKey(bad); k != nil || err == nil {
			t.Errorf("ParseChipKey(%q) = %v, %v", bad, k, err)
		}
	}
	if _, err := emrtd.NewECChipKey("secp256k1", []byte{1}); !errors.Is(err, emrtd.ErrUnsupportedKey) {
		t.Errorf("unknown curve: %v", err)
	}
	if _, err := emrtd.NewECChipKey("P-256", nil); !errors.Is(err, emrtd.ErrMalformedChipKey) {
		t.Errorf("zero scalar: %v", err)
	}
}
