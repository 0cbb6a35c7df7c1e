package otp_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/otp"
)

func TestSecretBase32(t *testing.T) {
	// RFC 4648, Section 10 test vectors, without padding.
	for plain, enc := range map[string]string{
		"f": "MY", "fo": "MZXQ", "foo": "MZXW6", "foob": "MZXW6YQ", "fooba": "MZXW6YTB", "foobar": "MZXW6YTBOI",
		"12345678901234567890": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
	} {
		if got := otp.EncodeSecret([]byte(plain)); got != enc {
			t.Errorf("EncodeSecret(%q) = %q, want %q", plain, got, enc)
		}
		for _, in := range []string{enc, strings.ToLower(enc), spaced(enc), enc + strings.Repeat("=", (8-len(enc)%8)%8)} {
			got, err := otp.DecodeSecret(in)
			if err != nil || string(got) != plain {
				t.Errorf("DecodeSecret(%q) = %q, %v; want %q", in, got, err, plain)
			}
		}
	}
	for _, bad := range []string{"", "   ", "====", "MZXW6YT1", "MZXW6YT8", "MZXW-6YTB", "MZXW6YTB\n", "M", "MZX", "MZXW6Y", "ÆØÅÆØÅÆØ"} {
		if got, err := otp.DecodeSecret(bad); err == nil || got != nil || !strings.HasPrefix(err.Error(), "otp: ") {
			t.Errorf("DecodeSecret(%q) = %q, %v; want an otp: error", bad, got, err)
		}
	}
}

// spaced groups s in fours, as secrets are printed for people to type.
func spaced(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func TestNewSecret(t *testing.T) {
	s, err := otp.NewSecret(nil)
	if err != nil || len(s) != otp.SecretLen {
		t.Fatalf("NewSecret = %x, %v", s, err)
	}
	fixed, err := otp.NewSecret(bytes.NewReader(bytes.Repeat([]byte{7}, 20)))
	if err != nil || !bytes.Equal(fixed, bytes.Repeat([]byte{7}, 20)) {
		t.Fatalf("NewSecret(fixed) = %x, %v", fixed, err)
	}
	if _, err := otp.NewSecret(bytes.NewReader(make([]byte, 19))); err == nil {
		t.Fatal("NewSecret with a short reader succeeded")
	}
}

func TestURI(t *testing.T) {
	tok := otp.TOTP{Secret: []byte("12345678901234567890")}
	got, err := tok.URI("OpenMitID", "jensen 77@example")
	if err != nil {
		t.Fatal(err)
	}
	want := "otpauth://totp/OpenMitID:jensen%2077@example?algorithm=SHA1&digits=6&issuer=OpenMitID&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	if got != want {
		t.Fatalf("URI = %s\nwant  %s", got, want)
	}
	u, err := url.Parse(got)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/OpenMitID:jensen 77@example" {
		t.Fatalf("URI does not parse back: %+v, %v", u, err)
	}
	tok8 := otp.TOTP{Secret: []byte("12345678901234567890123456789012"), Digits: 8, Period: time.Minute, Algorithm: otp.SHA256}
	got, err = tok8.URI("", "x")
	if err != nil || got != "otpauth://totp/x?algorithm=SHA256&digits=8&period=60&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA" {
		t.Fatalf("URI = %s, %v", got, err)
	}
	for _, label := range [][2]string{{"Open:MitID", "x"}, {"OpenMitID", "a:b"}, {"OpenMitID", ""}} {
		if _, err := tok.URI(label[0], label[1]); err == nil {
			t.Errorf("URI(%q, %q) succeeded", label[0], label[1])
		}
	}
	if _, err := (otp.TOTP{}).URI("OpenMitID", "x"); err == nil {
		t.Error("URI of an invalid TOTP succeeded")
	}
}
