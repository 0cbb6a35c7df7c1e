package emrtd_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// These tests build certificates with crypto/x509, independently of
// testchip, to check that certificates and SODs made by other software
// chain as they should, and that every broken rule of the chain is its own
// error.

// ecdsaSigner signs SODs with crypto/ecdsa, as an emrtd.Signer.
type ecdsaSigner struct{ k *ecdsa.PrivateKey }

func (s ecdsaSigner) AlgorithmIdentifier() []byte {
	der, _ := asn1.Marshal(struct{ OID asn1.ObjectIdentifier }{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}})
	return der
}

func (s ecdsaSigner) Sign(msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.k, h[:])
}

var (
	t2024 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t2040 = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	tNow  = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
)

type x509PKI struct {
	csca    *x509.Certificate
	cscaKey *ecdsa.PrivateKey
}

func newX509CSCA(t *testing.T, name string) x509PKI {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Country: []string{"UT"}, CommonName: name},
		NotBefore: t2024, NotAfter: t2040, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return x509PKI{csca: c, cscaKey: k}
}

// issue makes a document signer certificate; edit changes its template.
func (p x509PKI) issue(t *testing.T, edit func(*x509.Certificate)) (*emrtd.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{Country: []string{"UT"}, CommonName: "DS"},
		NotBefore: t2024, NotAfter: t2040, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.csca, &k.PublicKey, p.cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := emrtd.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

func (p x509PKI) trust(t *testing.T) *emrtd.TrustList {
	t.Helper()
	c, err := emrtd.ParseCertificate(p.csca.Raw)
	if err != nil {
		t.Fatal(err)
	}
	var tl emrtd.TrustList
	if err := tl.Add(c); err != nil {
		t.Fatal(err)
	}
	return &tl
}

func sodFor(t *testing.T, ds *emrtd.Certificate, k *ecdsa.PrivateKey, files map[emrtd.DG][]byte) []byte {
	t.Helper()
	sod, err := emrtd.BuildSOD(crypto.SHA256, files, ds, ecdsaSigner{k}, true)
	if err != nil {
		t.Fatal(err)
	}
	return sod
}

func TestChainRules(t *testing.T) {
	m, _ := emrtd.ParseMRZ(specimenTD3)
	dg1, _ := emrtd.EncodeDG1(m)
	files := map[emrtd.DG][]byte{emrtd.DG1: dg1}
	pki := newX509CSCA(t, "CSCA")
	namesake := newX509CSCA(t, "CSCA") // same name, another key
	other := newX509CSCA(t, "Other CSCA")

	ds, k := pki.issue(t, nil)
	if res, err := emrtd.PassiveAuthenticate(sodFor(t, ds, k, files), files, pki.trust(t), tNow); err != nil || len(res.Verified) != 1 {
		t.Fatalf("a chain made by crypto/x509: %v, %v", res, err)
	}

	noDigitalSignature, k2 := pki.issue(t, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageContentCommitment })
	noAKI, k3 := pki.issue(t, nil)
	tests := []struct {
		name  string
		sod   []byte
		trust *emrtd.TrustList
		now   time.Time
		want  error
	}{
		{"trusted only by a namesake", sodFor(t, ds, k, files), namesake.trust(t), tNow, emrtd.ErrUnknownCSCA},
		{"trusted only by another CSCA", sodFor(t, ds, k, files), other.trust(t), tNow, emrtd.ErrUnknownCSCA},
		{"key usage without digitalSignature", sodFor(t, noDigitalSignature, k2, files), pki.trust(t), tNow, emrtd.ErrSODSignature},
		{"signed by another key than the certificate's", sodFor(t, noAKI, k, files), pki.trust(t), tNow, emrtd.ErrSODSignature},
		{"before the certificates", sodFor(t, noAKI, k3, files), pki.trust(t), t2024.Add(-time.Hour), emrtd.ErrDSExpired},
		{"after the certificates", sodFor(t, noAKI, k3, files), pki.trust(t), t2040.Add(time.Hour), emrtd.ErrDSExpired},
	}
	for _, tt := range tests {
		res, err := emrtd.PassiveAuthenticate(tt.sod, files, tt.trust, tt.now)
		if res != nil || !errors.Is(err, tt.want) {
			t.Errorf("%s: PassiveAuthenticate = %v, %v; want %v alone", tt.name, res, err, tt.want)
		}
	}
}

func TestCertificateRejects(t *testing.T) {
	pki := newX509CSCA(t, "CSCA")
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mk := func(edit func(*x509.Certificate)) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "DS"}, NotBefore: t2024, NotAfter: t2040}
		edit(tmpl)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, pki.csca, &k.PublicKey, pki.cscaKey)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	critical := mk(func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}
	})
	nonCritical := mk(func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte{5, 0}}}
	})
	if _, err := emrtd.ParseCertificate(nonCritical); err != nil {
		t.Errorf("an unknown non-critical extension: %v", err)
	}
	// The inner signature algorithm changed to ecdsa-with-SHA384, the outer
	// left alone: RFC 5280, section 4.1.1.2, wants them equal.
	good := mk(func(*x509.Certificate) {})
	sha256OID := []byte{0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02}
	i := bytes.Index(good, sha256OID)
	mismatch := append([]byte(nil), good...)
	mismatch[i+len(sha256OID)-1] = 0x03
	for name, der := range map[string][]byte{"unknown critical extension": critical, "algorithms differ": mismatch} {
		if c, err := emrtd.ParseCertificate(der); c != nil || !errors.Is(err, emrtd.ErrMalformedCertificate) {
			t.Errorf("%s: ParseCertificate = %v, %v", name, c, err)
		}
	}
	// A certificate made by crypto/x509 reads the same here.
	c, err := emrtd.ParseCertificate(good)
	if err != nil {
		t.Fatal(err)
	}
	xc, _ := x509.ParseCertificate(good)
	if c.SerialNumber.Cmp(xc.SerialNumber) != 0 || !c.NotAfter.Equal(xc.NotAfter) || !bytes.Equal(c.AuthorityKeyID, xc.AuthorityKeyId) ||
		c.Issuer != "C=UT, CN=CSCA" || c.PublicKey.Curve() != "P-256" {
		t.Errorf("read as %+v", c)
	}
}
