package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/web"
)

// authenticateClient authenticates the client of a back-channel request by the
// method it is registered for, and no other.
func (p *Provider) authenticateClient(r *http.Request) (*Client, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, web.MaxBody)
	id, authenticated, err := op.ClientIDFromRequest(r, p.op)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	c, err := p.store.Client(r.Context(), id)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	_, _, basic := r.BasicAuth()
	used := oidc.AuthMethodPost
	switch {
	case r.Form.Get("client_assertion") != "":
		used = oidc.AuthMethodPrivateKeyJWT
	case basic:
		used = oidc.AuthMethodBasic
	case r.Form.Get("client_secret") == "":
		used = oidc.AuthMethodNone
	}
	if used != c.AuthMethod {
		return nil, oidc.ErrInvalidClient().WithDescription("the client must authenticate with %s", c.AuthMethod)
	}
	switch used {
	case oidc.AuthMethodPost:
		if !c.CheckSecret(r.Form.Get("client_secret")) {
			return nil, oidc.ErrInvalidClient().WithDescription("client authentication failed")
		}
	case oidc.AuthMethodNone:
	default:
		if !authenticated {
			return nil, oidc.ErrInvalidClient().WithDescription("client authentication failed")
		}
	}
	return c, nil
}

func writeOIDCError(w http.ResponseWriter, err error) {
	e := oidc.DefaultToServerError(err, "")
	status := http.StatusBadRequest
	if e.ErrorType == oidc.InvalidClient {
		status = http.StatusUnauthorized
	}
	if e.ErrorType == oidc.ServerError {
		status = http.StatusInternalServerError
	}
	web.WriteJSON(w, status, map[string]string{"error": string(e.ErrorType), "error_description": e.Description})
}

// par accepts a pushed authorization request (RFC 9126): the client posts the
// parameters it would send to /authorize, authenticated, and gets a
// request_uri to send instead, valid once for 90 seconds.
func (p *Provider) par(w http.ResponseWriter, r *http.Request) {
	c, err := p.authenticateClient(r)
	if err != nil {
		writeOIDCError(w, err)
		return
	}
	form := r.PostForm
	if form.Get("request_uri") != "" || form.Get("request") != "" {
		writeOIDCError(w, oidc.ErrInvalidRequest().WithDescription("request_uri and request are not allowed in a pushed request"))
		return
	}
	for k, v := range form {
		if len(v) > 1 {
			writeOIDCError(w, oidc.ErrInvalidRequest().WithDescription("the parameter %q is repeated", k))
			return
		}
	}
	if id := form.Get("client_id"); id != "" && id != c.ID {
		writeOIDCError(w, oidc.ErrInvalidRequest().WithDescription("client_id does not match the authenticated client"))
		return
	}
	rt := oidc.ResponseType(form.Get("response_type"))
	if rt != oidc.ResponseTypeCode {
		writeOIDCError(w, oidc.ErrInvalidRequest().WithDescription("response_type must be code"))
		return
	}
	if err := op.ValidateAuthReqRedirectURI(opClient{c: c, loginURL: p.loginURL}, form.Get("redirect_uri"), rt); err != nil {
		writeOIDCError(w, err)
		return
	}
	params := make(map[string][]string, len(form))
	for k, v := range form {
		switch k {
		case "client_secret", "client_assertion", "client_assertion_type", "client_id":
			continue // authentication, not the request
		}
		params[k] = v
	}
	now := p.now().UTC()
	par := PAR{ID: randomID(), ClientID: c.ID, Params: encodeForm(params), ExpiresAt: now.Add(parLifetime)}
	if err := p.store.InsertPAR(r.Context(), par); err != nil {
		web.WriteInternal(w, r, p.logger, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, map[string]any{"request_uri": parURIPrefix + par.ID, "expires_in": int(parLifetime / time.Second)})
}

func encodeForm(m map[string][]string) string { return url.Values(m).Encode() }

// cprMatch lets a service provider that may not see CPR numbers check one the
// person typed against the login: POST access_token and cpr, authenticated as
// the client the token was issued to; at most 3 tries, within 15 minutes of the
// login (the brokers' rule for private service providers). It answers
// {"match": true|false, "tries_left": n}.
func (p *Provider) cprMatch(w http.ResponseWriter, r *http.Request) {
	c, err := p.authenticateClient(r)
	if err != nil {
		writeOIDCError(w, err)
		return
	}
	ctx := r.Context()
	plain, err := p.op.Crypto().Decrypt(r.PostForm.Get("access_token"))
	tokenID, _, _ := strings.Cut(plain, ":")
	var t *Token
	if err == nil {
		t, err = p.store.Token(ctx, tokenID)
	}
	if err != nil || t.ClientID != c.ID || !t.Live(p.now()) {
		writeOIDCError(w, oidc.ErrInvalidGrant().WithDescription("the access token is not valid for this client"))
		return
	}
	if p.now().After(t.Result.AuthTime.Add(cprMatchTime)) {
		writeOIDCError(w, oidc.ErrInvalidGrant().WithDescription("CPR numbers may be matched only within 15 minutes of the login"))
		return
	}
	n, err := cpr.Parse(r.PostForm.Get("cpr"))
	if err != nil {
		writeOIDCError(w, oidc.ErrInvalidRequest().WithDescription("cpr must be a CPR number, DDMMYY-SSSS or DDMMYYSSSS"))
		return
	}
	tries, err := p.store.CountCPRTry(ctx, t.ID, cprMatchTries)
	if errors.Is(err, ErrTooManyTries) {
		writeOIDCError(w, oidc.ErrAccessDenied().WithDescription("no more CPR match tries for this login"))
		return
	}
	if err != nil {
		web.WriteInternal(w, r, p.logger, err)
		return
	}
	id, err := p.identities.ByUUID(ctx, t.Identity)
	if err != nil {
		web.WriteInternal(w, r, p.logger, err)
		return
	}
	match := !id.CPR.IsZero() && subtle.ConstantTimeCompare(p.cprIndex(n), p.cprIndex(id.CPR)) == 1
	err = p.store.InTx(ctx, func(ctx context.Context) error {
		return p.log.Record(ctx, audit.Event{Actor: audit.ActorClient(c.ID), Action: "oidc.cpr_match", Identity: t.Identity,
			Details: map[string]string{"match": fmt.Sprint(match), "try": fmt.Sprint(tries)}})
	})
	if err != nil {
		web.WriteInternal(w, r, p.logger, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"match": match, "tries_left": cprMatchTries - tries})
}

// tokenOfSubject finds the identity behind a client's subject identifier.
func (p *Provider) tokenOfSubject(ctx context.Context, subject, clientID string) (string, error) {
	return p.store.IdentityOfSubject(ctx, subject, clientID)
}
