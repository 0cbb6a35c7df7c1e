package proofing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/face"
	"github.com/openmitid/openmitid/internal/identity"
)

// verdict is what the checks of a submission found.
type verdict struct {
	doc          Document
	checks       []Check
	person       cpr.Person
	restrictions identity.Restrictions
	guardians    []guardian
	face         FaceResult
	images       *Images // kept for a caseworker's review
	identity     string  // reactivation: the identity the passport proved
	err          error   // wraps a Refusal: the case ends refused, or failed for a failure
}

func (v *verdict) check(name string, passed bool, format string, args ...any) {
	v.checks = append(v.checks, Check{Name: name, Passed: passed, Detail: fmt.Sprintf(format, args...)})
}

// fail records a failed check and the refusal it leads to.
func (v *verdict) fail(name string, r *Refusal, format string, args ...any) *verdict {
	v.check(name, false, format, args...)
	v.err = refuse(r, "%s: %s", name, fmt.Sprintf(format, args...))
	return v
}

// SubmitPassport checks a passport for the case that the token opens, as the
// package documentation lists, spending the case's challenge: a case takes
// one submission ([ErrAlreadySubmitted] after). It returns the case in its
// new state: face_review, guardian_consent or ready when every check passed
// so far; refused with an error wrapping the [Refusal] when one failed;
// failed with an error wrapping a failure [Refusal] when a service could not
// be asked. Either way the case records what was found, and no identity is
// made here.
func (s *Service) SubmitPassport(ctx context.Context, id, token string, sub *Submission) (*Case, error) {
	var (
		c         *Case
		challenge [emrtd.ChallengeSize]byte
		late      bool
	)
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.open(ctx, id, token); err != nil {
			return err
		}
		if c.State != Started {
			return ErrAlreadySubmitted
		}
		now := s.now().UTC()
		if late = !now.Before(c.ChallengeExpiresAt); late {
			return s.end(ctx, c, Expired, refuse(RefuseChallengeExpired, "the passport came at %s; the challenge expired at %s",
				now.Format(time.RFC3339), c.ChallengeExpiresAt.Format(time.RFC3339)), audit.Event{})
		}
		copy(challenge[:], c.Challenge)
		// Spent before the chip's answer is looked at: a challenge answers
		// once, whatever the outcome.
		c.Challenge, c.State, c.ExpiresAt = nil, Checking, now.Add(checkingTTL)
		c.OriginIP = firstNonEmpty(audit.OriginFrom(ctx).IP, c.OriginIP)
		return s.update(ctx, c, audit.Event{Action: "enrolment.passport_received"})
	})
	if err != nil {
		return nil, err
	}
	if late {
		return c, refuse(RefuseChallengeExpired, "challenge expired")
	}

	reactivate, err := s.IsReactivation(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	v := s.verify(ctx, c.ID, challenge, sub, reactivate)
	if errors.Is(v.err, context.Canceled) && ctx.Err() != nil {
		// The app went away; the case expires as checking.
		return nil, v.err
	}
	if v.images != nil {
		if v.images, err = s.seal(c.ID, v.images); err != nil {
			return nil, err
		}
	}
	var guardian *guardian
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.EnrolmentCase(ctx, c.ID)
		if err != nil {
			return err
		}
		if cur.State != Checking || cur.Version != c.Version {
			return ErrConflict // it expired meanwhile
		}
		c = cur
		c.Document, c.Checks, c.Face, c.Restrictions = v.doc, v.checks, v.face, v.restrictions
		if !v.person.CPR.IsZero() {
			c.CPRIndex, c.CPRMasked = s.identities.CPRIndex(v.person.CPR), v.person.CPR.Masked()
			if c.CPRSealed, err = s.keys.Seal([]byte(v.person.CPR.Digits()), cprContext(c.ID)); err != nil {
				return err
			}
		}
		if reactivate && v.err == nil {
			if err := s.reactivations.SetReactivationIdentity(ctx, c.ID, v.identity); err != nil {
				return err
			}
		}
		if v.err != nil {
			to := Refused
			if r := RefusalOf(v.err); r == nil || r.Failure() {
				to = Failed
			}
			return s.end(ctx, c, to, v.err, audit.Event{})
		}
		now := s.now().UTC()
		switch {
		case v.face.Outcome == string(face.Review):
			c.State, c.ExpiresAt = FaceReview, now.Add(s.reviewTTL)
			if err := s.store.PutEnrolmentImages(ctx, c.ID, *v.images); err != nil {
				return err
			}
		case c.Restrictions&identity.Minor != 0:
			c.State, c.ExpiresAt = GuardianConsent, now.Add(ConsentTTL)
			guardian = &v.guardians[0]
		default:
			c.State, c.ExpiresAt = Ready, now.Add(ReadyTTL)
		}
		return s.update(ctx, c, audit.Event{Action: "enrolment.verified"})
	})
	if err != nil {
		return nil, err
	}
	if v.err != nil {
		return c, v.err
	}
	if guardian != nil {
		if err := s.askGuardian(ctx, c.ID, guardian); err != nil && !errors.Is(err, ErrConsentPending) {
			// The case waits; the app may ask again (AskGuardian).
			return c, nil
		}
		if c, err = s.store.EnrolmentCase(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func cprContext(caseID string) string { return "enrolment-cpr/" + caseID }

func imageContext(caseID, which string) string { return "enrolment-image/" + caseID + "/" + which }

func (s *Service) seal(caseID string, im *Images) (*Images, error) {
	p, err := s.keys.Seal(im.Portrait, imageContext(caseID, "portrait"))
	if err != nil {
		return nil, err
	}
	q, err := s.keys.Seal(im.Selfie, imageContext(caseID, "selfie"))
	if err != nil {
		return nil, err
	}
	return &Images{Portrait: p, PortraitType: im.PortraitType, Selfie: q, SelfieType: im.SelfieType}, nil
}

// verify runs the checks of the package documentation in order, stopping at
// the first that fails.
func (s *Service) verify(ctx context.Context, caseID string, challenge [emrtd.ChallengeSize]byte, sub *Submission, reactivate bool) *verdict {
	v := &verdict{}
	now := s.now()
	scanned, err := emrtd.ParseMRZ(sub.MRZ)
	if err != nil {
		return v.fail("mrz", RefuseMRZUnreadable, "the scanned MRZ does not parse: %v", err)
	}
	v.doc = documentOf(scanned)

	// 1. Passive authentication.
	trust, err := s.trust.TrustList(ctx)
	if err != nil {
		v.err = fmt.Errorf("%w: reading the trust list: %w", FailInternal, err)
		return v
	}
	res, err := emrtd.PassiveAuthenticate(sub.SOD, sub.Files, trust, now)
	if err != nil {
		return v.fail("passive_authentication", passiveRefusal(err), "%v", err)
	}
	// A chip proves itself genuine by active authentication when the SOD
	// lists DG15, or else by chip authentication with DG14's key.
	byCA := !sodLists(sub.SOD, emrtd.DG15)
	for _, dg := range []emrtd.DG{emrtd.DG1, emrtd.DG2, emrtd.DG15} {
		if _, ok := sub.Files[dg]; !ok {
			if dg == emrtd.DG15 && byCA {
				continue
			}
			return v.fail("passive_authentication", RefuseChipIncomplete, "%v was not sent", dg)
		}
	}
	if byCA {
		switch {
		case !sodLists(sub.SOD, emrtd.DG14):
			return v.fail("passive_authentication", RefuseNoActiveAuthentication, "the chip has neither DG15 nor DG14: it offers neither active nor chip authentication")
		case sub.Files[emrtd.DG14] == nil:
			return v.fail("passive_authentication", RefuseChipIncomplete, "%v was not sent", emrtd.DG14)
		case s.caKey == nil:
			return v.fail("passive_authentication", RefuseNoActiveAuthentication, "the chip has no DG15, and this server does not run chip authentication")
		case len(sub.ChipAuthentication) == 0:
			return v.fail("passive_authentication", RefuseNoActiveAuthentication, "the chip has no DG15, and the app sent no chip authentication")
		}
	}
	v.check("passive_authentication", true, "document signer %q (%s), CSCA %q; %s of %s", res.DocumentSigner.Subject,
		res.SignatureAlgorithm, res.CSCA.Subject, res.HashAlgorithm, dgList(res.Verified))

	// 2. Active authentication against the challenge of this case, or chip
	// authentication with the terminal key of this case.
	if byCA {
		run, ca, err := s.chipAuthentication(caseID, challenge, sub.Files[emrtd.DG14])
		if errors.Is(err, ErrNoChipAuthentication) {
			return v.fail("chip_authentication", RefuseNoActiveAuthentication, "%v", err)
		}
		if err == nil {
			err = run.VerifyResponse(sub.ChipAuthentication, sub.Files[emrtd.DG1])
		}
		if err != nil {
			return v.fail("chip_authentication", RefuseChipAuthentication, "%v", err)
		}
		v.check("chip_authentication", true, "the chip answered under session keys agreed with the key in DG14 (%v)", ca.Protocol())
	} else {
		if err := emrtd.ActiveAuthenticate(sub.Files[emrtd.DG15], sub.Files[emrtd.DG14], challenge, sub.ActiveAuthentication); err != nil {
			return v.fail("active_authentication", RefuseChipAuthentication, "%v", err)
		}
		v.check("active_authentication", true, "the chip answered the challenge with the key in DG15")
	}

	// 3. The document: the printed MRZ is the chip's, a passport, valid.
	chip, err := emrtd.ParseDG1(sub.Files[emrtd.DG1])
	if err != nil {
		return v.fail("mrz", RefuseChipIncomplete, "DG1: %v", err)
	}
	v.doc = documentOf(chip)
	if *scanned != *chip {
		return v.fail("mrz", RefuseMRZMismatch, "the scanned MRZ differs from DG1 (%s)", mrzDiff(scanned, chip))
	}
	v.check("mrz", true, "the scanned MRZ is DG1's")
	if !strings.HasPrefix(chip.DocumentCode, "P") {
		return v.fail("document_type", RefuseDocumentType, "document code %q is not a passport's (P)", chip.DocumentCode)
	}
	day := today(now)
	if v.doc.Expiry.IsZero() || v.doc.Expiry.Before(day) {
		return v.fail("document_expiry", RefuseDocumentExpired, "expiry %q, today %s", chip.DateOfExpiry, day.Format(time.DateOnly))
	}
	v.check("document_expiry", true, "valid until %s", v.doc.Expiry.Format(time.DateOnly))

	// 4. The person in the register.
	if !sub.CPR.IsZero() {
		v.person, err = s.register.Person(ctx, sub.CPR)
		if errors.Is(err, cpr.ErrNotFound) {
			return v.fail("register", RefusePersonNotFound, "CPR %s is not in the register", sub.CPR.Masked())
		}
	} else {
		v.person, err = s.register.PersonByDocument(ctx, registerState(chip.IssuingState), chip.DocumentNumber)
		if errors.Is(err, cpr.ErrNotFound) {
			return v.fail("register", RefuseDocumentNotRegistered, "no person without CPR has %s passport %s", chip.IssuingState, chip.DocumentNumber)
		}
		if err == nil && !v.person.CPR.IsZero() {
			return v.fail("register", RefuseCPRRequired, "the register knows the passport's holder by CPR %s", v.person.CPR.Masked())
		}
	}
	if err != nil {
		v.err = fmt.Errorf("%w: %w", FailRegisterUnavailable, err)
		return v
	}
	if !NamesMatch(chip, v.person) || !BirthdateMatches(chip, v.person, now) {
		return v.fail("register", RefusePersonMismatch, "the MRZ's %q %q born %s is not the register's %q born %s",
			chip.Surname, chip.GivenNames, chip.DateOfBirth, mrzForm(v.person.Name()), v.person.Birthdate.Format(time.DateOnly))
	}
	who := "CPR " + v.person.CPR.Masked()
	if v.person.CPR.IsZero() {
		who = "the register's person without CPR (P-code)"
		v.restrictions |= identity.PCodeOnly
	}
	v.check("register", true, "names and date of birth are those of %s", who)

	// 5. Age.
	rule, age := AgeRuleFor(v.person.Birthdate, now)
	switch rule {
	case TooYoung:
		return v.fail("age", RefuseTooYoung, "%d years old", age)
	case NeedsConsent:
		v.restrictions |= identity.Minor
		if v.guardians, err = s.guardians(ctx, v.person); err != nil {
			v.err = fmt.Errorf("%w: finding guardians: %w", FailRegisterUnavailable, err)
			return v
		}
		if len(v.guardians) == 0 {
			return v.fail("age", RefuseGuardianUnavailable, "%d years old; no guardian has an active identity with an app", age)
		}
		v.check("age", true, "%d years old: a guardian must consent (%d can be asked)", age, len(v.guardians))
	default:
		v.check("age", true, "%d years old", age)
	}

	// 6. No second enrolment; for a reactivation, the MitID to reactivate.
	if reactivate {
		if r := s.reactivationTarget(ctx, v, v.doc); r != nil {
			return r
		}
	} else if !v.person.CPR.IsZero() {
		if old, err := s.identities.ByCPR(ctx, v.person.CPR); err == nil {
			return v.fail("already_enrolled", RefuseAlreadyEnrolled, "identity %s (%s)", old.UUID, old.State)
		} else if !errors.Is(err, identity.ErrNotFound) {
			v.err = fmt.Errorf("%w: %w", FailInternal, err)
			return v
		}
	} else {
		holder, err := s.store.PCodeHolder(ctx, chip.IssuingState, chip.DocumentNumber)
		if err != nil {
			v.err = fmt.Errorf("%w: %w", FailInternal, err)
			return v
		}
		if holder != "" {
			return v.fail("already_enrolled", RefuseAlreadyEnrolled, "identity %s holds this passport's P-code", holder)
		}
	}
	if !reactivate {
		v.check("already_enrolled", true, "the person has no identity")
	}

	// 7. The face: the chip's portrait against the selfie.
	portrait, err := emrtd.ParseDG2(sub.Files[emrtd.DG2])
	if err != nil {
		return v.fail("face", RefuseChipIncomplete, "DG2: %v", err)
	}
	res2, err := s.faces.Verify(ctx, portrait.Image, sub.Selfie)
	if err != nil {
		v.check("face", false, "%v", err)
		if errors.Is(err, face.ErrUnavailable) {
			v.err = fmt.Errorf("%w: %w", FailFaceUnavailable, err)
		} else {
			v.err = err
		}
		return v
	}
	v.face = FaceResult{Outcome: string(res2.Outcome), Score: res2.Score, Liveness: res2.Liveness, Verifier: res2.Verifier}
	switch res2.Outcome {
	case face.Match:
		v.check("face", true, "%s: match, score %.2f, live", res2.Verifier, res2.Score)
	case face.NoMatch:
		return v.fail("face", RefuseFaceMismatch, "%s: no match, score %.2f", res2.Verifier, res2.Score)
	case face.NoLiveness:
		return v.fail("face", RefuseFaceNoLiveness, "%s: the selfie is not of a live person (score %.2f)", res2.Verifier, res2.Score)
	case face.Review:
		v.images = &Images{Portrait: portrait.Image, PortraitType: portrait.Format.MIMEType(), Selfie: sub.Selfie, SelfieType: sub.SelfieType}
	default:
		v.err = fmt.Errorf("%w: face verifier answered outcome %q", FailInternal, res2.Outcome)
	}
	return v
}

// passiveRefusal maps passive authentication's errors to what the person is
// told.
func passiveRefusal(err error) *Refusal {
	switch {
	case errors.Is(err, emrtd.ErrHashMismatch), errors.Is(err, emrtd.ErrDGNotInSOD), errors.Is(err, emrtd.ErrLDS):
		return RefuseDocumentTampered
	case errors.Is(err, emrtd.ErrUnknownCSCA):
		return RefuseSignerUnknown
	case errors.Is(err, emrtd.ErrDSExpired), errors.Is(err, emrtd.ErrCSCAExpired):
		return RefuseSignerExpired
	case errors.Is(err, emrtd.ErrMissingDG):
		return RefuseChipIncomplete
	}
	// ErrSODSignature, ErrCertificateSignature, ErrMalformedSOD, a document
	// signer certificate that does not parse: not signed as a passport is.
	return RefuseDocumentSignature
}

// sodLists reports whether the SOD vouches for dg.
func sodLists(sod []byte, dg emrtd.DG) bool {
	s, err := emrtd.ParseSOD(sod)
	if err != nil {
		return false
	}
	return s.Hash(dg) != nil
}

func dgList(dgs []emrtd.DG) string {
	names := make([]string, len(dgs))
	for i, d := range dgs {
		names[i] = d.String()
	}
	return strings.Join(names, " ")
}

func documentOf(m *emrtd.MRZ) Document {
	d := Document{Type: m.DocumentCode, Number: m.DocumentNumber, IssuingState: m.IssuingState, Nationality: m.Nationality}
	if t, err := m.ExpiryDate(); err == nil {
		d.Expiry = t
	}
	return d
}

// mrzDiff names the fields in which two MRZs differ, not their values.
func mrzDiff(a, b *emrtd.MRZ) string {
	var f []string
	add := func(name string, differ bool) {
		if differ {
			f = append(f, name)
		}
	}
	add("format", a.Format != b.Format)
	add("document code", a.DocumentCode != b.DocumentCode)
	add("issuing state", a.IssuingState != b.IssuingState)
	add("name", a.Surname != b.Surname || a.GivenNames != b.GivenNames)
	add("document number", a.DocumentNumber != b.DocumentNumber)
	add("nationality", a.Nationality != b.Nationality)
	add("date of birth", a.DateOfBirth != b.DateOfBirth)
	add("sex", a.Sex != b.Sex)
	add("date of expiry", a.DateOfExpiry != b.DateOfExpiry)
	add("optional data", a.OptionalData != b.OptionalData || a.OptionalData2 != b.OptionalData2)
	if len(f) == 0 {
		return "no field"
	}
	return strings.Join(f, ", ")
}
