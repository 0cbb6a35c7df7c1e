// Package demo is the demo service provider of --demo mode: a small
// "digital post" site with "Log ind med MitID" that logs in through the real
// protocol, as a separate client ("demo") speaking to the provider over HTTP,
// verifies the ID token, shows the claims it received, and logs out through
// RP-initiated logout.
package demo

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/openmitid/openmitid/internal/nsis"
)

//go:embed demo.html demo.css
var files embed.FS

var page = template.Must(template.ParseFS(files, "demo.html"))

// SP is the demo service provider.
type SP struct {
	issuer string
	secret string
	cookie *httphelper.CookieHandler
	log    *slog.Logger
	http   *http.Client

	mu sync.Mutex
	rp rp.RelyingParty
}

// New returns the demo service provider of the provider at issuer, using the
// demo client's secret. key (64 bytes) keys its cookies.
func New(issuer, secret string, key []byte, log *slog.Logger) *SP {
	opts := []httphelper.CookieHandlerOpt{httphelper.WithSameSite(http.SameSiteLaxMode), httphelper.WithPath("/demo/")}
	if !strings.HasPrefix(issuer, "https://") {
		opts = append(opts, httphelper.WithUnsecure())
	}
	return &SP{issuer: strings.TrimSuffix(issuer, "/"), secret: secret, log: log,
		cookie: httphelper.NewCookieHandler(key[:32], key[32:64], opts...),
		http:   &http.Client{Timeout: 10 * time.Second}}
}

// relyingParty discovers the provider on first use: it is this same server,
// which is not listening while it is being built.
func (s *SP) relyingParty(ctx context.Context) (rp.RelyingParty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rp != nil {
		return s.rp, nil
	}
	r, err := rp.NewRelyingPartyOIDC(ctx, s.issuer, "demo", s.secret, s.issuer+"/demo/callback",
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, "age", "cpr"}, rp.WithPKCE(s.cookie), rp.WithHTTPClient(s.http),
		rp.WithSigningAlgsFromDiscovery(), rp.WithVerifierOpts(rp.WithIssuedAtOffset(5*time.Second),
			rp.WithNonce(func(ctx context.Context) string { n, _ := ctx.Value(nonceKey{}).(string); return n })))
	if err != nil {
		return nil, err
	}
	s.rp = r
	return r, nil
}

// Mount adds the demo's routes.
func (s *SP) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /demo/{$}", s.home)
	mux.HandleFunc("GET /demo/demo.css", s.css)
	mux.HandleFunc("GET /demo/login", s.login)
	mux.HandleFunc("GET /demo/callback", s.callback)
	mux.HandleFunc("POST /demo/logout", s.logout)
}

const (
	sessionCookie = "demo_session"
	nonceCookie   = "demo_nonce"
)

// nonceKey carries the login's nonce to the ID token verifier.
type nonceKey struct{}

type session struct {
	IDToken string         `json:"id_token"`
	Claims  map[string]any `json:"claims"`
}

func (s *SP) headers(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
}

func (s *SP) css(w http.ResponseWriter, r *http.Request) {
	b, _ := files.ReadFile("demo.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

type claimRow struct{ Name, Value string }

type view struct {
	LoggedIn bool
	Name     string
	Claims   []claimRow
	Error    string
	Levels   []string
}

func (s *SP) home(w http.ResponseWriter, r *http.Request) {
	v := view{Levels: []string{"low", "substantial", "high"}, Error: r.URL.Query().Get("error")}
	if raw, err := s.cookie.CheckCookie(r, sessionCookie); err == nil {
		var sess session
		if json.Unmarshal([]byte(raw), &sess) == nil {
			v.LoggedIn = true
			v.Name, _ = sess.Claims["name"].(string)
			keys := make([]string, 0, len(sess.Claims))
			for k := range sess.Claims {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v.Claims = append(v.Claims, claimRow{k, display(sess.Claims[k])})
			}
		}
	}
	s.headers(w)
	if err := page.Execute(w, v); err != nil {
		s.log.Error("demo page", "err", err)
	}
}

func (s *SP) login(w http.ResponseWriter, r *http.Request) {
	rpy, err := s.relyingParty(r.Context())
	if err != nil {
		s.log.Error("demo: discovering the provider", "err", err)
		http.Redirect(w, r, "/demo/?error="+template.URLQueryEscaper("the provider cannot be reached"), http.StatusSeeOther)
		return
	}
	level, err := nsis.Parse(r.URL.Query().Get("level"))
	if err != nil {
		level = nsis.Substantial
	}
	state := func() string {
		b := make([]byte, 16)
		rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	nonce := state()
	if err := s.cookie.SetCookie(w, nonceCookie, nonce); err != nil {
		s.log.Error("demo: nonce cookie", "err", err)
	}
	params := []rp.URLParamOpt{rp.WithURLParam("acr_values", level.URI()),
		rp.WithURLParam("reference_text", base64.StdEncoding.EncodeToString([]byte("Log på OpenMitID Demo: din digitale post"))),
		rp.WithURLParam("nonce", nonce)}
	if r.URL.Query().Get("lang") == "en" {
		params = append(params, rp.WithURLParam("ui_locales", "en"))
	}
	rp.AuthURLHandler(state, rpy, params...)(w, r)
}

func (s *SP) callback(w http.ResponseWriter, r *http.Request) {
	if e := r.URL.Query().Get("error"); e != "" {
		msg := e
		if d := r.URL.Query().Get("error_description"); d != "" {
			msg += ": " + d
		}
		http.Redirect(w, r, "/demo/?error="+template.URLQueryEscaper(msg), http.StatusSeeOther)
		return
	}
	rpy, err := s.relyingParty(r.Context())
	if err != nil {
		http.Redirect(w, r, "/demo/?error="+template.URLQueryEscaper("the provider cannot be reached"), http.StatusSeeOther)
		return
	}
	done := func(w http.ResponseWriter, r *http.Request, tokens *oidc.Tokens[*oidc.IDTokenClaims], state string, _ rp.RelyingParty) {
		claims := map[string]any{"sub": tokens.IDTokenClaims.Subject, "acr": tokens.IDTokenClaims.AuthenticationContextClassReference,
			"amr": tokens.IDTokenClaims.AuthenticationMethodsReferences, "auth_time": tokens.IDTokenClaims.AuthTime.AsTime().UTC().Format(time.RFC3339)}
		for k, v := range tokens.IDTokenClaims.Claims {
			if slices.Contains([]string{"loa", "ial", "aal", "name", "given_name", "family_name", "birthdate", "age", "cpr", "pcode"}, k) {
				claims[k] = v
			}
		}
		b, _ := json.Marshal(session{IDToken: tokens.IDToken, Claims: claims})
		if err := s.cookie.SetCookie(w, sessionCookie, string(b)); err != nil {
			s.log.Error("demo: session cookie", "err", err)
		}
		http.Redirect(w, r, "/demo/", http.StatusSeeOther)
	}
	nonce, _ := s.cookie.CheckCookie(r, nonceCookie)
	s.cookie.DeleteCookie(w, nonceCookie)
	rp.CodeExchangeHandler(done, rpy)(w, r.WithContext(context.WithValue(r.Context(), nonceKey{}, nonce)))
}

func (s *SP) logout(w http.ResponseWriter, r *http.Request) {
	raw, err := s.cookie.CheckCookie(r, sessionCookie)
	s.cookie.DeleteCookie(w, sessionCookie)
	if err != nil {
		http.Redirect(w, r, "/demo/", http.StatusSeeOther)
		return
	}
	var sess session
	json.Unmarshal([]byte(raw), &sess)
	rpy, err := s.relyingParty(r.Context())
	if err != nil {
		http.Redirect(w, r, "/demo/", http.StatusSeeOther)
		return
	}
	u, err := rp.EndSession(r.Context(), rpy, sess.IDToken, s.issuer+"/demo/", "", "", nil)
	if err != nil {
		s.log.Warn("demo: end session", "err", fmt.Sprint(err))
		http.Redirect(w, r, "/demo/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// display writes a claim's value as a person reads it: lists comma-separated.
func display(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = display(x)
		}
		return strings.Join(parts, ", ")
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
