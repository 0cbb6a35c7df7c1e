// Package oidc is the OpenID provider (OpenID Connect Core 1.0, Discovery 1.0,
// RP-Initiated and Back-Channel Logout 1.0; RFC 7636 PKCE, RFC 9126 PAR,
// RFC 7523 private_key_jwt, RFC 8252 loopback redirects), on zitadel/oidc's
// op package with storage on our store. A login at the provider is a login
// flow of internal/authn: /authorize makes an authorization request, starts a
// flow for it bound to the browser, and the login pages run the flow; when it
// ends, the browser comes back through /authorize/finish/{flow}, which issues the
// code or an OpenID error.
package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/pki"
)

// Scopes a client may be allowed. openid is always allowed; profile gives
// name, given_name, family_name and birthdate; age gives age; cpr gives the
// CPR number, and only to clients allowed to see it.
var KnownScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, "age", "cpr"}

// Client is a service provider.
type Client struct {
	ID                     string
	Name                   string // shown to the person and in the app
	SecretHash             string // hex SHA-256 of the client secret; "" when it has none
	AuthMethod             oidc.AuthMethod
	JWKS                   string // private_key_jwt: its public keys (a JWK Set)
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	BackchannelLogoutURI   string
	Native                 bool // a native app: loopback redirect URIs match on any port (RFC 8252, Section 7.3)
	Scopes                 []string
	CPRAllowed             bool
	PCodeAllowed           bool
	MinLevel               nsis.Level
	IDTokenAlg             string // RS256 or ES256
	PublicSubject          bool   // the identity's UUID as sub, instead of a pairwise one
	CreatedAt, UpdatedAt   time.Time
}

// ErrInvalidClient is returned for a client configuration that may not be stored.
var ErrInvalidClient = errors.New("oidc: invalid client")

// HashSecret returns the stored form of a client secret. Secrets are made with
// 256 random bits (see [NewSecret]), so a plain hash suffices and costs the
// token endpoint nothing.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte("openmitid client secret\x00" + secret))
	return hex.EncodeToString(sum[:])
}

// CheckSecret compares a presented secret with the stored hash in constant time.
func (c *Client) CheckSecret(secret string) bool {
	if c.SecretHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.SecretHash), []byte(HashSecret(secret))) == 1
}

// Validate checks a client configuration: a name, a known authentication
// method with what it needs, redirect URIs that are absolute, without fragment,
// and https except loopback (or a native app's own scheme), known scopes,
// levels and algorithms.
func (c *Client) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidClient, c.ID, fmt.Sprintf(format, args...))
	}
	if c.ID == "" || len(c.ID) > 128 || strings.ContainsAny(c.ID, " \t\r\n/?#") {
		return bad("the id must be 1 to 128 characters without spaces or / ? #")
	}
	if strings.TrimSpace(c.Name) == "" || len(c.Name) > 100 {
		return bad("the name must be 1 to 100 characters")
	}
	switch c.AuthMethod {
	case oidc.AuthMethodBasic, oidc.AuthMethodPost:
		if c.SecretHash == "" {
			return bad("%s needs a secret", c.AuthMethod)
		}
	case oidc.AuthMethodPrivateKeyJWT:
		if c.JWKS == "" {
			return bad("private_key_jwt needs the client's public keys (--jwks)")
		}
	case oidc.AuthMethodNone:
		if !c.Native {
			return bad("only a native app may be a public client (no authentication)")
		}
	default:
		return bad("unknown authentication method %q", c.AuthMethod)
	}
	if len(c.RedirectURIs) == 0 {
		return bad("at least one redirect URI is needed")
	}
	for _, list := range [][]string{c.RedirectURIs, c.PostLogoutRedirectURIs, {c.BackchannelLogoutURI}} {
		for _, u := range list {
			if u == "" && len(list) == 1 && list[0] == c.BackchannelLogoutURI {
				continue
			}
			if err := checkRedirectURI(u, c.Native); err != nil {
				return bad("%v", err)
			}
		}
	}
	for _, s := range c.Scopes {
		if !slices.Contains(KnownScopes, s) {
			return bad("unknown scope %q (known: %s)", s, strings.Join(KnownScopes, " "))
		}
	}
	if slices.Contains(c.Scopes, "cpr") && !c.CPRAllowed {
		return bad("the cpr scope needs the client to be allowed to see CPR numbers")
	}
	if !c.MinLevel.Valid() {
		return bad("the lowest level must be low, substantial or high")
	}
	if c.IDTokenAlg != pki.RS256 && c.IDTokenAlg != pki.ES256 {
		return bad("the ID token algorithm must be RS256 or ES256")
	}
	return nil
}

func checkRedirectURI(raw string, native bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URI without fragment", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case native && u.Scheme != "http" && strings.Contains(u.Scheme, "."):
		// A private-use scheme in reverse domain notation (RFC 8252, Section 7.1).
	default:
		return fmt.Errorf("%q must be https (http only on loopback)", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q must not hold user information", raw)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// opClient is a Client as zitadel's op package sees it.
type opClient struct {
	c        *Client
	loginURL func(authRequestID string) string
}

var _ op.Client = opClient{}

func (o opClient) GetID() string                    { return o.c.ID }
func (o opClient) RedirectURIs() []string           { return o.c.RedirectURIs }
func (o opClient) PostLogoutRedirectURIs() []string { return o.c.PostLogoutRedirectURIs }
func (o opClient) ApplicationType() op.ApplicationType {
	if o.c.Native {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}
func (o opClient) AuthMethod() oidc.AuthMethod { return o.c.AuthMethod }
func (o opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (o opClient) GrantTypes() []oidc.GrantType         { return []oidc.GrantType{oidc.GrantTypeCode} }
func (o opClient) LoginURL(id string) string            { return o.loginURL(id) }
func (o opClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (o opClient) IDTokenLifetime() time.Duration       { return TokenLifetime }
func (o opClient) DevMode() bool                        { return false }
func (o opClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (o opClient) ClockSkew() time.Duration             { return 0 }
func (o opClient) IsScopeAllowed(scope string) bool     { return slices.Contains(o.c.Scopes, scope) }
func (o opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return o.allowedScopes
}
func (o opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return o.allowedScopes
}

func (o opClient) allowedScopes(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s == oidc.ScopeOpenID || slices.Contains(o.c.Scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// TokenLifetime is how long ID tokens and access tokens are valid. There are
// no refresh tokens: a service provider that needs the person again asks them
// to log in again, as MitID's do.
const TokenLifetime = 10 * time.Minute

// Directory finds service providers for the login engine (it implements
// authn.Clients): their display name and lowest level.
type Directory struct{ Store Store }

// Client implements authn.Clients.
func (d Directory) Client(ctx context.Context, id string) (authn.Client, error) {
	c, err := d.Store.Client(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return authn.Client{}, fmt.Errorf("%w: %q", authn.ErrClientNotFound, id)
	}
	if err != nil {
		return authn.Client{}, err
	}
	return authn.Client{ID: c.ID, Name: c.Name, MinLevel: c.MinLevel}, nil
}

// DemoSecret is the demo client's secret (CONTRACT.md): demo mode only.
const DemoSecret = "demo-secret"

// DemoClient is the confidential client of demo mode (CONTRACT.md): any
// loopback port on /callback (RFC 8252), and the demo service provider's own
// callback under the issuer.
func DemoClient(issuer string, now time.Time) *Client {
	issuer = strings.TrimSuffix(issuer, "/")
	return &Client{ID: "demo", Name: "OpenMitID Demo", SecretHash: HashSecret(DemoSecret), AuthMethod: oidc.AuthMethodBasic,
		RedirectURIs:           []string{"http://127.0.0.1/callback", "http://localhost/callback", issuer + "/demo/callback"},
		PostLogoutRedirectURIs: []string{issuer + "/demo/", "http://127.0.0.1/", "http://localhost/"},
		Native:                 true, Scopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile, "age", "cpr"}, CPRAllowed: true,
		MinLevel: nsis.Low, IDTokenAlg: pki.RS256, CreatedAt: now, UpdatedAt: now}
}
