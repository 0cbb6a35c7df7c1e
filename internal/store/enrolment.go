package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/proofing"
)

const caseColumns = `id, token_hash, channel, state, challenge, challenge_expires_at, document_type, document_number,
	issuing_state, nationality, document_expiry, checks, face_outcome, face_score, face_liveness, face_verifier,
	reason, reason_detail, cpr_index, cpr_sealed, cpr_masked, restrictions, guardian_identity, guardian_name,
	consent_approval, identity_uuid, operator, origin_ip, created_at, updated_at, expires_at, decided_at, version,
	verification, witness_identity, witness_approval`

// caseArgs returns c's values in the order of caseColumns.
func caseArgs(c *proofing.Case) ([]any, error) {
	checks, err := json.Marshal(c.Checks)
	if err != nil {
		return nil, err
	}
	if c.Checks == nil {
		checks = []byte("[]")
	}
	expiry := ""
	if !c.Document.Expiry.IsZero() {
		expiry = c.Document.Expiry.Format(time.DateOnly)
	}
	return []any{c.ID, c.TokenHash, string(c.Channel), string(c.State), c.Challenge, nullTime(c.ChallengeExpiresAt),
		c.Document.Type, c.Document.Number, c.Document.IssuingState, c.Document.Nationality, expiry, string(checks),
		c.Face.Outcome, c.Face.Score, boolInt(c.Face.Liveness), c.Face.Verifier, c.Reason, c.ReasonDetail,
		c.CPRIndex, c.CPRSealed, c.CPRMasked, int64(c.Restrictions), nullString(c.GuardianIdentity), c.GuardianName,
		nullString(c.ConsentApproval), nullString(c.IdentityUUID), c.Operator, c.OriginIP,
		c.CreatedAt.UnixMicro(), c.UpdatedAt.UnixMicro(), c.ExpiresAt.UnixMicro(), nullTime(c.DecidedAt), c.Version,
		c.Verification, nullString(c.WitnessIdentity), nullString(c.WitnessApproval)}, nil
}

func scanCase(row interface{ Scan(...any) error }) (*proofing.Case, error) {
	var (
		c                               proofing.Case
		channel, state, expiry, checks  string
		challengeExp, decided           sql.NullInt64
		liveness, restrictions          int64
		guardian, consent, identityUUID sql.NullString
		witness, witnessApproval        sql.NullString
		created, updated, expires       int64
	)
	if err := row.Scan(&c.ID, &c.TokenHash, &channel, &state, &c.Challenge, &challengeExp, &c.Document.Type,
		&c.Document.Number, &c.Document.IssuingState, &c.Document.Nationality, &expiry, &checks, &c.Face.Outcome,
		&c.Face.Score, &liveness, &c.Face.Verifier, &c.Reason, &c.ReasonDetail, &c.CPRIndex, &c.CPRSealed,
		&c.CPRMasked, &restrictions, &guardian, &c.GuardianName, &consent, &identityUUID, &c.Operator, &c.OriginIP,
		&created, &updated, &expires, &decided, &c.Version, &c.Verification, &witness, &witnessApproval); err != nil {
		return nil, err
	}
	c.Channel, c.State = proofing.Channel(channel), proofing.State(state)
	if challengeExp.Valid {
		c.ChallengeExpiresAt = time.UnixMicro(challengeExp.Int64).UTC()
	}
	if expiry != "" {
		t, err := time.Parse(time.DateOnly, expiry)
		if err != nil {
			return nil, err
		}
		c.Document.Expiry = t
	}
	if err := json.Unmarshal([]byte(checks), &c.Checks); err != nil {
		return nil, err
	}
	if len(c.Checks) == 0 {
		c.Checks = nil
	}
	c.Face.Liveness = liveness == 1
	c.Restrictions = identity.Restrictions(restrictions)
	c.GuardianIdentity, c.ConsentApproval, c.IdentityUUID = guardian.String, consent.String, identityUUID.String
	c.WitnessIdentity, c.WitnessApproval = witness.String, witnessApproval.String
	c.CreatedAt, c.UpdatedAt, c.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC(), time.UnixMicro(expires).UTC()
	if decided.Valid {
		c.DecidedAt = time.UnixMicro(decided.Int64).UTC()
	}
	return &c, nil
}

// InsertEnrolmentCase implements [proofing.Store].
func (db *DB) InsertEnrolmentCase(ctx context.Context, c *proofing.Case) error {
	c.Version = 1
	args, err := caseArgs(c)
	if err != nil {
		return err
	}
	_, err = db.exec(ctx, "INSERT INTO enrolment_cases ("+caseColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
		$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36)`, args...)
	if err != nil {
		return db.wrap("inserting enrolment case", err)
	}
	return nil
}

// UpdateEnrolmentCase implements [proofing.Store]: every column but the id,
// the token and the creation, if the version is still the stored one.
func (db *DB) UpdateEnrolmentCase(ctx context.Context, c *proofing.Case) error {
	args, err := caseArgs(c)
	if err != nil {
		return err
	}
	// caseArgs: id (0), token_hash (1), channel (2), …, created_at (28), …, version (32),
	// verification (33), witness_identity (34), witness_approval (35).
	res, err := db.exec(ctx, `UPDATE enrolment_cases SET state = $1, challenge = $2, challenge_expires_at = $3,
		document_type = $4, document_number = $5, issuing_state = $6, nationality = $7, document_expiry = $8, checks = $9,
		face_outcome = $10, face_score = $11, face_liveness = $12, face_verifier = $13, reason = $14, reason_detail = $15,
		cpr_index = $16, cpr_sealed = $17, cpr_masked = $18, restrictions = $19, guardian_identity = $20, guardian_name = $21,
		consent_approval = $22, identity_uuid = $23, operator = $24, origin_ip = $25, updated_at = $26, expires_at = $27,
		decided_at = $28, version = version + 1, verification = $31, witness_identity = $32, witness_approval = $33
		WHERE id = $29 AND version = $30`, append(append(append(args[3:28:28], args[29:32]...), c.ID, c.Version), args[33:36]...)...)
	if err != nil {
		return db.wrap("updating enrolment case", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return proofing.ErrConflict
	}
	c.Version++
	return nil
}

func (db *DB) caseWhere(ctx context.Context, where string, arg any) (*proofing.Case, error) {
	c, err := scanCase(db.q(ctx).QueryRowContext(ctx, "SELECT "+caseColumns+" FROM enrolment_cases WHERE "+where+db.forUpdateInTx(ctx), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, proofing.ErrCaseNotFound
	}
	if err != nil {
		return nil, db.wrap("reading enrolment case", err)
	}
	return c, nil
}

// EnrolmentCase implements [proofing.Store].
func (db *DB) EnrolmentCase(ctx context.Context, id string) (*proofing.Case, error) {
	return db.caseWhere(ctx, "id = $1", id)
}

// EnrolmentCaseByApproval implements [proofing.Store].
func (db *DB) EnrolmentCaseByApproval(ctx context.Context, approvalID string) (*proofing.Case, error) {
	return db.caseWhere(ctx, "consent_approval = $1", approvalID)
}

// EnrolmentCaseByWitnessApproval implements [proofing.InPersonStore].
func (db *DB) EnrolmentCaseByWitnessApproval(ctx context.Context, approvalID string) (*proofing.Case, error) {
	return db.caseWhere(ctx, "witness_approval = $1", approvalID)
}

// EnrolmentCasesOfOperator implements [proofing.InPersonStore]: the
// operator's in-person cases, newest first.
func (db *DB) EnrolmentCasesOfOperator(ctx context.Context, operator string, limit int) ([]*proofing.Case, error) {
	return db.cases(ctx, "channel = 'in_person' AND operator = $1 ORDER BY created_at DESC, id LIMIT $2", operator, limit)
}

func (db *DB) cases(ctx context.Context, query string, args ...any) ([]*proofing.Case, error) {
	rows, err := db.q(ctx).QueryContext(ctx, "SELECT "+caseColumns+" FROM enrolment_cases WHERE "+query, args...)
	if err != nil {
		return nil, db.wrap("reading enrolment cases", err)
	}
	defer rows.Close()
	var out []*proofing.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, db.wrap("reading enrolment cases", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DueEnrolmentCases implements [proofing.Store].
func (db *DB) DueEnrolmentCases(ctx context.Context, now time.Time, limit int) ([]*proofing.Case, error) {
	return db.cases(ctx, `state IN ('started', 'checking', 'face_review', 'guardian_consent', 'ready')
		AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2`, now.UnixMicro(), limit)
}

// EnrolmentCasesInState implements [proofing.Store].
func (db *DB) EnrolmentCasesInState(ctx context.Context, state proofing.State, limit int) ([]*proofing.Case, error) {
	return db.cases(ctx, "state = $1 ORDER BY created_at, id LIMIT $2", string(state), limit)
}

// PutEnrolmentImages implements [proofing.Store].
func (db *DB) PutEnrolmentImages(ctx context.Context, caseID string, im proofing.Images) error {
	_, err := db.exec(ctx, `INSERT INTO enrolment_images (case_id, portrait, portrait_type, selfie, selfie_type)
		VALUES ($1, $2, $3, $4, $5)`, caseID, im.Portrait, im.PortraitType, im.Selfie, im.SelfieType)
	if err != nil {
		return db.wrap("storing enrolment images", err)
	}
	return nil
}

// EnrolmentImages implements [proofing.Store].
func (db *DB) EnrolmentImages(ctx context.Context, caseID string) (proofing.Images, error) {
	var im proofing.Images
	err := db.q(ctx).QueryRowContext(ctx, `SELECT portrait, portrait_type, selfie, selfie_type FROM enrolment_images
		WHERE case_id = $1`, caseID).Scan(&im.Portrait, &im.PortraitType, &im.Selfie, &im.SelfieType)
	if errors.Is(err, sql.ErrNoRows) {
		return proofing.Images{}, proofing.ErrNoImages
	}
	if err != nil {
		return proofing.Images{}, db.wrap("reading enrolment images", err)
	}
	return im, nil
}

// DeleteEnrolmentImages implements [proofing.Store]. Deleting none is not
// an error.
func (db *DB) DeleteEnrolmentImages(ctx context.Context, caseID string) error {
	if _, err := db.exec(ctx, "DELETE FROM enrolment_images WHERE case_id = $1", caseID); err != nil {
		return db.wrap("deleting enrolment images", err)
	}
	return nil
}

// PCodeHolder implements [proofing.Store].
func (db *DB) PCodeHolder(ctx context.Context, issuingState, number string) (string, error) {
	var holder string
	err := db.q(ctx).QueryRowContext(ctx, `SELECT p.identity_uuid FROM pcode_documents p JOIN identities i ON i.uuid = p.identity_uuid
		WHERE p.issuing_state = $1 AND p.document_number = $2 AND i.state <> 'revoked'`, issuingState, number).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", db.wrap("reading P-code passport", err)
	}
	return holder, nil
}

// ClaimPCodeDocument implements [proofing.Store]: the passport's row is
// taken over from a revoked identity, and otherwise inserted. Two enrolments
// racing for one passport meet at the primary key, and one gets
// identity.ErrAlreadyEnrolled.
func (db *DB) ClaimPCodeDocument(ctx context.Context, issuingState, number, identityUUID string, now time.Time) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		holder, err := db.PCodeHolder(ctx, issuingState, number)
		if err != nil {
			return err
		}
		if holder != "" {
			return identity.ErrAlreadyEnrolled
		}
		// Only from a revoked holder: on PostgreSQL the UPDATE sees a row
		// another enrolment committed after the read above, and without the
		// condition took it over from a live identity (TestPCodeDocumentRace).
		res, err := db.exec(ctx, `UPDATE pcode_documents SET identity_uuid = $1, claimed_at = $2
			WHERE issuing_state = $3 AND document_number = $4
			  AND identity_uuid IN (SELECT uuid FROM identities WHERE state = 'revoked')`,
			identityUUID, now.UnixMicro(), issuingState, number)
		if err != nil {
			return db.wrap("claiming P-code passport", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		_, err = db.exec(ctx, `INSERT INTO pcode_documents (issuing_state, document_number, identity_uuid, claimed_at)
			VALUES ($1, $2, $3, $4)`, issuingState, number, identityUUID, now.UnixMicro())
		if uniqueViolation(err) != "" {
			return identity.ErrAlreadyEnrolled
		}
		if err != nil {
			return db.wrap("claiming P-code passport", err)
		}
		return nil
	})
}

// InsertCSCA implements [proofing.CSCAStore].
func (db *DB) InsertCSCA(ctx context.Context, c proofing.CSCA) (bool, error) {
	res, err := db.exec(ctx, `INSERT INTO csca_certificates (fingerprint, der, subject, key_id, not_before, not_after, source, imported_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (fingerprint) DO NOTHING`,
		c.Fingerprint, c.DER, c.Subject, c.KeyID, c.NotBefore.UnixMicro(), c.NotAfter.UnixMicro(), c.Source, c.ImportedAt.UnixMicro())
	if err != nil {
		return false, db.wrap("inserting CSCA", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CSCAs implements [proofing.CSCAStore], in the order of import.
func (db *DB) CSCAs(ctx context.Context) ([]proofing.CSCA, error) {
	rows, err := db.q(ctx).QueryContext(ctx, `SELECT fingerprint, der, subject, key_id, not_before, not_after, source, imported_at
		FROM csca_certificates ORDER BY imported_at, fingerprint`)
	if err != nil {
		return nil, db.wrap("reading CSCAs", err)
	}
	defer rows.Close()
	var out []proofing.CSCA
	for rows.Next() {
		var (
			c                proofing.CSCA
			nb, na, imported int64
		)
		if err := rows.Scan(&c.Fingerprint, &c.DER, &c.Subject, &c.KeyID, &nb, &na, &c.Source, &imported); err != nil {
			return nil, db.wrap("reading CSCAs", err)
		}
		c.NotBefore, c.NotAfter, c.ImportedAt = time.UnixMicro(nb).UTC(), time.UnixMicro(na).UTC(), time.UnixMicro(imported).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
