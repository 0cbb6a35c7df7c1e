package oidc

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/openmitid/openmitid/internal/nsis"
)

// StoredRequest is an authorization request's parameters as kept until the
// login ends.
type StoredRequest struct {
	RedirectURI         string                   `json:"redirect_uri"`
	State               string                   `json:"state,omitempty"`
	Nonce               string                   `json:"nonce,omitempty"`
	Scopes              []string                 `json:"scopes"`
	ResponseType        oidc.ResponseType        `json:"response_type"`
	ResponseMode        oidc.ResponseMode        `json:"response_mode,omitempty"`
	CodeChallenge       string                   `json:"code_challenge,omitempty"`
	CodeChallengeMethod oidc.CodeChallengeMethod `json:"code_challenge_method,omitempty"`
	ReferenceText       string                   `json:"reference_text,omitempty"`
	ActionText          string                   `json:"action_text,omitempty"`
	UILocales           []string                 `json:"ui_locales,omitempty"`
}

// LoginResult is what a finished login established, as tokens carry it.
type LoginResult struct {
	Subject  string    `json:"sub"`
	LoA      string    `json:"loa"`
	IAL      string    `json:"ial"`
	AAL      string    `json:"aal"`
	AMR      []string  `json:"amr"`
	AuthTime time.Time `json:"auth_time"`
}

// AuthRequest is an authorization request waiting for its login, then for its
// code to be exchanged.
type AuthRequest struct {
	ID        string
	ClientID  string
	Request   StoredRequest
	Level     nsis.Level
	FlowID    string
	Identity  string
	Result    *LoginResult // set when the login is done
	CreatedAt time.Time
	ExpiresAt time.Time
}

var _ op.AuthRequest = (*AuthRequest)(nil)

func (a *AuthRequest) GetID() string { return a.ID }
func (a *AuthRequest) GetACR() string {
	if a.Result == nil {
		return ""
	}
	l, _ := nsis.Parse(a.Result.LoA)
	return l.URI()
}
func (a *AuthRequest) GetAMR() []string {
	if a.Result == nil {
		return nil
	}
	return a.Result.AMR
}
func (a *AuthRequest) GetAudience() []string { return []string{a.ClientID} }
func (a *AuthRequest) GetAuthTime() time.Time {
	if a.Result == nil {
		return time.Time{}
	}
	return a.Result.AuthTime
}
func (a *AuthRequest) GetClientID() string { return a.ClientID }
func (a *AuthRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.Request.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.Request.CodeChallenge, Method: a.Request.CodeChallengeMethod}
}
func (a *AuthRequest) GetNonce() string                   { return a.Request.Nonce }
func (a *AuthRequest) GetRedirectURI() string             { return a.Request.RedirectURI }
func (a *AuthRequest) GetResponseType() oidc.ResponseType { return a.Request.ResponseType }
func (a *AuthRequest) GetResponseMode() oidc.ResponseMode { return a.Request.ResponseMode }
func (a *AuthRequest) GetScopes() []string                { return a.Request.Scopes }
func (a *AuthRequest) GetState() string                   { return a.Request.State }
func (a *AuthRequest) GetSubject() string {
	if a.Result == nil {
		return ""
	}
	return a.Result.Subject
}
func (a *AuthRequest) Done() bool { return a.Result != nil }

// Token is an issued access token (its id; the token itself is encrypted by
// op and never stored).
type Token struct {
	ID          string
	ClientID    string
	Identity    string
	Subject     string
	Scopes      []string
	Audience    []string
	AuthRequest string // the login's session id, sid
	Result      LoginResult
	CPRTries    int
	CreatedAt   time.Time
	ExpiresAt   time.Time
	RevokedAt   time.Time
}

// Live reports whether the token may be used at now.
func (t *Token) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}

// PAR is a pushed authorization request (RFC 9126).
type PAR struct {
	ID        string
	ClientID  string
	Params    string // form-encoded
	ExpiresAt time.Time
}

// LogoutDelivery is a back-channel logout token on its way to a client.
type LogoutDelivery struct {
	ID            string
	ClientID      string
	URI           string
	LogoutToken   string
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
}

var (
	ErrNotFound     = errors.New("oidc: not found")
	ErrCodeUsed     = errors.New("oidc: the code is unknown or has been used")
	ErrAlreadyBegun = errors.New("oidc: the login of this request has begun already")
	ErrPARUsed      = errors.New("oidc: the request_uri is unknown, expired, used, or another client's")
	ErrTooManyTries = errors.New("oidc: too many CPR match tries for this login")
	ErrClientExists = errors.New("oidc: a client with that id exists")
)

// Store keeps what the provider needs (internal/store).
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Ping(ctx context.Context) error

	Client(ctx context.Context, id string) (*Client, error)
	Clients(ctx context.Context) ([]*Client, error)
	InsertClient(ctx context.Context, c *Client) error
	DeleteClient(ctx context.Context, id string) error

	InsertAuthRequest(ctx context.Context, a *AuthRequest) error
	AuthRequest(ctx context.Context, id string) (*AuthRequest, error)
	// BeginAuthRequest records the flow running the request's login, once.
	BeginAuthRequest(ctx context.Context, id, flowID string) error
	SetAuthRequestResult(ctx context.Context, id, identity string, r LoginResult) error
	SaveAuthCode(ctx context.Context, id string, codeHash []byte) error
	// ReplaceAuthCode gives a finished request whose code is unredeemed another
	// code in place of the one before (the browser reloaded the finish page).
	ReplaceAuthCode(ctx context.Context, id string, codeHash []byte) error
	// ConsumeAuthCode returns the request of an unused code and removes it, in one statement.
	ConsumeAuthCode(ctx context.Context, codeHash []byte) (*AuthRequest, error)
	DeleteAuthRequest(ctx context.Context, id string) error

	InsertToken(ctx context.Context, t *Token) error
	// IdentityOfSubject returns the identity a client knows by subject (from its tokens).
	IdentityOfSubject(ctx context.Context, subject, clientID string) (string, error)
	Token(ctx context.Context, id string) (*Token, error)
	RevokeToken(ctx context.Context, id string, now time.Time) error
	// RevokeTokensOf revokes the live tokens of the identity (clientID "" for every client)
	// and returns them as they were.
	RevokeTokensOf(ctx context.Context, identity, clientID string, now time.Time) ([]*Token, error)
	// CountCPRTry adds a try to the token's CPR match count unless it has max already.
	CountCPRTry(ctx context.Context, tokenID string, max int) (int, error)

	InsertPAR(ctx context.Context, p PAR) error
	// UsePAR returns the parameters of an unused, unexpired request of the client and marks it used.
	UsePAR(ctx context.Context, id, clientID string, now time.Time) (string, error)

	InsertLogoutDelivery(ctx context.Context, d LogoutDelivery) error
	DueLogoutDeliveries(ctx context.Context, now time.Time, limit int) ([]LogoutDelivery, error)
	FinishLogoutDelivery(ctx context.Context, id string, delivered bool, next time.Time, errText string) error
	DeleteExpiredOIDC(ctx context.Context, now time.Time) error
}
