package appclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// ActivationCodeAlphabet is the alphabet of activation codes: no I, O, 0 or 1,
// which people misread (docs/app-api.md, "POST /app/v1/activate").
const ActivationCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// ActivationCodeLength is the length of an activation code without its dashes.
const ActivationCodeLength = 16

const activationMagic = "OMIDACT1"

// NormalizeActivationCode returns code as the server and the proof take it:
// upper-cased, without spaces (or other white space, from a paste) and dashes.
// It refuses a result that is not [ActivationCodeLength] characters from
// [ActivationCodeAlphabet], so that a typo costs no try against the server's
// rate limit. The error does not repeat the code.
func NormalizeActivationCode(code string) (string, error) {
	var b strings.Builder
	for _, r := range code {
		if r == '-' || unicode.IsSpace(r) {
			continue
		}
		r = unicode.ToUpper(r)
		if r > unicode.MaxASCII || !strings.ContainsRune(ActivationCodeAlphabet, r) {
			return "", fmt.Errorf("appclient: an activation code has only the letters and digits %s; %q is not one of them", ActivationCodeAlphabet, r)
		}
		b.WriteRune(r)
	}
	if b.Len() != ActivationCodeLength {
		return "", fmt.Errorf("appclient: an activation code has %d letters and digits (dashes and spaces aside), not %d", ActivationCodeLength, b.Len())
	}
	return b.String(), nil
}

// ActivationProofMessage returns the bytes the new device key signs to prove
// it holds the key it registers:
//
//	OMIDACT1\n<activation code>\n<public_key>
//
// where the code is normalized ([NormalizeActivationCode]) and publicKey is
// the public_key field exactly as sent (base64 of the SubjectPublicKeyInfo DER).
func ActivationProofMessage(code, publicKey string) []byte {
	return []byte(activationMagic + "\n" + code + "\n" + publicKey)
}

// EncodePublicKey returns the public_key field of an activation: the standard
// base64 (with padding) of the key's SubjectPublicKeyInfo DER.
func EncodePublicKey(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("appclient: encoding the public key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// Activation is the server's answer to an activation.
type Activation struct {
	DeviceID   string    `json:"device_id"`
	UserID     string    `json:"user_id"`
	UsableFrom time.Time `json:"usable_from"` // requests fail with device_not_usable_yet before it
	Level      string    `json:"level"`       // the device's level: "substantial" or "high"
	// Identity is the identity's UUID if the server sends it as "identity"; the
	// documented answer does not have it yet. See [Device.Identity].
	Identity string `json:"identity,omitempty"`
}

// Activate registers key as a new device of the identity the activation code
// belongs to, at server (the issuer URL), under deviceName (POST
// /app/v1/activate). It normalizes code ([NormalizeActivationCode]) and sends
// the normalized code, the public key ([EncodePublicKey]) and the proof of
// possession, the key's signature over [ActivationProofMessage]. The answer's
// device id and key make the [Device] for [New].
//
// Errors from the server are [*APIError]s: invalid_activation_code,
// bad_key, bad_proof, too_many_apps, identity_not_active and the general ones.
func Activate(ctx context.Context, server, code, deviceName string, key *ecdsa.PrivateKey, opts ...Option) (*Activation, error) {
	base, err := baseURL(server)
	if err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	norm, err := NormalizeActivationCode(code)
	if err != nil {
		return nil, err
	}
	pub, err := EncodePublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	proof, err := sign(key, ActivationProofMessage(norm, pub))
	if err != nil {
		return nil, err
	}
	in := struct {
		Code  string `json:"activation_code"`
		Key   string `json:"public_key"`
		Name  string `json:"device_name"`
		Proof string `json:"proof"`
	}{norm, pub, deviceName, proof}
	var a Activation
	o := newOptions(opts)
	if _, err := call(ctx, o.hc, http.MethodPost, base+"/app/v1/activate", in, &a, nil, http.StatusCreated); err != nil {
		return nil, err
	}
	if err := checkDeviceID(a.DeviceID); err != nil {
		return nil, fmt.Errorf("%w (in the activation's answer)", err)
	}
	if a.UserID == "" {
		return nil, fmt.Errorf("appclient: the activation's answer has no user_id")
	}
	return &a, nil
}
