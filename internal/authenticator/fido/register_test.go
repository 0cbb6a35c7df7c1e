package fido_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/fido"
	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
)

func TestRegistrationOptions(t *testing.T) {
	s, _ := newService(t)
	k := softkey.New(seeded(1))
	u := register(t, s, anna(), k)
	opts, _, err := s.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		PublicKey struct {
			RP        struct{ ID, Name string }
			User      struct{ ID, Name, DisplayName string }
			Challenge string
			Params    []struct {
				Type string
				Alg  int
			} `json:"pubKeyCredParams"`
			Timeout int
			Exclude []struct {
				Type, ID   string
				Transports []string
			} `json:"excludeCredentials"`
			Selection struct {
				AuthenticatorAttachment, ResidentKey, UserVerification string
				RequireResidentKey                                     *bool
			} `json:"authenticatorSelection"`
			Hints       []string
			Attestation string
		}
	}
	if err := json.Unmarshal(opts, &got); err != nil {
		t.Fatal(err)
	}
	pk := got.PublicKey
	if pk.RP.ID != testRPID || pk.RP.Name != "MitID" {
		t.Errorf("rp %+v", pk.RP)
	}
	if pk.User.ID != "bxwajg1SSo-aZD8rjw96EQ" || pk.User.Name != "anna1990" || pk.User.DisplayName != "Anna Jensen" {
		t.Errorf("user %+v; the ID must be the identity UUID's bytes", pk.User)
	}
	if c, err := b64.DecodeString(pk.Challenge); err != nil || len(c) != 32 {
		t.Errorf("challenge %q: want 32 bytes in base64url", pk.Challenge)
	}
	if pk.Timeout != 120000 {
		t.Errorf("timeout %d ms, want 120000", pk.Timeout)
	}
	if len(pk.Exclude) != 1 || pk.Exclude[0].ID != b64.EncodeToString(k.CredentialID()) || pk.Exclude[0].Type != "public-key" ||
		strings.Join(pk.Exclude[0].Transports, ",") != "usb" {
		t.Errorf("excludeCredentials %+v, want the registered chip", pk.Exclude)
	}
	sel := pk.Selection
	if sel.AuthenticatorAttachment != "cross-platform" || sel.ResidentKey != "discouraged" || sel.UserVerification != "discouraged" ||
		sel.RequireResidentKey == nil || *sel.RequireResidentKey {
		t.Errorf("authenticatorSelection %+v", sel)
	}
	if strings.Join(pk.Hints, ",") != "security-key" || pk.Attestation != "none" {
		t.Errorf("hints %v, attestation %q", pk.Hints, pk.Attestation)
	}
	var algs []int
	for _, p := range pk.Params {
		algs = append(algs, p.Alg)
	}
	if len(algs) != 3 || !bytes.Contains([]byte{byte(-algs[0]), byte(-algs[1])}, []byte{7}) {
		t.Errorf("pubKeyCredParams algorithms %v, want EdDSA, ES256, RS256", algs)
	}
	opts2, _, _ := s.BeginRegistration(u)
	if bytes.Equal(opts, opts2) {
		t.Error("two registrations got the same challenge")
	}
}

func TestRegister(t *testing.T) {
	s, _ := newService(t)
	k1, k2 := softkey.New(seeded(1)), softkey.New(seeded(2))
	u := register(t, s, anna(), k1)
	c := u.Credentials[0]
	if !bytes.Equal(c.ID, k1.CredentialID()) || c.AttestationType != "none" || !bytes.Equal(c.AAGUID, make([]byte, 16)) ||
		c.SignCount != 0 || c.BackupEligible || c.BackupState || strings.Join(c.Transports, ",") != "usb" || len(c.PublicKey) == 0 {
		t.Fatalf("credential %+v", c)
	}
	if _, err := c.MarshalBinary(); err != nil {
		t.Fatalf("the registered credential cannot be stored: %v", err)
	}
	// A second chip; the key that is already registered refuses, as a browser would.
	opts, _, err := s.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k1.Register(opts, testOrigin); err == nil {
		t.Error("the registered chip registered again")
	}
	u = register(t, s, u, k2)
	if len(u.Credentials) != 2 {
		t.Fatalf("%d chips", len(u.Credentials))
	}
	// The same physical chip may be registered to another identity: it makes a new credential.
	register(t, s, bo(), softkey.New(seeded(3)))
}

func TestRegisterRefuses(t *testing.T) {
	type setup struct {
		s        *fido.Service
		clk      *clock
		u        fido.User // the identity registering, with one chip already
		k        *softkey.Key
		opts     []byte
		session  []byte
		response []byte // k's answer to opts at testOrigin
	}
	tests := []struct {
		name string
		// edit returns the user, session and response given to FinishRegistration.
		edit func(t *testing.T, x *setup) (fido.User, []byte, []byte)
		want error
	}{
		{"oversized response", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, x.session, append(bytes.Repeat([]byte(" "), fido.MaxResponseSize), x.response...)
		}, fido.ErrResponseTooLarge},
		{"not JSON", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, x.session, []byte("not json")
		}, fido.ErrMalformedResponse},
		{"empty", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, x.session, nil
		}, fido.ErrMalformedResponse},
		{"attestation object not CBOR", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, x.session, editMember(t, x.response, "attestationObject", func(b []byte) []byte { return []byte("{}") })
		}, fido.ErrMalformedResponse},
		{"attestation object with trailing bytes", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, x.session, editMember(t, x.response, "attestationObject", func(b []byte) []byte { return append(b, 0) })
		}, fido.ErrMalformedResponse},
		{"an assertion instead", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, x.session, editJSON(t, x.response, func(m map[string]any) {
				r := m["response"].(map[string]any)
				delete(r, "attestationObject")
				r["signature"] = "MEQCIA"
			})
		}, fido.ErrMalformedResponse},
		{"wrong origin", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			resp, err := x.k.Register(x.opts, "https://mitid.test.evil.example")
			if err != nil {
				t.Fatal(err)
			}
			return x.u, x.session, resp
		}, fido.ErrWrongOrigin},
		{"wrong RP ID", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			resp, err := x.k.Register(editOptions(t, x.opts, func(pk map[string]any) {
				pk["rp"].(map[string]any)["id"] = "evil.example"
			}), testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			return x.u, x.session, resp
		}, fido.ErrWrongRPID},
		{"challenge of another session", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			other, _, err := x.s.BeginRegistration(x.u)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := x.k.Register(other, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			return x.u, x.session, resp
		}, fido.ErrChallengeMismatch},
		{"client data of a login", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, x.session, editClientData(t, x.response, func(m map[string]any) { m["type"] = "webauthn.get" })
		}, fido.ErrWrongCeremony},
		{"in a cross-origin frame", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, x.session, editClientData(t, x.response, func(m map[string]any) {
				m["crossOrigin"], m["topOrigin"] = true, "https://evil.example"
			})
		}, fido.ErrWrongOrigin},
		{"no user presence", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			x.k.SetUserPresence(false)
			resp, err := x.k.Register(x.opts, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			return x.u, x.session, resp
		}, fido.ErrUserNotPresent},
		{"synced passkey", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			x.k.SetBackup(true, true)
			resp, err := x.k.Register(x.opts, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			return x.u, x.session, resp
		}, fido.ErrBackupEligible},
		{"backup state without eligibility", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			x.k.SetBackup(false, true)
			resp, err := x.k.Register(x.opts, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			return x.u, x.session, resp
		}, fido.ErrBackupFlags},
		{"already registered", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			// A browser that ignores excludeCredentials: the registered chip answers again.
			first := x.u.Credentials[0]
			k, err := softkey.Unmarshal([]byte(`{"credential_id":"` + b64.EncodeToString(first.ID) +
				`","private_key":"` + b64.EncodeToString(bytes.Repeat([]byte{7}, 32)) + `","sign_count":0}`))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := k.Register(editOptions(t, x.opts, func(pk map[string]any) { delete(pk, "excludeCredentials") }), testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			return x.u, x.session, resp
		}, fido.ErrAlreadyRegistered},
		{"attestation format packed without a statement", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, x.session, editMember(t, x.response, "attestationObject", func(b []byte) []byte {
				return bytes.Replace(b, []byte("\x63fmt\x64none"), []byte("\x63fmt\x66packed"), 1)
			})
		}, fido.ErrAttestation},
		{"key algorithm not offered", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			// An ES384 key; the options offer EdDSA, ES256 and RS256. With "none" attestation
			// nothing signs the key, so it can be swapped in.
			return x.u, x.session, editMember(t, x.response, "attestationObject", func(b []byte) []byte {
				return withCOSEKey(t, b, es384Key(t))
			})
		}, fido.ErrAttestation},
		{"key curve contradicting its algorithm", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			// alg -7 (ES256, CBOR 0x26) becomes -35 (ES384, CBOR 0x38 0x22) on a P-256 key.
			return x.u, x.session, editMember(t, x.response, "attestationObject", func(b []byte) []byte {
				return bytes.Replace(b, []byte{0x03, 0x26}, []byte{0x03, 0x38, 0x22}, 1)
			})
		}, fido.ErrMalformedResponse},
		{"session expired", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			x.clk.Advance(2 * time.Minute)
			return x.u, x.session, x.response
		}, fido.ErrSessionExpired},
		{"session already used", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			c, err := x.s.FinishRegistration(x.u, x.session, x.response)
			if err != nil {
				t.Fatal(err)
			}
			u := x.u
			u.Credentials = append(u.Credentials, c)
			return u, x.session, x.response
		}, fido.ErrSessionUsed},
		{"session of another identity", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			u := bo()
			u.Credentials = x.u.Credentials
			return u, x.session, x.response
		}, fido.ErrUserMismatch},
		{"session of a login", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			_, sess, err := x.s.BeginLogin(x.u)
			if err != nil {
				t.Fatal(err)
			}
			return x.u, sess, x.response
		}, fido.ErrInvalidSession},
		{"no session", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			return x.u, nil, x.response
		}, fido.ErrInvalidSession},
		{"invalid user", func(t *testing.T, x *setup) (fido.User, []byte, []byte) {
			u := x.u
			u.IdentityUUID = "0101901234"
			return u, x.session, x.response
		}, fido.ErrInvalidUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newService(t)
			u := register(t, s, anna(), softkey.New(seeded(1)))
			k := softkey.New(seeded(2))
			opts, sess, err := s.BeginRegistration(u)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := k.Register(opts, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			x := &setup{s: s, clk: clk, u: u, k: k, opts: opts, session: sess, response: resp}
			gotU, gotSess, gotResp := tt.edit(t, x)
			c, err := s.FinishRegistration(gotU, gotSess, gotResp)
			wantRefusal(t, c, err, tt.want)
		})
	}
}

// es384Key returns a fresh P-384 public key as a COSE_Key with alg ES384 (RFC 9053, §2.1 and
// §7.1): {1: 2, 3: -35, -1: 2, -2: x, -3: y}.
func es384Key(t *testing.T) []byte {
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := priv.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	key := []byte{0xa5, 0x01, 0x02, 0x03, 0x38, 0x22, 0x20, 0x02, 0x21, 0x58, 0x30}
	key = append(key, pt[1:49]...)
	key = append(key, 0x22, 0x58, 0x30)
	return append(key, pt[49:97]...)
}

// withCOSEKey returns the "none" attestation object of softkey with the credential public key
// replaced by key. softkey writes {"fmt": "none", "attStmt": {}, "authData": h'…'} with authData
// under 256 bytes and ending in the key.
func withCOSEKey(t *testing.T, attObj, key []byte) []byte {
	t.Helper()
	prefix := []byte("\xa3\x63fmt\x64none\x67attStmt\xa0\x68authData\x58")
	if !bytes.HasPrefix(attObj, prefix) {
		t.Fatalf("unexpected attestation object %x", attObj)
	}
	authData := attObj[len(prefix)+1:]
	idLen := int(authData[53])<<8 | int(authData[54])
	newAuthData := append(append([]byte(nil), authData[:55+idLen]...), key...)
	if len(newAuthData) > 255 {
		t.Fatalf("authenticator data of %d bytes", len(newAuthData))
	}
	return append(append(append([]byte(nil), prefix...), byte(len(newAuthData))), newAuthData...)
}
