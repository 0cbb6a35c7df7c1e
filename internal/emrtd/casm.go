package emrtd

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
)

// channel is secure messaging after chip authentication (ICAO 9303 part 11,
// section 9.8), both sides, with 3DES (the retail MAC, a zero IV, an 8-byte
// counter) or AES (CMAC truncated to 8 bytes, IV = E(KSenc, SSC), a 16-byte
// counter). The counter starts at zero (section 9.8.3 for chip
// authentication) and advances once per command and once per response.
type channel struct {
	aes    bool
	enc    cipher.Block
	macKey []byte
	ssc    []byte // big-endian, one cipher block
}

func newChannel(aesMode bool, kEnc, kMac []byte) (*channel, error) {
	if !aesMode {
		var k [16]byte
		copy(k[:], kEnc)
		return &channel{enc: tripleDES(k), macKey: kMac, ssc: make([]byte, des.BlockSize)}, nil
	}
	b, err := aes.NewCipher(kEnc)
	if err != nil {
		return nil, err
	}
	return &channel{aes: true, enc: b, macKey: kMac, ssc: make([]byte, aes.BlockSize)}, nil
}

func (c *channel) bs() int { return c.enc.BlockSize() }

func (c *channel) next() {
	for i := len(c.ssc) - 1; i >= 0; i-- {
		c.ssc[i]++
		if c.ssc[i] != 0 {
			return
		}
	}
}

// pad applies ISO/IEC 9797-1 padding method 2 to the cipher's block size.
func (c *channel) pad(b []byte) []byte {
	out := append(append([]byte(nil), b...), 0x80)
	for len(out)%c.bs() != 0 {
		out = append(out, 0)
	}
	return out
}

// mac is the 8-byte MAC over the counter and data (section 9.8.6.2).
func (c *channel) mac(data []byte) []byte {
	in := append(append([]byte(nil), c.ssc...), data...)
	if !c.aes {
		var k [16]byte
		copy(k[:], c.macKey)
		return retailMAC(k, in)
	}
	b, err := aes.NewCipher(c.macKey)
	if err != nil {
		// The MAC key is 16, 24 or 32 bytes, as sessionKeys makes it.
		panic(err)
	}
	return cmac(b, c.pad(in))[:8]
}

func (c *channel) iv() []byte {
	iv := make([]byte, c.bs())
	if c.aes {
		c.enc.Encrypt(iv, c.ssc)
	}
	return iv
}

func (c *channel) encrypt(plain []byte) []byte {
	p := c.pad(plain)
	out := make([]byte, len(p))
	cipher.NewCBCEncrypter(c.enc, c.iv()).CryptBlocks(out, p)
	return out
}

func (c *channel) decrypt(ct []byte) ([]byte, error) {
	if len(ct) == 0 || len(ct)%c.bs() != 0 {
		return nil, fmt.Errorf("%w: encrypted data of %d bytes is not whole cipher blocks", ErrSecureMessaging, len(ct))
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(c.enc, c.iv()).CryptBlocks(out, ct)
	return unpad80(out, c.bs())
}

// protectCommand wraps a command APDU with an even INS (section 9.8.4): the
// data in DO'87', the expected length in DO'97' (le < 0 for none), the MAC
// in DO'8E'.
func (c *channel) protectCommand(cla, ins, p1, p2 byte, data []byte, le int) []byte {
	header := []byte{cla | 0x0C, ins, p1, p2}
	c.next() // before the IV, which AES derives from the counter
	var dos []byte
	if len(data) > 0 {
		dos = AppendTLV(dos, 0x87, append([]byte{0x01}, c.encrypt(data)...))
	}
	if le >= 0 {
		dos = AppendTLV(dos, 0x97, []byte{byte(le)})
	}
	body := AppendTLV(dos, 0x8E, c.mac(append(c.pad(header), dos...)))
	apdu := append(header, byte(len(body)))
	return append(append(apdu, body...), 0x00)
}

// unprotectCommand is the chip's check of protectCommand's output: it
// returns the header, the decrypted data and Le (-1 for none).
func (c *channel) unprotectCommand(apdu []byte) (header, data []byte, le int, err error) {
	if len(apdu) < 6 || int(apdu[4]) != len(apdu)-6 || apdu[len(apdu)-1] != 0 || apdu[0]&0x0C != 0x0C {
		return nil, nil, 0, fmt.Errorf("%w: not a short protected command APDU", ErrSecureMessaging)
	}
	header = apdu[:4]
	objs, err := ParseTLVs(apdu[5 : len(apdu)-1])
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%w: %w", ErrSecureMessaging, nested(err))
	}
	var do87, mac, macced []byte
	le = -1
	for _, o := range objs {
		switch o.Tag {
		case 0x87:
			do87 = o.Value
			macced = AppendTLV(macced, 0x87, o.Value)
		case 0x97:
			if len(o.Value) != 1 {
				return nil, nil, 0, fmt.Errorf("%w: DO'97' of %d bytes", ErrSecureMessaging, len(o.Value))
			}
			le = int(o.Value[0])
			macced = AppendTLV(macced, 0x97, o.Value)
		case 0x8E:
			mac = o.Value
		default:
			return nil, nil, 0, fmt.Errorf("%w: unexpected data object %X in the command", ErrSecureMessaging, o.Tag)
		}
	}
	c.next()
	if subtle.ConstantTimeCompare(c.mac(append(c.pad(header), macced...)), mac) != 1 {
		return nil, nil, 0, fmt.Errorf("%w: command fails its MAC", ErrSecureMessaging)
	}
	if do87 != nil {
		if len(do87) < 1 || do87[0] != 0x01 {
			return nil, nil, 0, fmt.Errorf("%w: DO'87' lacks its padding indicator 01", ErrSecureMessaging)
		}
		if data, err = c.decrypt(do87[1:]); err != nil {
			return nil, nil, 0, err
		}
	}
	return header, data, le, nil
}

// protectResponse is the chip's answer (section 9.8.5): DO'87' with the
// data, DO'99' with the status word, DO'8E' with the MAC, then the status
// word in clear.
func (c *channel) protectResponse(data []byte, sw uint16) []byte {
	c.next()
	var dos []byte
	if len(data) > 0 {
		dos = AppendTLV(dos, 0x87, append([]byte{0x01}, c.encrypt(data)...))
	}
	dos = AppendTLV(dos, 0x99, binary.BigEndian.AppendUint16(nil, sw))
	resp := AppendTLV(dos, 0x8E, c.mac(dos))
	return binary.BigEndian.AppendUint16(resp, sw)
}

// maxResponse bounds a protected response: 256 bytes of data encrypted and
// padded, and the data objects around it.
const maxResponse = 512

// unprotectResponse checks a protected response APDU: exactly DO'87'
// (optional), DO'99' and DO'8E' in that order, the MAC over the counter and
// the first two, the status word in clear equal to DO'99'. It returns the
// decrypted data and the status word.
func (c *channel) unprotectResponse(resp []byte) (data []byte, sw uint16, err error) {
	if len(resp) < 2 || len(resp) > maxResponse {
		return nil, 0, fmt.Errorf("%w: response of %d bytes, want 2 to %d", ErrSecureMessaging, len(resp), maxResponse)
	}
	objs, err := ParseTLVs(resp[:len(resp)-2])
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrSecureMessaging, nested(err))
	}
	if len(objs) > 0 && objs[0].Tag == 0x87 {
		data, objs = objs[0].Value, objs[1:]
	}
	if len(objs) != 2 || objs[0].Tag != 0x99 || len(objs[0].Value) != 2 || objs[1].Tag != 0x8E || len(objs[1].Value) != 8 {
		return nil, 0, fmt.Errorf("%w: response is not [DO'87'] DO'99' DO'8E' with a two-byte status and an 8-byte MAC", ErrSecureMessaging)
	}
	var macced []byte
	if data != nil {
		macced = AppendTLV(macced, 0x87, data)
	}
	macced = AppendTLV(macced, 0x99, objs[0].Value)
	c.next()
	if subtle.ConstantTimeCompare(c.mac(macced), objs[1].Value) != 1 {
		return nil, 0, fmt.Errorf("%w: response fails its MAC", ErrSecureMessaging)
	}
	sw = binary.BigEndian.Uint16(objs[0].Value)
	if sw != binary.BigEndian.Uint16(resp[len(resp)-2:]) {
		return nil, 0, fmt.Errorf("%w: status word %04X in clear differs from DO'99' %04X", ErrSecureMessaging, binary.BigEndian.Uint16(resp[len(resp)-2:]), sw)
	}
	if data == nil {
		return nil, sw, nil
	}
	if len(data) < 1 || data[0] != 0x01 {
		return nil, 0, fmt.Errorf("%w: DO'87' lacks its padding indicator 01", ErrSecureMessaging)
	}
	plain, err := c.decrypt(data[1:])
	if err != nil {
		return nil, 0, err
	}
	return plain, sw, nil
}
