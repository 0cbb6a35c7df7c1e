package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/nsis"
	oidcp "github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/internal/server"
)

// listFlag collects a repeated flag's values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runAdminClients(args []string) error {
	if len(args) == 0 {
		return usageError{"want: openmitid admin clients add|list|remove …"}
	}
	switch args[0] {
	case "add":
		return runClientsAdd(args[1:])
	case "list":
		return runClientsList(args[1:])
	case "remove":
		return runClientsRemove(args[1:])
	}
	return usageError{fmt.Sprintf("unknown clients command %q (want add, list or remove)", args[0])}
}

func runClientsAdd(args []string) error {
	fs := newFlags("admin clients add", "admin clients add --id ID --name NAME --redirect-uri URI… [flags]")
	dsn, kek := platformFlags(fs)
	id := fs.String("id", "", "client_id")
	name := fs.String("name", "", "display name, shown to the person and in the app")
	var redirects, postLogout listFlag
	fs.Var(&redirects, "redirect-uri", "a redirect URI (exact match; repeatable)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "where RP-initiated logout may return to (repeatable)")
	backchannel := fs.String("backchannel-logout-uri", "", "where logout tokens are posted when a person's sessions end")
	auth := fs.String("auth", "client_secret_basic", "client authentication: client_secret_basic, client_secret_post, private_key_jwt, or none (native apps)")
	jwksFile := fs.String("jwks", "", "private_key_jwt: a file with the client's public keys (JWK Set)")
	scopes := fs.String("scopes", "openid profile", "the scopes it may ask for: openid profile age cpr")
	cpr := fs.Bool("cpr", false, "it may see CPR numbers (public authorities)")
	pcode := fs.Bool("pcode", false, "it accepts people without a CPR number (P-code)")
	minLevel := fs.String("min-level", "substantial", "the lowest level it accepts: low, substantial or high")
	alg := fs.String("alg", "RS256", "ID token signing algorithm: RS256 or ES256")
	public := fs.Bool("public-sub", false, "send the identity's UUID as sub instead of a pairwise identifier")
	native := fs.Bool("native", false, "a native app: loopback redirect URIs match any port (RFC 8252)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	level, err := nsis.Parse(*minLevel)
	if err != nil {
		return usageError{fmt.Sprintf("--min-level %q: want low, substantial or high", *minLevel)}
	}
	now := time.Now().UTC()
	c := &oidcp.Client{ID: *id, Name: *name, AuthMethod: zoidc.AuthMethod(*auth), RedirectURIs: redirects,
		PostLogoutRedirectURIs: postLogout, BackchannelLogoutURI: *backchannel, Native: *native,
		Scopes: strings.Fields(*scopes), CPRAllowed: *cpr, PCodeAllowed: *pcode, MinLevel: level, IDTokenAlg: *alg,
		PublicSubject: *public, CreatedAt: now, UpdatedAt: now}
	if !strings.Contains(" "+*scopes+" ", " openid ") {
		c.Scopes = append([]string{zoidc.ScopeOpenID}, c.Scopes...)
	}
	secret := ""
	switch c.AuthMethod {
	case zoidc.AuthMethodBasic, zoidc.AuthMethodPost:
		b := make([]byte, 32)
		rand.Read(b)
		secret = base64.RawURLEncoding.EncodeToString(b)
		c.SecretHash = oidcp.HashSecret(secret)
	case zoidc.AuthMethodPrivateKeyJWT:
		if *jwksFile == "" {
			return usageError{"--auth private_key_jwt needs --jwks FILE"}
		}
		b, err := os.ReadFile(*jwksFile)
		if err != nil {
			return err
		}
		c.JWKS = string(b)
	}
	if err := c.Validate(); err != nil {
		return usageError{strings.TrimPrefix(err.Error(), "oidc: ")}
	}
	ctx := context.Background()
	p, err := server.OpenPlatform(ctx, *dsn, server.PlatformOptions{KEKFile: *kek})
	if err != nil {
		return err
	}
	defer p.Close()
	err = p.DB.InTx(ctx, func(ctx context.Context) error {
		if err := p.DB.InsertClient(ctx, c); err != nil {
			return err
		}
		return p.DB.Record(ctx, audit.Event{Actor: "admin", Action: "client.added",
			Details: map[string]string{"client": c.ID, "auth": string(c.AuthMethod), "cpr": fmt.Sprint(c.CPRAllowed)}})
	})
	if err != nil {
		return err
	}
	fmt.Printf("client_id:     %s\n", c.ID)
	if secret != "" {
		fmt.Printf("client_secret: %s\n(shown once: store it now)\n", secret)
	}
	return nil
}

func runClientsList(args []string) error {
	fs := newFlags("admin clients list", "admin clients list")
	dsn, kek := platformFlags(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ctx := context.Background()
	p, err := server.OpenPlatform(ctx, *dsn, server.PlatformOptions{KEKFile: *kek})
	if err != nil {
		return err
	}
	defer p.Close()
	cs, err := p.DB.Clients(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tAUTH\tLEVEL\tALG\tSUB\tCPR\tSCOPES\tREDIRECT URIS")
	for _, c := range cs {
		sub := "pairwise"
		if c.PublicSubject {
			sub = "public"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%v\t%s\t%s\n", c.ID, c.Name, c.AuthMethod, c.MinLevel, c.IDTokenAlg, sub,
			c.CPRAllowed, strings.Join(c.Scopes, " "), strings.Join(c.RedirectURIs, " "))
	}
	return w.Flush()
}

func runClientsRemove(args []string) error {
	fs := newFlags("admin clients remove", "admin clients remove --id ID")
	dsn, kek := platformFlags(fs)
	id := fs.String("id", "", "client_id")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *id == "" {
		return usageError{"--id is required"}
	}
	ctx := context.Background()
	p, err := server.OpenPlatform(ctx, *dsn, server.PlatformOptions{KEKFile: *kek})
	if err != nil {
		return err
	}
	defer p.Close()
	err = p.DB.InTx(ctx, func(ctx context.Context) error {
		if err := p.DB.DeleteClient(ctx, *id); err != nil {
			return err
		}
		return p.DB.Record(ctx, audit.Event{Actor: "admin", Action: "client.removed", Details: map[string]string{"client": *id}})
	})
	if err != nil {
		return fmt.Errorf("removing client %q: %w", *id, err)
	}
	fmt.Printf("client %s removed\n", *id)
	return nil
}
