package emrtd

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd/internal/ecmath"
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

// TestKeyAgreementAppendixG1 checks the ECDH, the key derivation function
// and the CMAC against the worked example of ICAO 9303 part 11, appendix
// G.1 (PACE with ECDH generic mapping on brainpoolP256r1), whose key
// agreement, KDF and authentication tokens are chip authentication's too.
// Generic mapping changes the generator, not the curve, so the shared
// secret of its second key agreement is computed here as chip
// authentication computes its own.
func TestKeyAgreementAppendixG1(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var (
		skIFD   = h("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
		pkIC    = h("049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094")
		shared  = h("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
		ksEnc   = h("F5F0E35C0D7161EE6724EE513A0D9A7F")
		ksMac   = h("FE251C7858B356B24514B3BD5F4297D1")
		tIFDIn  = h("7F494F060A04007F000702020402028641049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094")
		tIFD    = h("C2B0BD78D94BA866")
		c       = ecmath.BrainpoolP256r1
		x, y, _ = c.UnmarshalPoint(pkIC)
	)
	_, k, err := ecdhShared(c, new(big.Int).SetBytes(skIFD), x, y)
	if err != nil || !bytes.Equal(k, shared) {
		t.Fatalf("shared secret %x, %v; want %x", k, err, shared)
	}
	enc, mac := caSessionKeys(k, 16)
	if !bytes.Equal(enc, ksEnc) || !bytes.Equal(mac, ksMac) {
		t.Errorf("KSenc %x, KSmac %x; want %x, %x", enc, mac, ksEnc, ksMac)
	}
	b, _ := aes.NewCipher(mac)
	if got := cmac(b, tIFDIn)[:8]; !bytes.Equal(got, tIFD) {
		t.Errorf("T_IFD %x, want %x", got, tIFD)
	}
}

// TestAESChannelTrace checks AES secure messaging against APDUs recorded
// from real chips, as the gmrtd project keeps them
// (github.com/gmrtd/gmrtd, MIT License, iso7816/secure_messaging_test.go): an
// MSE:Set AT protected at counter BA, and a response read at counter 0B.
func TestAESChannelTrace(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ch, err := newChannel(true, h("cc86415f2ed7e8fd663b754265695ae1"), h("581e84b8ee06c4d3eee30461498d7fb3"))
	if err != nil {
		t.Fatal(err)
	}
	copy(ch.ssc, h("000000000000000000000000000000ba"))
	got := ch.protectCommand(0x00, 0x22, 0x41, 0xA4, h("800a04007f000702020302028401c3"), -1)
	if want := h("0c2241a41d871101980953d37f67558690045d78a853b18a8e08929767a2cef172e200"); !bytes.Equal(got, want) {
		t.Errorf("MSE:Set AT protected as\n%x, want\n%x", got, want)
	}

	ch, err = newChannel(true, h("a8e85e938514ec67ae33cda3d43d3c48"), h("27f1adeb705a049a305b0c619b14b9b3"))
	if err != nil {
		t.Fatal(err)
	}
	copy(ch.ssc, h("0000000000000000000000000000000b"))
	data, sw, err := ch.unprotectResponse(h("8781e1012fabf9e0655d7e987fd28a8aeb19c9cadd990d49399799ed1fe465bcea56da9ba3024291d40d23d7f1e00485d71faddc6d8c1382e8028dd22efdcc72ed47663d56d20dd6c4b867956fe0507313083ae7fc54fb46133f184febbe13ad6fd3e2616a1f4a829e75ada1a0e443ca738288f6014be8a7745d8259b089e6bee35bcc4bf5b63db5fdd84244f67eca099213b70a861b4487225aa68af684278fceb4cb809de42be3ee95b0e0d72bcdb0ed47cb56efc264e04a9397a90e81ad1d81efa2d14b2ca8ec7bd997f4b1c1fd344d5dee8589c38b227ca4cb35810060a7cc76403e990290008e083eb47ef4fa82afc99000"))
	want := h("a729901d1a71874700133107ec53306404307bc382c63d8c150c3c72080ace05afa0c2bea28e4fb22787139165efba91f90f8aa5814a503ad4eb04a8c7dd22ce2826043004a8c7dd22ce28268b39b55416f0447c2fb77de107dcd2a62e880ea53eeb62d57cb4390295dbc9943ab78696fa504c110461041d1c64f068cf45ffa2a63a81b7c13f6b8847a3e77ef14fe3db7fcafe0cbd10e8e826e03436d646aaef87b2e247d4af1e8abe1d7520f9c2a45cb1eb8e95cfd55262b70b29feec5864e19c054ff99129280e4646217791811142820341263c53150231008cb91e82a3")
	if err != nil || sw != 0x9000 || !bytes.Equal(data, want) {
		t.Errorf("response read as %x %04X %v, want %x 9000", data, sw, err, want)
	}
}
