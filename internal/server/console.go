package server

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/nsis"
	oidcp "github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/internal/operator"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/web/console"
)

// mountConsole builds the operator console (/operator/): its OpenID client
// at this provider, kept current at every start, the operators, and the
// in-person channel of enrolment, which resolves witness requests. Under an
// issuer that cannot have the console's redirect URI (http on a host that is
// not loopback) the console is off, and the log says so.
func (s *Server) mountConsole(ctx context.Context, mux *http.ServeMux) error {
	p := s.platform
	var err error
	if s.operators, err = operator.NewService(p.DB, s.identities, p.DB, s.cfg.Now, nil); err != nil {
		return err
	}
	raw, err := p.Keys.Secret(ctx, p.DB, "operator-client", 32)
	if err != nil {
		return err
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	issuer := strings.TrimSuffix(s.cfg.Issuer, "/")
	now := s.cfg.Now()
	c := &oidcp.Client{ID: console.ClientID, Name: "MitID Operatørkonsol", SecretHash: oidcp.HashSecret(secret),
		AuthMethod: oidc.AuthMethodBasic, RedirectURIs: []string{issuer + "/operator/callback"},
		PostLogoutRedirectURIs: []string{issuer + "/operator/"}, Scopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile},
		MinLevel: nsis.Substantial, IDTokenAlg: pki.RS256, PublicSubject: true, CreatedAt: now, UpdatedAt: now}
	if err := c.Validate(); err != nil {
		s.log.Warn("the operator console is off: its redirect URI needs an https issuer (or http on loopback)", "issuer", s.cfg.Issuer, "err", err)
		return nil
	}
	if err := p.DB.InsertClient(ctx, c); errors.Is(err, oidcp.ErrClientExists) {
		if err := p.DB.UpdateClient(ctx, c); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	var ip *proofing.InPerson
	if s.proofing != nil {
		if ip, err = proofing.NewInPerson(s.proofing, p.DB, s.identities, s.apps, s.codes); err != nil {
			return err
		}
		s.approvals.Handle(approval.KindWitness, ip)
	}
	csrfKey, err := p.Keys.Secret(ctx, p.DB, "operator-csrf", 32)
	if err != nil {
		return err
	}
	iss, _ := url.Parse(s.cfg.Issuer)
	con, err := console.New(console.Config{Issuer: s.cfg.Issuer, Secret: secret, Operators: s.operators, InPerson: ip,
		Proofing: s.proofing, Secure: iss.Scheme == "https", CSRFKey: csrfKey, Log: s.log, Now: s.cfg.Now,
		UserID: func(ctx context.Context, identityUUID string) string {
			if id, err := s.identities.ByUUID(ctx, identityUUID); err == nil {
				return id.UserID
			}
			return ""
		}})
	if err != nil {
		return err
	}
	con.Mount(mux)
	return nil
}
