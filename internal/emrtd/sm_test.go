package emrtd_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBACSecureMessagingWorkedExample runs the worked example of ICAO 9303
// part 11, appendices D.3 and D.4, kept verbatim in
// testdata/bac-icao-9303-p11-d3-d4.txt: mutual authentication, the session
// keys and counter, and reading EF.COM under secure messaging.
func TestBACSecureMessagingWorkedExample(t *testing.T) {
	g := readGolden(t, "testdata/bac-icao-9303-p11-d3-d4.txt")
	h := func(k string) []byte { return unhex(t, g.header[k]) }
	var keys emrtd.BACKeys
	copy(keys.Enc[:], h("kenc"))
	copy(keys.MAC[:], h("kmac"))
	var rndICC, rndIFD [8]byte
	var kIFD [16]byte
	copy(rndICC[:], h("rnd_icc"))
	copy(rndIFD[:], h("rnd_ifd"))
	copy(kIFD[:], h("k_ifd"))

	auth := emrtd.NewBACAuthenticate(keys, rndICC, rndIFD, kIFD)
	if got := auth.Command(); !bytes.Equal(got, h("external_authenticate_data")) {
		t.Fatalf("EXTERNAL AUTHENTICATE data %X, want %s", got, g.header["external_authenticate_data"])
	}
	sm, err := auth.Finish(h("external_authenticate_response"))
	if err != nil {
		t.Fatal(err)
	}
	if k := sm.Keys(); !bytes.Equal(k.Enc[:], h("ksenc")) || !bytes.Equal(k.MAC[:], h("ksmac")) {
		t.Errorf("session keys %X %X", k.Enc, k.MAC)
	}
	if ssc := binary.BigEndian.AppendUint64(nil, sm.SSC()); !bytes.Equal(ssc, h("ssc")) {
		t.Errorf("SSC %X, want %s", ssc, g.header["ssc"])
	}

	steps := []struct {
		name           string
		ins, p1, p2    byte
		data           []byte
		le             int
		command, reply string
		plain          string
	}{
		{"select", 0xA4, 0x02, 0x0C, []byte{0x01, 0x1E}, -1, "select_command", "select_response", ""},
		{"read1", 0xB0, 0x00, 0x00, nil, 4, "read1_command", "read1_response", "read1_data"},
		{"read2", 0xB0, 0x00, 0x04, nil, 0x12, "read2_command", "read2_response", "read2_data"},
	}
	for _, st := range steps {
		apdu, err := sm.Protect(0x00, st.ins, st.p1, st.p2, st.data, st.le)
		if err != nil || !bytes.Equal(apdu, h(st.command)) {
			t.Fatalf("%s: Protect = %X, %v; want %s", st.name, apdu, err, g.header[st.command])
		}
		data, sw, err := sm.Unprotect(h(st.reply))
		if err != nil || sw != 0x9000 {
			t.Fatalf("%s: Unprotect: %X, %v", st.name, sw, err)
		}
		if st.plain != "" && !bytes.Equal(data, h(st.plain)) {
			t.Errorf("%s: data %X, want %s", st.name, data, g.header[st.plain])
		}
	}
}

func TestSecureMessagingRejects(t *testing.T) {
	g := readGolden(t, "testdata/bac-icao-9303-p11-d3-d4.txt")
	var keys emrtd.BACKeys
	copy(keys.Enc[:], unhex(t, g.header["ksenc"]))
	copy(keys.MAC[:], unhex(t, g.header["ksmac"]))
	ssc := binary.BigEndian.Uint64(unhex(t, g.header["ssc"]))
	good := unhex(t, g.header["read1_response"])
	tests := map[string][]byte{
		"flipped MAC":  flip(good),
		"no MAC":       unhex(t, "8709019FF0EC34F992265199029000"+"9000"),
		"empty":        nil,
		"unknown DO":   unhex(t, "8501009000"),
		"broken TLV":   unhex(t, "87FF9000"),
		"sw only":      unhex(t, "9000"),
		"replayed SSC": unhex(t, g.header["select_response"]), // the answer to an earlier command
	}
	for name, resp := range tests {
		sm := emrtd.NewSecureMessaging(keys, ssc+2) // as before READ BINARY
		data, sw, err := sm.Unprotect(resp)
		if !errors.Is(err, emrtd.ErrSecureMessaging) || data != nil || sw != 0 {
			t.Errorf("%s: Unprotect = %X, %X, %v", name, data, sw, err)
		}
	}
	// A chip that answers with the wrong nonce or MAC is refused.
	var k emrtd.BACKeys
	copy(k.Enc[:], unhex(t, g.header["kenc"]))
	copy(k.MAC[:], unhex(t, g.header["kmac"]))
	var rndICC, rndIFD [8]byte
	var kIFD [16]byte
	copy(rndICC[:], unhex(t, g.header["rnd_icc"]))
	copy(kIFD[:], unhex(t, g.header["k_ifd"]))
	resp := unhex(t, g.header["external_authenticate_response"])
	for name, a := range map[string]*emrtd.BACAuthenticate{
		"other terminal nonce": emrtd.NewBACAuthenticate(k, rndICC, rndIFD, kIFD),
	} {
		if sm, err := a.Finish(resp); sm != nil || !errors.Is(err, emrtd.ErrSecureMessaging) {
			t.Errorf("%s: Finish = %v, %v", name, sm, err)
		}
	}
	copy(rndIFD[:], unhex(t, g.header["rnd_ifd"]))
	a := emrtd.NewBACAuthenticate(k, rndICC, rndIFD, kIFD)
	for name, r := range map[string][]byte{"flipped": flip(resp), "short": resp[:39]} {
		if sm, err := a.Finish(r); sm != nil || !errors.Is(err, emrtd.ErrSecureMessaging) {
			t.Errorf("%s: Finish = %v, %v", name, sm, err)
		}
	}
	if _, err := emrtd.NewSecureMessaging(keys, 0).Protect(0, 0xB1, 0, 0, nil, 0); err == nil || !strings.Contains(err.Error(), "INS B1") {
		t.Errorf("odd INS: %v", err)
	}
}
