package fido_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/fido"
	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
)

func TestLoginOptions(t *testing.T) {
	s, _ := newService(t)
	k1, k2 := softkey.New(seeded(1)), softkey.New(seeded(2))
	u := register(t, s, register(t, s, anna(), k1), k2)
	opts, _, err := s.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		PublicKey struct {
			Challenge string
			Timeout   int
			RPID      string `json:"rpId"`
			Allow     []struct {
				Type, ID   string
				Transports []string
			} `json:"allowCredentials"`
			UserVerification string
			Hints            []string
		}
	}
	if err := json.Unmarshal(opts, &got); err != nil {
		t.Fatal(err)
	}
	pk := got.PublicKey
	if c, err := b64.DecodeString(pk.Challenge); err != nil || len(c) != 32 {
		t.Errorf("challenge %q: want 32 bytes in base64url", pk.Challenge)
	}
	if pk.RPID != testRPID || pk.Timeout != 120000 || pk.UserVerification != "discouraged" || strings.Join(pk.Hints, ",") != "security-key" {
		t.Errorf("options %s", opts)
	}
	if len(pk.Allow) != 2 || pk.Allow[0].ID != b64.EncodeToString(k1.CredentialID()) || pk.Allow[1].ID != b64.EncodeToString(k2.CredentialID()) ||
		pk.Allow[0].Type != "public-key" || strings.Join(pk.Allow[1].Transports, ",") != "usb" {
		t.Errorf("allowCredentials %+v, want both chips", pk.Allow)
	}

	if _, _, err := s.BeginLogin(anna()); !errors.Is(err, fido.ErrNoCredentials) {
		t.Errorf("BeginLogin without chips: %v, want ErrNoCredentials", err)
	}
	bad := u
	bad.IdentityUUID = "0101901234" // a CPR number is not an identity UUID
	if _, _, err := s.BeginLogin(bad); !errors.Is(err, fido.ErrInvalidUser) {
		t.Errorf("BeginLogin with a CPR for a UUID: %v, want ErrInvalidUser", err)
	}
	bad = u
	bad.Credentials = append([]fido.Credential{{}}, u.Credentials...)
	if _, _, err := s.BeginLogin(bad); !errors.Is(err, fido.ErrInvalidUser) {
		t.Errorf("BeginLogin with a credential without ID: %v, want ErrInvalidUser", err)
	}
}

// TestLogin registers a chip and logs in with it several times: each login returns the chip with
// the counter the chip sent, which the engine stores.
func TestLogin(t *testing.T) {
	s, _ := newService(t)
	k := softkey.New(seeded(1))
	u := register(t, s, anna(), k)
	for want := uint32(1); want <= 3; want++ {
		u = login(t, s, u, k)
		if got := u.Credentials[0].SignCount; got != want {
			t.Fatalf("login %d: stored counter %d", want, got)
		}
	}
	// The stored form survives a round trip between logins.
	b, err := u.Credentials[0].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if u.Credentials[0], err = fido.UnmarshalCredential(b); err != nil {
		t.Fatal(err)
	}
	login(t, s, u, k)
}

// TestLoginTwoChips logs in with either of two chips; only the one used changes.
func TestLoginTwoChips(t *testing.T) {
	s, _ := newService(t)
	k1, k2 := softkey.New(seeded(1)), softkey.New(seeded(2))
	u := register(t, s, register(t, s, anna(), k1), k2)
	u = login(t, s, u, k2)
	if u.Credentials[0].SignCount != 0 || u.Credentials[1].SignCount != 1 {
		t.Fatalf("counters %d, %d; want 0, 1", u.Credentials[0].SignCount, u.Credentials[1].SignCount)
	}
	u = login(t, s, u, k1)
	if u.Credentials[0].SignCount != 1 || u.Credentials[1].SignCount != 1 {
		t.Fatalf("counters %d, %d; want 1, 1", u.Credentials[0].SignCount, u.Credentials[1].SignCount)
	}
}

// TestLoginAccepts covers answers that differ from softkey's but are still right.
func TestLoginAccepts(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, u fido.User, resp []byte) []byte
	}{
		{"user handle of the identity", func(t *testing.T, u fido.User, resp []byte) []byte {
			return editJSON(t, resp, func(m map[string]any) {
				m["response"].(map[string]any)["userHandle"] = b64.EncodeToString(u.WebAuthnID())
			})
		}},
		{"user handle null", func(t *testing.T, u fido.User, resp []byte) []byte {
			return editJSON(t, resp, func(m map[string]any) { m["response"].(map[string]any)["userHandle"] = nil })
		}},
		{"no authenticator attachment", func(t *testing.T, u fido.User, resp []byte) []byte {
			return editJSON(t, resp, func(m map[string]any) { delete(m, "authenticatorAttachment") })
		}},
		{"no client extension results", func(t *testing.T, u fido.User, resp []byte) []byte {
			return editJSON(t, resp, func(m map[string]any) { delete(m, "clientExtensionResults") })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newService(t)
			k := softkey.New(seeded(1))
			u := register(t, s, anna(), k)
			opts, sess, err := s.BeginLogin(u)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := k.Assert(opts, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.FinishLogin(u, sess, tt.edit(t, u, resp))
			if err != nil || c.SignCount != 1 {
				t.Fatalf("FinishLogin = %+v, %v", c, err)
			}
		})
	}
}

// TestLoginAcceptsOriginSpelling configures an origin with an explicit default port and upper
// case, and checks that the origin a browser writes is accepted.
func TestLoginAcceptsOriginSpelling(t *testing.T) {
	s, err := fido.New(fido.Config{RPID: testRPID, RPName: "MitID", Origins: []string{"https://MITID.test:443"}})
	if err != nil {
		t.Fatal(err)
	}
	k := softkey.New(seeded(1))
	login(t, s, register(t, s, anna(), k), k)
}

// TestClonedChip plays a chip copied after one login: the original and the copy each log in once
// more, and whichever comes second repeats a counter value and is refused.
func TestClonedChip(t *testing.T) {
	s, _ := newService(t)
	k := softkey.New(seeded(1))
	u := login(t, s, register(t, s, anna(), k), k)
	clone := k.Clone()
	u = login(t, s, u, clone)
	opts, sess, err := s.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := k.Assert(opts, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.FinishLogin(u, sess, resp)
	wantRefusal(t, c, err, fido.ErrClonedAuthenticator)
	if msg := fido.ErrClonedAuthenticator.Message("da"); !strings.Contains(msg, "kopieret") {
		t.Errorf("Danish message %q", msg)
	}
	// A counter that goes backwards is a clone too: the copy, left behind, signs again.
	k2 := softkey.New(seeded(2))
	u2 := register(t, s, bo(), k2)
	old := k2.Clone()
	u2 = login(t, s, login(t, s, u2, k2), k2)
	opts, sess, _ = s.BeginLogin(u2)
	resp, _ = old.Assert(opts, testOrigin)
	c, err = s.FinishLogin(u2, sess, resp)
	wantRefusal(t, c, err, fido.ErrClonedAuthenticator)
}

// TestSessionSingleUse finishes a login twice with one session. If the engine stored the updated
// chip, the session is stale; if it did not, the replay repeats the counter, which reads as a
// clone — the reason the engine must store what FinishLogin returns.
func TestSessionSingleUse(t *testing.T) {
	s, _ := newService(t)
	k := softkey.New(seeded(1))
	u := register(t, s, anna(), k)
	opts, sess, err := s.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := k.Assert(opts, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.FinishLogin(u, sess, resp)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.FinishLogin(store(u, c), sess, resp)
	wantRefusal(t, c2, err, fido.ErrSessionUsed)
	resp2, err := k.Assert(opts, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	c2, err = s.FinishLogin(store(u, c), sess, resp2)
	wantRefusal(t, c2, err, fido.ErrSessionUsed)
}

// TestSessionExpiry checks the last moment a session is accepted, and the first it is not.
func TestSessionExpiry(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		want  error
	}{
		{2*time.Minute - time.Millisecond, nil},
		{2 * time.Minute, fido.ErrSessionExpired},
		{24 * time.Hour, fido.ErrSessionExpired},
	} {
		s, clk := newService(t)
		k := softkey.New(seeded(1))
		u := register(t, s, anna(), k)
		opts, sess, err := s.BeginLogin(u)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := k.Assert(opts, testOrigin)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(tt.after)
		c, err := s.FinishLogin(u, sess, resp)
		if tt.want == nil {
			if err != nil {
				t.Errorf("after %v: %v", tt.after, err)
			}
			continue
		}
		wantRefusal(t, c, err, tt.want)
	}
}

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

// TestConcurrentLogins runs logins of several identities at once through one Service, for the
// race detector, and checks that each gets only its own chip back.
func TestConcurrentLogins(t *testing.T) {
	s, _ := newService(t)
	var wg sync.WaitGroup
	for i := range 8 {
		u := anna()
		u.IdentityUUID = fmt.Sprintf("6f1c1a8e-0d52-4a8f-9a64-3f2b8f0f7a%02d", i)
		k := softkey.New(seeded(uint64(100 + i)))
		u = register(t, s, u, k)
		wg.Go(func() {
			for range 5 {
				opts, sess, err := s.BeginLogin(u)
				if err != nil {
					t.Error(err)
					return
				}
				resp, err := k.Assert(opts, testOrigin)
				if err != nil {
					t.Error(err)
					return
				}
				c, err := s.FinishLogin(u, sess, resp)
				if err != nil || !bytes.Equal(c.ID, k.CredentialID()) {
					t.Errorf("identity %s: %+v, %v", u.IdentityUUID, c, err)
					return
				}
				u = store(u, c)
			}
		})
	}
	wg.Wait()
}
