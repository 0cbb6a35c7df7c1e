-- The foundation: settings, identities and their user IDs, the audit log and
-- the token-signing keys. Times are Unix microseconds (UTC) in both dialects so
-- that the Go code reads them alike.

-- +goose Up
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

-- Named rows whose update takes a lock (SELECT ... FOR UPDATE on a row that
-- always exists), for work only one node may do at a time.
CREATE TABLE locks (
    name TEXT PRIMARY KEY,
    n    BIGINT NOT NULL DEFAULT 0
);
INSERT INTO locks (name) VALUES ('signing_keys');

CREATE TABLE identities (
    uuid          TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    password_hash TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'active', 'blocked', 'revoked')),
    ial           TEXT NOT NULL CHECK (ial IN ('low', 'substantial', 'high')),
    restrictions  INTEGER NOT NULL DEFAULT 0,
    cpr_index     BYTEA,
    cpr_sealed    BYTEA,
    pcode         TEXT UNIQUE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    CHECK ((cpr_index IS NULL) = (cpr_sealed IS NULL)),
    CHECK (cpr_index IS NOT NULL OR pcode IS NOT NULL)
);
-- One MitID per person: a revoked identity does not stop a new one.
CREATE UNIQUE INDEX identities_one_per_person ON identities (cpr_index) WHERE state <> 'revoked';

-- Every user ID ever claimed. The current one has retired_at NULL; a retired
-- one stays reserved for its old owner for a year (see identity.UserIDQuarantine).
CREATE TABLE user_ids (
    user_id_key   TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    identity_uuid TEXT NOT NULL REFERENCES identities (uuid),
    claimed_at    BIGINT NOT NULL,
    retired_at    BIGINT
);
CREATE UNIQUE INDEX user_ids_current ON user_ids (identity_uuid) WHERE retired_at IS NULL;
CREATE INDEX user_ids_identity ON user_ids (identity_uuid);

CREATE TABLE audit_chains (
    chain INTEGER PRIMARY KEY,
    seq   BIGINT NOT NULL,
    mac   BYTEA
);
INSERT INTO audit_chains (chain, seq) SELECT n, 0 FROM generate_series(0, 15) AS n;

CREATE TABLE audit_events (
    chain    INTEGER NOT NULL,
    seq      BIGINT NOT NULL,
    id       TEXT NOT NULL,     -- a UUIDv7; not indexed: nothing looks events up by id
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    identity TEXT NOT NULL DEFAULT '',
    ip       TEXT NOT NULL DEFAULT '',
    details  TEXT NOT NULL DEFAULT '{}',
    prev     BYTEA NOT NULL,
    mac      BYTEA NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_events_identity ON audit_events (identity, at);

-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_append_only_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    public_key  BYTEA NOT NULL,
    private_key BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    activate_at BIGINT NOT NULL,
    expires_at  BIGINT
);
CREATE INDEX signing_keys_alg ON signing_keys (alg, activate_at);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE audit_chains;
DROP TABLE user_ids;
DROP TABLE identities;
DROP TABLE locks;
DROP TABLE settings;
