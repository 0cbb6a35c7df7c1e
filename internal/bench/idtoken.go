package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// jwkSet is a JSON Web Key Set (RFC 7517, Section 5) of RSA and P-256 public keys:
// the one ID token check of both flows, OpenMitID's (through [jwks]) and the peer's.
type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// jwk is the part of a JSON Web Key (RFC 7518, Section 6) the ID token check needs.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// errUnknownKey: the token names a key the set does not hold (rotated since it was read).
var errUnknownKey = errors.New("not in the issuer's JWKS")

// maxIDToken bounds the ID tokens the check parses.
const maxIDToken = 16 << 10

// verifyIDToken checks an ID token as a relying party must (OpenID Connect Core 1.0, Section
// 3.1.3.7): a JWS signed with RS256 or ES256 by a key of s (alg "none" and HMAC are refused), from
// issuer, for audience clientID, with the nonce sent, about subject sub (any subject when sub is
// "": a pairwise one the caller cannot know), not expired at now.
func (s jwkSet) verifyIDToken(token, issuer, clientID, nonce, sub string, now time.Time) error {
	if len(token) > maxIDToken {
		return fmt.Errorf("id token of %d bytes, the limit is %d", len(token), maxIDToken)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("id token has %d parts, want 3 (compact JWS)", len(parts))
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return fmt.Errorf("id token header: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("id token signature: %w", err)
	}
	pub, err := s.key(hdr.Kid)
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch hdr.Alg {
	case "RS256":
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("id token alg RS256 with a non-RSA key %q", hdr.Kid)
		}
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig); err != nil {
			return errors.New("id token signature does not verify")
		}
	case "ES256":
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("id token alg ES256 with a non-EC key %q", hdr.Kid)
		}
		// RFC 7518, Section 3.4: R and S, 32 bytes each, concatenated.
		if len(sig) != 64 || !ecdsa.Verify(k, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return errors.New("id token signature does not verify")
		}
	default:
		return fmt.Errorf("id token alg %q is not RS256 or ES256", hdr.Alg)
	}

	var claims struct {
		Iss   string          `json:"iss"`
		Sub   string          `json:"sub"`
		Aud   json.RawMessage `json:"aud"`
		Exp   *int64          `json:"exp"`
		Nonce string          `json:"nonce"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("id token claims: %w", err)
	}
	var aud []string
	if err := json.Unmarshal(claims.Aud, &aud); err != nil {
		var one string
		if json.Unmarshal(claims.Aud, &one) != nil {
			return fmt.Errorf("id token aud %s is neither a string nor an array of strings", claims.Aud)
		}
		aud = []string{one}
	}
	switch {
	case claims.Iss != issuer:
		return fmt.Errorf("id token iss %q, want %q", claims.Iss, issuer)
	case !slices.Contains(aud, clientID):
		return fmt.Errorf("id token aud %q does not contain %q", aud, clientID)
	case claims.Nonce != nonce:
		return fmt.Errorf("id token nonce %q, want the one sent", claims.Nonce)
	case sub != "" && claims.Sub != sub:
		return fmt.Errorf("id token sub %q, want %q", claims.Sub, sub)
	case claims.Exp == nil || now.Unix() >= *claims.Exp:
		return errors.New("id token expired or without exp")
	}
	return nil
}

// key returns the signing key of s with ID kid.
func (s jwkSet) key(kid string) (crypto.PublicKey, error) {
	for _, k := range s.Keys {
		if k.Kid != kid || (k.Use != "" && k.Use != "sig") {
			continue
		}
		switch k.Kty {
		case "RSA":
			n, err1 := base64.RawURLEncoding.DecodeString(k.N)
			e, err2 := base64.RawURLEncoding.DecodeString(k.E)
			if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
				return nil, fmt.Errorf("jwk %q: bad RSA n or e", kid)
			}
			pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
			if pub.N.BitLen() < 2048 {
				return nil, fmt.Errorf("jwk %q: RSA key of %d bits, want at least 2048", kid, pub.N.BitLen())
			}
			return pub, nil
		case "EC":
			x, err1 := base64.RawURLEncoding.DecodeString(k.X)
			y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
			if k.Crv != "P-256" || err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
				return nil, fmt.Errorf("jwk %q: not a P-256 key", kid)
			}
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			if err != nil {
				return nil, fmt.Errorf("jwk %q: %w", kid, err)
			}
			return pub, nil
		default:
			return nil, fmt.Errorf("jwk %q: key type %q", kid, k.Kty)
		}
	}
	return nil, fmt.Errorf("id token kid %q is %w", kid, errUnknownKey)
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
