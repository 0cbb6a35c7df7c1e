package emrtd

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// Basic access control's mutual authentication and secure messaging, the
// terminal's side (ICAO 9303 part 11, sections 4.3 and 9.8, with 3DES). The
// server never talks to a chip; this is here for a reference reader and so
// that the appendix D worked example, which runs through it, is tested
// whole.

// ErrSecureMessaging is returned, wrapped, when a chip's answer fails its
// MAC, does not match the terminal's nonce, or is malformed.
var ErrSecureMessaging = errors.New("emrtd: secure messaging failed")

func tripleDES(k [16]byte) cipher.Block {
	key := append(append(make([]byte, 0, 24), k[:]...), k[:8]...) // two-key 3DES: K1, K2, K1
	c, err := des.NewTripleDESCipher(key)
	if err != nil {
		// NewTripleDESCipher fails only for a key that is not 24 bytes.
		panic(err)
	}
	return c
}

// pad80 applies ISO/IEC 9797-1 padding method 2: 80, then zeros to a whole
// DES block.
func pad80(b []byte) []byte {
	out := append(append([]byte(nil), b...), 0x80)
	for len(out)%des.BlockSize != 0 {
		out = append(out, 0)
	}
	return out
}

// unpad80 removes ISO/IEC 9797-1 padding method 2 from the last block of b
// (blockSize: 8 for 3DES, 16 for AES).
func unpad80(b []byte, blockSize int) ([]byte, error) {
	for i := len(b) - 1; i >= 0 && i >= len(b)-blockSize; i-- {
		switch b[i] {
		case 0x80:
			return b[:i], nil
		case 0:
			continue
		}
		break
	}
	return nil, fmt.Errorf("%w: decrypted data lacks ISO/IEC 9797-1 padding", ErrSecureMessaging)
}

// retailMAC is ISO/IEC 9797-1 MAC algorithm 3 with DES (part 11, section
// 9.8.6.2): CBC-MAC with the key's first half over padded data, the last
// block decrypted with the second half and encrypted with the first.
func retailMAC(k [16]byte, data []byte) []byte {
	k1, _ := des.NewCipher(k[:8]) // 8-byte keys never fail
	k2, _ := des.NewCipher(k[8:])
	padded := pad80(data)
	h := make([]byte, des.BlockSize)
	for i := 0; i < len(padded); i += des.BlockSize {
		subtle.XORBytes(h, h, padded[i:i+des.BlockSize])
		k1.Encrypt(h, h)
	}
	k2.Decrypt(h, h)
	k1.Encrypt(h, h)
	return h
}

func encrypt3DES(k [16]byte, plain []byte) []byte {
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(tripleDES(k), make([]byte, des.BlockSize)).CryptBlocks(out, plain)
	return out
}

func decrypt3DES(k [16]byte, ct []byte) []byte {
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(tripleDES(k), make([]byte, des.BlockSize)).CryptBlocks(out, ct)
	return out
}

// BACAuthenticate is the terminal's part of BAC mutual authentication
// (ICAO 9303 part 11, section 4.3.3.1), with its nonce rndIFD and keying
// material kIFD chosen by the caller from a secure random source.
type BACAuthenticate struct {
	keys           BACKeys
	rndICC, rndIFD [8]byte
	kIFD           [16]byte
}

// NewBACAuthenticate starts mutual authentication with the chip's challenge
// rndICC (the answer to GET CHALLENGE).
func NewBACAuthenticate(keys BACKeys, rndICC, rndIFD [8]byte, kIFD [16]byte) *BACAuthenticate {
	return &BACAuthenticate{keys: keys, rndICC: rndICC, rndIFD: rndIFD, kIFD: kIFD}
}

// Command returns the data of EXTERNAL AUTHENTICATE: E.IFD || M.IFD, the
// encryption of RND.IFD || RND.ICC || K.IFD and its MAC.
func (a *BACAuthenticate) Command() []byte {
	s := append(append(append([]byte(nil), a.rndIFD[:]...), a.rndICC[:]...), a.kIFD[:]...)
	e := encrypt3DES(a.keys.Enc, s)
	return append(e, retailMAC(a.keys.MAC, e)...)
}

// Finish checks the chip's answer E.ICC || M.ICC and derives the session:
// KSenc and KSmac from K.IFD xor K.ICC, and the send sequence counter from
// the nonces (part 11, section 9.8.2).
func (a *BACAuthenticate) Finish(resp []byte) (*SecureMessaging, error) {
	if len(resp) != 40 {
		return nil, fmt.Errorf("%w: EXTERNAL AUTHENTICATE answer of %d bytes, want 40", ErrSecureMessaging, len(resp))
	}
	e, m := resp[:32], resp[32:]
	if subtle.ConstantTimeCompare(retailMAC(a.keys.MAC, e), m) != 1 {
		return nil, fmt.Errorf("%w: EXTERNAL AUTHENTICATE answer fails its MAC", ErrSecureMessaging)
	}
	r := decrypt3DES(a.keys.Enc, e)
	if subtle.ConstantTimeCompare(r[:8], a.rndICC[:]) != 1 || subtle.ConstantTimeCompare(r[8:16], a.rndIFD[:]) != 1 {
		return nil, fmt.Errorf("%w: the chip's answer does not carry the two nonces", ErrSecureMessaging)
	}
	var seed [16]byte
	subtle.XORBytes(seed[:], a.kIFD[:], r[16:32])
	keys := DeriveBACKeys(seed)
	ssc := binary.BigEndian.Uint64(append(append([]byte(nil), a.rndICC[4:]...), a.rndIFD[4:]...))
	return &SecureMessaging{keys: keys, ssc: ssc}, nil
}

// SecureMessaging protects command APDUs and checks response APDUs with
// 3DES and the retail MAC (ICAO 9303 part 11, section 9.8). It is not safe
// for concurrent use: every APDU advances the send sequence counter. After
// any error the session is broken, as the chip's is: start a new one.
type SecureMessaging struct {
	keys BACKeys
	ssc  uint64
}

// NewSecureMessaging resumes a session with known keys and counter.
func NewSecureMessaging(keys BACKeys, ssc uint64) *SecureMessaging {
	return &SecureMessaging{keys: keys, ssc: ssc}
}

// Keys returns the session keys, KSenc and KSmac.
func (s *SecureMessaging) Keys() BACKeys { return s.keys }

// SSC returns the send sequence counter.
func (s *SecureMessaging) SSC() uint64 { return s.ssc }

func (s *SecureMessaging) nextSSC() []byte {
	s.ssc++
	return binary.BigEndian.AppendUint64(nil, s.ssc)
}

// Protect wraps a command APDU (part 11, section 9.8.4): the data encrypted
// in DO'87', the expected length in DO'97' (le < 0 for none, 0 for 256),
// and a MAC over the counter, the header and both in DO'8E'. Commands with
// an odd INS (whose data would go in DO'85') are not supported.
func (s *SecureMessaging) Protect(cla, ins, p1, p2 byte, data []byte, le int) ([]byte, error) {
	if ins&1 == 1 || len(data) > 223 || le > 256 {
		return nil, fmt.Errorf("%w: command INS %02X with %d bytes and Le %d cannot be protected here", ErrSecureMessaging, ins, len(data), le)
	}
	header := []byte{cla | 0x0C, ins, p1, p2}
	var dos []byte
	if len(data) > 0 {
		dos = AppendTLV(dos, 0x87, append([]byte{0x01}, encrypt3DES(s.keys.Enc, pad80(data))...))
	}
	if le >= 0 {
		dos = AppendTLV(dos, 0x97, []byte{byte(le)})
	}
	n := append(append(s.nextSSC(), pad80(header)...), dos...)
	body := AppendTLV(dos, 0x8E, retailMAC(s.keys.MAC, n))
	apdu := append(header, byte(len(body)))
	return append(append(apdu, body...), 0x00), nil
}

// Unprotect checks a protected response APDU (part 11, section 9.8.5): the
// MAC in DO'8E' over the counter, DO'87' and DO'99', and returns the
// decrypted data and the status word in DO'99'.
func (s *SecureMessaging) Unprotect(resp []byte) (data []byte, sw uint16, err error) {
	if len(resp) < 2 {
		return nil, 0, fmt.Errorf("%w: response of %d bytes", ErrSecureMessaging, len(resp))
	}
	objs, err := ParseTLVs(resp[:len(resp)-2])
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrSecureMessaging, nested(err))
	}
	var do87, do99, mac []byte
	var macced []byte
	for _, o := range objs {
		switch o.Tag {
		case 0x87:
			do87 = o.Value
			macced = AppendTLV(macced, 0x87, o.Value)
		case 0x99:
			do99 = o.Value
			macced = AppendTLV(macced, 0x99, o.Value)
		case 0x8E:
			mac = o.Value
		default:
			return nil, 0, fmt.Errorf("%w: unexpected data object %X in the response", ErrSecureMessaging, o.Tag)
		}
	}
	ssc := s.nextSSC()
	if mac == nil || len(do99) != 2 {
		return nil, 0, fmt.Errorf("%w: response lacks DO'8E' or a two-byte DO'99'", ErrSecureMessaging)
	}
	if subtle.ConstantTimeCompare(retailMAC(s.keys.MAC, append(ssc, macced...)), mac) != 1 {
		return nil, 0, fmt.Errorf("%w: response fails its MAC", ErrSecureMessaging)
	}
	if do87 != nil {
		if len(do87) < 1+des.BlockSize || do87[0] != 0x01 || (len(do87)-1)%des.BlockSize != 0 {
			return nil, 0, fmt.Errorf("%w: DO'87' is not 01 followed by whole 3DES blocks", ErrSecureMessaging)
		}
		if data, err = unpad80(decrypt3DES(s.keys.Enc, do87[1:]), des.BlockSize); err != nil {
			return nil, 0, err
		}
	}
	return data, binary.BigEndian.Uint16(do99), nil
}
