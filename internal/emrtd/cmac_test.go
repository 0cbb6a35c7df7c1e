package emrtd_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// TestAESCMAC checks the examples of RFC 4493, section 4, kept verbatim.
func TestAESCMAC(t *testing.T) {
	const (
		key = "2b7e151628aed2a6abf7158809cf4f3c"
		m   = "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" +
			"30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710"
	)
	for _, tc := range []struct {
		name string
		len  int
		want string
	}{
		{"example 1: len = 0", 0, "bb1d6929e95937287fa37d129b756746"},
		{"example 2: len = 16", 16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{"example 3: len = 40", 40, "dfa66747de9ae63030ca32611497c827"},
		{"example 4: len = 64", 64, "51f0bebf7e3b9d92fc49741779363cfe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, _ := hex.DecodeString(key)
			msg, _ := hex.DecodeString(m)
			want, _ := hex.DecodeString(tc.want)
			if got := emrtd.AESCMAC(k, msg[:tc.len]); !bytes.Equal(got, want) {
				t.Errorf("AES-CMAC = %x, want %x", got, want)
			}
		})
	}
}
