-- Notifications and copying the app to a new phone: the contact addresses
-- people give (sealed under the KEK: personal data), the outbox of messages
-- to send to them (written in the transaction of the event that causes it, and
-- sent by a background job on any node), the sessions in which an active
-- app approves a new phone, and which enrolment cases reactivate an identity.

-- +goose Up
CREATE TABLE contact_addresses (
    identity_uuid TEXT PRIMARY KEY REFERENCES identities (uuid),
    email_sealed  BLOB NOT NULL,     -- the e-mail address, sealed under the KEK
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    identity_uuid   TEXT NOT NULL REFERENCES identities (uuid),
    channel         TEXT NOT NULL CHECK (channel IN ('email')),
    template        TEXT NOT NULL,
    params          TEXT NOT NULL DEFAULT '{}',  -- JSON object of strings
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claim           TEXT,            -- the sender that holds it while state is sending
    claimed_until   INTEGER,         -- after which another sender may take it over
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;
CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
CREATE INDEX notifications_identity ON notifications (identity_uuid, created_at);

CREATE TABLE copy_sessions (
    id            TEXT PRIMARY KEY,
    secret_hash   BLOB NOT NULL,     -- SHA-256 of the QR code's secret
    token_hash    BLOB NOT NULL,     -- SHA-256 of the new app's token
    user_id_key   TEXT NOT NULL,     -- the user ID the new app named
    public_key    BLOB NOT NULL,     -- the new device key (PKIX)
    device_name   TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'approved')),
    identity_uuid TEXT REFERENCES identities (uuid),
    device_id     TEXT,              -- the new app, once approved
    approved_by   TEXT,              -- the old app
    origin_ip     TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    approved_at   INTEGER
) STRICT;
CREATE INDEX copy_sessions_expires ON copy_sessions (expires_at);

-- Enrolment cases that reactivate an existing identity (a person who lost
-- every authenticator scans the passport again) rather than make one.
CREATE TABLE reactivations (
    case_id       TEXT PRIMARY KEY REFERENCES enrolment_cases (id),
    identity_uuid TEXT REFERENCES identities (uuid), -- the identity the passport proved, once checked
    created_at    INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE reactivations;
DROP TABLE copy_sessions;
DROP TABLE notifications;
DROP TABLE contact_addresses;
