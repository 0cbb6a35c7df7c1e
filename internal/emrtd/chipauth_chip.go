package emrtd

import (
	"bytes"
	"fmt"
)

// AnswerChipAuthentication is the chip's side of chip authentication, for
// synthetic passports and the reference app: given the data of MSE:Set
// (and for AES of GENERAL AUTHENTICATE) that [ChipAuthenticationRun] made,
// it computes the shared secret with key, the chip's private chip
// authentication key, derives the session keys, checks the protected
// command's MAC, and answers READ BINARY from dg1 under the new keys. A key
// that is not the one in DG14 (a copied chip) answers under other keys, so
// the terminal's [ChipAuthenticationRun.VerifyResponse] fails.
//
// Like [SignChallenge], the arithmetic is not constant time: never use it
// with a key that matters.
func AnswerChipAuthentication(key *ChipKey, dg14, mse, generalAuthenticate, command, dg1 []byte) ([]byte, error) {
	if key == nil || key.curve == nil {
		return nil, fmt.Errorf("%w: chip authentication needs an elliptic-curve key", ErrMalformedChipKey)
	}
	ca, err := NewChipAuthentication(dg14)
	if err != nil {
		return nil, err
	}
	objs, err := ParseTLVs(mse)
	if err != nil {
		return nil, fmt.Errorf("%w: MSE:Set: %w", ErrSecureMessaging, nested(err))
	}
	var point, keyID, protocol []byte
	for _, o := range objs {
		switch o.Tag {
		case 0x91:
			point = o.Value
		case 0x84:
			keyID = o.Value
		case 0x80:
			protocol = o.Value
		default:
			return nil, fmt.Errorf("%w: MSE:Set has data object %X", ErrSecureMessaging, o.Tag)
		}
	}
	if ca.keyID != nil && !bytes.Equal(keyID, ca.keyID.Bytes()) {
		return nil, fmt.Errorf("%w: MSE:Set names key %X, DG14 %v", ErrSecureMessaging, keyID, ca.keyID)
	}
	if ca.aes {
		if !bytes.Equal(protocol, oidContent(ca.protocol)) {
			return nil, fmt.Errorf("%w: MSE:Set AT names another protocol than DG14's %v", ErrSecureMessaging, ca.protocol)
		}
		t, err := ParseTLV(generalAuthenticate)
		if err != nil || t.Tag != 0x7C {
			return nil, fmt.Errorf("%w: GENERAL AUTHENTICATE data is not 7C { 80 key }", ErrSecureMessaging)
		}
		inner, err := t.Children()
		if err != nil || len(inner) != 1 || inner[0].Tag != 0x80 {
			return nil, fmt.Errorf("%w: GENERAL AUTHENTICATE data is not 7C { 80 key }", ErrSecureMessaging)
		}
		point = inner[0].Value
	}
	c := key.curve
	x, y, err := c.UnmarshalPoint(point)
	if err != nil {
		return nil, fmt.Errorf("%w: the terminal's key: %v", ErrSecureMessaging, err)
	}
	zx, _ := c.ScalarMult(x, y, key.d)
	if zx == nil {
		return nil, fmt.Errorf("%w: the shared point is the point at infinity", ErrSecureMessaging)
	}
	kEnc, kMac := caSessionKeys(zx.FillBytes(make([]byte, c.ByteLen())), ca.keyLen)
	ch, err := newChannel(ca.aes, kEnc, kMac)
	if err != nil {
		return nil, err
	}
	header, _, le, err := ch.unprotectCommand(command)
	if err != nil {
		return ch.protectResponse(nil, 0x6988), nil // incorrect secure messaging data objects
	}
	if header[1] != 0xB0 || header[2] != 0x80|dg1SFI || header[3] != 0 || le < 0 {
		return ch.protectResponse(nil, 0x6A86), nil // incorrect P1 or P2
	}
	n := le
	if n == 0 {
		n = 256
	}
	return ch.protectResponse(dg1[:min(n, len(dg1))], 0x9000), nil
}
