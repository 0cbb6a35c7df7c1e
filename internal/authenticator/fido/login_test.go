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
