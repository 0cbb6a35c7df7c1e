package emrtd_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// TestBACWorkedExample checks the worked example of ICAO 9303 part 11,
// appendix D.2, kept verbatim in testdata/bac-icao-9303-p11-d2.txt.
func TestBACWorkedExample(t *testing.T) {
	g := readGolden(t, "testdata/bac-icao-9303-p11-d2.txt")
	m := &emrtd.MRZ{
		DocumentNumber: strings.TrimRight(g.header["document_number"], "<"),
		DateOfBirth:    g.header["date_of_birth"],
		DateOfExpiry:   g.header["date_of_expiry"],
	}
	info := m.MRZInfo()
	if info != g.header["mrz_info"] {
		t.Fatalf("MRZInfo = %q, want %q", info, g.header["mrz_info"])
	}
	seed := emrtd.BACKeySeed(info)
	keys := emrtd.DeriveBACKeys(seed)
	for name, got := range map[string][]byte{"kseed": seed[:], "kenc": keys.Enc[:], "kmac": keys.MAC[:]} {
		if h := strings.ToUpper(hex.EncodeToString(got)); h != g.header[name] {
			t.Errorf("%s = %s, want %s", name, h, g.header[name])
		}
	}
	if strings.Contains(keys.String(), "AB94") || strings.Contains(strings.ToUpper(keys.String()), "AB94") {
		t.Errorf("BACKeys.String leaks the key: %s", keys)
	}
}
