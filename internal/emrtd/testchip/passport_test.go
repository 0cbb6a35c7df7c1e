package testchip_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"image/jpeg"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
)

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func verify(t *testing.T, p *testchip.Passport, trust *emrtd.TrustList) (passive, active error) {
	t.Helper()
	b, err := p.Dump.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	d, err := emrtd.ParseDump(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	_, passive = emrtd.PassiveAuthenticate(d.SOD(), d.DataGroups(), trust, now)
	key, err := emrtd.ParseChipKey(d.AAKey)
	if err != nil {
		t.Fatal(err)
	}
	challenge := [8]byte{}
	rand.Read(challenge[:])
	sig, err := emrtd.SignChallenge(rand.Reader, key, d.Files["DG14"], challenge)
	if err != nil {
		t.Fatal(err)
	}
	active = emrtd.ActiveAuthenticate(d.Files["DG15"], d.Files["DG14"], challenge, sig)
	return passive, active
}

func TestNewPassport(t *testing.T) {
	trust, err := emrtd.DemoTrustList()
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range testchip.DSAlgorithms {
		for _, aa := range []testchip.Algorithm{testchip.RSA1024, testchip.ECDSAP256, testchip.BrainpoolP256r1} {
			p, err := testchip.NewPassport(testchip.Options{Surname: "Nielsen", GivenNames: "Jens Peter", BirthDate: time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC),
				Sex: emrtd.SexMale, DSAlgorithm: ds, AAAlgorithm: aa})
			if err != nil {
				t.Fatal(err)
			}
			if passive, active := verify(t, p, trust); passive != nil || active != nil {
				t.Errorf("DS %s, AA %s: passive %v, active %v", ds, aa, passive, active)
			}
		}
	}
}

func TestNewPassportContents(t *testing.T) {
	given, surname := testchip.SplitName("  Åse   Østergård-Hansen ")
	opts := testchip.Options{Surname: surname, GivenNames: given, BirthDate: time.Date(1950, 12, 31, 0, 0, 0, 0, time.UTC), DocumentNumber: "X1234567"}
	p, err := testchip.NewPassport(opts)
	if err != nil {
		t.Fatal(err)
	}
	m, err := emrtd.ParseMRZ(p.Dump.MRZ)
	if err != nil {
		t.Fatal(err)
	}
	if m.Surname != "OESTERGAARD HANSEN" || m.GivenNames != "AASE" || m.DocumentNumber != "X1234567" || m.DateOfBirth != "501231" || m.Nationality != "DNK" {
		t.Errorf("MRZ %+v", m)
	}
	img, err := jpeg.Decode(bytes.NewReader(p.Face))
	if err != nil || img.Bounds().Dx() != 240 {
		t.Fatalf("face: %v", err)
	}
	portrait, err := emrtd.ParseDG2(p.Dump.Files["DG2"])
	if err != nil || !bytes.Equal(portrait.Image, p.Face) {
		t.Errorf("DG2 does not hold the face: %v", err)
	}
	b, err := p.Dump.Marshal()
	if err != nil || len(b) > emrtd.MaxDumpSize {
		t.Errorf("dump of %d bytes: %v", len(b), err)
	}
	// The same options give the same passport; another seed another one.
	again, err := testchip.NewPassport(opts)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := again.Dump.Marshal()
	if !bytes.Equal(b, b2) {
		t.Error("NewPassport is not deterministic")
	}
	opts.Seed = "another"
	other, err := testchip.NewPassport(opts)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.Face, p.Face) || bytes.Equal(other.Dump.AAKey, p.Dump.AAKey) {
		t.Error("another seed gave the same face or key")
	}
	td1, err := testchip.NewPassport(testchip.Options{Surname: "Berg", Format: emrtd.TD1, DocumentNumber: "AB12345678901"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := emrtd.ParseMRZ(td1.Dump.MRZ); err != nil || m.Format != emrtd.TD1 || m.DocumentNumber != "AB12345678901" {
		t.Errorf("TD1 with a long document number: %+v, %v", m, err)
	}
}

func TestFrauds(t *testing.T) {
	trust, err := emrtd.DemoTrustList()
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := testchip.NewPassport(testchip.Options{Surname: "Rogue", RogueCSCA: true, DSAlgorithm: testchip.ECDSAP256})
	if err != nil {
		t.Fatal(err)
	}
	if passive, active := verify(t, rogue, trust); !errors.Is(passive, emrtd.ErrUnknownCSCA) || active != nil {
		t.Errorf("rogue CSCA: passive %v, active %v", passive, active)
	}
	// The rogue PKI's own CSCA vouches for it: the passport is otherwise sound.
	if passive, _ := verify(t, rogue, rogue.PKI.TrustList()); passive != nil {
		t.Errorf("rogue passport under the rogue CSCA: %v", passive)
	}
	for _, aa := range []testchip.Algorithm{testchip.RSA1024, testchip.BrainpoolP256r1} {
		clone, err := testchip.NewPassport(testchip.Options{Surname: "Clone", CloneChip: true, AAAlgorithm: aa})
		if err != nil {
			t.Fatal(err)
		}
		if passive, active := verify(t, clone, trust); passive != nil || !errors.Is(active, emrtd.ErrActiveAuthentication) {
			t.Errorf("cloned chip (%s): passive %v, active %v", aa, passive, active)
		}
	}
}

func TestOptionsRejected(t *testing.T) {
	for name, opts := range map[string]testchip.Options{
		"no surname":              {},
		"Cyrillic surname":        {Surname: "Иванов"},
		"ECDSA AA without DG14":   {Surname: "X", AAAlgorithm: testchip.ECDSAP256, OmitDG14: true},
		"unknown DS algorithm":    {Surname: "X", DSAlgorithm: "dsa"},
		"unknown AA algorithm":    {Surname: "X", AAAlgorithm: "ed25519"},
		"nationality with digits": {Surname: "X", Nationality: "D1K"},
		"no AA and no CA":         {Surname: "X", NoActiveAuthentication: true},
		"no AA and no DG14":       {Surname: "X", NoActiveAuthentication: true, ChipAuthentication: testchip.CA3DES, OmitDG14: true},
		"unknown CA protocol":     {Surname: "X", ChipAuthentication: "dh"},
		"CA key not on a curve":   {Surname: "X", ChipAuthentication: testchip.CAAES128, CACurve: testchip.RSA},
	} {
		if p, err := testchip.NewPassport(opts); err == nil || p != nil {
			t.Errorf("%s: NewPassport = %v, %v", name, p, err)
		}
	}
}

// TestRSACSCA chains a document signer to an RSA CSCA, the commonest kind.
func TestRSACSCA(t *testing.T) {
	pki, err := testchip.GeneratePKI(testchip.PKIOptions{
		Seed: "rsa csca", Country: "UT", Organization: "Utopia", CSCAAlgorithm: testchip.RSA,
		DSAlgorithms: []testchip.Algorithm{testchip.ECDSAP256},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), CSCANotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		DSNotAfter: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := testchip.NewPassport(testchip.Options{Surname: "Utopian", Nationality: "UTO", PKI: pki, DSAlgorithm: testchip.ECDSAP256})
	if err != nil {
		t.Fatal(err)
	}
	if passive, active := verify(t, p, pki.TrustList()); passive != nil || active != nil {
		t.Errorf("passive %v, active %v", passive, active)
	}
}

// TestDemoPKIReproducible checks that the demo PKI in testdata is what the
// generator makes from its seed, so nobody swaps in other keys unnoticed.
func TestDemoPKIReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("generates RSA keys with math/big")
	}
	fresh, err := testchip.GeneratePKI(testchip.DemoPKIOptions)
	if err != nil {
		t.Fatal(err)
	}
	demo, err := testchip.DemoPKI()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh.CSCA.Cert.Raw, demo.CSCA.Cert.Raw) {
		t.Error("demo CSCA differs from the generator's")
	}
	for alg, ds := range demo.DS {
		if !bytes.Equal(fresh.DS[alg].Cert.Raw, ds.Cert.Raw) {
			t.Errorf("demo %s document signer differs from the generator's", alg)
		}
	}
}

// TestChipAuthenticationOnly: a chip without DG15 passes passive
// authentication with DG14 vouched for and DG15 unlisted; its dump carries
// the chip authentication key instead of the active authentication one,
// and a clone has DG14 as it is but another key.
func TestChipAuthenticationOnly(t *testing.T) {
	trust, err := emrtd.DemoTrustList()
	if err != nil {
		t.Fatal(err)
	}
	opts := testchip.Options{Surname: "Holm", ChipAuthentication: testchip.CAAES128, NoActiveAuthentication: true}
	p, err := testchip.NewPassport(opts)
	if err != nil {
		t.Fatal(err)
	}
	sod, err := emrtd.ParseSOD(p.Dump.SOD())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emrtd.PassiveAuthenticate(p.Dump.SOD(), p.Dump.DataGroups(), trust, now); err != nil {
		t.Errorf("passive authentication: %v", err)
	}
	if sod.Hash(emrtd.DG15) != nil || sod.Hash(emrtd.DG14) == nil || p.Dump.AAKey != nil || p.Dump.CAKey == nil || p.CAKey == nil {
		t.Errorf("DG15 listed %v, DG14 listed %v, aa_key %d bytes, ca_key %d bytes",
			sod.Hash(emrtd.DG15) != nil, sod.Hash(emrtd.DG14) != nil, len(p.Dump.AAKey), len(p.Dump.CAKey))
	}
	opts.CloneChip = true
	clone, err := testchip.NewPassport(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(clone.Dump.Files["DG14"], p.Dump.Files["DG14"]) || bytes.Equal(clone.Dump.CAKey, p.Dump.CAKey) {
		t.Error("the clone's DG14 differs, or its key does not")
	}
}
