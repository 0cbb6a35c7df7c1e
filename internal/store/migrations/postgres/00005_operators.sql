-- The operator console: caseworkers and supervisors (each an identity), their
-- console sessions, and what an enrolment in person records beyond a
-- passport enrolment: how the person was verified and the witness who vouched.

-- +goose Up
CREATE TABLE operators (
    identity_uuid TEXT PRIMARY KEY REFERENCES identities (uuid),
    role          TEXT NOT NULL CHECK (role IN ('caseworker', 'supervisor')),
    added_by      TEXT NOT NULL,
    added_at      BIGINT NOT NULL
);

-- A console session, or a login to the console under way (operator NULL).
-- Only a hash of the cookie's value is kept.
CREATE TABLE operator_sessions (
    id_hash       BYTEA PRIMARY KEY,
    operator      TEXT REFERENCES operators (identity_uuid) ON DELETE CASCADE,
    login_state   TEXT NOT NULL DEFAULT '',  -- the OpenID state of a login under way
    login_nonce   TEXT NOT NULL DEFAULT '',
    login_pkce    TEXT NOT NULL DEFAULT '',  -- the PKCE verifier
    level         TEXT NOT NULL DEFAULT '',  -- the level the operator logged in at
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL              -- the absolute limit; idleness ends it sooner
);
CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);

ALTER TABLE enrolment_cases ADD COLUMN verification TEXT NOT NULL DEFAULT '';  -- in person: questions or witness
ALTER TABLE enrolment_cases ADD COLUMN witness_identity TEXT;
ALTER TABLE enrolment_cases ADD COLUMN witness_approval TEXT;
CREATE UNIQUE INDEX enrolment_cases_witness ON enrolment_cases (witness_approval) WHERE witness_approval IS NOT NULL;

-- +goose Down
DROP INDEX enrolment_cases_witness;
ALTER TABLE enrolment_cases DROP COLUMN witness_approval;
ALTER TABLE enrolment_cases DROP COLUMN witness_identity;
ALTER TABLE enrolment_cases DROP COLUMN verification;
DROP TABLE operator_sessions;
DROP TABLE operators;
