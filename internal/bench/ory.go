package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/authenticator/password"
)

// OryConfig says where a running ORY Kratos (identities: password, then TOTP as the second
// factor, "aal2") and ORY Hydra (OAuth 2.0 and OpenID Connect) listen, and which Hydra client the
// logins use. The flow is the login and consent app between them: Hydra's login and consent URLs
// need not serve anything, because the flow reads the challenges from Hydra's redirects and accepts
// them through Hydra's admin API. docs/performance.md, "Peer: ORY Kratos + Hydra", says how the
// peer is built and configured.
type OryConfig struct {
	KratosPublic string // Kratos public API, e.g. "http://127.0.0.1:4433"
	KratosAdmin  string // Kratos admin API, e.g. "http://127.0.0.1:4434"
	HydraPublic  string // Hydra public API and OpenID Connect issuer, e.g. "http://127.0.0.1:4444"
	HydraAdmin   string // Hydra admin API, e.g. "http://127.0.0.1:4445"

	// The Hydra client: authorization_code with PKCE (S256), client_secret_basic, scope openid.
	ClientID     string
	ClientSecret string
	RedirectURI  string

	// SchemaID is the Kratos identity schema of the users Setup makes; "" means "person", whose
	// only trait is "username" (the password identifier and the TOTP account name).
	SchemaID string
	// UserPrefix names the users Setup makes, UserPrefix-0, UserPrefix-1, ...; "" picks a random
	// prefix, so that runs against the same databases do not collide.
	UserPrefix string
	// Timeout bounds each HTTP request; 0 means 30 s.
	Timeout time.Duration
}

// oryUser is one user Setup made. Its password and TOTP secret live only in memory.
type oryUser struct {
	name     string
	password string
	id       string // the Kratos identity ID, which becomes the ID token's subject
	totp     otp.TOTP
}

type oryFlow struct {
	cfg       OryConfig
	transport *http.Transport

	// Set by Setup, read-only afterwards.
	users  []oryUser
	issuer string
	keys   jwkSet
	// HashParams are the argon2id parameters of the password hash Kratos stored for the first
	// user, read back through Kratos's admin API.
	hashParams password.Params
}

// NewOryFlow returns a [Flow] that logs in to Hydra's client with a Kratos password and TOTP
// code. Each login is a fresh browser (its own cookie jar, for Hydra's CSRF cookies) over one
// shared connection pool, and performs: the authorization request with PKCE; Kratos's API login
// flow with the password (aal1), then with a TOTP code (aal2); the session's whoami and Hydra's
// admin accept of the login with the Kratos identity as subject; the consent, accepted the same
// way; and the code exchange, whose ID token is verified (signature, issuer, audience, nonce,
// subject, expiry).
func NewOryFlow(cfg OryConfig) Flow {
	if cfg.SchemaID == "" {
		cfg.SchemaID = "person"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	for _, s := range []*string{&cfg.KratosPublic, &cfg.KratosAdmin, &cfg.HydraPublic, &cfg.HydraAdmin} {
		*s = strings.TrimSuffix(*s, "/")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 256
	return &oryFlow{cfg: cfg, transport: tr}
}

func (f *oryFlow) Name() string { return "ory/password+totp" }

// Setup checks the configuration, reads Hydra's discovery document and signing keys, and makes
// users identities in Kratos (through the admin API, with the password in cleartext so that Kratos
// hashes it with its own configured hasher), each with TOTP enabled through the settings API flow
// as a user would. It then reads the first user's stored hash back and refuses to go on unless it
// is argon2id at the parameters of [password.OWASP] and OpenMitID's own hasher verifies it: both
// sides must pay the same for a password.
func (f *oryFlow) Setup(ctx context.Context, users int) error {
	if users < 1 {
		return fmt.Errorf("bench: ory setup needs at least one user, not %d", users)
	}
	for name, s := range map[string]string{"KratosPublic": f.cfg.KratosPublic, "KratosAdmin": f.cfg.KratosAdmin,
		"HydraPublic": f.cfg.HydraPublic, "HydraAdmin": f.cfg.HydraAdmin, "RedirectURI": f.cfg.RedirectURI} {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("bench: ory %s %q is not an http(s) URL", name, s)
		}
	}
	if f.cfg.ClientID == "" || f.cfg.ClientSecret == "" {
		return errors.New("bench: ory ClientID and ClientSecret are required")
	}
	prefix := f.cfg.UserPrefix
	if prefix == "" {
		prefix = "bench-" + oryRandom(6)
	}
	c := f.client(nil)
	if err := f.discover(ctx, c); err != nil {
		return err
	}

	f.users = make([]oryUser, users)
	errs := make([]error, users)
	sem := make(chan struct{}, 4) // Kratos hashes each password twice here; do not swamp it
	var wg sync.WaitGroup
	for i := range f.users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f.users[i], errs[i] = f.makeUser(ctx, c, fmt.Sprintf("%s-%d", prefix, i))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: ory setup: %w", err)
	}
	return f.checkHash(ctx, c, f.users[0])
}

// discover reads Hydra's OpenID Connect discovery document and its JWKS.
func (f *oryFlow) discover(ctx context.Context, c *http.Client) error {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := f.getJSON(ctx, c, f.cfg.HydraPublic+"/.well-known/openid-configuration", nil, &disc); err != nil {
		return fmt.Errorf("bench: ory discovery: %w", err)
	}
	var set jwkSet
	if err := f.getJSON(ctx, c, disc.JWKSURI, nil, &set); err != nil {
		return fmt.Errorf("bench: ory jwks: %w", err)
	}
	f.issuer, f.keys = disc.Issuer, set
	return nil
}

// makeUser creates one identity with a password and enables TOTP for it.
func (f *oryFlow) makeUser(ctx context.Context, c *http.Client, name string) (oryUser, error) {
	u := oryUser{name: name, password: oryRandom(18)}
	body := map[string]any{
		"schema_id": f.cfg.SchemaID,
		"state":     "active",
		"traits":    map[string]any{"username": name},
		"credentials": map[string]any{
			"password": map[string]any{"config": map[string]any{"password": u.password}},
		},
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := f.sendJSON(ctx, c, http.MethodPost, f.cfg.KratosAdmin+"/admin/identities", nil, body, &created, http.StatusCreated); err != nil {
		return u, fmt.Errorf("create identity %s: %w", name, err)
	}
	u.id = created.ID

	token, err := f.passwordLogin(ctx, c, u)
	if err != nil {
		return u, fmt.Errorf("first login of %s: %w", name, err)
	}
	hdr := http.Header{"X-Session-Token": {token}}
	var flow kratosFlow
	if err := f.getJSON(ctx, c, f.cfg.KratosPublic+"/self-service/settings/api", hdr, &flow); err != nil {
		return u, fmt.Errorf("settings flow of %s: %w", name, err)
	}
	secret, err := flow.totpSecret()
	if err != nil {
		return u, fmt.Errorf("settings flow of %s: %w", name, err)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return u, fmt.Errorf("TOTP secret of %s is not base32: %w", name, err)
	}
	u.totp = otp.TOTP{Secret: key}
	if err := u.totp.Validate(); err != nil {
		return u, fmt.Errorf("TOTP secret of %s: %w", name, err)
	}
	submit := map[string]any{"method": "totp", "totp_code": u.totp.At(time.Now())}
	if err := f.sendJSON(ctx, c, http.MethodPost, f.cfg.KratosPublic+"/self-service/settings?flow="+url.QueryEscape(flow.ID), hdr, submit, nil, http.StatusOK); err != nil {
		return u, fmt.Errorf("enable TOTP of %s: %w", name, err)
	}
	return u, nil
}

// checkHash reads the password hash Kratos stored for u and checks it against password.OWASP.
func (f *oryFlow) checkHash(ctx context.Context, c *http.Client, u oryUser) error {
	var ident struct {
		Credentials struct {
			Password struct {
				Config struct {
					HashedPassword string `json:"hashed_password"`
				} `json:"config"`
			} `json:"password"`
			TOTP *struct{} `json:"totp"`
		} `json:"credentials"`
	}
	if err := f.getJSON(ctx, c, f.cfg.KratosAdmin+"/admin/identities/"+url.PathEscape(u.id)+"?include_credential=password&include_credential=totp", nil, &ident); err != nil {
		return fmt.Errorf("bench: ory read back identity %s: %w", u.name, err)
	}
	if ident.Credentials.TOTP == nil {
		return fmt.Errorf("bench: ory identity %s has no TOTP credential after setup", u.name)
	}
	p, err := oryCheckHash(u.password, ident.Credentials.Password.Config.HashedPassword)
	if err != nil {
		return fmt.Errorf("bench: ory identity %s: %w", u.name, err)
	}
	f.hashParams = p
	return nil
}

// oryCheckHash checks that a peer's stored password hash is argon2id at [password.OWASP] and that
// OpenMitID's hasher verifies pw against it.
func oryCheckHash(pw, encoded string) (password.Params, error) {
	p, err := password.Decode(encoded)
	if err != nil {
		return p, fmt.Errorf("stored password hash: %w", err)
	}
	if p != password.OWASP {
		return p, fmt.Errorf("stored password hash is argon2id %v, not OpenMitID's %v", p, password.OWASP)
	}
	h, err := password.NewHasher(password.OWASP, nil)
	if err != nil {
		return p, err
	}
	ok, _, err := h.Verify(pw, encoded)
	if err != nil || !ok {
		return p, fmt.Errorf("OpenMitID's hasher does not verify the stored password hash (ok=%v, err=%v)", ok, err)
	}
	return p, nil
}

// Login performs one whole login for virtual user vu; see [NewOryFlow].
func (f *oryFlow) Login(ctx context.Context, vu int, rec Recorder) error {
	if len(f.users) == 0 {
		return &KindError{Kind: "setup", Err: errors.New("ory flow has no users: Setup first")}
	}
	u := f.users[vu%len(f.users)]
	// The browser keeps Hydra's CSRF cookies. The login app and the relying party call Kratos
	// and the two APIs from their servers, without them: cookies do not tell ports apart, and
	// Kratos refuses an API flow that comes with cookies.
	jar, _ := cookiejar.New(nil) // cookiejar.New never fails without a public suffix list
	browser, c := f.client(jar), f.client(nil)

	// 1. The authorization request, with PKCE (RFC 7636) S256.
	start := time.Now()
	verifier, state, nonce := oryRandom(32), oryRandom(16), oryRandom(16)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {f.cfg.ClientID},
		"redirect_uri":          {f.cfg.RedirectURI},
		"scope":                 {"openid"},
		"state":                 {state},
		"nonce":                 {nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	loc, err := f.redirect(ctx, browser, f.cfg.HydraPublic+"/oauth2/auth?"+q.Encode())
	if err != nil {
		return oryStepError("authorize", err)
	}
	loginChallenge := loc.Query().Get("login_challenge")
	if loginChallenge == "" {
		return &KindError{Kind: "protocol", Err: fmt.Errorf("authorize: redirect to %s has no login_challenge", loc.Redacted())}
	}
	start = oryStep(rec, "authorize", start)

	// 2. Kratos API login flow with the password: an aal1 session.
	token, err := f.passwordLogin(ctx, c, u)
	if err != nil {
		return oryStepError("password", err)
	}
	start = oryStep(rec, "password", start)

	// 3. The same session stepped up to aal2 with a TOTP code.
	hdr := http.Header{"X-Session-Token": {token}}
	var flow kratosFlow
	if err := f.getJSON(ctx, c, f.cfg.KratosPublic+"/self-service/login/api?aal=aal2", hdr, &flow); err != nil {
		return oryStepError("totp", err)
	}
	totp := map[string]any{"method": "totp", "totp_code": u.totp.At(time.Now())}
	if err := f.sendJSON(ctx, c, http.MethodPost, f.cfg.KratosPublic+"/self-service/login?flow="+url.QueryEscape(flow.ID), hdr, totp, nil, http.StatusOK); err != nil {
		return oryStepError("totp", err)
	}
	start = oryStep(rec, "totp", start)

	// 4. The login app asks Kratos who is logged in, and tells Hydra.
	var who struct {
		AAL      string `json:"authenticator_assurance_level"`
		Identity struct {
			ID string `json:"id"`
		} `json:"identity"`
	}
	if err := f.getJSON(ctx, c, f.cfg.KratosPublic+"/sessions/whoami", hdr, &who); err != nil {
		return oryStepError("login_accept", err)
	}
	if who.AAL != "aal2" || who.Identity.ID != u.id {
		return &KindError{Kind: "protocol", Err: fmt.Errorf("whoami: session of %q at %q, want %q at aal2", who.Identity.ID, who.AAL, u.id)}
	}
	lq := "?login_challenge=" + url.QueryEscape(loginChallenge)
	if err := f.getJSON(ctx, c, f.cfg.HydraAdmin+"/admin/oauth2/auth/requests/login"+lq, nil, &struct{}{}); err != nil {
		return oryStepError("login_accept", err)
	}
	accept := map[string]any{"subject": u.id, "remember": false, "acr": "aal2", "amr": []string{"pwd", "otp"}}
	var next struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := f.sendJSON(ctx, c, http.MethodPut, f.cfg.HydraAdmin+"/admin/oauth2/auth/requests/login/accept"+lq, nil, accept, &next, http.StatusOK); err != nil {
		return oryStepError("login_accept", err)
	}
	start = oryStep(rec, "login_accept", start)

	// 5. Back to Hydra with the login verifier, on to the consent, accepted for what was asked.
	loc, err = f.redirect(ctx, browser, next.RedirectTo)
	if err != nil {
		return oryStepError("consent", err)
	}
	consentChallenge := loc.Query().Get("consent_challenge")
	if consentChallenge == "" {
		return &KindError{Kind: "protocol", Err: fmt.Errorf("consent: redirect to %s has no consent_challenge", loc.Redacted())}
	}
	cq := "?consent_challenge=" + url.QueryEscape(consentChallenge)
	var consent struct {
		Scope    []string `json:"requested_scope"`
		Audience []string `json:"requested_access_token_audience"`
	}
	if err := f.getJSON(ctx, c, f.cfg.HydraAdmin+"/admin/oauth2/auth/requests/consent"+cq, nil, &consent); err != nil {
		return oryStepError("consent", err)
	}
	grant := map[string]any{"grant_scope": consent.Scope, "grant_access_token_audience": consent.Audience, "remember": false}
	if err := f.sendJSON(ctx, c, http.MethodPut, f.cfg.HydraAdmin+"/admin/oauth2/auth/requests/consent/accept"+cq, nil, grant, &next, http.StatusOK); err != nil {
		return oryStepError("consent", err)
	}
	loc, err = f.redirect(ctx, browser, next.RedirectTo)
	if err != nil {
		return oryStepError("consent", err)
	}
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != state {
		return &KindError{Kind: "protocol", Err: fmt.Errorf("consent: redirect without a code or with another state: %s", loc.Redacted())}
	}
	start = oryStep(rec, "consent", start)

	// 6. The code exchange (RFC 6749, Section 4.1.3) with the PKCE verifier.
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {f.cfg.RedirectURI},
		"code_verifier": {verifier},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.cfg.HydraPublic+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return &KindError{Kind: "protocol", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749, Section 2.3.1: the client ID and secret are form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(f.cfg.ClientID), url.QueryEscape(f.cfg.ClientSecret))
	var tok struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if err := f.do(c, req, &tok, http.StatusOK); err != nil {
		return oryStepError("token", err)
	}
	if tok.AccessToken == "" {
		return &KindError{Kind: "token", Err: errors.New("token response without an access token")}
	}
	if err := f.keys.verifyIDToken(tok.IDToken, f.issuer, f.cfg.ClientID, nonce, u.id, time.Now()); err != nil {
		return &KindError{Kind: "token", Err: err}
	}
	oryStep(rec, "token", start)
	return nil
}

// passwordLogin runs Kratos's API login flow with u's password and returns the session token.
func (f *oryFlow) passwordLogin(ctx context.Context, c *http.Client, u oryUser) (string, error) {
	var flow kratosFlow
	if err := f.getJSON(ctx, c, f.cfg.KratosPublic+"/self-service/login/api", nil, &flow); err != nil {
		return "", err
	}
	body := map[string]any{"method": "password", "identifier": u.name, "password": u.password}
	var done struct {
		SessionToken string `json:"session_token"`
	}
	if err := f.sendJSON(ctx, c, http.MethodPost, f.cfg.KratosPublic+"/self-service/login?flow="+url.QueryEscape(flow.ID), nil, body, &done, http.StatusOK); err != nil {
		return "", err
	}
	if done.SessionToken == "" {
		return "", &KindError{Kind: "protocol", Err: errors.New("login without a session token")}
	}
	return done.SessionToken, nil
}

// kratosFlow is the part of a Kratos self-service flow the benchmark reads.
type kratosFlow struct {
	ID string `json:"id"`
	UI struct {
		Nodes []struct {
			Attributes struct {
				ID   string `json:"id"`
				Text struct {
					Text    string `json:"text"`
					Context struct {
						Secret string `json:"secret"`
					} `json:"context"`
				} `json:"text"`
			} `json:"attributes"`
		} `json:"nodes"`
	} `json:"ui"`
}

// totpSecret returns the TOTP secret a settings flow shows for pairing an authenticator app.
func (fl kratosFlow) totpSecret() (string, error) {
	for _, n := range fl.UI.Nodes {
		if n.Attributes.ID != "totp_secret_key" {
			continue
		}
		if s := n.Attributes.Text.Context.Secret; s != "" {
			return s, nil
		}
		if s := n.Attributes.Text.Text; s != "" {
			return s, nil
		}
	}
	return "", errors.New("no totp_secret_key node: is TOTP enabled, or already paired?")
}

// client returns an HTTP client on the shared pool that does not follow redirects: the flow reads
// each Location itself, as the login app and the relying party would.
func (f *oryFlow) client(jar http.CookieJar) *http.Client {
	return &http.Client{
		Transport:     f.transport,
		Jar:           jar,
		Timeout:       f.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// redirect GETs rawURL, expects a redirect and returns its Location.
func (f *oryFlow) redirect(ctx context.Context, c *http.Client, rawURL string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &KindError{Kind: "protocol", Err: err}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, oryTransportError(err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, oryMaxBody))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return nil, oryStatusError(resp.StatusCode, b)
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, &KindError{Kind: "protocol", Err: err}
	}
	if e := loc.Query().Get("error"); e != "" {
		return nil, &KindError{Kind: "oauth_" + e, Err: errors.New(loc.Query().Get("error_description"))}
	}
	return loc, nil
}

func (f *oryFlow) getJSON(ctx context.Context, c *http.Client, rawURL string, hdr http.Header, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return &KindError{Kind: "protocol", Err: err}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return f.do(c, req, out, http.StatusOK)
}

func (f *oryFlow) sendJSON(ctx context.Context, c *http.Client, method, rawURL string, hdr http.Header, in, out any, want int) error {
	b, err := json.Marshal(in)
	if err != nil {
		return &KindError{Kind: "protocol", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(b))
	if err != nil {
		return &KindError{Kind: "protocol", Err: err}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	return f.do(c, req, out, want)
}

// oryMaxBody bounds what the flow reads of any response.
const oryMaxBody = 1 << 20

func (f *oryFlow) do(c *http.Client, req *http.Request, out any, want int) error {
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return oryTransportError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, oryMaxBody))
	if err != nil {
		return oryTransportError(err)
	}
	if resp.StatusCode != want {
		return oryStatusError(resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &KindError{Kind: "protocol", Err: fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)}
	}
	return nil
}

// oryStatusError reports an unexpected status with what Kratos or Hydra said about it: the
// messages of a Kratos flow, or the error of an API or OAuth 2.0 response.
func oryStatusError(code int, body []byte) error {
	var said struct {
		UI struct {
			Messages []struct {
				Text string `json:"text"`
			} `json:"messages"`
			Nodes []struct {
				Messages []struct {
					Text string `json:"text"`
				} `json:"messages"`
			} `json:"nodes"`
		} `json:"ui"`
		Error json.RawMessage `json:"error"`
		Desc  string          `json:"error_description"`
	}
	var texts []string
	if json.Unmarshal(body, &said) == nil {
		for _, m := range said.UI.Messages {
			texts = append(texts, m.Text)
		}
		for _, n := range said.UI.Nodes {
			for _, m := range n.Messages {
				texts = append(texts, m.Text)
			}
		}
		if len(said.Error) > 0 {
			texts = append(texts, string(said.Error))
		}
		if said.Desc != "" {
			texts = append(texts, said.Desc)
		}
	}
	if len(texts) == 0 {
		if len(body) > 300 {
			body = body[:300]
		}
		texts = append(texts, string(bytes.TrimSpace(body)))
	}
	return &KindError{Kind: "http_" + strconv.Itoa(code), Err: fmt.Errorf("status %d: %s", code, strings.Join(texts, "; "))}
}

func oryTransportError(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &KindError{Kind: "timeout", Err: err}
	}
	return &KindError{Kind: "transport", Err: err}
}

// oryStepError names the step in the error, keeping the kind.
func oryStepError(name string, err error) error {
	var ke *KindError
	if errors.As(err, &ke) {
		return &KindError{Kind: ke.Kind, Err: fmt.Errorf("%s: %w", name, ke.Err)}
	}
	return &KindError{Kind: name, Err: err}
}

// oryStep records the time since start under name and returns the new start.
func oryStep(rec Recorder, name string, start time.Time) time.Time {
	now := time.Now()
	rec.Step(name, now.Sub(start))
	return now
}

// oryRandom returns n random bytes in unpadded base64url.
func oryRandom(n int) string {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never returns an error (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
