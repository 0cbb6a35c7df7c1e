package fido

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

// The ceremonies a session can be for.
const (
	ceremonyRegistration = "registration"
	ceremonyLogin        = "login"
)

// sessionFormat is the version of the session bytes. Sessions live minutes, so a change of
// format needs no migration: sessions of another version are refused and the person starts again.
const sessionFormat = 1

// maxSession bounds the session bytes read back; an identity has a handful of chips.
const maxSession = 64 << 10

// session is what a ceremony carries from its beginning to its end, stored by the engine between
// the two (WebAuthn Level 3, §13.4.3: the challenge is kept server-side and compared at the end).
// It holds nothing secret, but the client must not be able to change it: the challenge, the
// allowed credentials and the identity are what the response is checked against.
type session struct {
	V        int    `json:"v"`
	Ceremony string `json:"ceremony"`
	// Expires is when the ceremony's timeout ends, in Unix milliseconds.
	Expires int64                `json:"expires"`
	Data    webauthn.SessionData `json:"webauthn"`
	// State is the identity's chips at the beginning, credential ID (base64url) → sign count.
	// The session is refused if they changed before it is finished: a session already used has
	// changed them, as has a login or registration that finished in between.
	State map[string]uint32 `json:"state"`
}

// chipState returns the credential ID → sign count map of the identity's chips.
func chipState(creds []Credential) map[string]uint32 {
	m := make(map[string]uint32, len(creds))
	for _, c := range creds {
		m[b64.EncodeToString(c.ID)] = c.SignCount
	}
	return m
}

// newSession returns the session bytes of a ceremony begun now.
func (s *Service) newSession(ceremony string, data *webauthn.SessionData, creds []Credential) ([]byte, error) {
	return json.Marshal(session{
		V:        sessionFormat,
		Ceremony: ceremony,
		Expires:  s.now().Add(s.timeout).UnixMilli(),
		Data:     *data,
		State:    chipState(creds),
	})
}

// openSession reads session bytes and checks that they are of this ceremony, for u (whose user
// handle is handle), unexpired, and unused: u's chips are as they were when the session began.
func (s *Service) openSession(b []byte, ceremony string, u User, handle []byte) (*session, error) {
	if len(b) > maxSession {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidSession, len(b), maxSession)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ss session
	if err := dec.Decode(&ss); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSession, err)
	}
	switch {
	case ss.V != sessionFormat:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrInvalidSession, ss.V, sessionFormat)
	case ss.Ceremony != ceremony:
		return nil, fmt.Errorf("%w: a %s session given to finish a %s", ErrInvalidSession, ss.Ceremony, ceremony)
	case ss.Data.Challenge == "" || ss.Data.RelyingPartyID != s.rpID:
		return nil, fmt.Errorf("%w: no challenge, or RP ID %q is not %q", ErrInvalidSession, ss.Data.RelyingPartyID, s.rpID)
	case !bytes.Equal(ss.Data.UserID, handle):
		return nil, fmt.Errorf("%w: the session was begun for another identity", ErrUserMismatch)
	}
	if now := s.now(); !now.Before(time.UnixMilli(ss.Expires)) {
		return nil, fmt.Errorf("%w: it ended at %s, %s ago", ErrSessionExpired,
			time.UnixMilli(ss.Expires).UTC().Format(time.RFC3339), now.Sub(time.UnixMilli(ss.Expires)).Round(time.Second))
	}
	now := chipState(u.Credentials)
	if len(now) != len(ss.State) {
		return nil, fmt.Errorf("%w: the identity's number of chips went from %d to %d", ErrSessionUsed, len(ss.State), len(now))
	}
	for id, count := range ss.State {
		if c, ok := now[id]; !ok || c != count {
			return nil, fmt.Errorf("%w: chip %s was removed or used since", ErrSessionUsed, id)
		}
	}
	return &ss, nil
}
