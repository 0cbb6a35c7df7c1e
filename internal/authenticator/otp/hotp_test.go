package otp_test

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/otp"
)

// TestRFC4226AppendixD checks Generate against both tables of RFC 4226, Appendix D, read from
// testdata/rfc4226-appendix-d.txt.
func TestRFC4226AppendixD(t *testing.T) {
	f, err := os.Open("testdata/rfc4226-appendix-d.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	secret := []byte("12345678901234567890")
	table1 := regexp.MustCompile(`^   (\d)        ([0-9a-f]{40})$`)
	table2 := regexp.MustCompile(`^   (\d) +([0-9a-f]+) +(\d+) +(\d{6})$`)
	var hmacs, hotps int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := table1.FindStringSubmatch(sc.Text()); m != nil {
			count, _ := strconv.ParseUint(m[1], 10, 64)
			mac := hmac.New(sha1.New, secret)
			mac.Write([]byte{0, 0, 0, 0, 0, 0, 0, byte(count)})
			if got := hex.EncodeToString(mac.Sum(nil)); got != m[2] {
				t.Errorf("count %d: HMAC %s, want %s", count, got, m[2])
			}
			hmacs++
		}
		if m := table2.FindStringSubmatch(sc.Text()); m != nil {
			count, _ := strconv.ParseUint(m[1], 10, 64)
			truncated, _ := strconv.ParseUint(m[3], 10, 64)
			if got := otp.Generate(secret, count, 10, otp.SHA1); got != strconv.FormatUint(truncated+1e10, 10)[1:] {
				t.Errorf("count %d: 10 digits %s, want the truncated value %d", count, got, truncated)
			}
			if got := otp.Generate(secret, count, 6, otp.SHA1); got != m[4] {
				t.Errorf("count %d: HOTP %s, want %s", count, got, m[4])
			}
			hotps++
		}
	}
	if hmacs != 10 || hotps != 10 {
		t.Fatalf("read %d HMAC and %d HOTP rows, want 10 of each", hmacs, hotps)
	}
}

func TestGenerateRefusesBadSettings(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, tt := range []struct {
		digits int
		alg    otp.Algorithm
	}{{5, otp.SHA1}, {11, otp.SHA1}, {0, otp.SHA1}, {-6, otp.SHA1}, {6, otp.Algorithm(3)}, {6, otp.Algorithm(-1)}} {
		if got := otp.Generate(secret, 0, tt.digits, tt.alg); got != "" {
			t.Errorf("Generate(digits %d, %v) = %q, want \"\"", tt.digits, tt.alg, got)
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]otp.Algorithm{
		"SHA1": otp.SHA1, "sha1": otp.SHA1, "HMAC-SHA1": otp.SHA1, "SHA-1": otp.SHA1,
		"SHA256": otp.SHA256, "hmac-sha256": otp.SHA256, " SHA-256 ": otp.SHA256,
		"SHA512": otp.SHA512, "HMAC-SHA-512": otp.SHA512,
	} {
		if got, err := otp.ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MD5", "SHA384", "SHA-3", "HMAC"} {
		if _, err := otp.ParseAlgorithm(in); err == nil {
			t.Errorf("ParseAlgorithm(%q) succeeded", in)
		}
	}
	if otp.SHA256.String() != "SHA256" || otp.Algorithm(7).String() != "Algorithm(7)" {
		t.Error("Algorithm.String")
	}
}
