package otp_test

import (
	"bufio"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/otp"
)

// rfc6238Seeds are the seeds of RFC 6238's Appendix A reference code, which made Appendix B's
// values (see the note in testdata/rfc6238-appendix-b.txt).
var rfc6238Seeds = map[string][]byte{
	"SHA1":   []byte("12345678901234567890"),
	"SHA256": []byte("12345678901234567890123456789012"),
	"SHA512": []byte("1234567890123456789012345678901234567890123456789012345678901234"),
}

// TestRFC6238AppendixB checks At, Step and Verify against every row of RFC 6238, Appendix B, for
// all three algorithms, read from testdata/rfc6238-appendix-b.txt.
func TestRFC6238AppendixB(t *testing.T) {
	f, err := os.Open("testdata/rfc6238-appendix-b.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile(`^  \|\s+(\d+)\s+\|\s+([0-9-]+)\s+\|\s+([0-9A-F]{16})\s+\|\s+(\d{8})\s+\|\s+(SHA\d+)\s+\|$`)
	rows := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		rows++
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		wantStep, _ := strconv.ParseInt(m[3], 16, 64)
		alg, err := otp.ParseAlgorithm(m[5])
		if err != nil {
			t.Fatal(err)
		}
		tok := otp.TOTP{Secret: rfc6238Seeds[m[5]], Digits: 8, Period: 30 * time.Second, Algorithm: alg}
		at := time.Unix(sec, 0).UTC()
		if got := at.Format("2006-01-02"); got != m[2] {
			t.Errorf("%d: UTC date %s, want %s", sec, got, m[2])
		}
		if got := tok.Step(at); got != wantStep {
			t.Errorf("%d: step %d, want %d", sec, got, wantStep)
		}
		if got := tok.At(at); got != m[4] {
			t.Errorf("%d %s: At = %s, want %s", sec, m[5], got, m[4])
		}
		if got := otp.Generate(tok.Secret, uint64(wantStep), 8, alg); got != m[4] {
			t.Errorf("%d %s: Generate = %s, want %s", sec, m[5], got, m[4])
		}
		if step, ok := tok.Verify(m[4], at, 0, -1); !ok || step != wantStep {
			t.Errorf("%d %s: Verify = %d, %v; want %d, true", sec, m[5], step, ok, wantStep)
		}
	}
	if rows != 18 {
		t.Fatalf("read %d rows, want 18", rows)
	}
}

// TestVerify walks through what a login engine sees: codes of neighbouring steps, replays, old
// codes after newer ones, and malformed input.
func TestVerify(t *testing.T) {
	tok := otp.TOTP{Secret: []byte("12345678901234567890")}
	now := time.Unix(1_700_000_000, 0) // step 56666666, 20 s into it
	s := tok.Step(now)
	code := func(step int64) string { return otp.Generate(tok.Secret, uint64(step), 6, otp.SHA1) }
	tests := []struct {
		name     string
		code     string
		window   int
		lastUsed int64
		want     int64
		ok       bool
	}{
		{"current step", code(s), 1, -1, s, true},
		{"previous step in window", code(s - 1), 1, -1, s - 1, true},
		{"next step in window", code(s + 1), 1, -1, s + 1, true},
		{"two steps back, window 1", code(s - 2), 1, -1, 0, false},
		{"two steps ahead, window 1", code(s + 2), 1, -1, 0, false},
		{"two steps back, window 2", code(s - 2), 2, -1, s - 2, true},
		{"previous step, window 0", code(s - 1), 0, -1, 0, false},
		{"replay of the current step", code(s), 1, s, 0, false},
		{"older code after a newer one", code(s - 1), 1, s, 0, false},
		{"older code after a future one", code(s), 1, s + 1, 0, false},
		{"newer code after an older one", code(s + 1), 1, s, s + 1, true},
		{"current after previous", code(s), 1, s - 1, s, true},
		{"wrong code", wrongCode(code(s), code(s-1), code(s+1)), 1, -1, 0, false},
		{"too short", code(s)[:5], 1, -1, 0, false},
		{"too long", code(s) + "0", 1, -1, 0, false},
		{"empty", "", 1, -1, 0, false},
		{"spaces", " " + code(s)[1:], 1, -1, 0, false},
		{"letters", "12345a", 1, -1, 0, false},
		{"fullwidth digits", "１２３４５６", 1, -1, 0, false},
		{"sign", "+" + code(s)[1:], 1, -1, 0, false},
		{"negative window", code(s), -1, -1, 0, false},
		{"window over the maximum", code(s), otp.MaxWindow + 1, -1, 0, false},
		{"window at the maximum", code(s - 10), otp.MaxWindow, -1, s - 10, true},
		{"lastUsed at the minimum", code(s), 1, math.MinInt64, s, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := tok.Verify(tt.code, now, tt.window, tt.lastUsed)
			if ok != tt.ok || step != tt.want {
				t.Fatalf("Verify(%q, window %d, lastUsed %d) = %d, %v; want %d, %v", tt.code, tt.window, tt.lastUsed, step, ok, tt.want, tt.ok)
			}
		})
	}
}

func wrongCode(avoid ...string) string {
	for i := 0; ; i++ {
		c := strings.Repeat(strconv.Itoa(i%10), 6)
		if !slices.Contains(avoid, c) {
			return c
		}
	}
}

// TestVerifySingleUse plays a sequence of logins against the stored last used step.
func TestVerifySingleUse(t *testing.T) {
	tok := otp.TOTP{Secret: []byte("12345678901234567890"), Period: 30 * time.Second}
	at := time.Unix(1_111_111_109, 0)
	last := int64(-1)
	c := tok.At(at)
	step, ok := tok.Verify(c, at, 1, last)
	if !ok {
		t.Fatal("first use refused")
	}
	last = step
	if _, ok := tok.Verify(c, at.Add(10*time.Second), 1, last); ok {
		t.Fatal("the same code was accepted twice")
	}
	next := tok.At(at.Add(30 * time.Second))
	if step, ok = tok.Verify(next, at.Add(30*time.Second), 1, last); !ok || step != last+1 {
		t.Fatalf("next step's code = %d, %v", step, ok)
	}
}

func TestTOTPValidate(t *testing.T) {
	secret := []byte("12345678901234567890")
	valid := []otp.TOTP{
		{Secret: secret},
		{Secret: secret, Digits: 8, Period: 60 * time.Second, Algorithm: otp.SHA512},
		{Secret: make([]byte, 16)},
		{Secret: make([]byte, 128), Period: 10 * time.Minute},
	}
	for _, tok := range valid {
		if err := tok.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", tok, err)
		}
	}
	invalid := map[string]otp.TOTP{
		"no secret":          {},
		"short secret":       {Secret: make([]byte, 15)},
		"long secret":        {Secret: make([]byte, 129)},
		"7 digits":           {Secret: secret, Digits: 7},
		"10 digits":          {Secret: secret, Digits: 10},
		"negative period":    {Secret: secret, Period: -time.Second},
		"sub-second period":  {Secret: secret, Period: time.Millisecond},
		"fractional period":  {Secret: secret, Period: 1500 * time.Millisecond},
		"hour period":        {Secret: secret, Period: time.Hour},
		"unknown algorithm":  {Secret: secret, Algorithm: 9},
		"negative algorithm": {Secret: secret, Algorithm: -1},
	}
	for name, tok := range invalid {
		err := tok.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "otp: ") {
			t.Errorf("%s: Validate = %v, want an otp: error", name, err)
		}
		if tok.At(time.Now()) != "" {
			t.Errorf("%s: At made a code", name)
		}
		if _, ok := tok.Verify("123456", time.Now(), 1, -1); ok {
			t.Errorf("%s: Verify accepted a code", name)
		}
	}
}

func TestStepBeforeEpoch(t *testing.T) {
	tok := otp.TOTP{Secret: []byte("12345678901234567890")}
	for sec, want := range map[int64]int64{-1: -1, -30: -1, -31: -2, 0: 0, 29: 0, 30: 1} {
		if got := tok.Step(time.Unix(sec, 0)); got != want {
			t.Errorf("Step(%d) = %d, want %d", sec, got, want)
		}
	}
	if got := tok.At(time.Unix(-100, 0)); got != "" {
		t.Errorf("At(before 1970) = %q", got)
	}
}

// BenchmarkTOTPVerify measures the check of a 6-digit SHA-1 code with a window of ±1 step, as a
// code display login does.
func BenchmarkTOTPVerify(b *testing.B) {
	tok := otp.TOTP{Secret: []byte("12345678901234567890")}
	now := time.Unix(1_700_000_000, 0)
	code := tok.At(now)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := tok.Verify(code, now, 1, -1); !ok {
			b.Fatal("refused")
		}
	}
}
