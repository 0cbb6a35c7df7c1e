package fido

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/nsis"
)

// Chips is the chip as the login engine uses it: the ceremonies on stored
// authenticators of kind chip (it implements authn.Chips).
type Chips struct {
	Service *Service
	// DecoyKey keys the made-up credential IDs shown for user IDs that do not exist.
	DecoyKey []byte
}

// userOf builds the WebAuthn user from an identity's stored chips.
func userOf(identityUUID, userID string, chips []*authenticator.Authenticator) (User, error) {
	u := User{IdentityUUID: identityUUID, UserID: userID, DisplayName: userID}
	for _, a := range chips {
		c, err := UnmarshalCredential(a.Credential)
		if err != nil {
			return User{}, fmt.Errorf("fido: stored chip %s: %w", a.ID, err)
		}
		u.Credentials = append(u.Credentials, c)
	}
	return u, nil
}

// BeginLogin returns the options and session for a login with the identity's chips.
func (c Chips) BeginLogin(identityUUID, userID string, chips []*authenticator.Authenticator) ([]byte, []byte, error) {
	u, err := userOf(identityUUID, userID, chips)
	if err != nil {
		return nil, nil, err
	}
	return c.Service.BeginLogin(u)
}

// DecoyOptions returns login options for a user ID that does not exist: one
// credential ID made from the user ID under the decoy key, of the length a
// chip's has, so the options look like a real person's and are the same on
// every try. No chip can answer them.
func (c Chips) DecoyOptions(userKey string) ([]byte, []byte, error) {
	m := hmac.New(sha256.New, c.DecoyKey)
	m.Write([]byte("chip\x00" + userKey))
	id := m.Sum(nil)
	m.Write([]byte{1})
	id = append(id, m.Sum(nil)...) // 64 bytes, as the credential IDs of most keys
	fakeUUID := uuid.NewSHA1(uuid.Nil, id).String()
	return c.Service.BeginLogin(User{IdentityUUID: fakeUUID, UserID: userKey, DisplayName: userKey,
		Credentials: []Credential{{ID: id, PublicKey: decoyPublicKey}}})
}

// decoyPublicKey is a COSE EC2 P-256 key (the generator point): options carry
// only credential IDs, so it is never used, but a credential must have one.
var decoyPublicKey = []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01,
	0x21, 0x58, 0x20, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
	0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
	0x22, 0x58, 0x20, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
	0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5}

// FinishLogin checks the browser's answer and returns the chip that signed,
// its credential as it must now be stored, and its new sign count. On
// [ErrClonedAuthenticator] it returns the chip too, so it can be blocked.
func (c Chips) FinishLogin(identityUUID, userID string, chips []*authenticator.Authenticator, session, response []byte) (*authenticator.Authenticator, []byte, uint32, error) {
	u, err := userOf(identityUUID, userID, chips)
	if err != nil {
		return nil, nil, 0, err
	}
	cred, err := c.Service.FinishLogin(u, session, response)
	if err != nil {
		if errors.Is(err, ErrClonedAuthenticator) {
			if chip := chipWithID(chips, cloneID(response)); chip != nil {
				return chip, nil, 0, err
			}
		}
		return nil, nil, 0, err
	}
	chip := chipWithID(chips, cred.ID)
	if chip == nil {
		return nil, nil, 0, ErrUnknownCredential
	}
	b, err := cred.MarshalBinary()
	if err != nil {
		return nil, nil, 0, err
	}
	return chip, b, cred.SignCount, nil
}

// IsCloned reports whether err says a chip's signature counter went back.
func (c Chips) IsCloned(err error) bool { return errors.Is(err, ErrClonedAuthenticator) }

func chipWithID(chips []*authenticator.Authenticator, id []byte) *authenticator.Authenticator {
	for _, a := range chips {
		if id != nil && hmac.Equal(a.CredentialID, id) {
			return a
		}
	}
	return nil
}

// cloneID reads the credential ID a login response names (for blocking the
// chip a clone was detected on); nil if it cannot be read.
func cloneID(response []byte) []byte {
	id, err := responseCredentialID(response)
	if err != nil {
		return nil
	}
	return id
}

// Registrar registers chips to identities.
type Registrar struct {
	Service *Service
	Store   authenticator.Store
	Log     audit.Log
	Now     func() time.Time
}

// Begin starts registering a chip for the identity, excluding its chips.
func (r *Registrar) Begin(ctx context.Context, identityUUID, userID string) (options, session []byte, err error) {
	u, err := r.user(ctx, identityUUID, userID)
	if err != nil {
		return nil, nil, err
	}
	return r.Service.BeginRegistration(u)
}

func (r *Registrar) user(ctx context.Context, identityUUID, userID string) (User, error) {
	auths, err := r.Store.AuthenticatorsOf(ctx, identityUUID)
	if err != nil {
		return User{}, err
	}
	var chips []*authenticator.Authenticator
	for _, a := range auths {
		if a.Kind == authenticator.Chip {
			chips = append(chips, a)
		}
	}
	return userOf(identityUUID, userID, chips)
}

// Finish checks the browser's registration and stores the chip at level.
func (r *Registrar) Finish(ctx context.Context, identityUUID, userID string, session, response []byte, level nsis.Level, name, actor string) (*authenticator.Authenticator, error) {
	u, err := r.user(ctx, identityUUID, userID)
	if err != nil {
		return nil, err
	}
	cred, err := r.Service.FinishRegistration(u, session, response)
	if err != nil {
		return nil, err
	}
	b, err := cred.MarshalBinary()
	if err != nil {
		return nil, err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	t := now().UTC()
	if name == "" {
		name = "Chip"
	}
	a := &authenticator.Authenticator{ID: uuid.NewString(), Identity: identityUUID, Kind: authenticator.Chip,
		State: authenticator.Active, Name: name, Level: level, CredentialID: cred.ID, Credential: b,
		SignCount: cred.SignCount, UsableFrom: t, CreatedAt: t, UpdatedAt: t}
	err = r.Store.InTx(ctx, func(ctx context.Context) error {
		if err := r.Store.InsertAuthenticator(ctx, a); err != nil {
			return err
		}
		return r.Log.Record(ctx, audit.Event{Actor: actor, Action: "chip.registered", Identity: identityUUID,
			Details: map[string]string{"authenticator": a.ID, "level": level.String()}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// responseCredentialID reads rawId from a PublicKeyCredential JSON.
func responseCredentialID(response []byte) ([]byte, error) {
	if len(response) > MaxResponseSize {
		return nil, ErrResponseTooLarge
	}
	var r struct {
		RawID string `json:"rawId"`
	}
	if err := json.Unmarshal(response, &r); err != nil {
		return nil, err
	}
	return base64.RawURLEncoding.DecodeString(r.RawID)
}
