package proofing

import (
	"errors"
	"fmt"
)

// A Refusal is why an enrolment ended without an identity, in words for the
// person: a stable Code for the app API and the case, and a Message in
// Danish and English. The values are the variables below; test with
// errors.Is, or errors.As to reach the code. Errors that wrap a Refusal also
// say, for developers and the case's ReasonDetail, exactly what failed.
type Refusal struct {
	code   string
	failed bool // the person was not judged: a service was unavailable
	en, da string
}

// Code returns the stable machine-readable code, such as "document_expired".
func (r *Refusal) Code() string { return r.code }

// Message returns the sentence for the person, in Danish for lang "da" and
// in English otherwise.
func (r *Refusal) Message(lang string) string {
	if lang == "da" {
		return r.da
	}
	return r.en
}

// Failure reports whether the case ended because a service could not be
// asked, not because the person failed a check: it may simply be tried again.
func (r *Refusal) Failure() bool { return r.failed }

// Error returns "proofing: refused: <code>".
func (r *Refusal) Error() string {
	if r.failed {
		return "proofing: failed: " + r.code
	}
	return "proofing: refused: " + r.code
}

// refusedError is a refusal with what exactly failed.
type refusedError struct {
	r      *Refusal
	detail string
}

func (e *refusedError) Error() string { return e.r.Error() + ": " + e.detail }
func (e *refusedError) Unwrap() error { return e.r }

func refuse(r *Refusal, format string, args ...any) error {
	return &refusedError{r: r, detail: fmt.Sprintf(format, args...)}
}

// RefusalOf returns the refusal in err's chain, or nil.
func RefusalOf(err error) *Refusal {
	if r, ok := errors.AsType[*Refusal](err); ok {
		return r
	}
	return nil
}

// Refusals that end a case as refused.
var (
	RefuseMRZUnreadable = &Refusal{code: "mrz_unreadable",
		en: "The machine-readable lines of your passport could not be read. Scan the photo page of your passport again.",
		da: "De maskinlæsbare linjer i dit pas kunne ikke læses. Scan billedsiden i dit pas igen."}
	RefuseDocumentTampered = &Refusal{code: "document_tampered",
		en: "The data on your passport's chip has been changed, so the passport cannot be used. Get MitID in person at a citizen service centre.",
		da: "Oplysningerne på chippen i dit pas er blevet ændret, så passet kan ikke bruges. Få MitID personligt i Borgerservice."}
	RefuseDocumentSignature = &Refusal{code: "document_signature_invalid",
		en: "Your passport's chip is not signed the way a genuine passport is. Get MitID in person at a citizen service centre.",
		da: "Chippen i dit pas er ikke underskrevet, som et ægte pas er. Få MitID personligt i Borgerservice."}
	RefuseSignerUnknown = &Refusal{code: "document_signer_unknown",
		en: "Your passport was not issued by an authority we can check. Get MitID in person at a citizen service centre.",
		da: "Dit pas er ikke udstedt af en myndighed, vi kan kontrollere. Få MitID personligt i Borgerservice."}
	RefuseSignerExpired = &Refusal{code: "document_signer_expired",
		en: "The certificate that signed your passport's chip is not valid now. Get MitID in person at a citizen service centre.",
		da: "Certifikatet, der har underskrevet chippen i dit pas, er ikke gyldigt nu. Få MitID personligt i Borgerservice."}
	RefuseChipIncomplete = &Refusal{code: "chip_incomplete",
		en: "Not everything needed could be read from your passport's chip. Scan the chip again.",
		da: "Ikke alt det nødvendige kunne læses fra chippen i dit pas. Scan chippen igen."}
	RefuseNoActiveAuthentication = &Refusal{code: "chip_cannot_prove_genuine",
		en: "Your passport's chip cannot prove that it is not a copy, so it cannot be used in the app. Get MitID in person at a citizen service centre.",
		da: "Chippen i dit pas kan ikke bevise, at den ikke er en kopi, så den kan ikke bruges i appen. Få MitID personligt i Borgerservice."}
	RefuseChipAuthentication = &Refusal{code: "chip_authentication_failed",
		en: "Your passport's chip did not prove that it is genuine; a copied chip cannot. Scan it again, holding the phone still. If it fails again, get MitID in person at a citizen service centre.",
		da: "Chippen i dit pas beviste ikke, at den er ægte; en kopieret chip kan ikke. Scan den igen, og hold telefonen stille. Hvis det fejler igen, så få MitID personligt i Borgerservice."}
	RefuseMRZMismatch = &Refusal{code: "mrz_mismatch",
		en: "The printed lines of your passport do not match its chip. Scan the photo page and the chip of the same passport again.",
		da: "De trykte linjer i dit pas passer ikke med chippen. Scan billedsiden og chippen i det samme pas igen."}
	RefuseDocumentType = &Refusal{code: "document_not_accepted",
		en: "Only a passport can be used to get MitID in the app.",
		da: "Kun et pas kan bruges til at få MitID i appen."}
	RefuseDocumentExpired = &Refusal{code: "document_expired",
		en: "Your passport has expired. Use a passport that is valid.",
		da: "Dit pas er udløbet. Brug et pas, der er gyldigt."}
	RefusePersonNotFound = &Refusal{code: "person_not_found",
		en: "We could not find the CPR number you entered in the population register. Check the number.",
		da: "Vi kunne ikke finde det CPR-nummer, du har indtastet, i CPR. Kontrollér nummeret."}
	RefuseDocumentNotRegistered = &Refusal{code: "document_not_registered",
		en: "Your passport is not registered for a P-code. Enter your CPR number if you have one, or contact a citizen service centre.",
		da: "Dit pas er ikke registreret til et P-nummer. Indtast dit CPR-nummer, hvis du har et, eller kontakt Borgerservice."}
	RefuseCPRRequired = &Refusal{code: "cpr_required",
		en: "Your passport belongs to a person with a CPR number. Enter your CPR number.",
		da: "Dit pas tilhører en person med et CPR-nummer. Indtast dit CPR-nummer."}
	RefusePersonMismatch = &Refusal{code: "person_mismatch",
		en: "The name or date of birth in your passport does not match the population register for the CPR number you entered.",
		da: "Navnet eller fødselsdatoen i dit pas passer ikke med CPR for det CPR-nummer, du har indtastet."}
	RefuseTooYoung = &Refusal{code: "too_young",
		en: "You must be at least 13 years old to get MitID.",
		da: "Du skal være mindst 13 år for at få MitID."}
	RefuseGuardianUnavailable = &Refusal{code: "guardian_unavailable",
		en: "You are under 15, so a parent with custody must approve in their own MitID app, and none of them has MitID with the app. Ask them to get it first, or go to a citizen service centre together.",
		da: "Du er under 15 år, så en forælder med forældremyndighed skal godkende i sin egen MitID app, og ingen af dem har MitID med appen. Bed dem om at få det først, eller gå sammen i Borgerservice."}
	RefuseGuardianRejected = &Refusal{code: "guardian_rejected",
		en: "Your parent did not approve your MitID.",
		da: "Din forælder godkendte ikke dit MitID."}
	RefuseAlreadyEnrolled = &Refusal{code: "already_enrolled",
		en: "You already have MitID. To use it on this phone, copy it from your MitID app on your other phone, or contact MitID support.",
		da: "Du har allerede MitID. For at bruge det på denne telefon skal du kopiere det fra MitID appen på din anden telefon eller kontakte MitID support."}
	RefuseFaceMismatch = &Refusal{code: "face_mismatch",
		en: "Your selfie does not match the photo on your passport's chip. Try again in good light, with nothing covering your face.",
		da: "Din selfie passer ikke med billedet på chippen i dit pas. Prøv igen i godt lys og uden noget, der dækker dit ansigt."}
	RefuseFaceNoLiveness = &Refusal{code: "face_no_liveness",
		en: "We could not tell that the selfie was taken of you, live. Take it again yourself, not of a photo or a screen.",
		da: "Vi kunne ikke se, at selfien blev taget af dig, live. Tag den igen selv, ikke af et billede eller en skærm."}
	RefuseFaceRejected = &Refusal{code: "face_rejected",
		en: "A caseworker compared your selfie with the photo on your passport and could not confirm that they show the same person.",
		da: "En sagsbehandler har sammenlignet din selfie med billedet i dit pas og kunne ikke bekræfte, at de viser den samme person."}
	RefuseChallengeExpired = &Refusal{code: "challenge_expired",
		en: "The passport was not read in time. Start again.",
		da: "Passet blev ikke læst i tide. Start forfra."}
	RefuseExpired = &Refusal{code: "expired",
		en: "This enrolment has expired. Start again.",
		da: "Denne bestilling af MitID er udløbet. Start forfra."}
)

// Failures: the case ends, and nothing is held against the person.
var (
	FailFaceUnavailable = &Refusal{code: "face_verification_unavailable", failed: true,
		en: "The face check is not available right now. Try again in a few minutes.",
		da: "Ansigtskontrollen er ikke tilgængelig lige nu. Prøv igen om nogle minutter."}
	FailRegisterUnavailable = &Refusal{code: "register_unavailable", failed: true,
		en: "The population register cannot be reached right now. Try again in a few minutes.",
		da: "CPR kan ikke nås lige nu. Prøv igen om nogle minutter."}
	FailInternal = &Refusal{code: "internal_error", failed: true,
		en: "Something went wrong on our side. Try again in a few minutes.",
		da: "Noget gik galt hos os. Prøv igen om nogle minutter."}
)

// Errors that do not end a case.
var (
	// ErrAlreadySubmitted: the case has had its passport; a challenge
	// answers once.
	ErrAlreadySubmitted = errors.New("proofing: this enrolment has already received a passport; start a new one")
	// ErrWrongState: the step does not fit the case's state (completing a
	// case that is not ready, deciding a review that is not pending).
	ErrWrongState = errors.New("proofing: the enrolment is not in a state that allows this")
	// ErrRateLimited: too many enrolments started from one address.
	ErrRateLimited = errors.New("proofing: too many enrolments started from this address; wait a while")
	// ErrConsentPending: a guardian has an open request already.
	ErrConsentPending = errors.New("proofing: the guardian has been asked and has not answered yet")
	// ErrBadSubmission: the passport submission is malformed or too large.
	ErrBadSubmission = errors.New("proofing: malformed passport submission")
	// ErrBadKey and ErrBadProof: the device key is not P-256, or the proof
	// of possession does not verify.
	ErrBadKey   = errors.New("proofing: the public key is not a P-256 SubjectPublicKeyInfo")
	ErrBadProof = errors.New("proofing: the proof does not verify with the public key")
)
