-- Authenticators and the login engine: the authenticators people hold, the
-- inventory of hardware OTP tokens, activation codes for the app, login flows,
-- approval requests, lockout and rate counters, fraud reports, and the people
-- the test tool adds to the demo register.

-- +goose Up
CREATE TABLE authenticators (
    id            TEXT PRIMARY KEY,
    identity_uuid TEXT NOT NULL REFERENCES identities (uuid),
    kind          TEXT NOT NULL CHECK (kind IN ('app', 'code_display', 'audio_code_reader', 'chip')),
    state         TEXT NOT NULL CHECK (state IN ('active', 'blocked', 'revoked')),
    name          TEXT NOT NULL DEFAULT '',
    level         TEXT NOT NULL CHECK (level IN ('low', 'substantial', 'high')),
    public_key    BLOB,             -- app: the device key (PKIX)
    serial        TEXT,             -- code display / audio code reader: the token's serial
    credential_id BLOB,             -- chip: the WebAuthn credential id
    credential    BLOB,             -- chip: the stored credential (fido.Credential)
    sign_count    INTEGER NOT NULL DEFAULT 0,
    otp_last_step INTEGER NOT NULL DEFAULT 0, -- the newest TOTP time step used
    usable_from   INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    version       INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX authenticators_identity ON authenticators (identity_uuid, kind);
CREATE UNIQUE INDEX authenticators_serial ON authenticators (serial) WHERE serial IS NOT NULL AND state <> 'revoked';
CREATE UNIQUE INDEX authenticators_credential ON authenticators (credential_id) WHERE credential_id IS NOT NULL;

CREATE TABLE otp_tokens (
    serial       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('code_display', 'audio_code_reader')),
    secret       BLOB NOT NULL,     -- the seed, sealed under the KEK
    algorithm    TEXT NOT NULL,
    digits       INTEGER NOT NULL,
    period       INTEGER NOT NULL,
    manufacturer TEXT NOT NULL DEFAULT '',
    model        TEXT NOT NULL DEFAULT '',
    imported_at  INTEGER NOT NULL,
    assigned_to  TEXT               -- the authenticator holding it
) STRICT;

CREATE TABLE activation_codes (
    code_hash     BLOB PRIMARY KEY,
    identity_uuid TEXT NOT NULL REFERENCES identities (uuid),
    level         TEXT NOT NULL,
    purpose       TEXT NOT NULL DEFAULT 'activate',
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
) STRICT;
CREATE INDEX activation_codes_identity ON activation_codes (identity_uuid);

CREATE TABLE login_flows (
    id             TEXT PRIMARY KEY,
    token_hash     BLOB NOT NULL,
    client_id      TEXT NOT NULL,
    client_name    TEXT NOT NULL,
    level          TEXT NOT NULL,
    reference_text TEXT NOT NULL DEFAULT '',
    action_text    TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL,
    method         TEXT NOT NULL DEFAULT '',
    methods        TEXT NOT NULL DEFAULT '',    -- the methods offered, after identify
    user_key       TEXT NOT NULL DEFAULT '',
    identity_uuid  TEXT,
    factors        TEXT NOT NULL DEFAULT '',
    approval_id    TEXT,
    challenge      BLOB,             -- the open WebAuthn session
    webauthn       TEXT NOT NULL DEFAULT '', -- its options, for the browser
    error          TEXT NOT NULL DEFAULT '',
    levels         TEXT NOT NULL DEFAULT '',  -- when done: "loa ial aal"
    origin_ip      TEXT NOT NULL DEFAULT '',
    browser        TEXT NOT NULL DEFAULT '',
    auth_request   TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    done_at        INTEGER,
    version        INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX login_flows_expires ON login_flows (expires_at);

CREATE TABLE approvals (
    id            TEXT PRIMARY KEY,
    identity_uuid TEXT,            -- NULL: a decoy for a user ID that does not exist
    flow_id       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    request       BLOB NOT NULL,   -- the canonical encoding the app signs
    binding_code  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'bound', 'approved', 'rejected', 'fraud', 'expired', 'cancelled', 'failed')),
    device_id     TEXT,
    binding       TEXT NOT NULL DEFAULT '',
    bind_failures INTEGER NOT NULL DEFAULT 0,
    signature     BLOB,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    answered_at   INTEGER
) STRICT;
-- At most one open request per identity.
CREATE UNIQUE INDEX approvals_one_open ON approvals (identity_uuid) WHERE state IN ('pending', 'bound');
CREATE INDEX approvals_expires ON approvals (expires_at);

-- Failures counted towards a lockout (passwords by user ID, codes by authenticator).
CREATE TABLE attempt_counters (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until INTEGER,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Fixed-window rate counters; a row is deleted once its window has ended.
CREATE TABLE rate_counters (
    key   TEXT NOT NULL,
    win   INTEGER NOT NULL,
    count INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key, win)
) STRICT, WITHOUT ROWID;

CREATE TABLE fraud_reports (
    id            TEXT PRIMARY KEY,
    identity_uuid TEXT NOT NULL REFERENCES identities (uuid),
    approval_id   TEXT NOT NULL,
    flow_id       TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    origin_ip     TEXT NOT NULL DEFAULT '',
    browser       TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    handled_at    INTEGER
) STRICT;
CREATE INDEX fraud_reports_identity ON fraud_reports (identity_uuid);

CREATE TABLE demo_persons (
    cpr        TEXT PRIMARY KEY,
    person     TEXT NOT NULL,   -- cpr.Person as JSON
    created_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE demo_persons;
DROP TABLE fraud_reports;
DROP TABLE rate_counters;
DROP TABLE attempt_counters;
DROP TABLE approvals;
DROP TABLE login_flows;
DROP TABLE activation_codes;
DROP TABLE otp_tokens;
DROP TABLE authenticators;
