// Command gentestdata makes the demo PKI and the golden files of
// internal/emrtd/testdata from fixed seeds, so that running it again writes
// the same bytes. Run it with `go generate ./internal/emrtd`.
//
// Each golden passport is one JSON file: the dump as CONTRACT.md has it, the
// CSCAs to trust, the time of the check, a challenge with the chip's answer,
// and the outcome passive and active authentication must have.
package main

import (
	"crypto"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
)

// Golden is the format of testdata/passports/*.json.
type Golden struct {
	Description string          `json:"description"`
	Now         time.Time       `json:"now"`
	Trust       [][]byte        `json:"trust"` // DER CSCA certificates
	Expect      Expect          `json:"expect"`
	Challenge   string          `json:"challenge"`    // hex, 8 bytes
	AASignature []byte          `json:"aa_signature"` // the chip's answer
	Dump        json.RawMessage `json:"dump"`
}

// Expect names outcomes by the sentinel error's name, "ok" for none.
type Expect struct {
	Passive string `json:"passive"`
	DG      string `json:"dg,omitempty"` // for ErrHashMismatch
	Active  string `json:"active"`
}

var (
	checkTime = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	challenge = [8]byte{0x47, 0x11, 0x08, 0x15, 0x2A, 0x00, 0xBE, 0xEF}
)

func main() {
	log.SetFlags(0)
	pki, err := testchip.GeneratePKI(testchip.DemoPKIOptions)
	check(err)
	check(pki.WriteFiles("testdata/pki"))
	check(os.MkdirAll("testdata/passports", 0o755))
	check(os.MkdirAll("testdata/masterlist", 0o755))
	writePassports(pki)
	writeMRZs()
	writeMasterLists(pki)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func person(seed string) testchip.Options {
	return testchip.Options{
		Seed: seed, Surname: "Testesen", GivenNames: "Karen Marie", Sex: emrtd.SexFemale,
		BirthDate: time.Date(1984, 3, 17, 0, 0, 0, 0, time.UTC), Expiry: time.Date(2033, 9, 30, 0, 0, 0, 0, time.UTC),
	}
}

func writePassports(pki *testchip.PKI) {
	trusted := [][]byte{pki.CSCA.Cert.Raw}
	ok := Expect{Passive: "ok", Active: "ok"}
	type variant struct {
		name, description string
		opts              testchip.Options
		expect            Expect
		trust             [][]byte
		now               time.Time
		mutate            func(*emrtd.Dump)
	}
	withPKI := func(o testchip.Options) testchip.Options { o.PKI = pki; return o }

	// Document signers and CSCAs whose validity does not cover checkTime.
	expiredDS, err := pki.NewDocumentSigner(testchip.ECDSAP256, "expired ds", 500,
		time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC))
	check(err)
	expiredDSPKI := &testchip.PKI{CSCA: pki.CSCA, DS: map[testchip.Algorithm]testchip.Authority{testchip.ECDSAP256: expiredDS}}
	oldPKI, err := testchip.GeneratePKI(testchip.PKIOptions{
		Seed: "expired csca", Country: "DK", Organization: "OpenMitID Old", CSCAAlgorithm: testchip.ECDSAP256,
		DSAlgorithms: []testchip.Algorithm{testchip.ECDSAP256},
		NotBefore:    time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC), CSCANotAfter: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
		DSNotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	check(err)
	// A document signer certificate whose signature is broken: the SOD is
	// signed by its (genuine) key, but the CSCA's signature on it fails.
	genuineDS := pki.DS[testchip.ECDSAP256]
	broken := append([]byte(nil), genuineDS.Cert.Raw...)
	broken[len(broken)-3] ^= 0x01
	brokenCert, err := emrtd.ParseCertificate(broken)
	check(err)
	other, err := testchip.NewPassport(withPKI(testchip.Options{Seed: "someone else", Surname: "Andersen", GivenNames: "Ole"}))
	check(err)

	variants := []variant{
		{name: "valid-rsa", description: "A genuine passport: RSA-2048 document signer (PKCS #1 v1.5, SHA-256), RSA-1024 active authentication key (ISO/IEC 9796-2, SHA-1).", opts: withPKI(person("valid-rsa")), expect: ok},
		{name: "rsa-pss-ds", description: "A genuine passport whose SOD is signed with RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32).", opts: func() testchip.Options {
			o := withPKI(person("rsa-pss-ds"))
			o.DSAlgorithm = testchip.RSAPSS
			return o
		}(), expect: ok},
		{name: "brainpool-ds", description: "A genuine passport as German ones are made: brainpoolP256r1 document signer with explicit domain parameters under a brainpoolP384r1 CSCA, and ECDSA active authentication on brainpoolP256r1 (plain signature, SHA-256 named in DG14).", opts: func() testchip.Options {
			o := withPKI(person("brainpool-ds"))
			o.DSAlgorithm, o.AAAlgorithm = testchip.BrainpoolP256r1, testchip.BrainpoolP256r1
			return o
		}(), expect: ok},
		{name: "ecdsa-p256-ds", description: "A genuine passport with a P-256 document signer and P-256 active authentication key.", opts: func() testchip.Options {
			o := withPKI(person("ecdsa-p256-ds"))
			o.DSAlgorithm, o.AAAlgorithm = testchip.ECDSAP256, testchip.ECDSAP256
			return o
		}(), expect: ok},
		{name: "td1-mrz", description: "A genuine identity card: a TD1 MRZ of three lines of 30 characters.", opts: func() testchip.Options {
			o := withPKI(person("td1-mrz"))
			o.Format = emrtd.TD1
			return o
		}(), expect: ok},
		{name: "no-dg14", description: "A genuine passport without DG14: RSA active authentication does not need it.", opts: func() testchip.Options {
			o := withPKI(person("no-dg14"))
			o.OmitDG14 = true
			return o
		}(), expect: ok},
		{name: "tampered-dg1", description: "DG1 rewritten with another birth date (its check digits recomputed): the SOD's DG1 hash does not match.", opts: withPKI(person("tampered-dg1")),
			expect: Expect{Passive: "ErrHashMismatch", DG: "DG1", Active: "ok"}, mutate: func(d *emrtd.Dump) {
				m, err := emrtd.ParseDG1(d.Files["DG1"])
				check(err)
				m.DateOfBirth = "040317"
				d.Files["DG1"], err = emrtd.EncodeDG1(m)
				check(err)
				d.MRZ, err = m.Encode()
				check(err)
			}},
		{name: "tampered-dg2", description: "One byte of the portrait in DG2 changed: the SOD's DG2 hash does not match.", opts: withPKI(person("tampered-dg2")),
			expect: Expect{Passive: "ErrHashMismatch", DG: "DG2", Active: "ok"}, mutate: func(d *emrtd.Dump) {
				dg2 := append([]byte(nil), d.Files["DG2"]...)
				dg2[len(dg2)-100] ^= 0x20
				d.Files["DG2"] = dg2
			}},
		{name: "tampered-dg15", description: "DG15 replaced by the DG15 of another passport (and the answer made with that passport's key): the SOD's DG15 hash does not match.", opts: withPKI(person("tampered-dg15")),
			expect: Expect{Passive: "ErrHashMismatch", DG: "DG15", Active: "ok"}, mutate: func(d *emrtd.Dump) {
				d.Files["DG15"] = other.Dump.Files["DG15"]
				d.AAKey = other.Dump.AAKey
			}},
		{name: "dg-substituted", description: "DG2 taken from another genuine passport signed by the same document signer: DG2's hash does not match this SOD.", opts: withPKI(person("dg-substituted")),
			expect: Expect{Passive: "ErrHashMismatch", DG: "DG2", Active: "ok"}, mutate: func(d *emrtd.Dump) { d.Files["DG2"] = other.Dump.Files["DG2"] }},
		{name: "dg-mislabelled", description: "The DG15 file presented as DG14: a file whose tag is another data group's is refused before hashing.", opts: withPKI(person("dg-mislabelled")),
			expect: Expect{Passive: "ErrLDS", Active: "ok"}, mutate: func(d *emrtd.Dump) { d.Files["DG14"] = d.Files["DG15"] }},
		{name: "dg-not-in-sod", description: "A DG3 file the SOD does not list: nothing vouches for it.", opts: withPKI(person("dg-not-in-sod")),
			expect: Expect{Passive: "ErrDGNotInSOD", Active: "ok"}, mutate: func(d *emrtd.Dump) { d.Files["DG3"] = emrtd.AppendTLV(nil, 0x63, []byte{0x7F, 0x61, 0x00}) }},
		{name: "missing-dg1", description: "DG1 left out: passive authentication needs the data group that ties the chip to the MRZ.", opts: withPKI(person("missing-dg1")),
			expect: Expect{Passive: "ErrMissingDG", Active: "ok"}, mutate: func(d *emrtd.Dump) { delete(d.Files, "DG1") }},
		{name: "rogue-csca", description: "Signed by a document signer of a CSCA with the demo CSCA's name but another key, which nobody trusts.", opts: func() testchip.Options {
			o := withPKI(person("rogue-csca"))
			o.RogueCSCA = true
			return o
		}(), expect: Expect{Passive: "ErrUnknownCSCA", Active: "ok"}},
		{name: "clone-chip", description: "Every file copied from a genuine chip, but the copy cannot have the chip's private key: its answer to the challenge does not verify with DG15.", opts: func() testchip.Options {
			o := withPKI(person("clone-chip"))
			o.CloneChip = true
			return o
		}(), expect: Expect{Passive: "ok", Active: "ErrActiveAuthentication"}},
		{name: "clone-chip-ecdsa", description: "A copied chip with an ECDSA active authentication key: the copy's answer does not verify.", opts: func() testchip.Options {
			o := withPKI(person("clone-chip-ecdsa"))
			o.CloneChip, o.AAAlgorithm = true, testchip.BrainpoolP256r1
			return o
		}(), expect: Expect{Passive: "ok", Active: "ErrActiveAuthentication"}},
		{name: "ecdsa-aa-without-dg14", description: "An ECDSA active authentication key but DG14 left out: without ActiveAuthenticationInfo the hash is unknown, so the answer is refused.", opts: func() testchip.Options {
			o := withPKI(person("ecdsa-aa-without-dg14"))
			o.AAAlgorithm = testchip.ECDSAP256
			return o
		}(), expect: Expect{Passive: "ok", Active: "ErrActiveAuthentication"}, mutate: func(d *emrtd.Dump) { delete(d.Files, "DG14") }},
		{name: "expired-ds", description: "The document signer certificate expired on 2025-12-31, before the time of the check.", opts: func() testchip.Options {
			o := person("expired-ds")
			o.PKI, o.DSAlgorithm = expiredDSPKI, testchip.ECDSAP256
			return o
		}(), expect: Expect{Passive: "ErrDSExpired", Active: "ok"}},
		{name: "not-yet-valid-ds", description: "Checked in 2023, before the demo document signer's validity starts in 2024.", opts: withPKI(person("not-yet-valid-ds")),
			expect: Expect{Passive: "ErrDSExpired", Active: "ok"}, now: time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)},
		{name: "expired-csca", description: "The CSCA certificate expired on 2025-12-31, though its document signer's certificate runs to 2030.", opts: func() testchip.Options {
			o := person("expired-csca")
			o.PKI, o.DSAlgorithm = oldPKI, testchip.ECDSAP256
			return o
		}(), expect: Expect{Passive: "ErrCSCAExpired", Active: "ok"}, trust: [][]byte{oldPKI.CSCA.Cert.Raw}},
		{name: "broken-sod-signature", description: "The last byte of the SOD's signature changed.", opts: withPKI(person("broken-sod-signature")),
			expect: Expect{Passive: "ErrSODSignature", Active: "ok"}, mutate: func(d *emrtd.Dump) {
				sod := append([]byte(nil), d.Files["SOD"]...)
				sod[len(sod)-1] ^= 0x01
				d.Files["SOD"] = sod
			}},
		{name: "broken-certificate-signature", description: "The document signer certificate's signature by the CSCA is broken; the SOD itself is signed by the certificate's key.", opts: func() testchip.Options {
			o := withPKI(person("broken-certificate-signature"))
			o.DSAlgorithm = testchip.ECDSAP256
			return o
		}(), expect: Expect{Passive: "ErrCertificateSignature", Active: "ok"}, mutate: func(d *emrtd.Dump) {
			files := d.DataGroups()
			sod, err := emrtd.BuildSOD(crypto.SHA256, files, brokenCert, genuineDS.Signer(), true)
			check(err)
			d.Files["SOD"] = sod
		}},
		{name: "unsigned-attributes", description: "A genuine SOD whose signature covers the LDS security object directly, without signed attributes (RFC 5652 allows it; some issuers do it).", opts: withPKI(person("unsigned-attributes")),
			expect: ok, mutate: func(d *emrtd.Dump) {
				ds := pki.DS[testchip.RSA]
				sod, err := emrtd.BuildSOD(crypto.SHA256, d.DataGroups(), ds.Cert, ds.Signer(), false)
				check(err)
				d.Files["SOD"] = sod
			}},
		{name: "truncated-sod", description: "The SOD cut off halfway.", opts: withPKI(person("truncated-sod")),
			expect: Expect{Passive: "ErrMalformedSOD", Active: "ok"}, mutate: func(d *emrtd.Dump) { d.Files["SOD"] = d.Files["SOD"][:len(d.Files["SOD"])/2] }},
		{name: "sod-wrong-tag", description: "The SOD's outer tag is not 77.", opts: withPKI(person("sod-wrong-tag")),
			expect: Expect{Passive: "ErrMalformedSOD", Active: "ok"}, mutate: func(d *emrtd.Dump) {
				sod := append([]byte(nil), d.Files["SOD"]...)
				sod[0] = 0x78
				d.Files["SOD"] = sod
			}},
	}
	for _, v := range variants {
		p, err := testchip.NewPassport(v.opts)
		check(err)
		chipDG14 := p.Dump.Files["DG14"] // the chip answers with what it has, whatever the dump lost
		if v.mutate != nil {
			v.mutate(p.Dump)
		}
		g := Golden{Description: v.description, Now: checkTime, Trust: trusted, Expect: v.expect, Challenge: hex.EncodeToString(challenge[:])}
		if v.trust != nil {
			g.Trust = v.trust
		}
		if !v.now.IsZero() {
			g.Now = v.now
		}
		key, err := emrtd.ParseChipKey(p.Dump.AAKey)
		check(err)
		g.AASignature, err = emrtd.SignChallenge(seeded(v.name), key, chipDG14, challenge)
		check(err)
		g.Dump, err = p.Dump.Marshal()
		check(err)
		out, err := json.MarshalIndent(g, "", "  ")
		check(err)
		check(os.WriteFile(filepath.Join("testdata/passports", v.name+".json"), append(out, '\n'), 0o644))
	}
	// The portrait of one passport, as `--face-out` writes it.
	p, err := testchip.NewPassport(withPKI(person("valid-rsa")))
	check(err)
	check(os.WriteFile("testdata/passports/valid-rsa-face.jpg", p.Face, 0o644))
}

// seeded is a deterministic reader for the chip's random M1.
type seeded string

func (s seeded) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(len(s)*31 + i*7)
	}
	return len(p), nil
}

// writeMRZs writes one file per MRZ check digit that can be wrong, from the
// ICAO specimens, each with the digit changed to the next one.
func writeMRZs() {
	td3 := [2]string{"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"}
	td1 := [3]string{"I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"}
	bump := func(s string, i int) string {
		return s[:i] + string('0'+(s[i]-'0'+1)%10) + s[i+1:]
	}
	type bad struct{ name, field, mrz string }
	cases := []bad{
		{"bad-check-digit-td3-document-number", "document number", td3[0] + "\n" + bump(td3[1], 9)},
		{"bad-check-digit-td3-date-of-birth", "date of birth", td3[0] + "\n" + bump(td3[1], 19)},
		{"bad-check-digit-td3-date-of-expiry", "date of expiry", td3[0] + "\n" + bump(td3[1], 27)},
		{"bad-check-digit-td3-optional-data", "optional data", td3[0] + "\n" + bump(td3[1], 42)},
		{"bad-check-digit-td3-composite", "composite", td3[0] + "\n" + bump(td3[1], 43)},
		{"bad-check-digit-td1-document-number", "document number", bump(td1[0], 14) + "\n" + td1[1] + "\n" + td1[2]},
		{"bad-check-digit-td1-date-of-birth", "date of birth", td1[0] + "\n" + bump(td1[1], 6) + "\n" + td1[2]},
		{"bad-check-digit-td1-date-of-expiry", "date of expiry", td1[0] + "\n" + bump(td1[1], 14) + "\n" + td1[2]},
		{"bad-check-digit-td1-composite", "composite", td1[0] + "\n" + bump(td1[1], 29) + "\n" + td1[2]},
	}
	for _, c := range cases {
		body := fmt.Sprintf("source: ICAO Doc 9303 specimen with the %s check digit changed (made by internal/gentestdata)\nexpect: check-digit\nfield: %s\n\n%s\n", c.field, c.field, c.mrz)
		check(os.WriteFile(filepath.Join("testdata/mrz", c.name+".txt"), []byte(body), 0o644))
	}
	malformed := map[string]string{
		"malformed-sex":         td3[0] + "\n" + td3[1][:20] + "Q" + td3[1][21:],
		"malformed-month-13":    td3[0] + "\n" + "L898902C36UTO7413122F1204159ZE184226B<<<<<10",
		"malformed-lower-case":  strings.ToLower(td3[0]) + "\n" + td3[1],
		"malformed-short-line":  td3[0][:43] + "\n" + td3[1] + "<",
		"malformed-nationality": td3[0] + "\n" + "L898902C3612O7408122F1204159ZE184226B<<<<<10",
	}
	names := make([]string, 0, len(malformed))
	for n := range malformed {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		body := fmt.Sprintf("source: ICAO Doc 9303 specimen, broken (made by internal/gentestdata)\nexpect: malformed\n\n%s\n", malformed[n])
		check(os.WriteFile(filepath.Join("testdata/mrz", n+".txt"), []byte(body), 0o644))
	}
}

// writeMasterLists writes a master list signed under the demo CSCA, holding
// the demo CSCA and two other states' CSCAs generated here (one RSA, one
// brainpool with explicit parameters), and a copy with one byte of its
// content changed.
func writeMasterLists(pki *testchip.PKI) {
	certs := []*emrtd.Certificate{pki.CSCA.Cert}
	for _, other := range []struct {
		country, org string
		alg          testchip.Algorithm
	}{{"SE", "csca-elsewhere", testchip.RSA}, {"DE", "csca-brainpool-state", testchip.BrainpoolP256r1}} {
		o, err := testchip.GeneratePKI(testchip.PKIOptions{Seed: "master list " + other.org, Country: other.country,
			Organization: other.org, CSCAAlgorithm: other.alg, NotBefore: testchip.DemoPKIOptions.NotBefore,
			CSCANotAfter: testchip.DemoPKIOptions.CSCANotAfter, DSNotAfter: testchip.DemoPKIOptions.DSNotAfter})
		check(err)
		certs = append(certs, o.CSCA.Cert)
	}
	ml, err := pki.MasterList("demo master list", certs, testchip.DemoPKIOptions.NotBefore, testchip.DemoPKIOptions.DSNotAfter)
	check(err)
	check(os.WriteFile("testdata/masterlist/demo-masterlist.der", ml, 0o644))
	// Change a byte inside the brainpool state's CSCA subject, deep in the
	// signed content: the message digest no longer matches.
	tampered := append([]byte(nil), ml...)
	i := strings.Index(string(tampered), "csca-brainpool-state")
	tampered[i] = 'C'
	check(os.WriteFile("testdata/masterlist/tampered-masterlist.der", tampered, 0o644))
}
