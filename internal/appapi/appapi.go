// Package appapi is the JSON API the MitID app speaks (docs/app-api.md):
// activation, the long poll for approval requests, binding, answering, and
// blocking. Handlers parse, call the domain, and answer; the rules live in
// internal/authenticator/app and internal/approval.
package appapi

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/web"
)

// Notifier wakes the long poll when a request arrives (internal/store).
type Notifier interface {
	Subscribe(topic string) (<-chan struct{}, func())
}

// API serves the app API.
type API struct {
	Apps      *app.Service
	Approvals *approval.Service
	Notify    Notifier
	Log       *slog.Logger
	Now       func() time.Time
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Mount adds the routes to mux.
func (a *API) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /app/v1/activate", a.activate)
	mux.HandleFunc("GET /app/v1/approvals/next", a.next)
	mux.HandleFunc("POST /app/v1/approvals/{id}/bind", a.bind)
	mux.HandleFunc("POST /app/v1/approvals/{id}/answer", a.answer)
	mux.HandleFunc("POST /app/v1/block", a.block)
	mux.HandleFunc("GET /app/v1/device", a.device)
	a.mountCopy(mux)
}

type activateRequest struct {
	ActivationCode string `json:"activation_code"`
	PublicKey      string `json:"public_key"`
	DeviceName     string `json:"device_name"`
	Proof          string `json:"proof"`
}

type activateResponse struct {
	DeviceID   string    `json:"device_id"`
	UserID     string    `json:"user_id"`
	Identity   string    `json:"identity"`
	UsableFrom time.Time `json:"usable_from"`
	Level      string    `json:"level"`
}

func (a *API) activate(w http.ResponseWriter, r *http.Request) {
	var req activateRequest
	if !web.DecodeJSON(w, r, &req) {
		return
	}
	if req.ActivationCode == "" || req.PublicKey == "" || req.Proof == "" {
		web.WriteError(w, http.StatusBadRequest, "bad_request", "activation_code, public_key and proof are required.")
		return
	}
	proof, ok := decodeProof(w, req.Proof)
	if !ok {
		return
	}
	dev, id, err := a.Apps.Activate(r.Context(), req.ActivationCode, req.PublicKey, req.DeviceName, proof, web.ClientIPFrom(r.Context()))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, activateResponse{DeviceID: dev.ID, UserID: id.UserID, Identity: id.UUID, UsableFrom: dev.UsableFrom, Level: dev.Level.String()})
}

// authenticate checks the device signature of a request with its body.
// signed reads a request signed by a device key: the body, whole and bounded,
// the signature over it (see [API.authenticate]), and, when req is not nil,
// the body decoded into req. It answers the error itself and reports false.
func (a *API) signed(w http.ResponseWriter, r *http.Request, allowBlocked bool, req any) (*app.Device, bool) {
	body, ok := web.ReadJSONBody(w, r)
	if !ok {
		return nil, false
	}
	dev, ok := a.authenticate(w, r, body, allowBlocked)
	if !ok {
		return nil, false
	}
	if req != nil && !web.DecodeBytes(w, body, req) {
		return nil, false
	}
	return dev, true
}

func (a *API) authenticate(w http.ResponseWriter, r *http.Request, body []byte, allowBlocked bool) (*app.Device, bool) {
	dev, err := a.Apps.Authenticate(r.Context(), r, body, allowBlocked)
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	return dev, true
}

type pendingResponse struct {
	ApprovalID string         `json:"approval_id"`
	Kind       approval.Kind  `json:"kind"`
	State      approval.State `json:"state"`
	ExpiresAt  time.Time      `json:"expires_at"`
}

const maxWait = 30 * time.Second

func (a *API) next(w http.ResponseWriter, r *http.Request) {
	dev, ok := a.authenticate(w, r, nil, false)
	if !ok {
		return
	}
	var wait time.Duration
	if s := r.URL.Query().Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			web.WriteError(w, http.StatusBadRequest, "bad_wait", "wait must be a duration such as 25s.")
			return
		}
		wait = min(d, maxWait)
	}
	ctx := r.Context()
	ch, cancel := a.Notify.Subscribe(approval.TopicPrefix + dev.Identity.UUID)
	defer cancel()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		p, err := a.Approvals.Next(ctx, dev.Identity.UUID)
		if err == nil {
			web.WriteJSON(w, http.StatusOK, pendingResponse{ApprovalID: p.ID, Kind: p.Kind, State: p.State, ExpiresAt: p.ExpiresAt})
			return
		}
		if !errors.Is(err, approval.ErrNotFound) {
			a.fail(w, r, err)
			return
		}
		if wait == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		recheck := time.NewTimer(2 * time.Second) // in case a notification was lost
		select {
		case <-ctx.Done():
			recheck.Stop()
			return
		case <-deadline.C:
			recheck.Stop()
			w.WriteHeader(http.StatusNoContent)
			return
		case <-ch:
		case <-recheck.C:
		}
		recheck.Stop()
	}
}

type bindRequest struct {
	QR   string `json:"qr"`
	Code string `json:"code"`
}

type details struct {
	Kind          approval.Kind `json:"kind"`
	ClientName    string        `json:"client_name"`
	ReferenceText string        `json:"reference_text"`
	ActionText    string        `json:"action_text"`
	Title         string        `json:"title"`
	Fingerprint   string        `json:"fingerprint"`
	Location      string        `json:"location"`
	Browser       string        `json:"browser"`
	ExpiresAt     time.Time     `json:"expires_at"`
}

type bindResponse struct {
	ApprovalID string  `json:"approval_id"`
	Request    string  `json:"request"`
	Details    details `json:"details"`
}

func (a *API) bind(w http.ResponseWriter, r *http.Request) {
	var req bindRequest
	dev, ok := a.signed(w, r, false, &req)
	if !ok {
		return
	}
	if (req.QR == "") == (req.Code == "") {
		web.WriteError(w, http.StatusBadRequest, "bad_request", "Send either qr or code.")
		return
	}
	ap, err := a.Approvals.Bind(r.Context(), dev.ForApproval(), r.PathValue("id"), req.QR, req.Code)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	req2, err := ap.Decoded()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, bindResponse{ApprovalID: ap.ID, Request: base64.StdEncoding.EncodeToString(ap.Request),
		Details: details{Kind: req2.Kind, ClientName: req2.ClientName, ReferenceText: req2.ReferenceText, ActionText: req2.ActionText,
			Title: req2.Title, Fingerprint: req2.Fingerprint, Location: req2.Location, Browser: req2.Browser, ExpiresAt: req2.ExpiresAt}})
}

type answerRequest struct {
	Decision  approval.Decision `json:"decision"`
	Signature string            `json:"signature"`
}

func (a *API) answer(w http.ResponseWriter, r *http.Request) {
	body, ok := web.ReadJSONBody(w, r)
	if !ok {
		return
	}
	// The answer's own signature, checked by the approval service with this
	// device's key, authenticates the request (see app.Service.Identify).
	dev, err := a.Apps.Identify(r.Context(), r, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var req answerRequest
	if !web.DecodeBytes(w, body, &req) {
		return
	}
	if !req.Decision.Valid() {
		web.WriteError(w, http.StatusBadRequest, "bad_decision", "decision must be approve, reject or fraud.")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(req.Signature)
	if err != nil || len(sig) == 0 {
		web.WriteError(w, http.StatusBadRequest, "bad_signature", "signature must be base64url without padding.")
		return
	}
	ap, err := a.Approvals.Answer(r.Context(), dev.ForApproval(), r.PathValue("id"), req.Decision, sig)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]string{"state": string(ap.State)})
}

func (a *API) block(w http.ResponseWriter, r *http.Request) {
	dev, ok := a.signed(w, r, true, nil)
	if !ok {
		return
	}
	if dev.Identity.State == identity.Revoked {
		web.WriteError(w, http.StatusForbidden, "device_blocked", "This MitID has been revoked.")
		return
	}
	if err := a.Apps.Block(r.Context(), dev); err != nil {
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]string{"state": "blocked"})
}

type deviceResponse struct {
	DeviceID   string    `json:"device_id"`
	UserID     string    `json:"user_id"`
	Identity   string    `json:"identity"`
	Name       string    `json:"name"`
	State      string    `json:"state"`
	UsableFrom time.Time `json:"usable_from"`
	Level      string    `json:"level"`
}

func (a *API) device(w http.ResponseWriter, r *http.Request) {
	dev, ok := a.authenticate(w, r, nil, true)
	if !ok {
		return
	}
	state := string(dev.Authenticator.State)
	if dev.Identity.State != identity.Active {
		state = string(dev.Identity.State)
	}
	web.WriteJSON(w, http.StatusOK, deviceResponse{DeviceID: dev.Authenticator.ID, UserID: dev.Identity.UserID, Identity: dev.Identity.UUID,
		Name: dev.Authenticator.Name, State: state, UsableFrom: dev.Authenticator.UsableFrom, Level: dev.Authenticator.Level.String()})
}

// fail maps domain errors to the codes of docs/app-api.md.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if failCopy(w, err) {
		return
	}
	var be *approval.BindError
	switch {
	case errors.As(err, &be) && errors.Is(be.Err, approval.ErrStaleFrame):
		web.WriteError(w, http.StatusBadRequest, "stale_qr", "The QR code was scanned too long ago. Scan it again ("+strconv.Itoa(be.TriesLeft)+" tries left).")
	case errors.As(err, &be):
		web.WriteError(w, http.StatusBadRequest, "binding_failed", "The QR code or code does not match this request ("+strconv.Itoa(be.TriesLeft)+" tries left).")
	case errors.Is(err, approval.ErrBindingTooOften):
		web.WriteError(w, http.StatusConflict, "binding_failed_too_often", "The QR code or code was wrong too often. The request has been stopped.")
	case errors.Is(err, approval.ErrNotFound):
		web.WriteError(w, http.StatusNotFound, "not_found", "There is no such request for you.")
	case errors.Is(err, approval.ErrExpired):
		web.WriteError(w, http.StatusGone, "expired", "The request has expired.")
	case errors.Is(err, approval.ErrAlreadyBound):
		web.WriteError(w, http.StatusConflict, "already_bound", "The request is being answered on another device, or has been answered.")
	case errors.Is(err, approval.ErrAlreadyAnswered):
		web.WriteError(w, http.StatusConflict, "already_answered", "The request has already been answered.")
	case errors.Is(err, approval.ErrNotBound):
		web.WriteError(w, http.StatusConflict, "not_bound", "Scan the QR code on the screen, or type its code, before you approve.")
	case errors.Is(err, approval.ErrBadSignature):
		web.WriteError(w, http.StatusBadRequest, "bad_signature", "The answer's signature does not verify.")
	case errors.Is(err, app.ErrInvalidCode):
		web.WriteError(w, http.StatusForbidden, "invalid_activation_code", "The activation code is not valid. It may be mistyped, used or expired.")
	case errors.Is(err, app.ErrTooManyApps):
		web.WriteError(w, http.StatusConflict, "too_many_apps", "You have 3 MitID apps already. Remove one before you add another.")
	case errors.Is(err, app.ErrBadKey):
		web.WriteError(w, http.StatusBadRequest, "bad_key", "public_key must be a base64 P-256 SubjectPublicKeyInfo.")
	case errors.Is(err, app.ErrBadProof):
		web.WriteError(w, http.StatusBadRequest, "bad_proof", "The proof does not verify with the public key.")
	case errors.Is(err, app.ErrIdentityNotActive):
		web.WriteError(w, http.StatusForbidden, "identity_not_active", "This MitID cannot get a new app now.")
	case errors.Is(err, app.ErrRateLimited):
		w.Header().Set("Retry-After", "3600")
		web.WriteError(w, http.StatusTooManyRequests, "rate_limited", "Too many attempts. Wait a while and try again.")
	case errors.Is(err, app.ErrBadSignature):
		web.WriteError(w, http.StatusUnauthorized, "bad_device_signature", "The request is not signed by a known device.")
	case errors.Is(err, app.ErrDeviceBlocked):
		web.WriteError(w, http.StatusForbidden, "device_blocked", "This app or its MitID is blocked.")
	case errors.Is(err, app.ErrNotUsableYet):
		web.WriteError(w, http.StatusForbidden, "device_not_usable_yet", "This app can be used once its waiting period is over.")
	case errors.Is(err, identity.ErrIllegalTransition):
		web.WriteError(w, http.StatusConflict, "illegal_state", "That cannot be done in the MitID's present state.")
	case errors.Is(err, context.Canceled):
	default:
		web.WriteInternal(w, r, a.Log, err)
	}
}

// decodeProof reads a proof of possession (base64url without padding), or
// answers 400 bad_proof.
func decodeProof(w http.ResponseWriter, s string) ([]byte, bool) {
	proof, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		web.WriteError(w, http.StatusBadRequest, "bad_proof", "proof must be base64url without padding.")
		return nil, false
	}
	return proof, true
}
