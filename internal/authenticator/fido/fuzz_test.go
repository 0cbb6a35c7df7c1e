package fido_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/openmitid/openmitid/internal/authenticator/fido"
	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
)

// FuzzFinishLogin feeds arbitrary bytes to FinishLogin as the browser's response. Nothing may
// panic; a refusal must be a fido error with nothing else returned; an acceptance must be a chip
// of the identity with a counter above the stored one. The seeds are a valid response and
// damaged copies of it.
func FuzzFinishLogin(f *testing.F) {
	s, _ := newService(f)
	k := softkey.New(seeded(1))
	u := register(f, s, anna(), k)
	opts, sess, err := s.BeginLogin(u)
	if err != nil {
		f.Fatal(err)
	}
	resp, err := k.Assert(opts, testOrigin)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(resp)
	f.Add(resp[:len(resp)/2])
	f.Add(bytes.Replace(resp, []byte(`"type":"public-key"`), []byte(`"type":"public-key","type":1`), 1))
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, response []byte) {
		c, err := s.FinishLogin(u, sess, response)
		if err != nil {
			if fido.Code(err) == "" || !reflect.DeepEqual(c, fido.Credential{}) {
				t.Fatalf("FinishLogin = %+v, %v", c, err)
			}
			return
		}
		if !bytes.Equal(c.ID, k.CredentialID()) || c.SignCount <= u.Credentials[0].SignCount {
			t.Fatalf("accepted %+v", c)
		}
	})
}

// FuzzFinishRegistration does the same for registration responses, whose attestation object is
// CBOR.
func FuzzFinishRegistration(f *testing.F) {
	s, _ := newService(f)
	k := softkey.New(seeded(1))
	u := anna()
	opts, sess, err := s.BeginRegistration(u)
	if err != nil {
		f.Fatal(err)
	}
	resp, err := k.Register(opts, testOrigin)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(resp)
	f.Add(editMember(f, resp, "attestationObject", func(b []byte) []byte { return b[:len(b)-10] }))
	f.Add(editMember(f, resp, "attestationObject", func(b []byte) []byte { return append(b, b...) }))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, response []byte) {
		c, err := s.FinishRegistration(u, sess, response)
		if err != nil {
			if fido.Code(err) == "" || !reflect.DeepEqual(c, fido.Credential{}) {
				t.Fatalf("FinishRegistration = %+v, %v", c, err)
			}
			return
		}
		if _, err := c.MarshalBinary(); err != nil {
			t.Fatalf("registered a credential that cannot be stored: %+v: %v", c, err)
		}
	})
}

// FuzzUnmarshalCredential feeds arbitrary stored records: nothing may panic, and whatever is
// accepted must be written back to an equal record.
func FuzzUnmarshalCredential(f *testing.F) {
	c := vectorCredential()
	b, err := c.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := fido.UnmarshalCredential(b)
		if err != nil {
			return
		}
		b2, err := c.MarshalBinary()
		if err != nil {
			t.Fatalf("read %+v but cannot write it: %v", c, err)
		}
		c2, err := fido.UnmarshalCredential(b2)
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip of %s: %+v, %v; want %+v", b2, c2, err, c)
		}
	})
}
