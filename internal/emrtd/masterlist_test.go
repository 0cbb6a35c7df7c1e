package emrtd_test

import (
	"errors"
	"os"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
)

func TestParseMasterList(t *testing.T) {
	der, err := os.ReadFile("testdata/masterlist/demo-masterlist.der")
	if err != nil {
		t.Fatal(err)
	}
	ml, err := emrtd.ParseMasterList(der)
	if err != nil {
		t.Fatal(err)
	}
	demo, err := emrtd.DemoTrustList()
	if err != nil {
		t.Fatal(err)
	}
	if len(ml.Certificates()) != 3 || ml.Skipped() != 0 || !ml.SignerIssuer().PublicKey.Equal(demo.Certificates()[0].PublicKey) {
		t.Errorf("master list: %d certificates, %d skipped, signed under %q", len(ml.Certificates()), ml.Skipped(), ml.SignerIssuer().Subject)
	}
	// ParseCSCAs recognises a DER master list.
	certs, err := emrtd.ParseCSCAs(der)
	if err != nil || len(certs) != 3 {
		t.Errorf("ParseCSCAs(master list) = %d, %v", len(certs), err)
	}
	var tl emrtd.TrustList
	if err := tl.Add(certs...); err != nil {
		t.Errorf("master list CSCAs refused by the trust list: %v", err)
	}

	tampered, err := os.ReadFile("testdata/masterlist/tampered-masterlist.der")
	if err != nil {
		t.Fatal(err)
	}
	if ml, err := emrtd.ParseMasterList(tampered); ml != nil || !errors.Is(err, emrtd.ErrMasterListSignature) {
		t.Errorf("tampered master list: %v, %v", ml, err)
	}
	if certs, err := emrtd.ParseCSCAs(tampered); certs != nil || !errors.Is(err, emrtd.ErrMasterListSignature) {
		t.Errorf("ParseCSCAs(tampered master list) = %v, %v", certs, err)
	}
	for name, b := range map[string][]byte{"empty": nil, "truncated": der[:len(der)/2], "SOD-like": {0x30, 0x03, 0x06, 0x01, 0x00}} {
		if ml, err := emrtd.ParseMasterList(b); ml != nil || !errors.Is(err, emrtd.ErrMalformedMasterList) {
			t.Errorf("%s: ParseMasterList = %v, %v", name, ml, err)
		}
	}
}

func TestTrustListRefusesNonCA(t *testing.T) {
	s := mustSOD(t, "valid-rsa")
	var tl emrtd.TrustList
	if err := tl.Add(s.DocumentSigner()); !errors.Is(err, emrtd.ErrNotCSCA) || tl.Len() != 0 {
		t.Errorf("a document signer certificate was accepted as a CSCA: %v", err)
	}
}
