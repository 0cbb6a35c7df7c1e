package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/web"
)

// Config holds what [New] needs.
type Config struct {
	Issuer      string
	Store       Store
	Log         audit.Log
	Keys        *pki.KeySet
	Identities  Identities
	CPRIndex    func(cpr.Number) []byte // the identity store's blind index, for CPR matches
	Register    cpr.Register            // nil: no name or birthdate claims
	Engine      *authn.Engine
	CryptoKey   [32]byte // op encrypts access tokens and codes under it
	PairwiseKey []byte   // keys pairwise subject identifiers
	Logger      *slog.Logger
	Now         func() time.Time
	HTTPClient  *http.Client // for back-channel logout deliveries
}

// Provider is the OpenID provider.
type Provider struct {
	issuer      string
	store       Store
	log         audit.Log
	keys        *pki.KeySet
	identities  Identities
	cprIndex    func(cpr.Number) []byte
	register    cpr.Register
	engine      *authn.Engine
	pairwiseKey []byte
	logger      *slog.Logger
	now         func() time.Time
	httpClient  *http.Client
	secure      bool
	op          *op.Provider
}

// New returns the provider.
func New(c Config) (*Provider, error) {
	if c.Store == nil || c.Log == nil || c.Keys == nil || c.Identities == nil || c.Engine == nil || c.CPRIndex == nil {
		return nil, errors.New("oidc: New needs a store, an audit log, keys, identities, the CPR index and the engine")
	}
	if len(c.PairwiseKey) < 32 {
		return nil, errors.New("oidc: the pairwise key must have at least 32 bytes")
	}
	iss, err := url.Parse(c.Issuer)
	if err != nil || iss.Host == "" {
		return nil, fmt.Errorf("oidc: issuer %q", c.Issuer)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	p := &Provider{issuer: strings.TrimSuffix(c.Issuer, "/"), store: c.Store, log: c.Log, keys: c.Keys, identities: c.Identities,
		cprIndex: c.CPRIndex, register: c.Register, engine: c.Engine, pairwiseKey: c.PairwiseKey, logger: c.Logger,
		now: c.Now, httpClient: c.HTTPClient, secure: iss.Scheme == "https"}
	cfg := &op.Config{
		CryptoKey:                         c.CryptoKey,
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		AuthMethodPrivateKeyJWT:           true,
		SupportedUILocales:                []language.Tag{language.Danish, language.English},
		SupportedScopes:                   KnownScopes,
		SupportedClaims:                   supportedClaims,
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	opts := []op.Option{op.WithHttpInterceptors(p.tokenClient), op.WithLogger(c.Logger)}
	if !p.secure {
		opts = append(opts, op.WithAllowInsecure())
	}
	if p.op, err = op.NewOpenIDProvider(p.issuer, cfg, storage{p}, opts...); err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	return p, nil
}

var supportedClaims = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp",
	"loa", "ial", "aal", "name", "given_name", "family_name", "birthdate", "age", "cpr", "pcode"}

// Paths the provider serves besides op's.
const (
	PathPAR       = "/par"
	PathCPRMatch  = "/oidc/cpr-match"
	pathStart     = "/authorize/start"
	pathFinish    = "/authorize/finish/"
	parURIPrefix  = "urn:ietf:params:oauth:request_uri:"
	parLifetime   = 90 * time.Second
	maxQuery      = 8 << 10
	cprMatchTries = 3
	cprMatchTime  = 15 * time.Minute
)

// Mount adds the provider's routes to mux. Every error they answer while the
// database is away becomes a 503 ([Provider.whileAway]): pages for the
// browser's routes, JSON for the service provider's.
func (p *Provider) Mount(mux *http.ServeMux) {
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/userinfo", "/revoke", "/keys"} {
		mux.Handle(path, p.whileAway(p.op, false))
	}
	// op's /authorize/callback is not mounted: finish answers with the code.
	mux.Handle("/end_session", p.whileAway(p.op, true))
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.Handle("/authorize", p.whileAway(http.HandlerFunc(p.authorize), true))
	mux.Handle("POST "+PathPAR, p.whileAway(http.HandlerFunc(p.par), false))
	mux.Handle("POST "+PathCPRMatch, p.whileAway(http.HandlerFunc(p.cprMatch), false))
	mux.Handle("GET "+pathStart, p.whileAway(http.HandlerFunc(p.start), true))
	mux.Handle("GET "+pathFinish+"{flow}", p.whileAway(http.HandlerFunc(p.finish), true))
}

func (p *Provider) loginURL(id string) string { return pathStart + "?auth=" + url.QueryEscape(id) }

// Finish tells the login pages where a flow made for an authorization request
// goes when it ends (it implements the pages' Finisher). It does no I/O: the
// work is done when the browser arrives there.
func (p *Provider) Finish(_ context.Context, f *authn.Flow) (string, bool) {
	if f.AuthRequest == "" {
		return "", false
	}
	return pathFinish + f.ID, true
}

// authorize is op's authorization endpoint with what it lacks in front: the
// request_uri of a pushed request (RFC 9126), the brokers' loa_value,
// reference_text and action_text, and refusals of repeated or oversized
// parameters (OpenID Connect Core, Section 3.1.2.1: parameters MUST NOT be
// included more than once). A request that cannot be answered by a redirect
// gets an error page, never a redirect to an unregistered URI.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		errorPage(w, http.StatusMethodNotAllowed, "The login request must be a GET or a POST.")
		return
	}
	if len(r.URL.RawQuery) > maxQuery {
		errorPage(w, http.StatusRequestURITooLong, "The login request is too long.")
		return
	}
	if err := r.ParseForm(); err != nil {
		errorPage(w, http.StatusBadRequest, "The login request could not be read.")
		return
	}
	q := r.Form
	if ru := q.Get("request_uri"); ru != "" {
		id, ok := strings.CutPrefix(ru, parURIPrefix)
		params := ""
		var err error
		if ok {
			params, err = p.store.UsePAR(r.Context(), id, q.Get("client_id"), p.now())
		}
		if !ok || err != nil {
			errorPage(w, http.StatusBadRequest, "The request_uri is unknown, expired, used, or belongs to another service provider.")
			return
		}
		vals, _ := url.ParseQuery(params)
		vals.Set("client_id", q.Get("client_id"))
		r.URL.RawQuery, r.Form, r.PostForm = vals.Encode(), nil, nil
		r.Method = http.MethodGet
		r.Body = http.NoBody
		if err := r.ParseForm(); err != nil {
			errorPage(w, http.StatusBadRequest, "The pushed request could not be read.")
			return
		}
		q = r.Form
	}
	for k, v := range q {
		if len(v) > 1 {
			errorPage(w, http.StatusBadRequest, fmt.Sprintf("The login request repeats the parameter %q.", k))
			return
		}
	}
	if q.Get("client_id") == "" {
		errorPage(w, http.StatusBadRequest, "The login request does not name the service provider (client_id).")
		return
	}
	extra := extraParams{LoaValue: q.Get("loa_value"), ReferenceText: q.Get("reference_text"), ActionText: q.Get("action_text")}
	ctx := context.WithValue(r.Context(), keyParams, extra)
	p.op.ServeHTTP(&errorPageWriter{ResponseWriter: w}, r.WithContext(ctx))
}

// errorPageWriter turns op's plain-text error (answered when it must not
// redirect) into an error page a person can read.
type errorPageWriter struct {
	http.ResponseWriter
	status  int
	replace bool
}

func (e *errorPageWriter) WriteHeader(code int) {
	ct := e.Header().Get("Content-Type")
	if code >= 400 && strings.HasPrefix(ct, "text/plain") {
		e.replace, e.status = true, code
		return
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *errorPageWriter) Write(b []byte) (int, error) {
	if e.replace {
		errorPage(e.ResponseWriter, e.status, "The service provider sent a login request that cannot be used: "+strings.TrimSpace(string(b)))
		e.replace = false
		return len(b), nil
	}
	return e.ResponseWriter.Write(b)
}

var errorTemplate = template.Must(template.New("e").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>MitID: the login cannot start</title></head>
<body><main><h1>The login cannot start</h1><p>{{.}}</p>
<p>Go back to the service provider and try again. If it keeps happening, tell the service provider.</p></main></body></html>`))

func errorPage(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Del("Location")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	errorTemplate.Execute(w, msg)
}

// start begins the login of an authorization request: a flow bound to this
// browser by a cookie, and on to the login pages.
func (p *Provider) start(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := p.store.AuthRequest(ctx, r.URL.Query().Get("auth"))
	if err != nil || !p.now().Before(a.ExpiresAt) || a.FlowID != "" {
		errorPage(w, http.StatusBadRequest, "This login request is unknown, expired or already in use. Go back to the service provider and start again.")
		return
	}
	// The flow and the request's claim on it are one commit: one fsync less
	// per login on SQLite (docs/performance.md, "Load benchmark"), and no
	// flow left behind when the request was already in use.
	var (
		f     *authn.Flow
		token string
		begun error
	)
	err = p.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		f, token, err = p.engine.Start(ctx, authn.StartRequest{ClientID: a.ClientID, Level: a.Level.String(),
			ReferenceText: a.Request.ReferenceText, ActionText: a.Request.ActionText, AuthRequest: a.ID,
			OriginIP: web.ClientIPFrom(ctx), UserAgent: r.UserAgent()})
		if err != nil {
			return err
		}
		begun = p.store.BeginAuthRequest(ctx, a.ID, f.ID)
		return begun
	})
	if begun != nil {
		errorPage(w, http.StatusConflict, "This login request is already in use. Go back to the service provider and start again.")
		return
	}
	if err != nil {
		if e, ok := authn.IsError(err); ok {
			op.AuthRequestError(w, r, a, oidc.ErrInvalidRequest().WithDescription("%s", e.Message), p.op)
			return
		}
		web.WriteInternal(w, r, p.logger, err)
		return
	}
	web.SetFlowCookie(w, f.ID, token, p.secure)
	target := "/login/" + f.ID
	if slices.ContainsFunc(a.Request.UILocales, func(l string) bool { return strings.HasPrefix(l, "en") }) {
		target += "?lang=en"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// finish ends the login of an authorization request: a done flow becomes a
// code for the service provider, a failed one an OpenID error. Only the
// browser that ran the flow (its cookie) can finish it.
func (p *Provider) finish(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("flow")
	f, err := p.engine.Load(ctx, id, web.FlowToken(r, id))
	if err != nil || f.AuthRequest == "" {
		errorPage(w, http.StatusBadRequest, "This login is unknown here, or belongs to another browser.")
		return
	}
	a, err := p.store.AuthRequest(ctx, f.AuthRequest)
	if err != nil {
		errorPage(w, http.StatusBadRequest, "This login request has expired. Go back to the service provider and start again.")
		return
	}
	switch f.State {
	case authn.StateDone:
	case authn.StateFailed:
		op.AuthRequestError(w, r, a, failureError(f.Error), p.op)
		return
	default:
		http.Redirect(w, r, "/login/"+f.ID, http.StatusSeeOther)
		return
	}
	code, err := op.BuildAuthRequestCode(a, p.op.Crypto())
	if err != nil {
		web.WriteInternal(w, r, p.logger, err)
		return
	}
	if a.Result != nil {
		// Finished before: the browser reloaded, perhaps because the first
		// answer never reached it. While the code is unredeemed it is
		// replaced (the one before stops working); once redeemed, the request
		// is gone and the lookup above has answered already.
		if err := p.reissue(ctx, a, code); err != nil {
			if errors.Is(err, ErrCodeUsed) {
				errorPage(w, http.StatusBadRequest, "This login has been used already. Go back to the service provider and start again.")
				return
			}
			web.WriteInternal(w, r, p.logger, err)
			return
		}
		p.respondWithCode(w, r, a, code)
		return
	}
	if err := p.complete(ctx, a, f, code); err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) {
			op.AuthRequestError(w, r, a, oe, p.op)
			return
		}
		web.WriteInternal(w, r, p.logger, err)
		return
	}
	p.respondWithCode(w, r, a, code)
}

// respondWithCode sends the browser back to the service provider with the
// code (RFC 6749, section 4.1.2), as op's callback would: a redirect with the
// code in the query or, if asked, the fragment (form_post is refused at
// /authorize).
func (p *Provider) respondWithCode(w http.ResponseWriter, r *http.Request, a *AuthRequest, code string) {
	resp := &op.CodeResponseType{Code: code, State: a.GetState()}
	u, err := op.AuthResponseURL(a.GetRedirectURI(), a.GetResponseType(), a.GetResponseMode(), resp, p.op.Encoder())
	if err != nil {
		op.AuthRequestError(w, r, a, err, p.op)
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

// complete records a done flow's result on its authorization request with
// the code that will redeem it, in one transaction: the browser goes straight
// back to the service provider, without a round trip through op's callback
// and its commit of its own.
func (p *Provider) complete(ctx context.Context, a *AuthRequest, f *authn.Flow, code string) error {
	res, err := f.Result()
	if err != nil {
		return err
	}
	c, err := p.store.Client(ctx, a.ClientID)
	if err != nil {
		return err
	}
	id, err := p.identities.ByUUID(ctx, res.Identity)
	if err != nil {
		return err
	}
	if id.Restrictions&identity.PCodeOnly != 0 && !c.PCodeAllowed {
		return oidc.ErrAccessDenied().WithDescription("this service provider does not accept MitID without a CPR number")
	}
	if res.LoA < a.Level {
		return oidc.ErrAccessDenied().WithDescription("the login did not reach the level asked for")
	}
	r := LoginResult{Subject: p.subject(c, res.Identity), LoA: res.LoA.String(), IAL: res.IAL.String(), AAL: res.AAL.String(),
		AMR: res.AMR, AuthTime: res.AuthTime}
	return p.store.InTx(ctx, func(ctx context.Context) error {
		if err := p.store.SetAuthRequestResult(ctx, a.ID, res.Identity, r); err != nil {
			return err
		}
		if err := p.store.SaveAuthCode(ctx, a.ID, codeHash(code)); err != nil {
			return err
		}
		a.Result, a.Identity = &r, res.Identity
		return p.log.Record(ctx, audit.Event{Actor: audit.ActorIdentity(res.Identity), Action: "oidc.login_completed",
			Identity: res.Identity, Details: map[string]string{"client": c.ID, "auth_request": a.ID, "loa": r.LoA}})
	})
}

// reissue replaces a finished request's unredeemed code, audited.
func (p *Provider) reissue(ctx context.Context, a *AuthRequest, code string) error {
	return p.store.InTx(ctx, func(ctx context.Context) error {
		if err := p.store.ReplaceAuthCode(ctx, a.ID, codeHash(code)); err != nil {
			return err
		}
		return p.log.Record(ctx, audit.Event{Actor: audit.ActorIdentity(a.Identity), Action: "oidc.code_reissued",
			Identity: a.Identity, Details: map[string]string{"client": a.ClientID, "auth_request": a.ID}})
	})
}

// failureError is the OpenID error a failed flow gives its service provider.
func failureError(code string) *oidc.Error {
	if code == "level_not_reachable" {
		// OpenID Connect Core, Section 3.1.2.6 has no better code; the
		// description says which requirement was not met.
		return oidc.ErrAccessDenied().WithDescription("the person cannot log in at the level asked for")
	}
	if msg := authn.Message(code); msg != "" {
		return oidc.ErrAccessDenied().WithDescription("%s: %s", code, msg)
	}
	return oidc.ErrAccessDenied().WithDescription("%s", code)
}

// tokenClient puts the client of a token request in its context, so that the
// ID token is signed with the algorithm the client is registered for. It reads
// the client id as the request names it (Basic authentication, client_id, or
// a client assertion's subject); op authenticates the client afterwards.
func (p *Provider) tokenClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, web.MaxBody)
		id := ""
		if u, _, ok := r.BasicAuth(); ok {
			id, _ = url.QueryUnescape(u)
		} else if err := r.ParseForm(); err == nil {
			id = r.PostForm.Get("client_id")
			if id == "" {
				id = assertionSubject(r.PostForm.Get("client_assertion"))
			}
		}
		if id != "" {
			if c, err := p.store.Client(r.Context(), id); err == nil {
				r = r.WithContext(context.WithValue(r.Context(), keyClient, c))
			}
		}
		next.ServeHTTP(w, r)
	})
}

func assertionSubject(assertion string) string {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sub string `json:"sub"`
	}
	json.Unmarshal(b, &c)
	return c.Sub
}

// discovery is op's discovery document with what op does not know of: PAR,
// the subject types, the NSIS levels, the CPR match endpoint.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), p.issuer)
	d := op.CreateDiscoveryConfig(ctx, p.op, storage{p})
	d.SubjectTypesSupported = []string{"pairwise", "public"}
	d.ACRValuesSupported = []string{nsis.Low.URI(), nsis.Substantial.URI(), nsis.High.URI()}
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFragment)}
	d.IDTokenSigningAlgValuesSupported = []string{pki.RS256, pki.ES256}
	b, err := json.Marshal(d)
	if err != nil {
		web.WriteInternal(w, r, p.logger, err)
		return
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	m["pushed_authorization_request_endpoint"] = p.issuer + PathPAR
	m["require_pushed_authorization_requests"] = false
	m["cpr_match_endpoint"] = p.issuer + PathCPRMatch
	m["claims_parameter_supported"] = false
	m["request_parameter_supported"] = false
	m["authorization_response_iss_parameter_supported"] = false
	w.Header().Set("Cache-Control", "public, max-age=300")
	web.WriteJSON(w, http.StatusOK, m)
}

func randomID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
