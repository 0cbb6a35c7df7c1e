-- The foundation: settings, identities and their user IDs, the audit log and
-- the token-signing keys. Times are Unix microseconds (UTC) in both dialects so
-- that the Go code reads them alike.

-- +goose Up
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- Named rows whose update takes a lock on PostgreSQL (SQLite has one writer).
CREATE TABLE locks (
    name TEXT PRIMARY KEY,
    n    INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO locks (name) VALUES ('signing_keys');

CREATE TABLE identities (
    uuid          TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    password_hash TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'active', 'blocked', 'revoked')),
    ial           TEXT NOT NULL CHECK (ial IN ('low', 'substantial', 'high')),
    restrictions  INTEGER NOT NULL DEFAULT 0,
    cpr_index     BLOB,
    cpr_sealed    BLOB,
    pcode         TEXT UNIQUE,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    CHECK ((cpr_index IS NULL) = (cpr_sealed IS NULL)),
    CHECK (cpr_index IS NOT NULL OR pcode IS NOT NULL)
) STRICT;
-- One MitID per person: a revoked identity does not stop a new one.
CREATE UNIQUE INDEX identities_one_per_person ON identities (cpr_index) WHERE state <> 'revoked';

-- Every user ID ever claimed. The current one has retired_at NULL; a retired
-- one stays reserved for its old owner for a year (see identity.UserIDQuarantine).
CREATE TABLE user_ids (
    user_id_key   TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    identity_uuid TEXT NOT NULL REFERENCES identities (uuid),
    claimed_at    INTEGER NOT NULL,
    retired_at    INTEGER
) STRICT;
CREATE UNIQUE INDEX user_ids_current ON user_ids (identity_uuid) WHERE retired_at IS NULL;
CREATE INDEX user_ids_identity ON user_ids (identity_uuid);

CREATE TABLE audit_chains (
    chain INTEGER PRIMARY KEY,
    seq   INTEGER NOT NULL,
    mac   BLOB
) STRICT;
WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 15)
INSERT INTO audit_chains (chain, seq) SELECT n, 0 FROM c;

CREATE TABLE audit_events (
    chain    INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    id       TEXT NOT NULL,     -- a UUIDv7; not indexed: nothing looks events up by id
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    identity TEXT NOT NULL DEFAULT '',
    ip       TEXT NOT NULL DEFAULT '',
    details  TEXT NOT NULL DEFAULT '{}',
    prev     BLOB NOT NULL,
    mac      BLOB NOT NULL,
    PRIMARY KEY (chain, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX audit_events_identity ON audit_events (identity, at);

-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    public_key  BLOB NOT NULL,
    private_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    activate_at INTEGER NOT NULL,
    expires_at  INTEGER
) STRICT;
CREATE INDEX signing_keys_alg ON signing_keys (alg, activate_at);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE audit_events;
DROP TABLE audit_chains;
DROP TABLE user_ids;
DROP TABLE identities;
DROP TABLE locks;
DROP TABLE settings;
