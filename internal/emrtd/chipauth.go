package emrtd

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/openmitid/openmitid/internal/emrtd/internal/ecmath"
)

// ErrChipAuthentication is returned, wrapped, when a chip's answer after
// chip authentication does not show that it holds the private key of DG14:
// the answer fails its MAC under the session keys, or is not the answer to
// the command, or carries other data than DG1. The chip is a copy, or the
// answer was made for another run.
var ErrChipAuthentication = errors.New("emrtd: chip authentication failed")

// Chip authentication protocols (BSI TR-03110 part 3, appendix A.1.1.2;
// ICAO 9303 part 11, section 9.2.5): id-CA-ECDH followed by the cipher of
// the secure messaging that results.
var (
	oidCAECDH3DES   = append(append(asn1.ObjectIdentifier(nil), oidCAECDH...), 1)
	oidCAECDHAES128 = append(append(asn1.ObjectIdentifier(nil), oidCAECDH...), 2)
	oidCAECDHAES192 = append(append(asn1.ObjectIdentifier(nil), oidCAECDH...), 3)
	oidCAECDHAES256 = append(append(asn1.ObjectIdentifier(nil), oidCAECDH...), 4)
)

// caProtocols lists the protocols [NewChipAuthentication] accepts, in the
// order it prefers them when DG14 offers several.
var caProtocols = []struct {
	oid    asn1.ObjectIdentifier
	aes    bool
	keyLen int
}{
	{oidCAECDHAES256, true, 32},
	{oidCAECDHAES192, true, 24},
	{oidCAECDHAES128, true, 16},
	{oidCAECDH3DES, false, 16},
}

// The DG1 read that proves the session keys (ICAO 9303 part 11, section
// 6.2.3.1: the chip is authentic once it answers a command under them):
// READ BINARY of the first 16 bytes of EF.DG1 by short file identifier.
const (
	dg1SFI      = 0x01
	caReadBytes = 16
)

// ChipAuthentication is what DG14 offers for chip authentication with
// elliptic-curve Diffie-Hellman (ICAO 9303 part 11, section 6.2; BSI
// TR-03110 part 1, section 3.4): the protocol, the chip's static public key
// and its key identifier. Get one with [NewChipAuthentication], then
// [ChipAuthentication.Terminal] for the terminal's side of a run.
type ChipAuthentication struct {
	protocol asn1.ObjectIdentifier
	aes      bool
	keyLen   int
	keyID    *big.Int
	key      *PublicKey
}

// NewChipAuthentication picks the chip authentication DG14 offers: an
// id-CA-ECDH-3DES-CBC-CBC or id-CA-ECDH-AES-CBC-CMAC-128/192/256
// ChipAuthenticationInfo with its id-PK-ECDH key (matched by key
// identifier where DG14 has several keys). DG14 without any
// ChipAuthenticationInfo but with a single id-PK-ECDH key means 3DES (part
// 11, section 9.2.5). It returns an error wrapping [ErrUnsupportedAlgorithm]
// for Diffie-Hellman over a finite field and for other protocols, and
// [ErrChipAuthentication] when DG14 offers no chip authentication at all.
// DG14 must have passed [PassiveAuthenticate].
func NewChipAuthentication(dg14 []byte) (*ChipAuthentication, error) {
	si, err := ParseDG14(dg14)
	if err != nil {
		return nil, err
	}
	infos := si.ChipAuthentication
	if len(infos) == 0 && len(si.ChipAuthenticationKeys) == 1 && si.ChipAuthenticationKeys[0].Protocol.Equal(oidPKECDH) {
		infos = []ChipAuthenticationInfo{{Protocol: oidCAECDH3DES, Version: 1}}
	}
	if len(infos) == 0 {
		return nil, fmt.Errorf("%w: DG14 offers no chip authentication", ErrChipAuthentication)
	}
	for _, p := range caProtocols {
		for _, info := range infos {
			if !info.Protocol.Equal(p.oid) {
				continue
			}
			pk, err := caKey(si.ChipAuthenticationKeys, info.KeyID)
			if err != nil {
				return nil, err
			}
			return &ChipAuthentication{protocol: p.oid, aes: p.aes, keyLen: p.keyLen, keyID: info.KeyID, key: pk}, nil
		}
	}
	return nil, fmt.Errorf("%w: DG14 offers chip authentication only by %v; this server does ECDH with 3DES or AES", ErrUnsupportedAlgorithm, infos[0].Protocol)
}

// caKey finds the id-PK-ECDH key with the key identifier (any single key
// when id is nil) and checks that it is an elliptic-curve key.
func caKey(keys []ChipAuthenticationPublicKeyInfo, id *big.Int) (*PublicKey, error) {
	var found *ChipAuthenticationPublicKeyInfo
	for i, k := range keys {
		if id == nil && len(keys) == 1 || id != nil && k.KeyID != nil && k.KeyID.Cmp(id) == 0 {
			found = &keys[i]
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: DG14 has no chip authentication public key with key id %v", ErrChipAuthentication, id)
	}
	if !found.Protocol.Equal(oidPKECDH) {
		return nil, fmt.Errorf("%w: chip authentication key %v is not id-PK-ECDH", ErrUnsupportedAlgorithm, found.Protocol)
	}
	pk, err := ParsePublicKey(found.PublicKey)
	if err != nil {
		return nil, err
	}
	if pk.curve == nil {
		return nil, fmt.Errorf("%w: chip authentication key is %v, not an elliptic-curve key", ErrUnsupportedAlgorithm, pk)
	}
	return pk, nil
}

// Protocol returns the OID of the protocol, id-CA-ECDH-*.
func (ca *ChipAuthentication) Protocol() asn1.ObjectIdentifier { return ca.protocol }

// KeyID returns the chip's key identifier, or nil when DG14 names none.
func (ca *ChipAuthentication) KeyID() *big.Int { return ca.keyID }

// ChipPublicKey returns the chip's static public key, an uncompressed
// point.
func (ca *ChipAuthentication) ChipPublicKey() []byte { return ca.key.Point() }

// CurveOID returns the named-curve OID of the chip's key.
func (ca *ChipAuthentication) CurveOID() asn1.ObjectIdentifier { return ca.key.curve.OID }

// ScalarSeedSize is how many bytes [ChipAuthentication.Terminal] needs to
// make the terminal's private key: the curve's scalar length and 8 more, so
// that reducing them modulo the order is unbiased to 2^-64.
func (ca *ChipAuthentication) ScalarSeedSize() int { return ca.key.curve.ScalarLen() + 8 }

// Terminal starts the terminal's side of a run with the ephemeral private
// key seed mod (n-1) + 1, n the curve's order, so that the same seed gives
// the same run. The seed must be secret and used for one run only: whoever
// knows it can compute the session keys from the chip's public key. It must
// be at least [ChipAuthentication.ScalarSeedSize] bytes.
func (ca *ChipAuthentication) Terminal(seed []byte) (*ChipAuthenticationRun, error) {
	c := ca.key.curve
	if len(seed) < ca.ScalarSeedSize() {
		return nil, fmt.Errorf("emrtd: chip authentication seed of %d bytes, want at least %d", len(seed), ca.ScalarSeedSize())
	}
	nm1 := new(big.Int).Sub(c.N, big.NewInt(1))
	sk := new(big.Int).Mod(new(big.Int).SetBytes(seed), nm1)
	sk.Add(sk, big.NewInt(1))
	pub, k, err := ecdhShared(c, sk, ca.key.x, ca.key.y)
	if err != nil {
		return nil, err
	}
	return ca.run(pub, k)
}

func (ca *ChipAuthentication) run(terminalPublic, k []byte) (*ChipAuthenticationRun, error) {
	kEnc, kMac := caSessionKeys(k, ca.keyLen)
	ch, err := newChannel(ca.aes, kEnc, kMac)
	if err != nil {
		return nil, err
	}
	r := &ChipAuthenticationRun{ca: ca, terminalPublic: terminalPublic, ch: ch}
	r.command = ch.protectCommand(0x00, 0xB0, 0x80|dg1SFI, 0x00, nil, caReadBytes)
	return r, nil
}

// ecdhShared computes the terminal's public key sk·G and the shared secret,
// the x-coordinate of sk·(x, y) in field-length octets (BSI TR-03111,
// section 4.3.1). The NIST curves go through crypto/ecdh, which is constant
// time. For the brainpool curves, whose arithmetic here is math/big, the
// scalar is blinded with a random multiple of the order on every call, so
// that timing measured over repeated runs with one seed does not add up to
// its bits.
func ecdhShared(c *ecmath.Curve, sk, x, y *big.Int) (pub, shared []byte, err error) {
	if std := stdECDH(c); std != nil {
		priv, err := std.NewPrivateKey(sk.FillBytes(make([]byte, c.ScalarLen())))
		if err != nil {
			return nil, nil, fmt.Errorf("emrtd: chip authentication key: %v", err)
		}
		peer, err := std.NewPublicKey(c.MarshalPoint(x, y))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
		}
		z, err := priv.ECDH(peer)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrChipAuthentication, err)
		}
		return priv.PublicKey().Bytes(), z, nil
	}
	blind := func() *big.Int {
		r, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
		if err != nil {
			// crypto/rand.Reader does not fail (its documentation, Go 1.24 on).
			panic(err)
		}
		return r.Add(sk, r.Mul(r, c.N))
	}
	px, py := c.ScalarMult(c.Gx, c.Gy, blind())
	zx, _ := c.ScalarMult(x, y, blind())
	if zx == nil || px == nil {
		return nil, nil, fmt.Errorf("%w: the shared point is the point at infinity", ErrChipAuthentication)
	}
	return c.MarshalPoint(px, py), zx.FillBytes(make([]byte, c.ByteLen())), nil
}

func stdECDH(c *ecmath.Curve) ecdh.Curve {
	switch c {
	case ecmath.P256:
		return ecdh.P256()
	case ecmath.P384:
		return ecdh.P384()
	case ecmath.P521:
		return ecdh.P521()
	}
	return nil
}

// caSessionKeys derives KSenc and KSmac from the shared secret by the key
// derivation function of ICAO 9303 part 11, section 9.7.1: H(K || c) with c
// a 32-bit counter, 1 for encryption and 2 for the MAC, SHA-1 for 3DES and
// AES-128 (keys of 16 bytes), SHA-256 for AES-192 and AES-256, cut to the
// key length. 3DES parity bits are left as they come: DES ignores them.
func caSessionKeys(k []byte, keyLen int) (kEnc, kMac []byte) {
	h := sha1.New
	if keyLen > 16 {
		h = sha256.New
	}
	derive := func(counter uint32) []byte {
		hh := h()
		hh.Write(k)
		hh.Write(binary.BigEndian.AppendUint32(nil, counter))
		return hh.Sum(nil)[:keyLen]
	}
	return derive(1), derive(2)
}

// ChipAuthenticationRun is the terminal's side of one run of chip
// authentication, with the session keys derived and the secure messaging
// counter at zero. It is not safe for concurrent use.
type ChipAuthenticationRun struct {
	ca             *ChipAuthentication
	terminalPublic []byte
	ch             *channel
	command        []byte
}

// TerminalPublicKey returns the terminal's ephemeral public key, an
// uncompressed point.
func (r *ChipAuthenticationRun) TerminalPublicKey() []byte { return bytes.Clone(r.terminalPublic) }

// MSE returns the data of the MSE:Set command the app sends the chip under
// its BAC or PACE secure messaging (ICAO 9303 part 11, section 6.2.4;
// BSI TR-03110 part 3, appendix B.14.1): for 3DES, MSE:Set KAT (P1P2 = 41A6)
// with the ephemeral public key in tag 91 and the key identifier in tag 84;
// for AES, MSE:Set AT (P1P2 = 41A4) with the protocol OID in tag 80 and the
// key identifier in tag 84. The key identifier is left out when DG14 has
// none.
func (r *ChipAuthenticationRun) MSE() []byte {
	var b []byte
	if r.ca.aes {
		b = AppendTLV(b, 0x80, oidContent(r.ca.protocol))
	} else {
		b = AppendTLV(b, 0x91, r.terminalPublic)
	}
	if r.ca.keyID != nil {
		b = AppendTLV(b, 0x84, r.ca.keyID.Bytes())
	}
	return b
}

// GeneralAuthenticate returns the data of the GENERAL AUTHENTICATE command
// that follows MSE:Set AT for AES, 7C { 80 ephemeral public key } (BSI
// TR-03110 part 3, appendix B.11.2), or nil for 3DES, where MSE:Set KAT
// carries the key.
func (r *ChipAuthenticationRun) GeneralAuthenticate() []byte {
	if !r.ca.aes {
		return nil
	}
	return AppendTLV(nil, 0x7C, AppendTLV(nil, 0x80, r.terminalPublic))
}

// Command returns the first command under the new session keys: READ
// BINARY of the first 16 bytes of DG1 by short file identifier, protected.
// Only a chip that holds the private key of DG14 can answer it.
func (r *ChipAuthenticationRun) Command() []byte { return bytes.Clone(r.command) }

// VerifyResponse checks the chip's raw response APDU to [Command]: its MAC
// under the new session keys (compared in constant time), its status 9000,
// and its data, which must be the first 16 bytes of dg1, the DG1 that
// [PassiveAuthenticate] verified. Any failure is an error wrapping
// [ErrChipAuthentication]. Call it once per run: it advances the counter.
func (r *ChipAuthenticationRun) VerifyResponse(resp, dg1 []byte) error {
	data, sw, err := r.ch.unprotectResponse(resp)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrChipAuthentication, err)
	}
	if sw != 0x9000 {
		return fmt.Errorf("%w: the chip answered status %04X, not 9000", ErrChipAuthentication, sw)
	}
	want := dg1
	if len(want) > caReadBytes {
		want = want[:caReadBytes]
	}
	if len(data) != len(want) || subtle.ConstantTimeCompare(data, want) != 1 {
		return fmt.Errorf("%w: the chip answered %d bytes that are not the start of DG1", ErrChipAuthentication, len(data))
	}
	return nil
}

// oidContent returns the content octets of an OID's DER encoding, as tag
// 80 of MSE:Set AT carries it.
func oidContent(oid asn1.ObjectIdentifier) []byte {
	der, err := asn1.Marshal(oid)
	if err != nil {
		// The OIDs passed are the constants above, all valid.
		panic(err)
	}
	t, err := ParseTLV(der)
	if err != nil {
		panic(err)
	}
	return t.Value
}
