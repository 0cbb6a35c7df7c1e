package fido_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/fido"
	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
)

const (
	testRPID   = "mitid.test"
	testOrigin = "https://mitid.test"
)

var b64 = base64.RawURLEncoding

// clock is a settable time source for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func seeded(n uint64) *rand.ChaCha8 {
	var seed [32]byte
	seed[0], seed[1] = byte(n), byte(n>>8)
	return rand.NewChaCha8(seed)
}

// newService returns a service for https://mitid.test with a 2-minute timeout and its clock.
func newService(t testing.TB) (*fido.Service, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s, err := fido.New(fido.Config{
		RPID: testRPID, RPName: "MitID", Origins: []string{testOrigin},
		Timeout: 2 * time.Minute, Now: clk.Now, Rand: seeded(1000),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// Two identities with no chips.
func anna() fido.User {
	return fido.User{IdentityUUID: "6f1c1a8e-0d52-4a8f-9a64-3f2b8f0f7a11", UserID: "anna1990", DisplayName: "Anna Jensen"}
}

func bo() fido.User {
	return fido.User{IdentityUUID: "0b7f3e52-8f7e-4d1c-b6a9-5c2d9e0a4b33", UserID: "bo.nielsen", DisplayName: "Bo Nielsen"}
}

// register registers k to u through s and returns u with the new chip added.
func register(t testing.TB, s *fido.Service, u fido.User, k *softkey.Key) fido.User {
	t.Helper()
	opts, sess, err := s.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := k.Register(opts, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.FinishRegistration(u, sess, resp)
	if err != nil {
		t.Fatal(err)
	}
	u.Credentials = append(append([]fido.Credential(nil), u.Credentials...), c)
	return u
}

// login logs in to u with k through s and returns u with the chip's record updated.
func login(t testing.TB, s *fido.Service, u fido.User, k *softkey.Key) fido.User {
	t.Helper()
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
	return store(u, c)
}

// store returns u with the chip c replacing the one of the same ID, as the engine stores it.
func store(u fido.User, c fido.Credential) fido.User {
	creds := append([]fido.Credential(nil), u.Credentials...)
	for i := range creds {
		if string(creds[i].ID) == string(c.ID) {
			creds[i] = c
		}
	}
	u.Credentials = creds
	return u
}

// editJSON decodes a JSON object, lets f change it, and encodes it again.
func editJSON(t testing.TB, b []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// editMember changes the base64url member name of a response's "response" object: f gets the
// decoded bytes and returns the new ones.
func editMember(t testing.TB, resp []byte, name string, f func(b []byte) []byte) []byte {
	t.Helper()
	return editJSON(t, resp, func(m map[string]any) {
		r := m["response"].(map[string]any)
		b, err := b64.DecodeString(r[name].(string))
		if err != nil {
			t.Fatal(err)
		}
		r[name] = b64.EncodeToString(f(append([]byte(nil), b...)))
	})
}

// editClientData changes the client data of a response as a JSON object.
func editClientData(t testing.TB, resp []byte, f func(m map[string]any)) []byte {
	t.Helper()
	return editMember(t, resp, "clientDataJSON", func(b []byte) []byte { return editJSON(t, b, f) })
}

// editOptions changes the "publicKey" dictionary of options before the key sees them.
func editOptions(t testing.TB, opts []byte, f func(pk map[string]any)) []byte {
	t.Helper()
	return editJSON(t, opts, func(m map[string]any) { f(m["publicKey"].(map[string]any)) })
}

// wantRefusal checks that err is want, carries the package prefix, and that nothing else came
// back.
func wantRefusal(t testing.TB, c fido.Credential, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	if !strings.HasPrefix(err.Error(), "fido: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if !reflect.DeepEqual(c, fido.Credential{}) {
		t.Errorf("a credential came back with the error: %+v", c)
	}
}
