package fido_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/fido"
	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
)

// loginCase is what a row of TestLoginRefuses may change before FinishLogin.
type loginCase struct {
	s        *fido.Service
	clk      *clock
	u        fido.User // anna, with the chip k registered and used once
	k        *softkey.Key
	opts     []byte
	session  []byte
	response []byte // k's answer to opts at testOrigin
}

// assertWith has the chip answer opts as edited by f, at origin.
func (x *loginCase) assertWith(t *testing.T, origin string, f func(pk map[string]any)) []byte {
	t.Helper()
	opts := x.opts
	if f != nil {
		opts = editOptions(t, opts, f)
	}
	resp, err := x.k.Assert(opts, origin)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestLoginRefuses(t *testing.T) {
	tests := []struct {
		name string
		// edit returns the response given to FinishLogin, and may change x.u and x.session.
		edit func(t *testing.T, x *loginCase) []byte
		want error
	}{
		// The size cap and parsing.
		{"oversized response", func(t *testing.T, x *loginCase) []byte {
			return append(x.response, bytes.Repeat([]byte(" "), fido.MaxResponseSize)...)
		}, fido.ErrResponseTooLarge},
		{"64 KiB of garbage", func(t *testing.T, x *loginCase) []byte {
			return bytes.Repeat([]byte("x"), fido.MaxResponseSize)
		}, fido.ErrMalformedResponse},
		{"empty", func(t *testing.T, x *loginCase) []byte { return nil }, fido.ErrMalformedResponse},
		{"null", func(t *testing.T, x *loginCase) []byte { return []byte("null") }, fido.ErrMalformedResponse},
		{"array", func(t *testing.T, x *loginCase) []byte { return []byte("[]") }, fido.ErrMalformedResponse},
		{"truncated JSON", func(t *testing.T, x *loginCase) []byte { return x.response[:len(x.response)/2] }, fido.ErrMalformedResponse},
		{"trailing data", func(t *testing.T, x *loginCase) []byte { return append(x.response, "{}"...) }, fido.ErrMalformedResponse},
		{"no response member", func(t *testing.T, x *loginCase) []byte {
			return editJSON(t, x.response, func(m map[string]any) { delete(m, "response") })
		}, fido.ErrMalformedResponse},
		{"type not public-key", func(t *testing.T, x *loginCase) []byte {
			return editJSON(t, x.response, func(m map[string]any) { m["type"] = "password" })
		}, fido.ErrMalformedResponse},
		{"id and rawId differ", func(t *testing.T, x *loginCase) []byte {
			return editJSON(t, x.response, func(m map[string]any) { m["id"] = b64.EncodeToString([]byte("another")) })
		}, fido.ErrMalformedResponse},
		{"signature a number", func(t *testing.T, x *loginCase) []byte {
			return editJSON(t, x.response, func(m map[string]any) { m["response"].(map[string]any)["signature"] = 7 })
		}, fido.ErrMalformedResponse},
		{"client data not JSON", func(t *testing.T, x *loginCase) []byte {
			return editMember(t, x.response, "clientDataJSON", func(b []byte) []byte { return b[1:] })
		}, fido.ErrMalformedResponse},
		{"authenticator data truncated", func(t *testing.T, x *loginCase) []byte {
			return editMember(t, x.response, "authenticatorData", func(b []byte) []byte { return b[:36] })
		}, fido.ErrMalformedResponse},
		{"authenticator data with trailing bytes", func(t *testing.T, x *loginCase) []byte {
			return editMember(t, x.response, "authenticatorData", func(b []byte) []byte { return append(b, 0) })
		}, fido.ErrMalformedResponse},
		{"a registration of another chip instead", func(t *testing.T, x *loginCase) []byte {
			resp, err := softkey.New(seeded(9)).Register(mustBeginRegistration(t, x), testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}, fido.ErrUnknownCredential},
		{"extension output not asked for", func(t *testing.T, x *loginCase) []byte {
			return editJSON(t, x.response, func(m map[string]any) {
				m["clientExtensionResults"] = map[string]any{"credProps": map[string]any{"rk": true}}
			})
		}, fido.ErrMalformedResponse},

		// The session.
		{"old session", func(t *testing.T, x *loginCase) []byte {
			x.clk.Advance(3 * time.Minute)
			return x.response
		}, fido.ErrSessionExpired},
		{"reused session", func(t *testing.T, x *loginCase) []byte {
			c, err := x.s.FinishLogin(x.u, x.session, x.response)
			if err != nil {
				t.Fatal(err)
			}
			x.u = store(x.u, c)
			return x.assertWith(t, testOrigin, nil)
		}, fido.ErrSessionUsed},
		{"chips changed since the session began", func(t *testing.T, x *loginCase) []byte {
			x.u = register(t, x.s, x.u, softkey.New(seeded(9)))
			return x.response
		}, fido.ErrSessionUsed},
		{"session of another identity", func(t *testing.T, x *loginCase) []byte {
			u := bo()
			u.Credentials = x.u.Credentials
			x.u = u
			return x.response
		}, fido.ErrUserMismatch},
		{"session of a registration", func(t *testing.T, x *loginCase) []byte {
			_, x.session, _ = x.s.BeginRegistration(x.u)
			return x.response
		}, fido.ErrInvalidSession},
		{"session of another relying party", func(t *testing.T, x *loginCase) []byte {
			other, err := fido.New(fido.Config{RPID: "other.test", RPName: "Other", Origins: []string{"https://other.test"}})
			if err != nil {
				t.Fatal(err)
			}
			_, x.session, _ = other.BeginLogin(x.u)
			return x.response
		}, fido.ErrInvalidSession},
		{"session of another version", func(t *testing.T, x *loginCase) []byte {
			x.session = bytes.Replace(x.session, []byte(`"v":1`), []byte(`"v":2`), 1)
			return x.response
		}, fido.ErrInvalidSession},
		{"session garbage", func(t *testing.T, x *loginCase) []byte {
			x.session = []byte("{")
			return x.response
		}, fido.ErrInvalidSession},
		{"no session", func(t *testing.T, x *loginCase) []byte {
			x.session = nil
			return x.response
		}, fido.ErrInvalidSession},

		// The client data.
		{"wrong origin", func(t *testing.T, x *loginCase) []byte {
			return x.assertWith(t, "https://mitid-login.evil.example", nil)
		}, fido.ErrWrongOrigin},
		{"origin on another port", func(t *testing.T, x *loginCase) []byte {
			return x.assertWith(t, "https://mitid.test:8443", nil)
		}, fido.ErrWrongOrigin},
		{"origin over http", func(t *testing.T, x *loginCase) []byte {
			return x.assertWith(t, "http://mitid.test", nil)
		}, fido.ErrWrongOrigin},
		{"origin of a subdomain not configured", func(t *testing.T, x *loginCase) []byte {
			return x.assertWith(t, "https://evil.mitid.test", nil)
		}, fido.ErrWrongOrigin},
		{"in a cross-origin frame", func(t *testing.T, x *loginCase) []byte {
			return editClientData(t, x.response, func(m map[string]any) {
				m["crossOrigin"], m["topOrigin"] = true, "https://evil.example"
			})
		}, fido.ErrWrongOrigin},
		{"challenge of another session", func(t *testing.T, x *loginCase) []byte {
			other, _, err := x.s.BeginLogin(x.u)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := x.k.Assert(other, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}, fido.ErrChallengeMismatch},
		{"client data of a registration", func(t *testing.T, x *loginCase) []byte {
			return editClientData(t, x.response, func(m map[string]any) { m["type"] = "webauthn.create" })
		}, fido.ErrWrongCeremony},
		{"tampered client data", func(t *testing.T, x *loginCase) []byte {
			// Still well-formed and for this ceremony, but not what the chip signed.
			return editClientData(t, x.response, func(m map[string]any) { m["extra"] = "x" })
		}, fido.ErrBadSignature},

		// The authenticator data.
		{"wrong RP ID hash", func(t *testing.T, x *loginCase) []byte {
			return x.assertWith(t, testOrigin, func(pk map[string]any) { pk["rpId"] = "evil.example" })
		}, fido.ErrWrongRPID},
		{"RP ID of the parent domain", func(t *testing.T, x *loginCase) []byte {
			return x.assertWith(t, testOrigin, func(pk map[string]any) { pk["rpId"] = "test" })
		}, fido.ErrWrongRPID},
		{"missing user presence", func(t *testing.T, x *loginCase) []byte {
			x.k.SetUserPresence(false)
			return x.assertWith(t, testOrigin, nil)
		}, fido.ErrUserNotPresent},
		{"backup eligibility appears", func(t *testing.T, x *loginCase) []byte {
			x.k.SetBackup(true, false)
			return x.assertWith(t, testOrigin, nil)
		}, fido.ErrBackupFlags},
		{"backup state without eligibility", func(t *testing.T, x *loginCase) []byte {
			x.k.SetBackup(false, true)
			return x.assertWith(t, testOrigin, nil)
		}, fido.ErrBackupFlags},
		{"tampered counter", func(t *testing.T, x *loginCase) []byte {
			return editMember(t, x.response, "authenticatorData", func(b []byte) []byte { b[36] += 10; return b })
		}, fido.ErrBadSignature},
		{"UV flag added", func(t *testing.T, x *loginCase) []byte {
			return editMember(t, x.response, "authenticatorData", func(b []byte) []byte { b[32] |= 0x04; return b })
		}, fido.ErrBadSignature},

		// The credential and the signature.
		{"unknown credential", func(t *testing.T, x *loginCase) []byte {
			x.k = softkey.New(seeded(9))
			return x.assertWith(t, testOrigin, func(pk map[string]any) {
				pk["allowCredentials"] = []any{map[string]any{"type": "public-key", "id": b64.EncodeToString(x.k.CredentialID())}}
			})
		}, fido.ErrUnknownCredential},
		{"chip of another identity", func(t *testing.T, x *loginCase) []byte {
			kb := softkey.New(seeded(9))
			register(t, x.s, bo(), kb)
			x.k = kb
			return x.assertWith(t, testOrigin, func(pk map[string]any) {
				pk["allowCredentials"] = []any{map[string]any{"type": "public-key", "id": b64.EncodeToString(kb.CredentialID())}}
			})
		}, fido.ErrUnknownCredential},
		{"user handle of another identity", func(t *testing.T, x *loginCase) []byte {
			return editJSON(t, x.response, func(m map[string]any) {
				m["response"].(map[string]any)["userHandle"] = b64.EncodeToString(bo().WebAuthnID())
			})
		}, fido.ErrUserMismatch},
		{"bad signature", func(t *testing.T, x *loginCase) []byte {
			return editMember(t, x.response, "signature", func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
		}, fido.ErrBadSignature},
		{"empty signature", func(t *testing.T, x *loginCase) []byte {
			return editMember(t, x.response, "signature", func(b []byte) []byte { return nil })
		}, fido.ErrBadSignature},
		{"signature not DER", func(t *testing.T, x *loginCase) []byte {
			return editMember(t, x.response, "signature", func(b []byte) []byte { return bytes.Repeat([]byte{1}, 64) })
		}, fido.ErrBadSignature},
		{"signature by another key", func(t *testing.T, x *loginCase) []byte {
			// Another private key under the registered credential ID.
			k, err := softkey.Unmarshal([]byte(`{"credential_id":"` + b64.EncodeToString(x.k.CredentialID()) +
				`","private_key":"` + b64.EncodeToString(bytes.Repeat([]byte{7}, 32)) + `","sign_count":5}`))
			if err != nil {
				t.Fatal(err)
			}
			x.k = k
			return x.assertWith(t, testOrigin, nil)
		}, fido.ErrBadSignature},
		{"cloned chip", func(t *testing.T, x *loginCase) []byte {
			// A copy made before the last login answers with the counter already seen.
			k, err := softkey.Unmarshal([]byte(`{"credential_id":"` + b64.EncodeToString(x.k.CredentialID()) +
				`","private_key":"` + b64.EncodeToString(mustScalar(t, x.k)) + `","sign_count":0}`))
			if err != nil {
				t.Fatal(err)
			}
			x.k = k
			return x.assertWith(t, testOrigin, nil)
		}, fido.ErrClonedAuthenticator},
		{"invalid user", func(t *testing.T, x *loginCase) []byte {
			x.u.UserID = ""
			return x.response
		}, fido.ErrInvalidUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newService(t)
			k := softkey.New(seeded(1))
			u := login(t, s, register(t, s, anna(), k), k)
			opts, sess, err := s.BeginLogin(u)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := k.Assert(opts, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			x := &loginCase{s: s, clk: clk, u: u, k: k, opts: opts, session: sess, response: resp}
			got := tt.edit(t, x)
			c, err := s.FinishLogin(x.u, x.session, got)
			wantRefusal(t, c, err, tt.want)
		})
	}
}

func mustBeginRegistration(t *testing.T, x *loginCase) []byte {
	t.Helper()
	opts, _, err := x.s.BeginRegistration(x.u)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// mustScalar returns k's private key as stored by Marshal.
func mustScalar(t *testing.T, k *softkey.Key) []byte {
	t.Helper()
	j, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	b, err := b64.DecodeString(m.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
