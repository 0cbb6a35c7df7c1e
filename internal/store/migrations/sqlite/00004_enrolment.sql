-- Enrolment: the CSCA trust list, enrolment cases with their evidence, the
-- pictures a caseworker compares while a face review is pending, and the
-- passports of people known by P-code.

-- +goose Up
CREATE TABLE csca_certificates (
    fingerprint TEXT PRIMARY KEY,          -- lower-case hex SHA-256 of der
    der         BLOB NOT NULL,
    subject     TEXT NOT NULL,
    key_id      TEXT NOT NULL DEFAULT '',  -- hex subject key identifier
    not_before  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    source      TEXT NOT NULL,             -- the file, or the master list and its signer
    imported_at INTEGER NOT NULL
) STRICT;

-- One enrolment: what was checked and decided. Document data, not the chip's
-- files; the pictures live in enrolment_images only until the decision.
CREATE TABLE enrolment_cases (
    id                   TEXT PRIMARY KEY,
    token_hash           BLOB NOT NULL,
    channel              TEXT NOT NULL CHECK (channel IN ('app_passport', 'in_person')),
    state                TEXT NOT NULL CHECK (state IN ('started', 'checking', 'face_review', 'guardian_consent',
                                                        'ready', 'completed', 'refused', 'failed', 'expired')),
    challenge            BLOB,             -- the open active-authentication challenge; NULL once spent
    challenge_expires_at INTEGER,
    document_type        TEXT NOT NULL DEFAULT '',
    document_number      TEXT NOT NULL DEFAULT '',
    issuing_state        TEXT NOT NULL DEFAULT '',
    nationality          TEXT NOT NULL DEFAULT '',
    document_expiry      TEXT NOT NULL DEFAULT '',   -- YYYY-MM-DD
    checks               TEXT NOT NULL DEFAULT '[]', -- JSON: [{"name", "passed", "detail"}], in order
    face_outcome         TEXT NOT NULL DEFAULT '',
    face_score           REAL NOT NULL DEFAULT 0,
    face_liveness        INTEGER NOT NULL DEFAULT 0,
    face_verifier        TEXT NOT NULL DEFAULT '',
    reason               TEXT NOT NULL DEFAULT '',   -- the refusal's code
    reason_detail        TEXT NOT NULL DEFAULT '',   -- what exactly failed, for caseworkers
    cpr_index            BLOB,                       -- keyed blind index of the person's CPR number
    cpr_sealed           BLOB,                       -- the number, sealed under the KEK
    cpr_masked           TEXT NOT NULL DEFAULT '',
    restrictions         INTEGER NOT NULL DEFAULT 0,
    guardian_identity    TEXT,
    guardian_name        TEXT NOT NULL DEFAULT '',
    consent_approval     TEXT,
    identity_uuid        TEXT REFERENCES identities (uuid),
    operator             TEXT NOT NULL DEFAULT '',
    origin_ip            TEXT NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    decided_at           INTEGER,
    version              INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX enrolment_cases_due ON enrolment_cases (expires_at)
    WHERE state IN ('started', 'checking', 'face_review', 'guardian_consent', 'ready');
CREATE INDEX enrolment_cases_state ON enrolment_cases (state, created_at);
CREATE UNIQUE INDEX enrolment_cases_consent ON enrolment_cases (consent_approval) WHERE consent_approval IS NOT NULL;
CREATE INDEX enrolment_cases_cpr ON enrolment_cases (cpr_index) WHERE cpr_index IS NOT NULL;

CREATE TABLE enrolment_images (
    case_id       TEXT PRIMARY KEY REFERENCES enrolment_cases (id),
    portrait      BLOB NOT NULL,   -- the chip's portrait, sealed under the KEK
    portrait_type TEXT NOT NULL,
    selfie        BLOB NOT NULL,   -- sealed under the KEK
    selfie_type   TEXT NOT NULL
) STRICT;

-- The passport a P-code identity was enrolled with: one live identity per passport.
CREATE TABLE pcode_documents (
    issuing_state   TEXT NOT NULL,
    document_number TEXT NOT NULL,
    identity_uuid   TEXT NOT NULL REFERENCES identities (uuid),
    claimed_at      INTEGER NOT NULL,
    PRIMARY KEY (issuing_state, document_number)
) STRICT;

-- +goose Down
DROP TABLE pcode_documents;
DROP TABLE enrolment_images;
DROP TABLE enrolment_cases;
DROP TABLE csca_certificates;
