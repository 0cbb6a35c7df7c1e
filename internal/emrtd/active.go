package emrtd

import (
	"crypto"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
)

// ErrActiveAuthentication is returned, wrapped, when a chip's answer to an
// active authentication challenge does not verify with the key in DG15: the
// chip is a copy, or the answer was not made for this challenge.
var ErrActiveAuthentication = errors.New("emrtd: active authentication failed")

// ChallengeSize is the length of an active authentication challenge, the
// 8 bytes of INTERNAL AUTHENTICATE (ICAO 9303 part 11, section 6.1).
const ChallengeSize = 8

// ISO/IEC 9796-2, section 7.3.2 (trailer field) and annex: hash identifiers
// in a two-byte trailer "hashID CC"; a one-byte trailer BC means SHA-1 to
// ICAO (part 11, section 6.1.2).
var iso9796HashIDs = map[byte]crypto.Hash{
	0x33: crypto.SHA1,
	0x34: crypto.SHA256,
	0x35: crypto.SHA512,
	0x36: crypto.SHA384,
	0x38: crypto.SHA224,
}

const (
	iso9796Header  = 0x6A // '01' header, '1' partial recovery, then padding nibble A: no padding
	trailerSHA1    = 0xBC // implicit SHA-1
	trailerExplict = 0xCC // the byte before names the hash
)

// ActiveAuthenticate checks a chip's answer to an active authentication
// challenge (ICAO 9303 part 11, section 6.1) with the public key in DG15.
// The challenge must be fresh and chosen by the verifier, and DG15 must
// have passed [PassiveAuthenticate]: otherwise this proves nothing.
//
// For an RSA key the answer is an ISO/IEC 9796-2 digital signature scheme 1
// signature with partial message recovery: opening it with the public key
// gives 6A || M1 || H(M1 || challenge) || trailer, the trailer BC meaning
// SHA-1, or a hash identifier followed by CC.
//
// For an elliptic-curve key the answer is a plain ECDSA signature r || s of
// the challenge (BSI TR-03111, section 5.2.1) with the hash that DG14's
// ActiveAuthenticationInfo names. Part 11, section 9.2.9, requires that
// entry whenever ECDSA is used, so a nil or silent DG14 is an error rather
// than a guess at SHA-1.
func ActiveAuthenticate(dg15, dg14 []byte, challenge [ChallengeSize]byte, signature []byte) error {
	key, err := ParseDG15(dg15)
	if err != nil {
		return err
	}
	if key.rsa != nil {
		return verifyISO9796(key, challenge[:], signature)
	}
	if dg14 == nil {
		return fmt.Errorf("%w: an ECDSA key in DG15 needs DG14 to name the hash (part 11, section 9.2.9), and there is none", ErrActiveAuthentication)
	}
	infos, err := ParseDG14(dg14)
	if err != nil {
		return err
	}
	if infos.ActiveAuthentication == nil {
		return fmt.Errorf("%w: DG14 has no ActiveAuthenticationInfo for the ECDSA key in DG15", ErrActiveAuthentication)
	}
	h := infos.ActiveAuthentication.Hash
	alg := signatureAlgorithm{scheme: schemeECDSAPlain, hash: h}
	if err := alg.verify(key, challenge[:], signature); err != nil {
		return fmt.Errorf("%w: %v signature by the %v key in DG15 does not verify", ErrActiveAuthentication, alg, key)
	}
	return nil
}

// verifyISO9796 checks an ISO/IEC 9796-2 scheme 1 signature with partial
// message recovery, recovering M1 and comparing H(M1 || m2) with the hash
// in the signature. The RSA operation is done with math/big on public
// values: nothing here is secret.
func verifyISO9796(key *PublicKey, m2, sig []byte) error {
	n := key.rsa.N
	k := (n.BitLen() + 7) / 8
	if n.BitLen()%8 != 0 {
		// The header must be the top byte of a k-byte representative; with a
		// modulus of another length the representative loses its leading
		// bits. Real active authentication keys are 1024, 1536 or 2048 bits.
		return fmt.Errorf("%w: RSA modulus of %d bits is not a whole number of bytes", ErrUnsupportedKey, n.BitLen())
	}
	if len(sig) != k {
		return fmt.Errorf("%w: signature of %d bytes for a %d-byte modulus", ErrActiveAuthentication, len(sig), k)
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(n) >= 0 {
		return fmt.Errorf("%w: signature is not less than the modulus", ErrActiveAuthentication)
	}
	f := new(big.Int).Exp(s, big.NewInt(int64(key.rsa.E)), n).FillBytes(make([]byte, k))
	if f[0] != iso9796Header {
		return fmt.Errorf("%w: recovered message starts %02X, want %02X (ISO/IEC 9796-2 partial recovery)", ErrActiveAuthentication, f[0], iso9796Header)
	}
	var h crypto.Hash
	t := 1
	switch f[k-1] {
	case trailerSHA1:
		h = crypto.SHA1
	case trailerExplict:
		t = 2
		var ok bool
		if h, ok = iso9796HashIDs[f[k-2]]; !ok {
			return fmt.Errorf("%w: recovered trailer names hash %02X, which is not known", ErrActiveAuthentication, f[k-2])
		}
	default:
		return fmt.Errorf("%w: recovered trailer %02X is neither BC nor CC", ErrActiveAuthentication, f[k-1])
	}
	end := k - t - h.Size()
	if end <= 1 {
		return fmt.Errorf("%w: no room for a recovered message", ErrActiveAuthentication)
	}
	m1, digest := f[1:end], f[end:k-t]
	hh := h.New()
	hh.Write(m1)
	hh.Write(m2)
	if subtle.ConstantTimeCompare(hh.Sum(nil), digest) != 1 {
		return fmt.Errorf("%w: %v of the recovered message and the challenge differs from the signed one", ErrActiveAuthentication, h)
	}
	return nil
}
