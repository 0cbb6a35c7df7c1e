package emrtd_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
)

// goldenPassport is the format internal/gentestdata writes into
// testdata/passports.
type goldenPassport struct {
	Description string    `json:"description"`
	Now         time.Time `json:"now"`
	Trust       [][]byte  `json:"trust"`
	Expect      struct {
		Passive string `json:"passive"`
		DG      string `json:"dg"`
		Active  string `json:"active"`
	} `json:"expect"`
	Challenge   string          `json:"challenge"`
	AASignature []byte          `json:"aa_signature"`
	Dump        json.RawMessage `json:"dump"`
}

var sentinels = map[string]error{
	"ErrUnknownCSCA":          emrtd.ErrUnknownCSCA,
	"ErrDSExpired":            emrtd.ErrDSExpired,
	"ErrCSCAExpired":          emrtd.ErrCSCAExpired,
	"ErrSODSignature":         emrtd.ErrSODSignature,
	"ErrCertificateSignature": emrtd.ErrCertificateSignature,
	"ErrHashMismatch":         emrtd.ErrHashMismatch,
	"ErrMalformedSOD":         emrtd.ErrMalformedSOD,
	"ErrDGNotInSOD":           emrtd.ErrDGNotInSOD,
	"ErrMissingDG":            emrtd.ErrMissingDG,
	"ErrLDS":                  emrtd.ErrLDS,
	"ErrActiveAuthentication": emrtd.ErrActiveAuthentication,
}

func loadGoldenPassports(t testing.TB) map[string]goldenPassport {
	t.Helper()
	paths, err := filepath.Glob("testdata/passports/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden passports: %v", err)
	}
	out := map[string]goldenPassport{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var g goldenPassport
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = g
	}
	return out
}

func (g goldenPassport) trustList(t testing.TB) *emrtd.TrustList {
	t.Helper()
	var tl emrtd.TrustList
	for _, der := range g.Trust {
		c, err := emrtd.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := tl.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	return &tl
}

// TestGoldenPassports runs passive and active authentication on every
// golden passport and checks the outcome it names: the sentinel error (and
// the data group for a hash mismatch), and that nothing else came back.
func TestGoldenPassports(t *testing.T) {
	for name, g := range loadGoldenPassports(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := emrtd.ParseDump(bytes.NewReader(g.Dump))
			if err != nil {
				t.Fatal(err)
			}
			res, err := emrtd.PassiveAuthenticate(d.SOD(), d.DataGroups(), g.trustList(t), g.Now)
			if g.Expect.Passive == "ok" {
				if err != nil {
					t.Fatalf("PassiveAuthenticate: %v", err)
				}
				if res.CSCA == nil || res.DocumentSigner == nil || len(res.Verified) != len(d.DataGroups()) {
					t.Errorf("result %+v does not account for every data group", res)
				}
				// DG1 is what the MRZ in the dump says.
				m, err := emrtd.ParseDG1(d.Files["DG1"])
				if err != nil {
					t.Fatal(err)
				}
				enc, _ := m.Encode()
				if enc != d.MRZ {
					t.Errorf("DG1 MRZ\n%s\ndiffers from the dump's\n%s", enc, d.MRZ)
				}
				if p, err := emrtd.ParseDG2(d.Files["DG2"]); err != nil || p.Format != emrtd.ImageJPEG {
					t.Errorf("ParseDG2 = %+v, %v", p, err)
				}
			} else {
				want := sentinels[g.Expect.Passive]
				if want == nil {
					t.Fatalf("unknown expectation %q", g.Expect.Passive)
				}
				if !errors.Is(err, want) {
					t.Fatalf("PassiveAuthenticate error = %v, want %v", err, want)
				}
				if res != nil {
					t.Errorf("PassiveAuthenticate returned %+v with its error", res)
				}
				for other, s := range sentinels {
					if s != want && errors.Is(err, s) && other != "ErrLDS" {
						t.Errorf("error %v is also %s", err, other)
					}
				}
				if g.Expect.DG != "" {
					var he *emrtd.DGHashError
					if !errors.As(err, &he) || he.DG.String() != g.Expect.DG {
						t.Errorf("error %v does not name %s", err, g.Expect.DG)
					}
				}
			}
			var challenge [emrtd.ChallengeSize]byte
			if _, err := hex.Decode(challenge[:], []byte(g.Challenge)); err != nil {
				t.Fatal(err)
			}
			err = emrtd.ActiveAuthenticate(d.Files["DG15"], d.Files["DG14"], challenge, g.AASignature)
			if g.Expect.Active == "ok" {
				if err != nil {
					t.Errorf("ActiveAuthenticate: %v", err)
				}
				// Another challenge with the same answer must fail.
				challenge[0] ^= 1
				if err := emrtd.ActiveAuthenticate(d.Files["DG15"], d.Files["DG14"], challenge, g.AASignature); !errors.Is(err, emrtd.ErrActiveAuthentication) {
					t.Errorf("answer accepted for another challenge: %v", err)
				}
			} else if !errors.Is(err, sentinels[g.Expect.Active]) {
				t.Errorf("ActiveAuthenticate error = %v, want %s", err, g.Expect.Active)
			}
		})
	}
}

// TestGoldenPassportsCoverAttacks makes sure the attacks the brief names
// keep their golden files.
func TestGoldenPassportsCoverAttacks(t *testing.T) {
	gs := loadGoldenPassports(t)
	for _, name := range []string{"tampered-dg1", "rogue-csca", "clone-chip", "expired-ds", "expired-csca",
		"broken-sod-signature", "truncated-sod", "dg-substituted", "brainpool-ds", "rsa-pss-ds", "td1-mrz"} {
		if _, ok := gs[name]; !ok {
			t.Errorf("testdata/passports/%s.json is missing", name)
		}
	}
}

func TestPassiveAuthenticateEmptyTrust(t *testing.T) {
	g := loadGoldenPassports(t)["valid-rsa"]
	d, err := emrtd.ParseDump(bytes.NewReader(g.Dump))
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range []*emrtd.TrustList{nil, {}} {
		if res, err := emrtd.PassiveAuthenticate(d.SOD(), d.DataGroups(), tl, g.Now); !errors.Is(err, emrtd.ErrUnknownCSCA) || res != nil {
			t.Errorf("PassiveAuthenticate with an empty trust list = %v, %v", res, err)
		}
	}
	// Another country's CSCA does not vouch for the demo passport.
	other, err := testchip.GeneratePKI(testchip.PKIOptions{Seed: "another country", Country: "DE", Organization: "Elsewhere",
		CSCAAlgorithm: testchip.BrainpoolP256r1, NotBefore: g.Now.AddDate(-1, 0, 0), CSCANotAfter: g.Now.AddDate(10, 0, 0),
		DSNotAfter: g.Now.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var de emrtd.TrustList
	if err := de.Add(other.CSCA.Cert); err != nil {
		t.Fatal(err)
	}
	if _, err := emrtd.PassiveAuthenticate(d.SOD(), d.DataGroups(), &de, g.Now); !errors.Is(err, emrtd.ErrUnknownCSCA) {
		t.Errorf("another country's trust list: %v", err)
	}
}

func TestDemoTrustList(t *testing.T) {
	tl, err := emrtd.DemoTrustList()
	if err != nil || tl.Len() != 1 {
		t.Fatalf("DemoTrustList = %v, %v", tl, err)
	}
	g := loadGoldenPassports(t)["brainpool-ds"]
	d, err := emrtd.ParseDump(bytes.NewReader(g.Dump))
	if err != nil {
		t.Fatal(err)
	}
	res, err := emrtd.PassiveAuthenticate(d.SOD(), d.DataGroups(), tl, g.Now)
	if err != nil {
		t.Fatal(err)
	}
	if res.DocumentSigner.PublicKey.Curve() != "brainpoolP256r1" || !res.DocumentSigner.PublicKey.ExplicitParameters() ||
		res.CSCA.PublicKey.Curve() != "brainpoolP384r1" {
		t.Errorf("brainpool chain read as DS %v, CSCA %v", res.DocumentSigner.PublicKey, res.CSCA.PublicKey)
	}
}

func mustSOD(t *testing.T, golden string) *emrtd.SOD {
	t.Helper()
	g := loadGoldenPassports(t)[golden]
	d, err := emrtd.ParseDump(bytes.NewReader(g.Dump))
	if err != nil {
		t.Fatal(err)
	}
	s, err := emrtd.ParseSOD(d.SOD())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseSOD(t *testing.T) {
	s := mustSOD(t, "valid-rsa")
	if s.HashAlgorithm().String() != "SHA-256" || len(s.DataGroups()) != 4 || s.DocumentSigner() == nil ||
		s.SignatureAlgorithm() != "SHA-256-RSA-PKCS1v15" {
		t.Errorf("SOD: %v, %v, %v", s.HashAlgorithm(), s.DataGroups(), s.SignatureAlgorithm())
	}
	if got := mustSOD(t, "rsa-pss-ds").SignatureAlgorithm(); got != "SHA-256-RSA-PSS(salt 32)" {
		t.Errorf("PSS SOD signature algorithm %s", got)
	}
}

func parseGolden(b []byte) (goldenPassport, error) {
	var g goldenPassport
	err := json.Unmarshal(b, &g)
	return g, err
}
