package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The browser's and the service provider's side of a login: /authorize, the
// flow API, the redirect back, and the code exchange.

// browser is one login's browser: its cookies (the flow's) and the flow API.
type browser struct {
	o       *OpenMitID
	hc      *http.Client // the virtual user's: its own source address where it can have one
	cookies map[string]string
}

type flowAnswer struct {
	State       string          `json:"state"`
	Version     int64           `json:"version"`
	BindingCode string          `json:"binding_code"`
	WebAuthn    json.RawMessage `json:"webauthn"`
	Error       string          `json:"error"`
	Message     string          `json:"message"`
}

// request sends a request with the browser's cookies and keeps those it is
// given. It returns the response with its body read (up to 1 MiB).
func (b *browser) request(ctx context.Context, method, path string, body io.Reader, ctype string) (*http.Response, []byte, error) {
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.o.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, &KindError{Kind: "request", Err: err}
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, &KindError{Kind: "timeout", Err: err}
		}
		return nil, nil, &KindError{Kind: "connection", Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, &KindError{Kind: "connection", Err: err}
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return resp, raw, nil
}

// statusError is a KindError for an answer that was not the one expected:
// its kind is the API's error code where there is one, else the status.
func statusError(what string, resp *http.Response, raw []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	kind := "http_" + strconv.Itoa(resp.StatusCode)
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		kind = e.Error
	}
	body := string(raw)
	if len(body) > 200 {
		body = body[:200]
	}
	return &KindError{Kind: kind, Err: fmt.Errorf("%s: %d %s", what, resp.StatusCode, strings.TrimSpace(body))}
}

// redirect expects a redirect and returns its target.
func redirect(what string, resp *http.Response, raw []byte) (*url.URL, error) {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil, statusError(what, resp, raw)
	}
	u, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, &KindError{Kind: "bad_redirect", Err: fmt.Errorf("%s: Location %q: %v", what, resp.Header.Get("Location"), err)}
	}
	return u, nil
}

// authorize sends the service provider's request and follows the provider's
// redirects to the login page, as a browser would; it returns the flow's id.
func (b *browser) authorize(ctx context.Context, state, nonce, challenge string) (string, error) {
	q := url.Values{"client_id": {b.o.opt.ClientID}, "redirect_uri": {b.o.opt.RedirectURI}, "response_type": {"code"},
		"scope": {"openid"}, "state": {state}, "nonce": {nonce}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}}
	resp, raw, err := b.request(ctx, http.MethodGet, "/authorize?"+q.Encode(), nil, "")
	if err != nil {
		return "", err
	}
	next, err := redirect("authorize", resp, raw)
	if err != nil {
		return "", err
	}
	if resp, raw, err = b.request(ctx, http.MethodGet, next.String(), nil, ""); err != nil {
		return "", err
	}
	login, err := redirect("authorize/start", resp, raw)
	if err != nil {
		return "", err
	}
	id, ok := strings.CutPrefix(login.Path, "/login/")
	if !ok || id == "" {
		return "", &KindError{Kind: "bad_redirect", Err: fmt.Errorf("authorize/start sent the browser to %s, not a login page", login)}
	}
	return id, nil
}

// step posts one step of the flow API.
func (b *browser) step(ctx context.Context, path string, body map[string]any) (*flowAnswer, error) {
	js, _ := json.Marshal(body)
	resp, raw, err := b.request(ctx, http.MethodPost, path, bytes.NewReader(js), "application/json")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(fmt.Sprint("step ", body["step"]), resp, raw)
	}
	var f flowAnswer
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, &KindError{Kind: "bad_json", Err: err}
	}
	return &f, nil
}

func (b *browser) get(ctx context.Context, path string) (*flowAnswer, error) {
	resp, raw, err := b.request(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError("poll", resp, raw)
	}
	var f flowAnswer
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, &KindError{Kind: "bad_json", Err: err}
	}
	return &f, nil
}

// callback follows the finished flow back to the service provider and
// returns the authorization code, checking the state.
func (b *browser) callback(ctx context.Context, flowID, state string) (string, error) {
	next := b.o.base + "/authorize/finish/" + flowID
	for range 4 {
		resp, raw, err := b.request(ctx, http.MethodGet, next, nil, "")
		if err != nil {
			return "", err
		}
		u, err := redirect("callback", resp, raw)
		if err != nil {
			return "", err
		}
		if redirect := b.o.opt.RedirectURI; u.String() != redirect && !strings.HasPrefix(u.String(), redirect+"?") {
			next = u.String()
			continue
		}
		q := u.Query()
		if e := q.Get("error"); e != "" {
			return "", &KindError{Kind: "oidc_" + e, Err: fmt.Errorf("the login came back with %s: %s", e, q.Get("error_description"))}
		}
		if q.Get("state") != state {
			return "", &KindError{Kind: "bad_state", Err: fmt.Errorf("the redirect carries state %q, want %q", q.Get("state"), state)}
		}
		if q.Get("code") == "" {
			return "", &KindError{Kind: "no_code", Err: fmt.Errorf("the redirect %s has no code", u)}
		}
		return q.Get("code"), nil
	}
	return "", &KindError{Kind: "bad_redirect", Err: errors.New("too many redirects after the login")}
}

// exchange is the service provider's code exchange (RFC 6749, Section 4.1.3)
// with the PKCE verifier; it returns the ID token.
func (o *OpenMitID) exchange(ctx context.Context, code, verifier string) (string, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {o.opt.RedirectURI},
		"code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", &KindError{Kind: "request", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749, Section 2.3.1: both form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(o.opt.ClientID), url.QueryEscape(o.opt.ClientSecret))
	resp, err := o.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", &KindError{Kind: "timeout", Err: err}
		}
		return "", &KindError{Kind: "connection", Err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		err := statusError("token", resp, raw).(*KindError)
		err.Kind = "token_" + err.Kind
		return "", err
	}
	var tok struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.IDToken == "" || tok.AccessToken == "" {
		return "", &KindError{Kind: "token_bad_answer", Err: fmt.Errorf("token answer without tokens: %.200s", raw)}
	}
	return tok.IDToken, nil
}

// pkce returns a code verifier and its S256 challenge (RFC 7636, Section 4.2).
func pkce() (verifier, challenge string) {
	verifier = randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
