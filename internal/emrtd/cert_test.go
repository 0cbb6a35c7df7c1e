package emrtd_test

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
)

func readPEMCert(t *testing.T, path string) *emrtd.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := emrtd.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// TestBrainpoolExplicitParameters parses the demo PKI's CSCA and brainpool
// document signer, whose keys are brainpool curves in explicit domain
// parameters, as German CSCA and document signer certificates have them
// (crypto/x509 cannot read these), and checks the signatures between them.
// Real-world certificates are checked by TestExternalCertificates, against a
// master list the operator supplies.
func TestBrainpoolExplicitParameters(t *testing.T) {
	csca := readPEMCert(t, "testdata/pki/csca.pem")
	ds := readPEMCert(t, "testdata/pki/ds-brainpoolP256r1.pem")
	tests := []struct {
		c      *emrtd.Certificate
		curve  string
		issuer *emrtd.Certificate
		ca     bool
	}{
		{csca, "brainpoolP384r1", csca, true},
		{ds, "brainpoolP256r1", csca, false},
	}
	for _, tt := range tests {
		if got := tt.c.PublicKey.Curve(); got != tt.curve {
			t.Errorf("%s: curve %s, want %s", tt.c.Subject, got, tt.curve)
		}
		if !tt.c.PublicKey.ExplicitParameters() {
			t.Errorf("%s: explicit parameters not reported", tt.c.Subject)
		}
		if tt.c.IsCA != tt.ca {
			t.Errorf("%s: IsCA = %v", tt.c.Subject, tt.c.IsCA)
		}
		if err := tt.c.CheckSignatureFrom(tt.issuer); err != nil {
			t.Errorf("%s: %v", tt.c.Subject, err)
		}
	}
	if err := csca.CheckSignatureFrom(ds); err == nil {
		t.Error("the CSCA verified as signed by its document signer")
	}
}

func TestParseCSCAs(t *testing.T) {
	var all []byte
	for _, f := range []string{"csca.pem", "ds-brainpoolP256r1.pem", "ds-rsa.pem"} {
		b, err := os.ReadFile("testdata/pki/" + f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	certs, err := emrtd.ParseCSCAs(all)
	if err != nil || len(certs) != 3 {
		t.Fatalf("ParseCSCAs(PEM) = %d certificates, %v", len(certs), err)
	}
	der, err := emrtd.ParseCSCAs(certs[0].Raw)
	if err != nil || len(der) != 1 || !der[0].PublicKey.Equal(certs[0].PublicKey) {
		t.Fatalf("ParseCSCAs(DER) = %v, %v", der, err)
	}
	var tl emrtd.TrustList
	if err := tl.Add(certs[0]); err != nil {
		t.Fatal(err)
	}
	if err := tl.Add(certs[0]); err != nil || tl.Len() != 1 {
		t.Errorf("adding a duplicate: %v, len %d", err, tl.Len())
	}
	if err := tl.Add(certs[1]); !errors.Is(err, emrtd.ErrNotCSCA) || tl.Len() != 1 {
		t.Errorf("adding a document signer as a CSCA: %v, len %d", err, tl.Len())
	}
	for _, bad := range [][]byte{nil, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), {0x30, 0x03, 0x02, 0x01, 0x01}} {
		if got, err := emrtd.ParseCSCAs(bad); err == nil || got != nil {
			t.Errorf("ParseCSCAs(%q) = %v, %v; want an error alone", bad, got, err)
		}
	}
}

func TestParseCertificateRejects(t *testing.T) {
	good := readPEMCert(t, "testdata/pki/csca.pem").Raw
	mutate := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := map[string][]byte{
		"empty":          nil,
		"truncated":      good[:len(good)-1],
		"trailing byte":  append(append([]byte(nil), good...), 0),
		"not a sequence": mutate(func(b []byte) []byte { b[0] = 0x31; return b }),
		"huge":           make([]byte, 40<<10),
	}
	for name, der := range tests {
		c, err := emrtd.ParseCertificate(der)
		if c != nil || !errors.Is(err, emrtd.ErrMalformedCertificate) {
			t.Errorf("%s: ParseCertificate = %v, %v; want ErrMalformedCertificate alone", name, c, err)
		}
	}
}

// TestExternalCertificates parses a PEM collection of real CSCA
// certificates, such as the ICAO master list's, when EMRTD_CSCA_PEM names
// one, and checks the self-signed and link certificates' signatures. The
// collection is not in the repository; this is a compatibility check to run
// by hand when changing the certificate parser.
func TestExternalCertificates(t *testing.T) {
	path := os.Getenv("EMRTD_CSCA_PEM")
	if path == "" {
		t.Skip("EMRTD_CSCA_PEM is not set")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var certs []*emrtd.Certificate
	total, failed := 0, 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		total++
		c, err := emrtd.ParseCertificate(block.Bytes)
		if err != nil {
			failed++
			t.Logf("certificate %d: %v", total, err)
			continue
		}
		certs = append(certs, c)
	}
	verified, bad := 0, 0
	for _, c := range certs {
		for _, issuer := range certs {
			byKeyID := len(c.AuthorityKeyID) > 0 && bytes.Equal(issuer.SubjectKeyID, c.AuthorityKeyID)
			selfWithoutKeyID := len(c.AuthorityKeyID) == 0 && issuer == c && bytes.Equal(c.RawIssuer, c.RawSubject)
			if !byKeyID && !selfWithoutKeyID {
				continue
			}
			if err := c.CheckSignatureFrom(issuer); err != nil {
				bad++
				t.Logf("%s: %v", c.Subject, err)
			} else {
				verified++
			}
			break
		}
	}
	t.Logf("%d certificates, %d not parsed; %d signatures verified, %d did not", total, failed, verified, bad)
}
