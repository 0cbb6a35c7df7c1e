-- The OpenID provider: service providers (clients), authorization requests
-- with their codes, issued tokens, pushed authorization requests, CPR-match
-- tries, and back-channel logout deliveries.

-- +goose Up
CREATE TABLE oidc_clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,              -- shown to the person and in the app
    secret_hash               TEXT NOT NULL DEFAULT '',   -- SHA-256 of a client secret with 256 random bits
    auth_method               TEXT NOT NULL CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
    jwks                      TEXT NOT NULL DEFAULT '',   -- private_key_jwt: the client's public keys
    redirect_uris             TEXT NOT NULL,              -- JSON array
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]', -- JSON array
    backchannel_logout_uri    TEXT NOT NULL DEFAULT '',
    application_type          TEXT NOT NULL DEFAULT 'web' CHECK (application_type IN ('web', 'native')),
    loopback_any_port         INTEGER NOT NULL DEFAULT 0,
    scopes                    TEXT NOT NULL,              -- space-separated, the scopes it may ask for
    cpr_allowed               INTEGER NOT NULL DEFAULT 0,
    pcode_allowed             INTEGER NOT NULL DEFAULT 0,
    min_level                 TEXT NOT NULL DEFAULT 'low',
    id_token_alg              TEXT NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256')),
    subject_type              TEXT NOT NULL DEFAULT 'pairwise' CHECK (subject_type IN ('pairwise', 'public')),
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL
) STRICT;

CREATE TABLE oidc_auth_requests (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    request         TEXT NOT NULL,    -- the validated request (redirect URI, state, nonce, scopes, PKCE, …) as JSON
    level           TEXT NOT NULL,
    flow_id         TEXT NOT NULL DEFAULT '',
    code_hash       BLOB,
    code_used       INTEGER NOT NULL DEFAULT 0,
    identity_uuid   TEXT NOT NULL DEFAULT '',
    result          TEXT NOT NULL DEFAULT '', -- when done: the login's result as JSON
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX oidc_auth_requests_code ON oidc_auth_requests (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_tokens (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    identity_uuid TEXT NOT NULL,
    subject       TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    audience      TEXT NOT NULL,
    auth_request  TEXT NOT NULL,      -- the login's session id (sid)
    result        TEXT NOT NULL,      -- the login's result as JSON (levels, amr, auth time)
    cpr_tries     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) STRICT;
CREATE INDEX oidc_tokens_identity ON oidc_tokens (identity_uuid);
CREATE INDEX oidc_tokens_expires ON oidc_tokens (expires_at);

CREATE TABLE oidc_par (
    id         TEXT PRIMARY KEY,      -- the random part of the request_uri
    client_id  TEXT NOT NULL,
    params     TEXT NOT NULL,         -- the authorization request's parameters, form-encoded
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE TABLE logout_deliveries (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    uri             TEXT NOT NULL,
    logout_token    TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX logout_deliveries_due ON logout_deliveries (next_attempt_at) WHERE delivered_at IS NULL;

-- +goose Down
DROP TABLE logout_deliveries;
DROP TABLE oidc_par;
DROP TABLE oidc_tokens;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
