package testtool

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"

	"github.com/openmitid/openmitid/internal/authenticator/fido"
	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
)

// SoftChips registers software FIDO2 keys through the real registration
// ceremony, as a browser would with a security key.
type SoftChips struct {
	Registrar *fido.Registrar
	Origin    string // the issuer's origin, as a browser on its pages sends it
	RPID      string
}

// EnrolSoftKey implements [ChipEnroller]: it returns the key as
// {"credential_id", "private_key", "sign_count"} (softkey's form, base64url),
// plus "private_key_pkcs8" (base64) and "rp_id" for a browser's virtual
// authenticator.
func (s SoftChips) EnrolSoftKey(ctx context.Context, id *identity.Identity, level nsis.Level) (json.RawMessage, error) {
	key := softkey.New(rand.Reader)
	options, session, err := s.Registrar.Begin(ctx, id.UUID, id.UserID)
	if err != nil {
		return nil, err
	}
	resp, err := key.Register(options, s.Origin)
	if err != nil {
		return nil, err
	}
	if _, err := s.Registrar.Finish(ctx, id.UUID, id.UserID, session, resp, level, "Test chip", actor); err != nil {
		return nil, err
	}
	b, err := key.Marshal()
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	p8, err := key.PKCS8()
	if err != nil {
		return nil, err
	}
	out["private_key_pkcs8"] = base64.StdEncoding.EncodeToString(p8)
	out["rp_id"] = s.RPID
	return json.Marshal(out)
}
