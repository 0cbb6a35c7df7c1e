package password_test

import (
	"bufio"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/password"
)

// cheap are parameters that cost next to nothing, for tests whose subject is not the cost.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type referenceVector struct {
	params         password.Params
	pw, salt, tag  string
	encoded, lineN string
}

// readReferenceVectors reads testdata/argon2id-known-answers.txt (argon2id known answers made with
// Debian's argon2 command; see the file's header for how).
func readReferenceVectors(t *testing.T) []referenceVector {
	t.Helper()
	f, err := os.Open("testdata/argon2id-known-answers.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []referenceVector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 7 {
			t.Fatalf("line %d: %d fields, want 7", n, len(fs))
		}
		num := func(s string) uint64 {
			v, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			return v
		}
		tag, err := hex.DecodeString(fs[5])
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		vs = append(vs, referenceVector{
			params: password.Params{Time: uint32(num(fs[0])), Memory: uint32(num(fs[1])), Threads: uint8(num(fs[2])),
				SaltLen: uint32(len(fs[4])), KeyLen: uint32(len(tag))},
			pw: fs[3], salt: fs[4], tag: string(tag), encoded: fs[6], lineN: strconv.Itoa(n),
		})
	}
	if len(vs) != 8 {
		t.Fatalf("read %d vectors, want 8", len(vs))
	}
	return vs
}

// TestReferenceVectors checks the PHC codec and argon2id against known answers of another implementation:
// each string decodes to the vector's parameters, salt and tag, encodes back to itself, and
// verifies with its password and not with another.
func TestReferenceVectors(t *testing.T) {
	h, err := password.NewHasher(cheap, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range readReferenceVectors(t) {
		t.Run("line"+v.lineN, func(t *testing.T) {
			p, salt, tag, err := password.DecodePHC(v.encoded)
			if err != nil {
				t.Fatal(err)
			}
			if p != v.params || string(salt) != v.salt || string(tag) != v.tag {
				t.Fatalf("decoded %v salt %q tag %x, want %v salt %q tag %x", p, salt, tag, v.params, v.salt, v.tag)
			}
			if got := password.EncodePHC(p, salt, tag); got != v.encoded {
				t.Fatalf("re-encoded as %s", got)
			}
			if v.params.Memory > 65536 && testing.Short() {
				t.Skip("256 MiB vector skipped in -short mode")
			}
			ok, needsRehash, err := h.Verify(v.pw, v.encoded)
			if err != nil || !ok || !needsRehash {
				t.Fatalf("Verify(%q) = %v, %v, %v; want true, true (params differ from the hasher's), nil", v.pw, ok, needsRehash, err)
			}
			if v.params.Memory > 1024 {
				return // the mismatch path is the same at every cost
			}
			if ok, _, err := h.Verify(v.pw+"!", v.encoded); ok || err != nil {
				t.Fatalf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

// TestDecodeRefuses checks that every way a stored string can be wrong gives an error of the
// right kind naming the problem, and no parameters.
func TestDecodeRefuses(t *testing.T) {
	const salt, tag = "c29tZXNhbHQ", "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	phc := func(variant, version, params string) string {
		return "$" + variant + "$" + version + "$" + params + "$" + salt + "$" + tag
	}
	tests := []struct {
		name, encoded string
		want          error
		mention       string
	}{
		{"empty", "", password.ErrMalformedHash, "fields"},
		{"no leading dollar", "argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + tag, password.ErrMalformedHash, "'$'"},
		{"argon2i", phc("argon2i", "v=19", "m=65536,t=2,p=1"), password.ErrUnsupportedHash, `variant "argon2i"`},
		{"argon2d", phc("argon2d", "v=19", "m=65536,t=2,p=1"), password.ErrUnsupportedHash, `variant "argon2d"`},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", password.ErrUnsupportedHash, `algorithm "2b"`},
		{"version 16 explicit", phc("argon2id", "v=16", "m=65536,t=2,p=1"), password.ErrUnsupportedHash, "version 16"},
		{"version 16 implied", "$argon2id$m=65536,t=2,p=1$" + salt + "$" + tag, password.ErrUnsupportedHash, "version 16"},
		{"version not v=", phc("argon2id", "x=19", "m=65536,t=2,p=1"), password.ErrMalformedHash, "v="},
		{"version empty", phc("argon2id", "v=", "m=65536,t=2,p=1"), password.ErrMalformedHash, "no value"},
		{"missing hash", "$argon2id$v=19$m=65536,t=2,p=1$" + salt, password.ErrMalformedHash, "fields"},
		{"missing salt and hash", "$argon2id$v=19$m=65536,t=2,p=1", password.ErrMalformedHash, "fields"},
		{"extra field", phc("argon2id", "v=19", "m=65536,t=2,p=1") + "$x", password.ErrMalformedHash, "fields"},
		{"empty salt", "$argon2id$v=19$m=65536,t=2,p=1$$" + tag, password.ErrMalformedHash, "empty salt"},
		{"empty hash", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$", password.ErrMalformedHash, "empty hash"},
		{"params out of order", phc("argon2id", "v=19", "t=2,m=65536,p=1"), password.ErrMalformedHash, "want m="},
		{"params missing p", phc("argon2id", "v=19", "m=65536,t=2"), password.ErrMalformedHash, "exactly"},
		{"params extra keyid", phc("argon2id", "v=19", "m=65536,t=2,p=1,keyid=abc"), password.ErrMalformedHash, "exactly"},
		{"params no equals", phc("argon2id", "v=19", "m65536,t=2,p=1"), password.ErrMalformedHash, "want m="},
		{"params negative", phc("argon2id", "v=19", "m=-1,t=2,p=1"), password.ErrMalformedHash, "not a decimal"},
		{"params leading zero", phc("argon2id", "v=19", "m=065536,t=2,p=1"), password.ErrMalformedHash, "leading zero"},
		{"params hex", phc("argon2id", "v=19", "m=0x100,t=2,p=1"), password.ErrMalformedHash, "not a decimal"},
		{"params overflow", phc("argon2id", "v=19", "m=99999999999,t=2,p=1"), password.ErrUnsupportedHash, "32 bits"},
		{"memory 2 GiB", phc("argon2id", "v=19", "m=2097152,t=2,p=1"), password.ErrUnsupportedHash, "m=2097152"},
		{"memory below 8p", phc("argon2id", "v=19", "m=8,t=2,p=4"), password.ErrUnsupportedHash, "m=8"},
		{"time 0", phc("argon2id", "v=19", "m=65536,t=0,p=1"), password.ErrUnsupportedHash, "t=0"},
		{"time 1000", phc("argon2id", "v=19", "m=65536,t=1000,p=1"), password.ErrUnsupportedHash, "t=1000"},
		{"threads 0", phc("argon2id", "v=19", "m=65536,t=2,p=0"), password.ErrUnsupportedHash, "p=0"},
		{"threads 65", phc("argon2id", "v=19", "m=65536,t=2,p=65"), password.ErrUnsupportedHash, "p=65"},
		{"threads 300", phc("argon2id", "v=19", "m=65536,t=2,p=300"), password.ErrUnsupportedHash, "p=300"},
		{"salt too short", "$argon2id$v=19$m=65536,t=2,p=1$c29tZQ$" + tag, password.ErrUnsupportedHash, "salt of 4 bytes"},
		{"hash too short", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$CTFhFdXPJO1a", password.ErrUnsupportedHash, "hash of 9 bytes"},
		{"salt padded", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$" + tag, password.ErrMalformedHash, "base64"},
		{"hash url alphabet", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc_", password.ErrMalformedHash, "base64"},
		{"hash bad character", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRP*c", password.ErrMalformedHash, "base64"},
		{"hash non-zero trailing bits", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPd", password.ErrMalformedHash, "base64"},
		{"overlong", phc("argon2id", "v=19", "m=65536,t=2,p=1") + strings.Repeat("A", 600), password.ErrMalformedHash, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := password.Decode(tt.encoded)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode(%q) error = %v, want %v", tt.encoded, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if !strings.HasPrefix(err.Error(), "password: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if p != (password.Params{}) {
				t.Errorf("Decode returned params %v with an error", p)
			}
		})
	}
}

// FuzzDecode checks that the PHC parser never panics, that what it accepts is within bounds, and
// that an accepted string is canonical: it encodes back to exactly itself.
func FuzzDecode(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA")
	f.Add("$argon2id$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := password.DecodePHC(s)
		if err != nil {
			if !errors.Is(err, password.ErrMalformedHash) && !errors.Is(err, password.ErrUnsupportedHash) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			if p != (password.Params{}) || salt != nil || key != nil {
				t.Fatalf("values returned with error %v", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted %q with invalid params: %v", s, err)
		}
		if got := password.EncodePHC(p, salt, key); got != s {
			t.Fatalf("accepted %q, which encodes back as %q", s, got)
		}
	})
}
