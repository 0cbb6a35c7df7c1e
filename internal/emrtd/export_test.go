package emrtd

import (
	"crypto/aes"
	"encoding/binary"
)

// AESCMAC exposes [cmac] to the external tests, for RFC 4493's vectors.
func AESCMAC(key, msg []byte) []byte {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	return cmac(b, msg)
}

// ProtectResponseBAC answers as a chip in the BAC session sm would, for
// the test of a response under the old keys.
func ProtectResponseBAC(sm *SecureMessaging, data []byte, sw uint16) []byte {
	var enc, mac [16]byte = sm.keys.Enc, sm.keys.MAC
	c, _ := newChannel(false, enc[:], mac[:])
	binary.BigEndian.PutUint64(c.ssc, sm.ssc)
	return c.protectResponse(data, sw)
}
