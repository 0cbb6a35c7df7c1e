package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/openmitid/openmitid/internal/nsis"
	oidcp "github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/internal/store"
)

func postForm(t *testing.T, u string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return do(t, req)
}

func TestOIDCDiscovery(t *testing.T) {
	n := newNode(t, store.SQLite)
	code, d := n.get(t, "/.well-known/openid-configuration", nil)
	if code != 200 {
		t.Fatal(code, d)
	}
	for k, want := range map[string]string{
		"issuer": n.Issuer, "pushed_authorization_request_endpoint": n.Issuer + "/par",
		"authorization_endpoint": n.Issuer + "/authorize", "token_endpoint": n.Issuer + "/oauth/token",
		"jwks_uri": n.Issuer + "/keys",
	} {
		if d[k] != want {
			t.Errorf("%s = %v, want %s", k, d[k], want)
		}
	}
	for k, want := range map[string]string{
		"token_endpoint_auth_methods_supported": "private_key_jwt", "id_token_signing_alg_values_supported": "ES256",
		"code_challenge_methods_supported": "S256", "subject_types_supported": "pairwise",
		"acr_values_supported": "https://data.gov.dk/concept/core/nsis/High",
	} {
		if !strings.Contains(mustJSON(d[k]), want) {
			t.Errorf("%s = %v, want it to hold %s", k, d[k], want)
		}
	}
}

func TestOIDCPushedRequest(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "code_display")
	c := newRP(t, n, "demo", "demo-secret", "http://127.0.0.1:53117/callback")
	full, _ := url.Parse(c.authorizeURL(url.Values{"loa_value": {"substantial"}}))
	params := full.Query()
	params.Del("client_id")
	if status, body := postForm(t, n.URL+"/par", params, "demo", "wrong"); status != 401 || body["error"] != "invalid_client" {
		t.Fatalf("PAR with a wrong secret: %d %v", status, body)
	}
	bad := url.Values{}
	for k, v := range params {
		bad[k] = v
	}
	bad.Set("redirect_uri", "https://evil.example/cb")
	if status, body := postForm(t, n.URL+"/par", bad, "demo", "demo-secret"); status != 400 {
		t.Fatalf("PAR with an unregistered redirect: %d %v", status, body)
	}
	status, body := postForm(t, n.URL+"/par", params, "demo", "demo-secret")
	if status != 201 || !strings.HasPrefix(body["request_uri"].(string), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("PAR: %d %v", status, body)
	}
	ru := body["request_uri"].(string)
	authz := n.URL + "/authorize?" + url.Values{"client_id": {"demo"}, "request_uri": {ru}}.Encode()
	code, loc, _ := c.get(t, authz)
	if code != http.StatusFound || !strings.HasPrefix(loc, "/authorize/start") {
		t.Fatalf("authorize with request_uri: %d %s", code, loc)
	}
	// Single-use.
	if code, loc, _ := c.get(t, authz); code != 400 || loc != "" {
		t.Fatalf("a request_uri used twice: %d %s", code, loc)
	}
	// Another client cannot use it either (fresh one).
	_, body = postForm(t, n.URL+"/par", params, "demo", "demo-secret")
	if code, _, _ := c.get(t, n.URL+"/authorize?"+url.Values{"client_id": {"other"}, "request_uri": {body["request_uri"].(string)}}.Encode()); code != 400 {
		t.Fatalf("another client's request_uri: %d", code)
	}
	// The pushed request runs a whole login.
	_, loc, _ = c.get(t, loc)
	f := c.flowAt(t, loc)
	f.step(t, map[string]any{"step": "identify", "user_id": p.UserID, "method": "code_display"})
	f.step(t, map[string]any{"step": "password", "password": p.Password})
	f.step(t, map[string]any{"step": "code", "code": totp(t, p.TOTPSecret, n.clock.Now())})
	q := c.finish(t, f)
	if status, tok := c.exchange(t, q.Get("code"), nil); status != 200 || tok["id_token"] == nil {
		t.Fatalf("exchange after PAR: %d %v", status, tok)
	}
}

func TestOIDCCPRMatch(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "code_display")
	bank := n.client(t, "private-bank", "ES256", "")
	q, _ := codeLogin(t, n, bank, p, nil)
	_, tok := bank.exchange(t, q.Get("code"), nil)
	alg, _ := verifyIDToken(t, n, tok["id_token"].(string))
	if alg != "ES256" {
		t.Fatalf("an ES256 client got an ID token in %s", alg)
	}
	at := tok["access_token"].(string)
	match := func(cprNo string) (int, map[string]any) {
		return postForm(t, n.URL+"/oidc/cpr-match", url.Values{"access_token": {at}, "cpr": {cprNo}}, bank.client, bank.secret)
	}
	if status, m := match("010101-0101"); status != 200 || m["match"] != false || m["tries_left"] != 2.0 {
		t.Fatalf("a wrong CPR: %d %v", status, m)
	}
	if status, m := match(p.CPR); status != 200 || m["match"] != true || m["tries_left"] != 1.0 {
		t.Fatalf("the right CPR: %d %v", status, m)
	}
	if status, m := match("not-a-cpr"); status != 400 {
		t.Fatalf("a malformed CPR: %d %v", status, m)
	}
	match(p.CPR)
	if status, m := match(p.CPR); status != 400 || m["error"] != "access_denied" {
		t.Fatalf("a fourth try: %d %v", status, m)
	}
	// Another client may not use this client's token.
	demo := newRP(t, n, "demo", "demo-secret", "")
	if status, _ := postForm(t, n.URL+"/oidc/cpr-match", url.Values{"access_token": {at}, "cpr": {p.CPR}}, demo.client, demo.secret); status != 400 {
		t.Fatalf("another client's token: %d", status)
	}
	// Fifteen minutes after the login it is too late.
	n.clock.Add(30 * time.Second)
	q, _ = codeLogin(t, n, bank, p, nil)
	_, tok = bank.exchange(t, q.Get("code"), nil)
	n.clock.Add(16 * time.Minute)
	status, m := postForm(t, n.URL+"/oidc/cpr-match", url.Values{"access_token": {tok["access_token"].(string)}, "cpr": {p.CPR}}, bank.client, bank.secret)
	if status != 400 {
		t.Fatalf("a match 16 minutes after the login: %d %v", status, m)
	}
}

func TestOIDCPrivateKeyJWT(t *testing.T) {
	n := newNode(t, store.SQLite)
	p := n.person(t, "code_display")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	c := &oidcp.Client{ID: "jwt-bank", Name: "JWT Bank", AuthMethod: zoidc.AuthMethodPrivateKeyJWT, JWKS: string(jwks),
		RedirectURIs: []string{"https://jwt-bank.example/cb"}, Scopes: []string{"openid"}, MinLevel: nsis.Low,
		IDTokenAlg: "RS256", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := n.srv.Platform().DB.InsertClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	rp := newRP(t, n, "jwt-bank", "", "https://jwt-bank.example/cb")
	assertion := func(k *ecdsa.PrivateKey) string {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		claims, _ := json.Marshal(map[string]any{"iss": "jwt-bank", "sub": "jwt-bank", "aud": n.Issuer,
			"exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix(), "jti": time.Now().String()})
		jws, _ := signer.Sign(claims)
		s, _ := jws.CompactSerialize()
		return s
	}
	form := func(a string) url.Values {
		return url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
	}
	q, _ := codeLogin(t, n, rp, p, nil)
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if status, body := rp.exchange(t, q.Get("code"), form(assertion(stranger))); status < 400 {
		t.Fatalf("an assertion by another key: %d %v", status, body)
	}
	n.clock.Add(30 * time.Second)
	q, _ = codeLogin(t, n, rp, p, nil)
	if status, body := rp.exchange(t, q.Get("code"), form(assertion(key))); status != 200 || body["id_token"] == nil {
		t.Fatalf("private_key_jwt: %d %v", status, body)
	}
}

func TestOIDCLogouts(t *testing.T) {
	n := newNode(t, store.SQLite)
	ctx := context.Background()
	var (
		mu       sync.Mutex
		received []string
	)
	sp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		v, _ := url.ParseQuery(string(b))
		mu.Lock()
		received = append(received, v.Get("logout_token"))
		mu.Unlock()
	}))
	defer sp.Close()
	p := n.person(t, "code_display", "app")
	app := n.activate(t, p)
	bank := n.client(t, "bc-bank", "RS256", sp.URL+"/backchannel")
	q, _ := codeLogin(t, n, bank, p, nil)
	_, tok := bank.exchange(t, q.Get("code"), nil)
	_, idClaims := verifyIDToken(t, n, tok["id_token"].(string))
	// RP-initiated logout ends the client's tokens.
	code, loc, _ := bank.get(t, n.URL+"/end_session?"+url.Values{"id_token_hint": {tok["id_token"].(string)},
		"client_id": {"bc-bank"}, "post_logout_redirect_uri": {""}}.Encode())
	if code >= 500 {
		t.Fatalf("end_session: %d %s", code, loc)
	}
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	if status, _ := do(t, req); status == 200 {
		t.Fatal("userinfo works after logout")
	}
	// A new login, then the person blocks their MitID from the app: the
	// client is told by a logout token.
	n.clock.Add(30 * time.Second)
	q, _ = codeLogin(t, n, bank, p, nil)
	_, tok = bank.exchange(t, q.Get("code"), nil)
	if err := app.Block(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.srv.OIDC().DeliverLogouts(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 1 {
		t.Fatalf("%d logout tokens delivered, want 1", len(received))
	}
	_, claims := verifyIDToken(t, n, received[0])
	if claims["sub"] != idClaims["sub"] || claims["aud"] != "bc-bank" || claims["sid"] == "" ||
		!strings.Contains(mustJSON(claims["events"]), "backchannel-logout") || claims["nonce"] != nil {
		t.Fatalf("logout token claims %v", claims)
	}
	req, _ = http.NewRequest(http.MethodGet, n.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	if status, _ := do(t, req); status == 200 {
		t.Fatal("userinfo works after the identity was blocked")
	}
}
