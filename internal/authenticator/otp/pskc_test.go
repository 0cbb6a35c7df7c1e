package otp_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/otp"
)

// testKeys are the keys the golden files are encrypted under (internal/pskcgen has the same).
var testKeys = otp.Keys{
	PreShared: map[string][]byte{
		"Pre-shared-key":    mustHex("12345678901234567890123456789012"), // RFC 6030, Figure 6
		"Vendor-batch-2026": mustHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
	},
	Passphrases: map[string]string{
		"My Password 1":     "qwerty", // RFC 6030, Figure 7
		"Import passphrase": "correct horse battery staple",
	},
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var sentinels = map[string]error{
	"ErrPSKCMalformed":       otp.ErrPSKCMalformed,
	"ErrPSKCTooLarge":        otp.ErrPSKCTooLarge,
	"ErrPSKCUnsupported":     otp.ErrPSKCUnsupported,
	"ErrPSKCNoKey":           otp.ErrPSKCNoKey,
	"ErrPSKCMACMismatch":     otp.ErrPSKCMACMismatch,
	"ErrPSKCMissingSerial":   otp.ErrPSKCMissingSerial,
	"ErrPSKCDuplicateSerial": otp.ErrPSKCDuplicateSerial,
}

// describe writes a token as the .want files do.
func describe(t otp.Token) string {
	date := func(d time.Time) string {
		if d.IsZero() {
			return "-"
		}
		return d.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("serial=%q manufacturer=%q model=%q key=%q issuer=%q kind=%s algorithm=%s digits=%d secret=%x counter=%d period=%s drift=%d notbefore=%s notafter=%s",
		t.Serial, t.Manufacturer, t.Model, t.KeyID, t.Issuer, t.Kind, t.Algorithm, t.Digits, t.Secret, t.Counter, t.Period, t.TimeDrift, date(t.NotBefore), date(t.NotAfter))
}

// TestPSKCGolden parses every document in testdata/pskc and compares the outcome with its .want
// file: the RFC 6030 figures, vendor-like files and one file per attack (see the README there).
func TestPSKCGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/pskc/*.xml")
	if err != nil || len(files) < 40 {
		t.Fatalf("found %d golden files, %v", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".xml")
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			wantFile, err := os.ReadFile(strings.TrimSuffix(file, ".xml") + ".want")
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(strings.TrimSpace(string(wantFile)), "\n") {
				if !strings.HasPrefix(line, "#") {
					want = append(want, line)
				}
			}
			tokens, err := otp.ParsePSKC(bytes.NewReader(doc), testKeys)
			if want[0] == "ok" {
				if err != nil {
					t.Fatalf("ParsePSKC: %v", err)
				}
				var got []string
				for _, tok := range tokens {
					got = append(got, describe(tok))
				}
				if !slices.Equal(got, want[1:]) {
					t.Fatalf("tokens:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want[1:], "\n"))
				}
				return
			}
			sentinel, ok := sentinels[strings.TrimPrefix(want[0], "error ")]
			if !ok {
				t.Fatalf("bad .want first line %q", want[0])
			}
			if err == nil || tokens != nil {
				t.Fatalf("ParsePSKC = %d tokens, %v; want no tokens and %v", len(tokens), err, sentinel)
			}
			if !errors.Is(err, sentinel) {
				t.Fatalf("error %q is not %v", err, sentinel)
			}
			for _, mention := range want[1:] {
				if !strings.Contains(err.Error(), mention) {
					t.Errorf("error %q does not mention %q", err, mention)
				}
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "otp: ") {
					t.Errorf("error line %q lacks the package prefix", line)
				}
			}
		})
	}
}

// TestPSKCKeyPackageError checks the structure behind the messages: the CLI can point at the
// KeyPackage.
func TestPSKCKeyPackageError(t *testing.T) {
	doc, _ := os.ReadFile("testdata/pskc/rfc6030-figure10.xml")
	_, err := otp.ParsePSKC(bytes.NewReader(doc), nil)
	pe, ok := errors.AsType[*otp.PSKCError](err)
	if !ok || pe.KeyPackage != 4 || pe.Serial != "9999999" || !errors.Is(pe, otp.ErrPSKCDuplicateSerial) {
		t.Fatalf("error %#v", err)
	}
}

func TestPSKCKeys(t *testing.T) {
	fig6, _ := os.ReadFile("testdata/pskc/rfc6030-figure6.xml")
	fig7, _ := os.ReadFile("testdata/pskc/rfc6030-figure7.xml")
	fig3, _ := os.ReadFile("testdata/pskc/rfc6030-figure3.xml")
	tests := []struct {
		name string
		doc  []byte
		keys otp.KeyProvider
		want error
	}{
		{"plain file, no provider", fig3, nil, nil},
		{"encrypted file, no provider", fig6, nil, otp.ErrPSKCNoKey},
		{"no such key", fig6, otp.Keys{}, otp.ErrPSKCNoKey},
		{"the one key, unnamed", fig6, otp.Keys{PreShared: map[string][]byte{"": mustHex("12345678901234567890123456789012")}}, nil},
		{"a key of the wrong size", fig6, otp.Keys{PreShared: map[string][]byte{"": make([]byte, 20)}}, otp.ErrPSKCNoKey},
		{"the wrong key", fig6, otp.Keys{PreShared: map[string][]byte{"": make([]byte, 16)}}, otp.ErrPSKCMalformed},
		{"the one passphrase, unnamed", fig7, otp.Keys{Passphrases: map[string]string{"": "qwerty"}}, nil},
		{"the wrong passphrase", fig7, otp.Keys{Passphrases: map[string]string{"": "Qwerty"}}, otp.ErrPSKCMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, err := otp.ParsePSKC(bytes.NewReader(tt.doc), tt.keys)
			if tt.want == nil {
				if err != nil || len(tokens) != 1 || string(tokens[0].Secret) != "12345678901234567890" {
					t.Fatalf("ParsePSKC = %v, %v", tokens, err)
				}
				return
			}
			// A wrong key garbles the MAC key, which shows as bad padding or, rarely, a MAC mismatch.
			if tokens != nil || !(errors.Is(err, tt.want) || errors.Is(err, otp.ErrPSKCMACMismatch)) {
				t.Fatalf("ParsePSKC = %v, %v; want %v", tokens, err, tt.want)
			}
		})
	}
}

func TestPSKCLimits(t *testing.T) {
	const open = `<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">`
	huge := io.MultiReader(strings.NewReader(open+"<!--"), io.LimitReader(neverEnding('x'), otp.MaxPSKCSize))
	if tokens, err := otp.ParsePSKC(huge, nil); !errors.Is(err, otp.ErrPSKCTooLarge) || tokens != nil {
		t.Errorf("over MaxPSKCSize: %v", err)
	}
	// An endless stream is cut off at the limit, not read to the end.
	if _, err := otp.ParsePSKC(neverEnding(' '), nil); !errors.Is(err, otp.ErrPSKCTooLarge) {
		t.Errorf("endless input: %v", err)
	}
	many := open + strings.Repeat("<KeyPackage/>", otp.MaxPSKCKeys+1) + "</KeyContainer>"
	if tokens, err := otp.ParsePSKC(strings.NewReader(many), nil); !errors.Is(err, otp.ErrPSKCTooLarge) || tokens != nil {
		t.Errorf("over MaxPSKCKeys: %v", err)
	}
	if _, err := otp.ParsePSKC(iotestErrReader{}, nil); err == nil || !strings.Contains(err.Error(), "reading") {
		t.Errorf("failing reader: %v", err)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestPSKCTokenTOTP checks that imported code displays make the codes a TOTP app would.
func TestPSKCTokenTOTP(t *testing.T) {
	doc, _ := os.ReadFile("testdata/pskc/gen-totp-aes256-sha256-8digits.xml")
	tokens, err := otp.ParsePSKC(bytes.NewReader(doc), testKeys)
	if err != nil {
		t.Fatal(err)
	}
	tot, err := tokens[0].TOTP()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	if want := otp.Generate(tokens[0].Secret, uint64(now.Unix()/60), 8, otp.SHA256); tot.At(now) != want {
		t.Fatalf("At = %s, want %s", tot.At(now), want)
	}
	fig3, _ := os.ReadFile("testdata/pskc/rfc6030-figure3.xml")
	hotp, err := otp.ParsePSKC(bytes.NewReader(fig3), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hotp[0].TOTP(); err == nil {
		t.Fatal("an HOTP token converted to TOTP")
	}
}

// FuzzParsePSKC checks that no document makes ParsePSKC panic or return tokens that break its
// promises. Seeded with every golden file.
func FuzzParsePSKC(f *testing.F) {
	files, _ := filepath.Glob("testdata/pskc/*.xml")
	for _, file := range files {
		doc, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		tokens, err := otp.ParsePSKC(bytes.NewReader(doc), testKeys)
		if err != nil {
			if tokens != nil {
				t.Fatalf("tokens with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "otp: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if len(tokens) == 0 {
			t.Fatal("no tokens and no error")
		}
		serials := map[string]bool{}
		for _, tok := range tokens {
			if tok.Serial == "" || serials[tok.Serial] {
				t.Fatalf("serial %q empty or duplicated", tok.Serial)
			}
			serials[tok.Serial] = true
			if tok.Digits != 6 && tok.Digits != 8 || len(tok.Secret) < 16 || len(tok.Secret) > 128 {
				t.Fatalf("token %+v out of bounds", tok)
			}
			switch tok.Kind {
			case otp.KindTOTP:
				if _, err := tok.TOTP(); err != nil {
					t.Fatalf("TOTP token that TOTP refuses: %v", err)
				}
			case otp.KindHOTP:
				if otp.Generate(tok.Secret, tok.Counter, tok.Digits, tok.Algorithm) == "" {
					t.Fatal("HOTP token that makes no codes")
				}
			default:
				t.Fatalf("kind %q", tok.Kind)
			}
		}
	})
}
