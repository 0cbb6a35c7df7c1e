package emrtd

import (
	"bytes"
	"testing"
)

// TestChannelIsBACSecureMessaging checks the 3DES channel of chip
// authentication against sm.go's [SecureMessaging], whose appendix D
// worked example is tested: with the same keys and counter, they protect
// a command alike and each accepts the other's response.
func TestChannelIsBACSecureMessaging(t *testing.T) {
	keys := DeriveBACKeys([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	sm := NewSecureMessaging(keys, 0)
	ch, err := newChannel(false, keys.Enc[:], keys.MAC[:])
	if err != nil {
		t.Fatal(err)
	}
	want, err := sm.Protect(0x00, 0xB0, 0x81, 0x00, nil, 16)
	if err != nil {
		t.Fatal(err)
	}
	if got := ch.protectCommand(0x00, 0xB0, 0x81, 0x00, nil, 16); !bytes.Equal(got, want) {
		t.Fatalf("READ BINARY protected as\n%x, sm.go protects it as\n%x", got, want)
	}
	resp := ch.protectResponse([]byte("0123456789abcdef"), 0x9000)
	data, sw, err := sm.Unprotect(resp)
	if err != nil || sw != 0x9000 || string(data) != "0123456789abcdef" {
		t.Fatalf("sm.go reads the channel's response as %q %04X %v", data, sw, err)
	}
}
