package softkey_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
)

// The responses are checked with go-webauthn's protocol package, an implementation written
// independently of the key's, so that the key does not only agree with itself.

const origin = "https://mitid.test"

var b64 = base64.RawURLEncoding

func seeded(n uint64) *rand.ChaCha8 {
	var seed [32]byte
	seed[0] = byte(n)
	return rand.NewChaCha8(seed)
}

var challenge = []byte("0123456789abcdef0123456789abcdef")

func creationOptions(uv string, exclude ...[]byte) []byte {
	ex := make([]map[string]string, len(exclude))
	for i, id := range exclude {
		ex[i] = map[string]string{"type": "public-key", "id": b64.EncodeToString(id)}
	}
	b, _ := json.Marshal(map[string]any{"publicKey": map[string]any{
		"rp":                     map[string]string{"id": "mitid.test", "name": "MitID"},
		"user":                   map[string]string{"id": "bxwajg1SSo-aZD8rjw96EQ", "name": "anna", "displayName": "Anna"},
		"challenge":              b64.EncodeToString(challenge),
		"pubKeyCredParams":       []map[string]any{{"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}},
		"excludeCredentials":     ex,
		"authenticatorSelection": map[string]string{"userVerification": uv},
	}})
	return b
}

func requestOptions(uv string, allow ...[]byte) []byte {
	al := make([]map[string]string, len(allow))
	for i, id := range allow {
		al[i] = map[string]string{"type": "public-key", "id": b64.EncodeToString(id)}
	}
	b, _ := json.Marshal(map[string]any{"publicKey": map[string]any{
		"challenge":        b64.EncodeToString(challenge),
		"rpId":             "mitid.test",
		"allowCredentials": al,
		"userVerification": uv,
	}})
	return b
}

// register registers k and returns the COSE public key go-webauthn found in the response.
func register(t *testing.T, k *softkey.Key, uv string) (*protocol.ParsedCredentialCreationData, []byte) {
	t.Helper()
	resp, err := k.Register(creationOptions(uv), origin)
	if err != nil {
		t.Fatal(err)
	}
	p, err := protocol.ParseCredentialCreationResponseBytes(resp)
	if err != nil {
		t.Fatalf("go-webauthn cannot parse the registration %s: %v", resp, err)
	}
	params := []protocol.CredentialParameter{{Type: protocol.PublicKeyCredentialType, Algorithm: -7}}
	if _, err := p.Verify(b64.EncodeToString(challenge), "mitid.test", []string{origin}, nil, nil,
		protocol.TopOriginExplicitVerificationMode, false, uv == "required", true, nil, params,
		protocol.AttestationPolicy{}, protocol.SignaturePolicy{}); err != nil {
		t.Fatalf("go-webauthn refuses the registration: %v", err)
	}
	return p, p.Response.AttestationObject.AuthData.AttData.CredentialPublicKey
}

// assert makes an assertion with k and verifies it with go-webauthn under publicKey.
func assert(t *testing.T, k *softkey.Key, publicKey []byte, uv string) *protocol.ParsedCredentialAssertionData {
	t.Helper()
	resp, err := k.Assert(requestOptions(uv, k.CredentialID()), origin)
	if err != nil {
		t.Fatal(err)
	}
	p, err := protocol.ParseCredentialRequestResponseBytes(resp)
	if err != nil {
		t.Fatalf("go-webauthn cannot parse the assertion %s: %v", resp, err)
	}
	if err := p.Verify(b64.EncodeToString(challenge), "mitid.test", "", []string{origin}, nil, nil,
		protocol.TopOriginExplicitVerificationMode, false, uv == "required", true, publicKey, protocol.SignaturePolicy{}); err != nil {
		t.Fatalf("go-webauthn refuses the assertion: %v", err)
	}
	return p
}

func TestRegisterAndAssert(t *testing.T) {
	k := softkey.New(seeded(1))
	p, pk := register(t, k, "discouraged")
	ad := p.Response.AttestationObject.AuthData
	if p.Response.AttestationObject.Format != "none" || !bytes.Equal(ad.AttData.CredentialID, k.CredentialID()) ||
		!bytes.Equal(ad.AttData.AAGUID, make([]byte, 16)) || ad.Counter != 0 {
		t.Errorf("registration: format %q, credential ID %x, AAGUID %x, counter %d",
			p.Response.AttestationObject.Format, ad.AttData.CredentialID, ad.AttData.AAGUID, ad.Counter)
	}
	if ad.Flags != protocol.FlagUserPresent|protocol.FlagAttestedCredentialData {
		t.Errorf("registration flags %08b, want UP and AT", ad.Flags)
	}
	if want := sha256.Sum256([]byte("mitid.test")); !bytes.Equal(ad.RPIDHash, want[:]) {
		t.Errorf("rpIdHash %x", ad.RPIDHash)
	}
	if c := p.Response.CollectedClientData; c.Type != "webauthn.create" || c.Origin != origin || c.CrossOrigin {
		t.Errorf("client data %+v", c)
	}
	if len(p.Response.Transports) != 1 || p.Response.Transports[0] != protocol.USB {
		t.Errorf("transports %v", p.Response.Transports)
	}
	for want := uint32(1); want <= 3; want++ {
		a := assert(t, k, pk, "discouraged")
		if a.Response.AuthenticatorData.Counter != want || k.SignCount() != want {
			t.Errorf("assertion %d: counter %d, SignCount %d", want, a.Response.AuthenticatorData.Counter, k.SignCount())
		}
		if a.Response.AuthenticatorData.Flags != protocol.FlagUserPresent {
			t.Errorf("assertion flags %08b, want UP only", a.Response.AuthenticatorData.Flags)
		}
		if a.Response.CollectedClientData.Type != "webauthn.get" || len(a.Response.UserHandle) != 0 {
			t.Errorf("assertion client data %+v, user handle %x", a.Response.CollectedClientData, a.Response.UserHandle)
		}
	}
}

// TestUserVerification checks that UV is set when the options do not discourage it.
func TestUserVerification(t *testing.T) {
	for _, uv := range []string{"required", "preferred", ""} {
		k := softkey.New(seeded(2))
		p, pk := register(t, k, uv)
		if !p.Response.AttestationObject.AuthData.Flags.HasUserVerified() {
			t.Errorf("registration with userVerification %q: no UV", uv)
		}
		if a := assert(t, k, pk, uv); !a.Response.AuthenticatorData.Flags.HasUserVerified() {
			t.Errorf("assertion with userVerification %q: no UV", uv)
		}
	}
}

func TestSettings(t *testing.T) {
	k := softkey.New(seeded(3))
	k.SetBackup(true, true)
	p, _ := register(t, k, "discouraged")
	if f := p.Response.AttestationObject.AuthData.Flags; !f.HasBackupEligible() || !f.HasBackupState() {
		t.Errorf("flags %08b, want BE and BS", f)
	}
	k.SetUserPresence(false)
	resp, err := k.Assert(requestOptions("discouraged", k.CredentialID()), origin)
	if err != nil {
		t.Fatal(err)
	}
	a, err := protocol.ParseCredentialRequestResponseBytes(resp)
	if err != nil {
		t.Fatal(err)
	}
	if a.Response.AuthenticatorData.Flags.HasUserPresent() {
		t.Errorf("UP set after SetUserPresence(false)")
	}
}

func TestRefusals(t *testing.T) {
	k := softkey.New(seeded(4))
	other := softkey.New(seeded(5))
	if _, err := k.Register(creationOptions("discouraged", other.CredentialID(), k.CredentialID()), origin); !errors.Is(err, softkey.ErrExcluded) {
		t.Errorf("Register with the key excluded: %v, want ErrExcluded", err)
	}
	if _, err := k.Register(creationOptions("discouraged", other.CredentialID()), origin); err != nil {
		t.Errorf("Register with another key excluded: %v", err)
	}
	noES256 := bytes.Replace(creationOptions("discouraged"), []byte(`"alg":-7`), []byte(`"alg":-257`), 1)
	if _, err := k.Register(noES256, origin); !errors.Is(err, softkey.ErrUnsupported) {
		t.Errorf("Register without ES256: %v, want ErrUnsupported", err)
	}
	if _, err := k.Assert(requestOptions("discouraged", other.CredentialID()), origin); !errors.Is(err, softkey.ErrNotAllowed) {
		t.Errorf("Assert for another key: %v, want ErrNotAllowed", err)
	}
	if _, err := k.Assert(requestOptions("discouraged"), origin); !errors.Is(err, softkey.ErrNotAllowed) {
		t.Errorf("Assert with no allowCredentials: %v, want ErrNotAllowed", err)
	}
	if k.SignCount() != 0 {
		t.Errorf("refused assertions moved the counter to %d", k.SignCount())
	}
	for _, bad := range []string{``, `[]`, `{"publicKey":{"challenge":"*"}}`, `{"publicKey":{"challenge":""}}`, `{"publicKey":7}`} {
		if _, err := k.Register([]byte(bad), origin); err == nil {
			t.Errorf("Register(%q) succeeded", bad)
		}
		if _, err := k.Assert([]byte(bad), origin); err == nil {
			t.Errorf("Assert(%q) succeeded", bad)
		}
	}
}

// TestBareOptionsAndDefaultRPID passes the options dictionary without its "publicKey" wrapper
// and without an RP ID, which then is the origin's host.
func TestBareOptionsAndDefaultRPID(t *testing.T) {
	k := softkey.New(seeded(6))
	var wrapped map[string]map[string]any
	if err := json.Unmarshal(requestOptions("discouraged", k.CredentialID()), &wrapped); err != nil {
		t.Fatal(err)
	}
	bare := wrapped["publicKey"]
	delete(bare, "rpId")
	b, _ := json.Marshal(bare)
	resp, err := k.Assert(b, "https://login.mitid.test:8443")
	if err != nil {
		t.Fatal(err)
	}
	a, err := protocol.ParseCredentialRequestResponseBytes(resp)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256([]byte("login.mitid.test")); !bytes.Equal(a.Response.AuthenticatorData.RPIDHash, want[:]) {
		t.Errorf("rpIdHash %x, want that of the origin's host", a.Response.AuthenticatorData.RPIDHash)
	}
}

// TestDeterministic checks that a seed makes the same key, and a key and challenge the same
// response, so tests built on softkey are reproducible.
func TestDeterministic(t *testing.T) {
	a, b := softkey.New(seeded(7)), softkey.New(seeded(7))
	ja, _ := a.Marshal()
	jb, _ := b.Marshal()
	if !bytes.Equal(ja, jb) {
		t.Fatalf("same seed, different keys:\n%s\n%s", ja, jb)
	}
	ra, _ := a.Assert(requestOptions("discouraged", a.CredentialID()), origin)
	rb, _ := b.Assert(requestOptions("discouraged", b.CredentialID()), origin)
	if !bytes.Equal(ra, rb) {
		t.Fatalf("same key and challenge, different assertions")
	}
	if c := softkey.New(seeded(8)); bytes.Equal(c.CredentialID(), a.CredentialID()) {
		t.Fatal("different seeds, same credential ID")
	}
}

func TestMarshal(t *testing.T) {
	k := softkey.New(seeded(9))
	_, pk := register(t, k, "discouraged")
	assert(t, k, pk, "discouraged")
	assert(t, k, pk, "discouraged")
	j, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(j, &fields); err != nil {
		t.Fatal(err)
	}
	if len(fields) != 3 || fields["sign_count"] != 2.0 || fields["credential_id"] != b64.EncodeToString(k.CredentialID()) {
		t.Errorf("Marshal = %s", j)
	}
	if sk, _ := b64.DecodeString(fmt.Sprint(fields["private_key"])); len(sk) != 32 {
		t.Errorf("private_key of %d bytes, want 32", len(sk))
	}
	// Another process goes on where this one stopped.
	k2, err := softkey.Unmarshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if a := assert(t, k2, pk, "discouraged"); a.Response.AuthenticatorData.Counter != 3 {
		t.Errorf("counter after Unmarshal %d, want 3", a.Response.AuthenticatorData.Counter)
	}

	good := string(j)
	sk := fmt.Sprint(fields["private_key"])
	n := "_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE" // the order of P-256
	for _, bad := range []string{
		``, `{}`, `[]`, good + `{}`,
		strings.Replace(good, `"sign_count"`, `"counter"`, 1),
		strings.Replace(good, `{`, `{"extra":1,`, 1),
		strings.Replace(good, sk, "", 1),
		strings.Replace(good, sk, sk[:20], 1),
		strings.Replace(good, sk, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1),
		strings.Replace(good, sk, n, 1),
		strings.Replace(good, sk, "!"+sk[1:], 1),
		strings.Replace(good, b64.EncodeToString(k.CredentialID()), "", 1),
		strings.Replace(good, `"sign_count":2`, `"sign_count":-2`, 1),
	} {
		if k, err := softkey.Unmarshal([]byte(bad)); err == nil || k != nil {
			t.Errorf("Unmarshal(%s) = %v, %v; want an error", bad, k, err)
		}
	}
}

// TestClone plays a copied chip: the clone starts from the counter as it was and then counts on
// its own, so the second of the two to sign repeats a value.
func TestClone(t *testing.T) {
	k := softkey.New(seeded(10))
	_, pk := register(t, k, "discouraged")
	assert(t, k, pk, "discouraged")
	c := k.Clone()
	if c.SignCount() != 1 || !bytes.Equal(c.CredentialID(), k.CredentialID()) {
		t.Fatalf("clone: counter %d, credential ID %x", c.SignCount(), c.CredentialID())
	}
	a1 := assert(t, k, pk, "discouraged")
	a2 := assert(t, c, pk, "discouraged")
	if a1.Response.AuthenticatorData.Counter != 2 || a2.Response.AuthenticatorData.Counter != 2 {
		t.Errorf("counters %d and %d, want 2 and 2", a1.Response.AuthenticatorData.Counter, a2.Response.AuthenticatorData.Counter)
	}
}

// TestConcurrentAssertions checks that parallel assertions each take their own counter value.
func TestConcurrentAssertions(t *testing.T) {
	k := softkey.New(seeded(11))
	const n = 50
	counts := make(chan uint32, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := k.Assert(requestOptions("discouraged", k.CredentialID()), origin)
			if err != nil {
				t.Error(err)
				return
			}
			a, err := protocol.ParseCredentialRequestResponseBytes(resp)
			if err != nil {
				t.Error(err)
				return
			}
			counts <- a.Response.AuthenticatorData.Counter
		})
	}
	wg.Wait()
	close(counts)
	seen := map[uint32]bool{}
	for c := range counts {
		if seen[c] || c < 1 || c > n {
			t.Errorf("counter %d repeated or out of range", c)
		}
		seen[c] = true
	}
}
