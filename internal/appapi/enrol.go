package appapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/web"
)

// Enrolment serves the enrolment endpoints of the app API (docs/app-api.md,
// "Enrolment with a passport"): an app without a device key yet, holding
// the token the start gave it, reads a passport and becomes a device.
type Enrolment struct {
	// Proofing runs the cases; nil when the server has no population
	// register, and then every route answers 503 enrolment_unavailable.
	Proofing *proofing.Service
	Notify   Notifier
	Log      *slog.Logger
}

// TokenHeader carries the enrolment's token on every request after the start.
const TokenHeader = "X-Enrolment-Token"

// Mount adds the routes to mux.
func (a *Enrolment) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /app/v1/enrolments", a.start)
	mux.HandleFunc("GET /app/v1/enrolments/{id}", a.state)
	mux.HandleFunc("POST /app/v1/enrolments/{id}/chip-authentication", a.chipAuthentication)
	mux.HandleFunc("POST /app/v1/enrolments/{id}/passport", a.passport)
	mux.HandleFunc("POST /app/v1/enrolments/{id}/consent", a.consent)
	mux.HandleFunc("POST /app/v1/enrolments/{id}/complete", a.complete)
}

func (a *Enrolment) available(w http.ResponseWriter) bool {
	if a.Proofing == nil {
		web.WriteError(w, http.StatusServiceUnavailable, "enrolment_unavailable",
			"Getting MitID with the app is not available on this server (no population register is configured).")
		return false
	}
	return true
}

type startResponse struct {
	EnrolmentID        string    `json:"enrolment_id"`
	Token              string    `json:"token"`
	Challenge          string    `json:"challenge"`
	ChallengeExpiresAt time.Time `json:"challenge_expires_at"`
	State              string    `json:"state"`
	ExpiresAt          time.Time `json:"expires_at"`
}

func (a *Enrolment) start(w http.ResponseWriter, r *http.Request) {
	if !a.available(w) {
		return
	}
	var req struct {
		// Purpose is "enrolment" (the default) or "reactivation": the
		// person has a MitID with no authenticator that works.
		Purpose string `json:"purpose"`
	}
	if !web.DecodeJSON(w, r, &req) {
		return
	}
	start := a.Proofing.Start
	switch req.Purpose {
	case "", "enrolment":
	case "reactivation":
		start = a.Proofing.StartReactivation
	default:
		web.WriteError(w, http.StatusBadRequest, "bad_request", "purpose must be enrolment or reactivation.")
		return
	}
	o, err := start(r.Context(), web.ClientIPFrom(r.Context()))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, startResponse{EnrolmentID: o.Case.ID, Token: o.Token,
		Challenge: base64.StdEncoding.EncodeToString(o.Challenge[:]), ChallengeExpiresAt: o.Case.ChallengeExpiresAt,
		State: string(o.Case.State), ExpiresAt: o.Case.ExpiresAt})
}

// statusResponse is an enrolment as the app sees it.
type statusResponse struct {
	EnrolmentID  string           `json:"enrolment_id"`
	State        string           `json:"state"`
	ExpiresAt    time.Time        `json:"expires_at"`
	Level        string           `json:"level"`                  // the IAL the identity gets
	Restrictions []string         `json:"restrictions,omitempty"` // "minor", "pcode"
	Error        string           `json:"error,omitempty"`        // why a final case ended
	Message      string           `json:"message,omitempty"`
	Consent      *consentResponse `json:"consent,omitempty"`
}

type consentResponse struct {
	Guardian    string    `json:"guardian"`
	ApprovalID  string    `json:"approval_id"`
	BindingCode string    `json:"binding_code"`
	QR          string    `json:"qr"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (a *Enrolment) view(st *proofing.Status, lang string) statusResponse {
	c := st.Case
	out := statusResponse{EnrolmentID: c.ID, State: string(c.State), ExpiresAt: c.ExpiresAt, Level: a.Proofing.IAL().String()}
	if c.Restrictions&identity.Minor != 0 {
		out.Restrictions = append(out.Restrictions, "minor")
	}
	if c.Restrictions&identity.PCodeOnly != 0 {
		out.Restrictions = append(out.Restrictions, "pcode")
	}
	if st.Refusal != nil {
		out.Error, out.Message = st.Refusal.Code(), st.Refusal.Message(lang)
	}
	if k := st.Consent; k != nil {
		out.Consent = &consentResponse{Guardian: k.Guardian, ApprovalID: k.ApprovalID, BindingCode: k.BindingCode, QR: k.QR, ExpiresAt: k.ExpiresAt}
	}
	return out
}

func (a *Enrolment) state(w http.ResponseWriter, r *http.Request) {
	if !a.available(w) {
		return
	}
	id, token := r.PathValue("id"), r.Header.Get(TokenHeader)
	var wait time.Duration
	if s := r.URL.Query().Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			web.WriteError(w, http.StatusBadRequest, "bad_wait", "wait must be a duration such as 25s.")
			return
		}
		wait = min(d, maxWait)
	}
	since := r.URL.Query().Get("since")
	ctx := r.Context()
	ch, cancel := a.Notify.Subscribe(proofing.TopicPrefix + id)
	defer cancel()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		st, err := a.Proofing.Status(ctx, id, token)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if wait == 0 || since == "" || string(st.Case.State) != since || st.Case.State.Final() {
			web.WriteJSON(w, http.StatusOK, a.view(st, lang(r)))
			return
		}
		// A consent request that lapses changes nothing the app would see
		// but its code: look again at its expiry too.
		recheck := time.NewTimer(2 * time.Second)
		select {
		case <-ctx.Done():
			recheck.Stop()
			return
		case <-deadline.C:
			recheck.Stop()
			web.WriteJSON(w, http.StatusOK, a.view(st, lang(r)))
			return
		case <-ch:
		case <-recheck.C:
		}
		recheck.Stop()
	}
}

func (a *Enrolment) passport(w http.ResponseWriter, r *http.Request) {
	if !a.available(w) {
		return
	}
	body, ok := readBody(w, r, proofing.MaxSubmission)
	if !ok {
		return
	}
	sub, err := proofing.ParseSubmission(body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	id, token := r.PathValue("id"), r.Header.Get(TokenHeader)
	_, err = a.Proofing.SubmitPassport(r.Context(), id, token, sub)
	if err != nil && proofing.RefusalOf(err) == nil {
		a.fail(w, r, err)
		return
	}
	st, serr := a.Proofing.Status(r.Context(), id, token)
	if serr != nil {
		a.fail(w, r, serr)
		return
	}
	if err != nil {
		a.refused(w, r, proofing.RefusalOf(err), st)
		return
	}
	web.WriteJSON(w, http.StatusOK, a.view(st, lang(r)))
}

type chipAuthenticationRequest struct {
	DG14 string `json:"dg14"`
}

type chipAuthenticationResponse struct {
	Protocol            string `json:"protocol"`
	KeyID               *int64 `json:"key_id,omitempty"`
	TerminalPublicKey   []byte `json:"terminal_public_key"`
	MSE                 []byte `json:"mse"`
	GeneralAuthenticate []byte `json:"general_authenticate,omitempty"`
	Command             []byte `json:"command"`
}

// chipAuthentication gives the app what to send a chip without DG15 so that
// it proves itself genuine by chip authentication.
func (a *Enrolment) chipAuthentication(w http.ResponseWriter, r *http.Request) {
	if !a.available(w) {
		return
	}
	body, ok := readBody(w, r, proofing.MaxChipAuthenticationBody)
	if !ok {
		return
	}
	var req chipAuthenticationRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		web.WriteError(w, http.StatusBadRequest, "bad_request", `The body must be {"dg14": "<base64>"}.`)
		return
	}
	dg14, err := base64.StdEncoding.DecodeString(req.DG14)
	if err != nil || len(dg14) == 0 {
		web.WriteError(w, http.StatusBadRequest, "bad_request", "dg14 must be the chip's DG14 in standard base64.")
		return
	}
	ca, err := a.Proofing.StartChipAuthentication(r.Context(), r.PathValue("id"), r.Header.Get(TokenHeader), dg14)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	resp := chipAuthenticationResponse{Protocol: ca.Protocol.String(), TerminalPublicKey: ca.TerminalPublicKey,
		MSE: ca.MSE, GeneralAuthenticate: ca.GeneralAuthenticate, Command: ca.Command}
	if ca.KeyID != nil && ca.KeyID.IsInt64() {
		k := ca.KeyID.Int64()
		resp.KeyID = &k
	}
	web.WriteJSON(w, http.StatusOK, resp)
}

type consentRequest struct {
	Guardian int `json:"guardian"`
}

func (a *Enrolment) consent(w http.ResponseWriter, r *http.Request) {
	if !a.available(w) {
		return
	}
	var req consentRequest
	if !web.DecodeJSON(w, r, &req) {
		return
	}
	st, err := a.Proofing.AskGuardian(r.Context(), r.PathValue("id"), r.Header.Get(TokenHeader), req.Guardian)
	if err != nil {
		if ref := proofing.RefusalOf(err); ref != nil && !ref.Failure() {
			if st, serr := a.Proofing.Status(r.Context(), r.PathValue("id"), r.Header.Get(TokenHeader)); serr == nil {
				a.refused(w, r, ref, st)
				return
			}
		}
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, a.view(st, lang(r)))
}

type completeRequest struct {
	Email      string `json:"email"`
	UserID     string `json:"user_id"`
	Password   string `json:"password"`
	PublicKey  string `json:"public_key"`
	DeviceName string `json:"device_name"`
	Proof      string `json:"proof"`
}

type completeResponse struct {
	DeviceID   string    `json:"device_id"`
	UserID     string    `json:"user_id"`
	Identity   string    `json:"identity"`
	UsableFrom time.Time `json:"usable_from"`
	Level      string    `json:"level"`
	PCode      string    `json:"pcode,omitempty"`
}

func (a *Enrolment) complete(w http.ResponseWriter, r *http.Request) {
	if !a.available(w) {
		return
	}
	var req completeRequest
	if !web.DecodeJSON(w, r, &req) {
		return
	}
	reactivation, err := a.Proofing.IsReactivation(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if req.PublicKey == "" || req.Proof == "" || !reactivation && (req.UserID == "" || req.Password == "") {
		web.WriteError(w, http.StatusBadRequest, "bad_request", "user_id, password, public_key and proof are required (a reactivation takes no user_id, and password only to change it).")
		return
	}
	proof, ok := decodeProof(w, req.Proof)
	if !ok {
		return
	}
	done, err := a.Proofing.Complete(r.Context(), r.PathValue("id"), r.Header.Get(TokenHeader), proofing.Completion{
		UserID: req.UserID, Password: req.Password, PublicKey: req.PublicKey, DeviceName: req.DeviceName, Proof: proof, Email: req.Email})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, completeResponse{DeviceID: done.Device.ID, UserID: done.Identity.UserID,
		Identity: done.Identity.UUID, UsableFrom: done.Device.UsableFrom, Level: done.Device.Level.String(), PCode: done.Identity.PCode})
}

// readBody reads a JSON body of at most max bytes, refusing a larger one
// from its Content-Length before reading anything, and otherwise as soon as
// max is passed.
func readBody(w http.ResponseWriter, r *http.Request, max int) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		web.WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the body as application/json.")
		return nil, false
	}
	tooLarge := func() {
		// The rest is not read: the connection closes after the answer.
		w.Header().Set("Connection", "close")
		web.WriteError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("The body is larger than %d bytes.", max))
	}
	if r.ContentLength > int64(max) {
		tooLarge()
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(max)))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		tooLarge()
		return nil, false
	}
	if err != nil {
		web.WriteError(w, http.StatusBadRequest, "bad_request", "The body could not be read.")
		return nil, false
	}
	return body, true
}

// lang is the language of messages for the person: Danish when the app asks
// for it (Accept-Language), English otherwise.
func lang(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		switch primary {
		case "da", "nb", "nn", "no":
			return "da"
		case "en":
			return "en"
		}
	}
	return "en"
}

// refusalStatus is the HTTP status of a refusal.
func refusalStatus(ref *proofing.Refusal) int {
	switch {
	case ref.Failure():
		return http.StatusServiceUnavailable
	case ref == proofing.RefuseAlreadyEnrolled, ref == proofing.RefuseStillUsable:
		return http.StatusConflict
	case ref == proofing.RefuseChallengeExpired, ref == proofing.RefuseExpired:
		return http.StatusGone
	}
	return http.StatusUnprocessableEntity
}

// refused answers a refusal with the case's state besides the error.
func (a *Enrolment) refused(w http.ResponseWriter, r *http.Request, ref *proofing.Refusal, st *proofing.Status) {
	v := a.view(st, lang(r))
	v.Error, v.Message = ref.Code(), ref.Message(lang(r))
	if ref.Failure() {
		w.Header().Set("Retry-After", "60")
	}
	web.WriteJSON(w, refusalStatus(ref), v)
}

// fail maps errors to the codes of docs/app-api.md.
func (a *Enrolment) fail(w http.ResponseWriter, r *http.Request, err error) {
	l := lang(r)
	if ref := proofing.RefusalOf(err); ref != nil {
		if ref.Failure() {
			w.Header().Set("Retry-After", "60")
		}
		web.WriteError(w, refusalStatus(ref), ref.Code(), ref.Message(l))
		return
	}
	if pe, ok := errors.AsType[*password.PolicyError](err); ok {
		web.WriteError(w, http.StatusBadRequest, pe.Code(), pe.Message(l))
		return
	}
	msg := func(en, da string) string {
		if l == "da" {
			return da
		}
		return en
	}
	switch {
	case errors.Is(err, proofing.ErrCaseNotFound):
		web.WriteError(w, http.StatusNotFound, "not_found", msg("There is no such enrolment.", "Der er ingen sådan bestilling."))
	case errors.Is(err, proofing.ErrBadSelfie):
		web.WriteError(w, http.StatusBadRequest, "bad_selfie", msg("The selfie must be a JPEG or PNG picture of at most 512 KiB.",
			"Selfien skal være et JPEG- eller PNG-billede på højst 512 KiB."))
	case errors.Is(err, proofing.ErrBadCPR):
		web.WriteError(w, http.StatusBadRequest, "bad_cpr", msg("That is not a CPR number. A CPR number has 10 digits: DDMMYY-SSSS.",
			"Det er ikke et CPR-nummer. Et CPR-nummer har 10 cifre: DDMMÅÅ-SSSS."))
	case errors.Is(err, proofing.ErrChipAuthenticationUnavailable):
		web.WriteError(w, http.StatusServiceUnavailable, "chip_authentication_unavailable", msg("This server cannot check a passport chip without active authentication.",
			"Denne server kan ikke kontrollere en paschip uden aktiv autentifikation."))
	case errors.Is(err, proofing.ErrNoChipAuthentication):
		web.WriteError(w, http.StatusUnprocessableEntity, "chip_cannot_prove_genuine", proofing.RefuseNoActiveAuthentication.Message(l))
	case errors.Is(err, proofing.ErrBadSubmission):
		web.WriteError(w, http.StatusBadRequest, "bad_request", strings.TrimPrefix(err.Error(), "proofing: "))
	case errors.Is(err, proofing.ErrAlreadySubmitted):
		web.WriteError(w, http.StatusConflict, "already_submitted", msg("This enrolment has already received a passport. Start again.",
			"Denne bestilling har allerede modtaget et pas. Start forfra."))
	case errors.Is(err, proofing.ErrWrongState):
		web.WriteError(w, http.StatusConflict, "wrong_state", msg("This enrolment cannot do that in its present state.",
			"Denne bestilling kan ikke det i sin nuværende tilstand."))
	case errors.Is(err, proofing.ErrConsentPending):
		web.WriteError(w, http.StatusConflict, "consent_pending", msg("Your parent has been asked and has not answered yet.",
			"Din forælder er blevet spurgt og har ikke svaret endnu."))
	case errors.Is(err, proofing.ErrConflict):
		web.WriteError(w, http.StatusConflict, "conflict", msg("The enrolment changed meanwhile. Try again.", "Bestillingen blev ændret imens. Prøv igen."))
	case errors.Is(err, proofing.ErrRateLimited):
		w.Header().Set("Retry-After", "3600")
		web.WriteError(w, http.StatusTooManyRequests, "rate_limited", msg("Too many attempts. Wait a while and try again.",
			"For mange forsøg. Vent et stykke tid, og prøv igen."))
	case errors.Is(err, proofing.ErrBadEmail):
		web.WriteError(w, http.StatusBadRequest, "bad_email", msg("email must be a plain e-mail address such as anna@example.dk.",
			"email skal være en almindelig e-mailadresse som anna@example.dk."))
	case errors.Is(err, proofing.ErrUserIDGiven):
		web.WriteError(w, http.StatusBadRequest, "bad_request", msg("A reactivated MitID keeps its user ID: send no user_id.",
			"Et genaktiveret MitID beholder sit bruger-id: send intet user_id."))
	case errors.Is(err, proofing.ErrReactivationUnavailable):
		web.WriteError(w, http.StatusServiceUnavailable, "reactivation_unavailable", msg("Reactivating MitID with a passport is not available on this server.",
			"Genaktivering af MitID med pas er ikke tilgængelig på denne server."))
	case errors.Is(err, proofing.ErrBadKey):
		web.WriteError(w, http.StatusBadRequest, "bad_key", "public_key must be a base64 P-256 SubjectPublicKeyInfo.")
	case errors.Is(err, proofing.ErrBadProof):
		web.WriteError(w, http.StatusBadRequest, "bad_proof", "The proof does not verify with the public key.")
	case errors.Is(err, identity.ErrUserIDTaken):
		web.WriteError(w, http.StatusConflict, "user_id_taken", msg("That user ID is taken. Choose another.", "Det bruger-id er optaget. Vælg et andet."))
	case errors.Is(err, identity.ErrUserIDLength):
		web.WriteError(w, http.StatusBadRequest, "bad_user_id", msg("A user ID has 6 to 40 characters.", "Et bruger-id har 6 til 40 tegn."))
	case errors.Is(err, identity.ErrUserIDCharacters):
		web.WriteError(w, http.StatusBadRequest, "bad_user_id", msg("A user ID may hold only the letters a–z, æ, ø, å, digits and - . _",
			"Et bruger-id må kun indeholde bogstaverne a–z, æ, ø, å, cifre og - . _"))
	case errors.Is(err, identity.ErrUserIDIsCPR):
		web.WriteError(w, http.StatusBadRequest, "bad_user_id", msg("A user ID must not contain a CPR number.", "Et bruger-id må ikke indeholde et CPR-nummer."))
	case errors.Is(err, context.Canceled):
	default:
		web.WriteInternal(w, r, a.Log, err)
	}
}
