package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/pki"
)

// Identities is what the provider needs of internal/identity.
type Identities interface {
	ByUUID(ctx context.Context, identityUUID string) (*identity.Identity, error)
}

// storage implements zitadel's op.Storage on our store.
type storage struct {
	p *Provider
}

var _ op.Storage = storage{}

type ctxKey int

const (
	keyParams ctxKey = iota // the authorization request's extra parameters
	keyClient               // the client of a token request, for its signing algorithm
)

// extraParams are the Danish brokers' parameters zitadel's request type does not carry.
type extraParams struct {
	LoaValue      string
	ReferenceText string
	ActionText    string
}

func (s storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.p.store.Client(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown client")
	}
	extra, _ := ctx.Value(keyParams).(extraParams)
	level, err := requestedLevel(req.ACRValues, extra.LoaValue)
	if err != nil {
		return nil, err
	}
	level = max(level, c.MinLevel)
	if req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge is required (PKCE, RFC 7636, with S256)")
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		// Every login is a new one: there is never a session to reuse silently.
		return nil, oidc.ErrLoginRequired().WithDescription("MitID has no session to log in with silently")
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_type=code is supported")
	}
	switch req.ResponseMode {
	case "", oidc.ResponseModeQuery, oidc.ResponseModeFragment:
	default:
		// form_post would need a page that submits itself, which the strict
		// Content-Security-Policy forbids; the error goes back by query.
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode must be query or fragment")
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("the scope must include openid: this is an OpenID provider")
	}
	// A scope the client may not have is not granted (RFC 6749, Section 3.3
	// lets the server ignore it); op already drops the non-standard ones.
	scopes := req.Scopes[:0:0]
	for _, sc := range req.Scopes {
		if sc == oidc.ScopeOpenID || slices.Contains(c.Scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	req.Scopes = scopes
	refText, err := referenceText(extra.ReferenceText)
	if err != nil {
		return nil, err
	}
	now := s.p.now().UTC()
	a := &AuthRequest{ID: uuid.NewString(), ClientID: c.ID, Level: level, CreatedAt: now, ExpiresAt: now.Add(authRequestLifetime),
		Request: StoredRequest{RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce, Scopes: req.Scopes,
			ResponseType: req.ResponseType, ResponseMode: req.ResponseMode, CodeChallenge: req.CodeChallenge,
			CodeChallengeMethod: req.CodeChallengeMethod, ReferenceText: refText, ActionText: extra.ActionText,
			UILocales: localesOf(req.UILocales)}}
	err = s.p.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.p.store.InsertAuthRequest(ctx, a); err != nil {
			return err
		}
		return s.p.log.Record(ctx, audit.Event{Actor: audit.ActorClient(c.ID), Action: "oidc.authorize",
			Details: map[string]string{"auth_request": a.ID, "level": level.String(), "scopes": fmt.Sprint(req.Scopes)}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// authRequestLifetime covers a whole login (10 minutes) and the code exchange.
const authRequestLifetime = 15 * time.Minute

func localesOf(l oidc.Locales) []string {
	var out []string
	for _, t := range l {
		out = append(out, t.String())
	}
	return out
}

// requestedLevel reads the level from acr_values (the NSIS URIs or the words)
// or the brokers' loa_value; the highest named wins, and substantial when none is.
func requestedLevel(acr []string, loa string) (nsis.Level, error) {
	level := nsis.None
	for _, v := range append(append([]string{}, acr...), loa) {
		if v == "" {
			continue
		}
		l, err := nsis.Parse(v)
		if err != nil {
			return nsis.None, oidc.ErrInvalidRequest().WithDescription(
				"unknown level %q: acr_values and loa_value take low, substantial or high, or their NSIS URIs", v)
		}
		level = max(level, l)
	}
	if level == nsis.None {
		level = nsis.Substantial
	}
	return level, nil
}

// referenceText accepts the brokers' base64 form (the text the app shows, base64
// of UTF-8) and plain text; it refuses more than 130 characters.
func referenceText(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	text := s
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && enc.EncodeToString(b) == s && validText(string(b)) {
			text = string(b)
			break
		}
	}
	if !validText(text) || len([]rune(text)) > 130 {
		return "", oidc.ErrInvalidRequest().WithDescription("reference_text must be at most 130 characters of text (plain or base64)")
	}
	return text, nil
}

func validText(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 || r == 0x7f || r == '\u202e' || r == '\u202d' {
			return false
		}
	}
	return true
}

func (s storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	a, err := s.p.store.AuthRequest(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired request").WithParent(err)
	}
	if !s.p.now().Before(a.ExpiresAt) {
		return nil, oidc.ErrInvalidRequest().WithDescription("the request has expired")
	}
	return a, nil
}

func codeHash(code string) []byte {
	sum := sha256.Sum256([]byte("openmitid code\x00" + code))
	return sum[:]
}

func (s storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	a, err := s.p.store.ConsumeAuthCode(ctx, codeHash(code))
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is unknown, expired or used").WithParent(err)
	}
	if !s.p.now().Before(a.ExpiresAt) || a.Result == nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is unknown, expired or used")
	}
	return a, nil
}

func (s storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.p.store.SaveAuthCode(ctx, id, codeHash(code))
}

// DeleteAuthRequest is called by the token endpoint after the exchange, when
// redeeming the code ([Store.ConsumeAuthCode]) has removed the request
// already: a read then saves a write transaction, and its commit, per login.
func (s storage) DeleteAuthRequest(ctx context.Context, id string) error {
	if _, err := s.p.store.AuthRequest(ctx, id); errors.Is(err, ErrNotFound) {
		return nil
	}
	return s.p.store.DeleteAuthRequest(ctx, id)
}

func (s storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	a, ok := req.(*AuthRequest)
	if !ok || a.Result == nil {
		return "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("only the authorization code grant is supported")
	}
	now := s.p.now().UTC()
	t := &Token{ID: uuid.NewString(), ClientID: a.ClientID, Identity: a.Identity, Subject: a.Result.Subject,
		Scopes: a.Request.Scopes, Audience: []string{a.ClientID}, AuthRequest: a.ID, Result: *a.Result,
		CreatedAt: now, ExpiresAt: now.Add(TokenLifetime)}
	err := s.p.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.p.store.InsertToken(ctx, t); err != nil {
			return err
		}
		return s.p.log.Record(ctx, audit.Event{Actor: audit.ActorClient(a.ClientID), Action: "oidc.token_issued",
			Identity: a.Identity, Details: map[string]string{"auth_request": a.ID, "token": t.ID, "loa": a.Result.LoA}})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return t.ID, t.ExpiresAt, nil
}

func (s storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not issued")
}

func (s storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s storage) TerminateSession(ctx context.Context, subject, clientID string) error {
	// RP-initiated logout: end the client's tokens of the person the
	// id_token_hint names.
	ident, err := s.p.identityOfSubject(ctx, subject, clientID)
	if err != nil {
		return nil // nothing to end: logout still succeeds, and says nothing
	}
	return s.p.store.InTx(ctx, func(ctx context.Context) error {
		revoked, err := s.p.store.RevokeTokensOf(ctx, ident, clientID, s.p.now())
		if err != nil {
			return err
		}
		return s.p.log.Record(ctx, audit.Event{Actor: audit.ActorClient(clientID), Action: "oidc.logout", Identity: ident,
			Details: map[string]string{"tokens_revoked": fmt.Sprint(len(revoked))}})
	})
}

func (s storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	t, err := s.p.store.Token(ctx, tokenOrID)
	if err != nil || t.ClientID != clientID {
		return nil // RFC 7009, Section 2.2: an unknown token is not an error
	}
	if err := s.p.store.RevokeToken(ctx, t.ID, s.p.now()); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// signingKey is a pki key as op uses it.
type signingKey struct{ k pki.SigningKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Alg)
}
func (k signingKey) Key() any   { return k.k.Private }
func (k signingKey) ID() string { return k.k.KID }

func (s storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg := pki.RS256
	if c, ok := ctx.Value(keyClient).(*Client); ok {
		alg = c.IDTokenAlg
	}
	k, err := s.p.keys.Signer(ctx, alg)
	if err != nil {
		return nil, err
	}
	return signingKey{k}, nil
}

func (s storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, nil
}

// publicKey is a published key as op lists it in the JWKS.
type publicKey struct{ k pki.SigningKey }

func (k publicKey) ID() string                         { return k.k.KID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(k.k.Alg) }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.k.Public }

func (s storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.p.keys.Published(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.p.store.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	return opClient{c: c, loginURL: s.p.loginURL}, nil
}

func (s storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.p.store.Client(ctx, id)
	if err != nil || !c.CheckSecret(secret) {
		if err == nil || errors.Is(err, ErrNotFound) {
			return errors.New("invalid client credentials")
		}
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil // deprecated by op; SetUserinfoFromRequest does the work
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	a, ok := req.(*AuthRequest)
	if !ok || a.Result == nil {
		return oidc.ErrServerError().WithDescription("no login behind the token")
	}
	return s.p.claims(ctx, ui, a.ClientID, a.Identity, *a.Result, scopes)
}

func (s storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, _, _ string) error {
	t, err := s.p.store.Token(ctx, tokenID)
	if err != nil || !t.Live(s.p.now()) {
		return oidc.ErrAccessDenied().WithDescription("the access token is not valid")
	}
	return s.p.claims(ctx, ui, t.ClientID, t.Identity, t.Result, t.Scopes)
}

func (s storage) SetIntrospectionFromToken(ctx context.Context, ir *oidc.IntrospectionResponse, tokenID, _, clientID string) error {
	t, err := s.p.store.Token(ctx, tokenID)
	if err != nil || !t.Live(s.p.now()) || !slices.Contains(t.Audience, clientID) {
		return nil // inactive
	}
	ir.Active, ir.Subject, ir.ClientID = true, t.Subject, t.ClientID
	ir.Scope = oidc.SpaceDelimitedArray(t.Scopes)
	ir.Expiration, ir.IssuedAt = oidc.FromTime(t.ExpiresAt), oidc.FromTime(t.CreatedAt)
	ir.Audience = t.Audience
	ir.TokenType = oidc.BearerToken
	return nil
}

func (s storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil // access tokens are opaque
}

func (s storage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	c, err := s.p.store.Client(ctx, clientID)
	if err != nil || c.AuthMethod != oidc.AuthMethodPrivateKeyJWT {
		return nil, errors.New("unknown client or not a private_key_jwt client")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(c.JWKS), &set); err != nil {
		return nil, fmt.Errorf("client %s: its JWKS: %w", clientID, err)
	}
	for _, k := range set.Keys {
		if k.KeyID == keyID && k.Valid() && k.IsPublic() {
			return &k, nil
		}
	}
	if keyID == "" && len(set.Keys) == 1 {
		return &set.Keys[0], nil
	}
	return nil, fmt.Errorf("client %s has no key %q", clientID, keyID)
}

func (s storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnauthorizedClient().WithDescription("the JWT profile grant is not supported")
}

func (s storage) Health(ctx context.Context) error { return s.p.store.Ping(ctx) }

// subject returns what the client sees as sub: a pairwise identifier (OpenID
// Connect Core, Section 8.1; the sector is the client) unless the client is
// configured for the public one, the identity's UUID.
func (p *Provider) subject(c *Client, identityUUID string) string {
	if c.PublicSubject {
		return identityUUID
	}
	m := hmac.New(sha256.New, p.pairwiseKey)
	m.Write([]byte("sub\x00" + c.ID + "\x00" + identityUUID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// identityOfSubject finds the identity behind a client's sub (for logout).
func (p *Provider) identityOfSubject(ctx context.Context, subject, clientID string) (string, error) {
	c, err := p.store.Client(ctx, clientID)
	if err != nil {
		return "", err
	}
	if c.PublicSubject {
		return subject, nil
	}
	return p.tokenOfSubject(ctx, subject, clientID)
}

// claims fills a token's or the userinfo's claims for the scopes.
func (p *Provider) claims(ctx context.Context, ui *oidc.UserInfo, clientID, identityUUID string, r LoginResult, scopes []string) error {
	c, err := p.store.Client(ctx, clientID)
	if err != nil {
		return err
	}
	ui.Subject = r.Subject
	for _, k := range [][2]string{{"loa", r.LoA}, {"ial", r.IAL}, {"aal", r.AAL}} {
		l, _ := nsis.Parse(k[1])
		ui.AppendClaims(k[0], l.URI())
	}
	id, err := p.identities.ByUUID(ctx, identityUUID)
	if err != nil {
		return err
	}
	now := p.now()
	var person cpr.Person
	havePerson := false
	if p.register != nil && !id.CPR.IsZero() {
		if person, err = p.register.Person(ctx, id.CPR); err == nil {
			havePerson = true
		}
	}
	birth := time.Time{}
	if havePerson {
		birth = person.Birthdate
	} else if !id.CPR.IsZero() {
		birth = id.CPR.Birthdate()
	}
	if slices.Contains(scopes, oidc.ScopeProfile) && havePerson {
		ui.Name, ui.GivenName, ui.FamilyName = person.Name(), person.GivenName, person.FamilyName
		ui.Birthdate = person.Birthdate.Format(time.DateOnly)
	}
	// A minor's age always goes to the service provider, which may refuse them.
	if (slices.Contains(scopes, "age") || id.IsMinor(now)) && !birth.IsZero() {
		ui.AppendClaims("age", cpr.AgeOn(birth, now))
	}
	if slices.Contains(scopes, "cpr") && c.CPRAllowed && !id.CPR.IsZero() {
		ui.AppendClaims("cpr", id.CPR.Digits())
	}
	if id.Restrictions&identity.PCodeOnly != 0 {
		ui.AppendClaims("pcode", id.PCode)
	}
	return nil
}
