package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/password"
)

// oryTestKeys are an RSA-2048 and a P-256 signing key and the JWKS that publishes them.
type oryTestKeys struct {
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	jwks jwkSet
}

func newOryTestKeys(t *testing.T) oryTestKeys {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	pt, err := ek.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	return oryTestKeys{rsa: rk, ec: ek, jwks: jwkSet{Keys: []jwk{
		{Kty: "RSA", Kid: "r1", Use: "sig", N: b64(rk.N.Bytes()), E: b64(big.NewInt(int64(rk.E)).Bytes())},
		{Kty: "EC", Kid: "e1", Use: "sig", Crv: "P-256", X: b64(pt[1:33]), Y: b64(pt[33:])},
		{Kty: "RSA", Kid: "enc", Use: "enc", N: b64(rk.N.Bytes()), E: b64(big.NewInt(int64(rk.E)).Bytes())},
	}}}
}

// sign makes a compact JWS of claims with header hdr, signed with the key alg names ("none" and
// unknown algorithms get a junk signature).
func (k oryTestKeys) sign(t *testing.T, hdr, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(hdr) + "." + enc(claims)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch hdr["alg"] {
	case "RS256":
		s, err := rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = s
	case "ES256":
		r, s, err := ecdsa.Sign(rand.Reader, k.ec, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	default:
		sig = []byte("junk")
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestOryVerifyIDToken(t *testing.T) {
	keys := newOryTestKeys(t)
	now := time.Unix(1_800_000_000, 0)
	const iss, client, nonce, sub = "http://127.0.0.1:4444/", "client-1", "n-0S6_WzA2Mj", "6f1c9a52-3a1e-4c51-a1a4-8d0f3f0b9e11"
	claims := func(change func(map[string]any)) map[string]any {
		c := map[string]any{"iss": iss, "sub": sub, "aud": []string{client}, "exp": now.Unix() + 60, "iat": now.Unix(), "nonce": nonce}
		if change != nil {
			change(c)
		}
		return c
	}
	rs := map[string]any{"alg": "RS256", "kid": "r1", "typ": "JWT"}
	es := map[string]any{"alg": "ES256", "kid": "e1", "typ": "JWT"}
	good := keys.sign(t, rs, claims(nil))
	parts := strings.Split(good, ".")

	tests := []struct {
		name  string
		token string
		want  string // a piece of the error; "" means valid
	}{
		{"RS256", good, ""},
		{"ES256", keys.sign(t, es, claims(nil)), ""},
		{"aud as a string", keys.sign(t, rs, claims(func(c map[string]any) { c["aud"] = client })), ""},
		{"aud among others", keys.sign(t, rs, claims(func(c map[string]any) { c["aud"] = []string{"other", client} })), ""},
		{"two parts", parts[0] + "." + parts[1], "has 2 parts"},
		{"four parts", good + ".x", "has 4 parts"},
		{"header not base64url", "!!." + parts[1] + "." + parts[2], "header"},
		{"signature not base64url", parts[0] + "." + parts[1] + ".!!", "signature"},
		{"claims changed after signing", parts[0] + "." + strings.Split(keys.sign(t, rs, claims(func(c map[string]any) { c["sub"] = "mallory" })), ".")[1] + "." + parts[2], "does not verify"},
		{"alg none", keys.sign(t, map[string]any{"alg": "none", "kid": "r1"}, claims(nil)), `alg "none"`},
		{"alg HS256", keys.sign(t, map[string]any{"alg": "HS256", "kid": "r1"}, claims(nil)), `alg "HS256"`},
		{"RS256 naming the EC key", keys.sign(t, map[string]any{"alg": "RS256", "kid": "e1"}, claims(nil)), "non-RSA key"},
		{"ES256 naming the RSA key", keys.sign(t, map[string]any{"alg": "ES256", "kid": "r1"}, claims(nil)), "non-EC key"},
		{"unknown kid", keys.sign(t, map[string]any{"alg": "RS256", "kid": "r2"}, claims(nil)), "not in the issuer's JWKS"},
		{"key for encryption", keys.sign(t, map[string]any{"alg": "RS256", "kid": "enc"}, claims(nil)), "not in the issuer's JWKS"},
		{"other issuer", keys.sign(t, rs, claims(func(c map[string]any) { c["iss"] = "http://evil/" })), "iss"},
		{"other audience", keys.sign(t, rs, claims(func(c map[string]any) { c["aud"] = []string{"client-2"} })), "aud"},
		{"audience a number", keys.sign(t, rs, claims(func(c map[string]any) { c["aud"] = 7 })), "aud"},
		{"other nonce", keys.sign(t, rs, claims(func(c map[string]any) { c["nonce"] = "replayed" })), "nonce"},
		{"no nonce", keys.sign(t, rs, claims(func(c map[string]any) { delete(c, "nonce") })), "nonce"},
		{"other subject", keys.sign(t, rs, claims(func(c map[string]any) { c["sub"] = "mallory" })), "sub"},
		{"expired", keys.sign(t, rs, claims(func(c map[string]any) { c["exp"] = now.Unix() })), "expired"},
		{"no exp", keys.sign(t, rs, claims(func(c map[string]any) { delete(c, "exp") })), "expired"},
		{"too long", good + strings.Repeat("A", maxIDToken), "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := keys.jwks.verifyIDToken(tt.token, iss, client, nonce, sub, now)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("valid token refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("bad token accepted, want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestOryJWKSBadKeys(t *testing.T) {
	tests := []struct {
		name string
		key  jwk
		want string
	}{
		{"RSA below 2048 bits", jwk{Kty: "RSA", Kid: "k", N: base64.RawURLEncoding.EncodeToString(make([]byte, 128)), E: "AQAB"}, "at least 2048"},
		{"RSA n not base64url", jwk{Kty: "RSA", Kid: "k", N: "!!", E: "AQAB"}, "bad RSA"},
		{"RSA e empty", jwk{Kty: "RSA", Kid: "k", N: "AQAB", E: ""}, "bad RSA"},
		{"EC on P-384", jwk{Kty: "EC", Kid: "k", Crv: "P-384"}, "not a P-256"},
		{"EC point not on the curve", jwk{Kty: "EC", Kid: "k", Crv: "P-256", X: base64.RawURLEncoding.EncodeToString(make([]byte, 32)), Y: base64.RawURLEncoding.EncodeToString(make([]byte, 32))}, "k"},
		{"octet key", jwk{Kty: "oct", Kid: "k"}, `key type "oct"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := jwkSet{Keys: []jwk{tt.key}}.key("k")
			if err == nil || pub != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("key() = %v, %v; want no key and an error with %q", pub, err, tt.want)
			}
		})
	}
}

func TestOryCheckHash(t *testing.T) {
	h, err := password.NewHasher(password.OWASP, nil)
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Peer-password-1"
	good, err := h.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	cheap := password.Params{Memory: 64 * 1024, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}
	ch, err := password.NewHasher(cheap, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ch.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, pw, encoded, want string
	}{
		{"argon2id at OWASP", pw, good, ""},
		{"another password", "Peer-password-2", good, "does not verify"},
		{"Kratos's default parameters", pw, other, "not OpenMitID's"},
		{"bcrypt", pw, "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", "stored password hash"},
		{"empty", pw, "", "stored password hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := oryCheckHash(tt.pw, tt.encoded)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}

// The settings flow captured from Kratos v26.2.0 for a user without TOTP (its QR image cut out).
func TestKratosTOTPSecret(t *testing.T) {
	b, err := os.ReadFile("testdata/kratos-v26.2.0-settings-flow.json")
	if err != nil {
		t.Fatal(err)
	}
	var fl kratosFlow
	if err := json.Unmarshal(b, &fl); err != nil {
		t.Fatal(err)
	}
	if s, err := fl.totpSecret(); err != nil || s != "PTOHCM5LYIJYRRQAD6AFS5RLVXFA4GVV" {
		t.Fatalf("totpSecret() = %q, %v", s, err)
	}
	if fl.ID == "" {
		t.Fatal("flow without an ID")
	}

	// A user who has paired already gets no secret node.
	var paired kratosFlow
	if err := json.Unmarshal(b, &paired); err != nil {
		t.Fatal(err)
	}
	paired.UI.Nodes = paired.UI.Nodes[:0]
	for _, n := range fl.UI.Nodes {
		if n.Attributes.ID != "totp_secret_key" {
			paired.UI.Nodes = append(paired.UI.Nodes, n)
		}
	}
	if s, err := paired.totpSecret(); err == nil || s != "" {
		t.Fatalf("totpSecret() without the node = %q, %v; want an error", s, err)
	}
}

func TestOryStatusError(t *testing.T) {
	tests := []struct {
		name string
		code int
		body string
		kind string
		want string
	}{
		{"Kratos flow message", 400, `{"ui":{"messages":[{"text":"The provided credentials are invalid"}]}}`, "http_400", "credentials are invalid"},
		{"Kratos node message", 400, `{"ui":{"nodes":[{"messages":[{"text":"The TOTP code is wrong"}]}]}}`, "http_400", "TOTP code is wrong"},
		{"Hydra API error", 404, `{"error":{"code":404,"message":"Not Found"}}`, "http_404", "Not Found"},
		{"OAuth 2.0 error", 400, `{"error":"invalid_grant","error_description":"The code was used"}`, "http_400", "The code was used"},
		{"not JSON, cut to 300 bytes", 503, strings.Repeat("x", 400), "http_503", strings.Repeat("x", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := oryStatusError(tt.code, []byte(tt.body))
			var ke *KindError
			if !errors.As(err, &ke) || ke.Kind != tt.kind || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("oryStatusError = %v, want kind %s with %q", err, tt.kind, tt.want)
			}
			if strings.Contains(err.Error(), strings.Repeat("x", 301)) {
				t.Fatal("error not cut")
			}
		})
	}
}

// Setup refuses a configuration it cannot use before it sends anything: the URLs point at a port
// nothing listens on, so a request would fail with another error.
func TestOrySetupRefusesBadConfig(t *testing.T) {
	good := OryConfig{KratosPublic: "http://127.0.0.1:1", KratosAdmin: "http://127.0.0.1:1", HydraPublic: "http://127.0.0.1:1",
		HydraAdmin: "http://127.0.0.1:1", ClientID: "c", ClientSecret: "s", RedirectURI: "http://127.0.0.1/callback"}
	tests := []struct {
		name   string
		change func(*OryConfig)
		users  int
		want   string
	}{
		{"no users", func(*OryConfig) {}, 0, "at least one user"},
		{"Kratos public missing", func(c *OryConfig) { c.KratosPublic = "" }, 1, "KratosPublic"},
		{"Kratos admin not http", func(c *OryConfig) { c.KratosAdmin = "ftp://127.0.0.1:1" }, 1, "KratosAdmin"},
		{"Hydra public without host", func(c *OryConfig) { c.HydraPublic = "http://" }, 1, "HydraPublic"},
		{"Hydra admin not a URL", func(c *OryConfig) { c.HydraAdmin = "http://[::1" }, 1, "HydraAdmin"},
		{"redirect URI relative", func(c *OryConfig) { c.RedirectURI = "/callback" }, 1, "RedirectURI"},
		{"no client ID", func(c *OryConfig) { c.ClientID = "" }, 1, "ClientID"},
		{"no client secret", func(c *OryConfig) { c.ClientSecret = "" }, 1, "ClientSecret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			f := NewOryFlow(cfg)
			err := f.Setup(t.Context(), tt.users)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Setup = %v, want an error naming %q", err, tt.want)
			}
			if n := len(f.(*oryFlow).users); n != 0 {
				t.Fatalf("Setup made %d users", n)
			}
			var ke *KindError
			if errors.As(err, &ke) {
				t.Fatalf("Setup sent a request: %v", err)
			}
		})
	}
	// Login before Setup is a counted failure, not a panic.
	err := NewOryFlow(good).Login(t.Context(), 0, nil)
	var ke *KindError
	if !errors.As(err, &ke) || ke.Kind != "setup" {
		t.Fatalf("Login before Setup = %v, want kind setup", err)
	}
}
