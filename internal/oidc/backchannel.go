package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/identity"
)

// IdentityChanged ends the sessions of an identity that was blocked or revoked,
// in the transaction that changed it: its live tokens are revoked, and each
// service provider with a back-channel logout URI is sent a logout token
// (OpenID Connect Back-Channel Logout 1.0) through the delivery outbox. It is
// an identity.Service hook.
func (p *Provider) IdentityChanged(ctx context.Context, id *identity.Identity, from identity.State) error {
	if id.State != identity.Blocked && id.State != identity.Revoked {
		return nil
	}
	now := p.now().UTC()
	tokens, err := p.store.RevokeTokensOf(ctx, id.UUID, "", now)
	if err != nil {
		return err
	}
	type session struct{ client, sub, sid string }
	sent := map[session]bool{}
	for _, t := range tokens {
		s := session{t.ClientID, t.Subject, t.AuthRequest}
		if sent[s] {
			continue
		}
		sent[s] = true
		c, err := p.store.Client(ctx, t.ClientID)
		if err != nil || c.BackchannelLogoutURI == "" {
			continue
		}
		lt, err := p.logoutToken(ctx, c, t.Subject, t.AuthRequest, now)
		if err != nil {
			return err
		}
		if err := p.store.InsertLogoutDelivery(ctx, LogoutDelivery{ID: uuid.NewString(), ClientID: c.ID,
			URI: c.BackchannelLogoutURI, LogoutToken: lt, NextAttemptAt: now, CreatedAt: now}); err != nil {
			return err
		}
	}
	return p.log.Record(ctx, audit.Event{Actor: audit.ActorSystem, Action: "oidc.sessions_ended", Identity: id.UUID,
		Details: map[string]string{"state": string(id.State), "tokens_revoked": fmt.Sprint(len(tokens)),
			"logouts_queued": fmt.Sprint(len(sent))}})
}

// logoutToken makes a logout token for the client (Back-Channel Logout 1.0,
// Section 2.4), signed like its ID tokens.
func (p *Provider) logoutToken(ctx context.Context, c *Client, sub, sid string, now time.Time) (string, error) {
	k, err := p.keys.Signer(ctx, c.IDTokenAlg)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: k.Private},
		(&jose.SignerOptions{}).WithType("logout+jwt").WithHeader("kid", k.KID))
	if err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	claims, err := json.Marshal(map[string]any{
		"iss": p.issuer, "aud": c.ID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti), "sub": sub, "sid": sid,
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	})
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// Back-off of logout deliveries: 10 tries, the last about a day after the first.
var logoutBackoff = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour,
	2 * time.Hour, 4 * time.Hour, 6 * time.Hour, 6 * time.Hour, 6 * time.Hour}

// DeliverLogouts posts the logout tokens that are due (the delivery job runs
// it every few seconds on every node; a token may reach a client twice when two
// nodes race, which the spec allows: logout is idempotent). It returns how
// many were delivered.
func (p *Provider) DeliverLogouts(ctx context.Context) (int, error) {
	due, err := p.store.DueLogoutDeliveries(ctx, p.now(), 50)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		err := p.post(ctx, d)
		if err == nil {
			n++
			if err := p.store.FinishLogoutDelivery(ctx, d.ID, true, p.now().UTC(), ""); err != nil {
				return n, err
			}
			continue
		}
		next := p.now().Add(logoutBackoff[min(d.Attempts, len(logoutBackoff)-1)])
		if d.Attempts+1 >= len(logoutBackoff) {
			next = p.now().Add(100 * 365 * 24 * time.Hour) // given up; kept for the operator to see
		}
		p.logger.Warn("back-channel logout failed", "client", d.ClientID, "attempt", d.Attempts+1, "err", err)
		if err := p.store.FinishLogoutDelivery(ctx, d.ID, false, next.UTC(), err.Error()); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (p *Provider) post(ctx context.Context, d LogoutDelivery) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URI,
		strings.NewReader(url.Values{"logout_token": {d.LogoutToken}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("the client answered %s", resp.Status)
	}
	return nil
}
