// Command pskcgen writes the generated PSKC golden files of package otp: realistic vendor files
// (TOTP batches encrypted under a pre-shared key or a passphrase) and one file per attack or
// malformation that ParsePSKC must refuse, each with a .want file holding the expected outcome.
// Randomness (secrets, IVs, MAC keys) comes from a fixed ChaCha8 seed, so the output is the same on
// every run: `go generate ./internal/authenticator/otp` and commit what changes.
//
// The .want format, read by the otp tests: comment lines starting with '#'; then "ok" followed by
// one line per token (see tokenLine), or "error <name of the ErrPSKC sentinel>" followed by lines
// that must each appear in the error's text.
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"hash"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The keys of the test KeyProvider; pskc_test.go has the same.
var (
	rfcPSK    = mustHex("12345678901234567890123456789012") // RFC 6030, Figure 6
	vendorPSK = mustHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
)

const (
	rfcPSKName     = "Pre-shared-key"
	vendorPSKName  = "Vendor-batch-2026"
	passphraseName = "Import passphrase"
	passphrase     = "correct horse battery staple"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err) // constant input
	}
	return b
}

func main() {
	dir := flag.String("dir", "testdata/pskc", "output directory")
	flag.Parse()
	for _, c := range cases() {
		for ext, content := range map[string]string{".xml": c.xml, ".want": c.want} {
			if err := os.WriteFile(filepath.Join(*dir, "gen-"+c.name+ext), []byte(content), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "pskcgen:", err)
				os.Exit(1)
			}
		}
	}
}

type testCase struct {
	name, xml, want string
}

// rng is the seeded source of every random byte, read in a fixed order.
// rng makes the cases' keys and secrets: seeded, so the golden files are the
// same every time; [cases] reseeds it, so that they are the same however often
// it runs in one process (go test -count=2).
var rng *rand.ChaCha8

func reseed() {
	rng = rand.NewChaCha8([32]byte{'o', 'p', 'e', 'n', 'm', 'i', 't', 'i', 'd', ' ', 'p', 's', 'k', 'c'})
}

func random(n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	return b
}

// token is what a KeyPackage describes, and what ParsePSKC should return for it.
type token struct {
	serial, manufacturer, model, keyID, issuer string
	algorithm                                  string // Key/@Algorithm URI
	suite                                      string
	digits                                     int
	secret                                     []byte
	counter                                    *int64
	interval, t0, drift                        *int64
	notBefore, notAfter                        string
	policy                                     string // extra Policy children
	encryptInts                                bool   // encrypt Counter, TimeInterval, Time, TimeDrift too
}

// sealer encrypts values the way a vendor's tool does (RFC 6030, Section 6.1): AES-CBC with a
// random IV prepended and PKCS #5 padding, then an HMAC over IV and ciphertext.
type sealer struct {
	key, macKey []byte
	mac         func() hash.Hash
	encURI      string
}

func (s *sealer) encrypt(plain []byte) []byte {
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(append([]byte{}, plain...), strings.Repeat(string(rune(n)), n)...)
	return s.encryptRaw(padded)
}

func (s *sealer) encryptRaw(padded []byte) []byte {
	block, err := aes.NewCipher(s.key)
	if err != nil {
		panic(err) // keys above are AES keys
	}
	iv := random(aes.BlockSize)
	out := append([]byte{}, iv...)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	return append(out, ct...)
}

func (s *sealer) macOf(ct []byte) []byte {
	m := hmac.New(s.mac, s.macKey)
	m.Write(ct)
	return m.Sum(nil)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// encryptedValue returns an EncryptedValue and its ValueMAC for plain.
func (s *sealer) encryptedValue(plain []byte) string {
	ct := s.encrypt(plain)
	return s.encryptedXML(ct, s.macOf(ct))
}

func (s *sealer) encryptedXML(ct, mac []byte) string {
	x := fmt.Sprintf(`<pskc:EncryptedValue>
            <xenc:EncryptionMethod Algorithm="%s"/>
            <xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData>
          </pskc:EncryptedValue>`, s.encURI, b64(ct))
	if mac != nil {
		x += "\n          <pskc:ValueMAC>" + b64(mac) + "</pskc:ValueMAC>"
	}
	return x
}

const header = `<?xml version="1.0" encoding="UTF-8"?>
<pskc:KeyContainer Version="1.0" Id="%s"
  xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc"
  xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
  xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"
  xmlns:xenc11="http://www.w3.org/2009/xmlenc11#"
  xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#">
`

// preSharedKeyXML returns the EncryptionKey and MACMethod of a document under a named key.
func (s *sealer) preSharedKeyXML(name string) string {
	return fmt.Sprintf(`  <pskc:EncryptionKey><ds:KeyName>%s</ds:KeyName></pskc:EncryptionKey>
`, name) + s.macMethodXML()
}

func (s *sealer) macMethodXML() string {
	macURI := "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
	if s.mac().Size() == sha256.Size {
		macURI = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
	}
	return fmt.Sprintf(`  <pskc:MACMethod Algorithm="%s">
    <pskc:MACKey>
      <xenc:EncryptionMethod Algorithm="%s"/>
      <xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData>
    </pskc:MACKey>
  </pskc:MACMethod>
`, macURI, s.encURI, b64(s.encrypt(s.macKey)))
}

func intPtr(n int64) *int64 { return &n }

const (
	uriHOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
	uriTOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
)

// newTOTP returns a typical code display: SHA-1, 6 digits, 30 s, a 20-byte secret.
func newTOTP(serial string) token {
	return token{serial: serial, manufacturer: "iana.OpenMitID Test Tokens", model: "CD-6", keyID: serial,
		issuer: "OpenMitID", algorithm: uriTOTP, suite: "HMAC-SHA1", digits: 6, secret: random(20),
		interval: intPtr(30), t0: intPtr(0)}
}

// keyPackageXML returns a KeyPackage for t, encrypting its values with s if s is not nil.
func keyPackageXML(t token, s *sealer) string {
	var b strings.Builder
	b.WriteString("  <pskc:KeyPackage>\n    <pskc:DeviceInfo>\n")
	if t.manufacturer != "" {
		fmt.Fprintf(&b, "      <pskc:Manufacturer>%s</pskc:Manufacturer>\n", t.manufacturer)
	}
	if t.serial != "" {
		fmt.Fprintf(&b, "      <pskc:SerialNo>%s</pskc:SerialNo>\n", t.serial)
	}
	if t.model != "" {
		fmt.Fprintf(&b, "      <pskc:Model>%s</pskc:Model>\n", t.model)
	}
	fmt.Fprintf(&b, "    </pskc:DeviceInfo>\n    <pskc:Key Id=%q Algorithm=%q>\n", t.keyID, t.algorithm)
	fmt.Fprintf(&b, "      <pskc:Issuer>%s</pskc:Issuer>\n      <pskc:AlgorithmParameters>\n", t.issuer)
	if t.suite != "" {
		fmt.Fprintf(&b, "        <pskc:Suite>%s</pskc:Suite>\n", t.suite)
	}
	fmt.Fprintf(&b, "        <pskc:ResponseFormat Length=\"%d\" Encoding=\"DECIMAL\"/>\n      </pskc:AlgorithmParameters>\n      <pskc:Data>\n", t.digits)
	value := func(name string, plain string, bin []byte, encrypt bool) {
		fmt.Fprintf(&b, "        <pskc:%s>\n          ", name)
		if encrypt {
			b.WriteString(s.encryptedValue(bin))
		} else {
			fmt.Fprintf(&b, "<pskc:PlainValue>%s</pskc:PlainValue>", plain)
		}
		fmt.Fprintf(&b, "\n        </pskc:%s>\n", name)
	}
	value("Secret", b64(t.secret), t.secret, s != nil)
	for _, iv := range []struct {
		name string
		v    *int64
	}{{"Counter", t.counter}, {"Time", t.t0}, {"TimeInterval", t.interval}, {"TimeDrift", t.drift}} {
		if iv.v != nil {
			value(iv.name, fmt.Sprint(*iv.v), []byte(fmt.Sprint(*iv.v)), s != nil && t.encryptInts)
		}
	}
	b.WriteString("      </pskc:Data>\n")
	if t.notBefore != "" || t.notAfter != "" || t.policy != "" {
		b.WriteString("      <pskc:Policy>\n")
		if t.notBefore != "" {
			fmt.Fprintf(&b, "        <pskc:StartDate>%s</pskc:StartDate>\n", t.notBefore)
		}
		if t.notAfter != "" {
			fmt.Fprintf(&b, "        <pskc:ExpiryDate>%s</pskc:ExpiryDate>\n", t.notAfter)
		}
		b.WriteString(t.policy)
		b.WriteString("      </pskc:Policy>\n")
	}
	b.WriteString("    </pskc:Key>\n  </pskc:KeyPackage>\n")
	return b.String()
}

// document returns a whole PSKC document of the packages, under s's keys if s is not nil.
func document(id string, s *sealer, keyName string, packages ...string) string {
	doc := fmt.Sprintf(header, id)
	if s != nil {
		doc += s.preSharedKeyXML(keyName)
	}
	return doc + strings.Join(packages, "") + "</pskc:KeyContainer>\n"
}

// tokenLine is the expected description of a parsed token; pskc_test.go's describe writes the same.
func tokenLine(t token) string {
	kind := "hotp"
	period := time.Duration(0)
	if t.algorithm == uriTOTP {
		kind, period = "totp", 30*time.Second
		if t.interval != nil {
			period = time.Duration(*t.interval) * time.Second
		}
	}
	alg := strings.TrimPrefix(t.suite, "HMAC-")
	if alg == "" {
		alg = "SHA1"
	}
	var counter, drift int64
	if t.counter != nil {
		counter = *t.counter
	}
	if t.drift != nil && kind == "totp" {
		drift = *t.drift
	}
	orDash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return fmt.Sprintf("serial=%q manufacturer=%q model=%q key=%q issuer=%q kind=%s algorithm=%s digits=%d secret=%x counter=%d period=%s drift=%d notbefore=%s notafter=%s",
		t.serial, t.manufacturer, t.model, t.keyID, t.issuer, kind, alg, t.digits, t.secret, counter, period, drift, orDash(t.notBefore), orDash(t.notAfter))
}

func wantOK(comment string, toks ...token) string {
	w := "# " + comment + "\nok\n"
	for _, t := range toks {
		w += tokenLine(t) + "\n"
	}
	return w
}

func wantErr(comment, sentinel string, mentions ...string) string {
	return "# " + comment + "\nerror " + sentinel + "\n" + strings.Join(mentions, "\n") + "\n"
}

// pbkdf2Sealer returns a sealer whose key is derived from passphrase, and the EncryptionKey for it.
func pbkdf2Sealer() (*sealer, string) {
	salt := random(16)
	key, err := pbkdf2.Key(sha256.New, passphrase, salt, 2000, 16)
	if err != nil {
		panic(err) // constant parameters
	}
	s := &sealer{key: key, macKey: random(20), mac: sha1.New, encURI: "http://www.w3.org/2001/04/xmlenc#aes128-cbc"}
	ek := fmt.Sprintf(`  <pskc:EncryptionKey>
    <xenc11:DerivedKey>
      <xenc11:KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
        <pkcs5:PBKDF2-params>
          <Salt><Specified>%s</Specified></Salt>
          <IterationCount>2000</IterationCount>
          <KeyLength>16</KeyLength>
          <PRF Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"/>
        </pkcs5:PBKDF2-params>
      </xenc11:KeyDerivationMethod>
      <xenc11:MasterKeyName>%s</xenc11:MasterKeyName>
    </xenc11:DerivedKey>
  </pskc:EncryptionKey>
`, b64(salt), passphraseName)
	return s, ek
}
