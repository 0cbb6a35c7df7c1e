package appapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/web"
)

// CopyTokenHeader carries a copy session's token on the new app's requests.
const CopyTokenHeader = "X-Copy-Token"

func (a *API) mountCopy(mux *http.ServeMux) {
	mux.HandleFunc("POST /app/v1/copies", a.startCopy)
	mux.HandleFunc("GET /app/v1/copies/{id}", a.copyStatus)
	mux.HandleFunc("POST /app/v1/copies/scan", a.scanCopy)
	mux.HandleFunc("POST /app/v1/copies/approve", a.approveCopy)
}

type startCopyRequest struct {
	UserID     string `json:"user_id"`
	PublicKey  string `json:"public_key"`
	DeviceName string `json:"device_name"`
	Proof      string `json:"proof"`
}

type copyResponse struct {
	CopyID     string    `json:"copy_id"`
	State      string    `json:"state"`
	ExpiresAt  time.Time `json:"expires_at"`
	Token      string    `json:"token,omitempty"`
	QR         string    `json:"qr,omitempty"`
	DeviceID   string    `json:"device_id,omitempty"`
	Identity   string    `json:"identity,omitempty"`
	UsableFrom time.Time `json:"usable_from,omitzero"`
	Level      string    `json:"level,omitempty"`
}

func (a *API) startCopy(w http.ResponseWriter, r *http.Request) {
	var req startCopyRequest
	if !web.DecodeJSON(w, r, &req) {
		return
	}
	if req.UserID == "" || req.PublicKey == "" || req.Proof == "" {
		web.WriteError(w, http.StatusBadRequest, "bad_request", "user_id, public_key and proof are required.")
		return
	}
	proof, ok := decodeProof(w, req.Proof)
	if !ok {
		return
	}
	st, err := a.Apps.StartCopy(r.Context(), req.UserID, req.PublicKey, req.DeviceName, proof, web.ClientIPFrom(r.Context()))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, copyResponse{CopyID: st.Session.ID, State: string(st.Session.State),
		ExpiresAt: st.Session.ExpiresAt, Token: st.Token, QR: st.QR})
}

func (a *API) copyStatus(w http.ResponseWriter, r *http.Request) {
	id, token := r.PathValue("id"), r.Header.Get(CopyTokenHeader)
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
	ch, cancel := a.Notify.Subscribe(app.TopicCopy(id))
	defer cancel()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		c, err := a.Apps.CopyStatus(ctx, id, token)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if c.State != app.CopyPending || wait == 0 {
			out := copyResponse{CopyID: c.ID, State: string(c.State), ExpiresAt: c.ExpiresAt, DeviceID: c.DeviceID, Identity: c.Identity}
			if c.State == app.CopyApproved {
				dev, err := a.Apps.CopiedDevice(ctx, c)
				if err != nil {
					a.fail(w, r, err)
					return
				}
				out.UsableFrom, out.Level = dev.UsableFrom, dev.Level.String()
			}
			web.WriteJSON(w, http.StatusOK, out)
			return
		}
		// Look again every 2 s in case a notification was lost, and just after
		// the expiry, to answer expired promptly.
		recheck := time.NewTimer(min(2*time.Second, max(100*time.Millisecond, c.ExpiresAt.Sub(a.now())+50*time.Millisecond)))
		select {
		case <-ctx.Done():
			recheck.Stop()
			return
		case <-deadline.C:
			wait = 0
		case <-ch:
		case <-recheck.C:
		}
		recheck.Stop()
	}
}

type scanCopyRequest struct {
	QR string `json:"qr"`
}

type scanCopyResponse struct {
	CopyID         string    `json:"copy_id"`
	DeviceName     string    `json:"device_name"`
	PublicKey      string    `json:"public_key"`
	KeyFingerprint string    `json:"key_fingerprint"`
	CreatedAt      time.Time `json:"created_at"`
	ExpiresAt      time.Time `json:"expires_at"`
}

func (a *API) scanCopy(w http.ResponseWriter, r *http.Request) {
	var req scanCopyRequest
	dev, ok := a.signed(w, r, false, &req)
	if !ok {
		return
	}
	c, err := a.Apps.ScanCopy(r.Context(), dev, req.QR)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, scanCopyResponse{CopyID: c.ID, DeviceName: c.DeviceName,
		PublicKey: base64.StdEncoding.EncodeToString(c.PublicKey), KeyFingerprint: app.KeyFingerprint(c.PublicKey),
		CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt})
}

type approveCopyRequest struct {
	QR        string `json:"qr"`
	Signature string `json:"signature"`
}

func (a *API) approveCopy(w http.ResponseWriter, r *http.Request) {
	var req approveCopyRequest
	dev, ok := a.signed(w, r, false, &req)
	if !ok {
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(req.Signature)
	if err != nil || len(sig) == 0 {
		web.WriteError(w, http.StatusBadRequest, "bad_signature", "signature must be base64url without padding.")
		return
	}
	c, nd, err := a.Apps.ApproveCopy(r.Context(), dev, req.QR, sig)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, copyResponse{CopyID: c.ID, State: string(c.State), ExpiresAt: c.ExpiresAt,
		DeviceID: nd.ID, Identity: nd.Identity, UsableFrom: nd.UsableFrom, Level: nd.Level.String()})
}

// failCopy maps the errors of copying; it reports false for any other error.
func failCopy(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, app.ErrCopyBadQR):
		web.WriteError(w, http.StatusBadRequest, "bad_qr", "That is not a MitID copy QR code. Scan the code the new phone shows.")
	case errors.Is(err, app.ErrCopyNotFound):
		web.WriteError(w, http.StatusNotFound, "not_found", "There is no such copy. Start again on the new phone.")
	case errors.Is(err, app.ErrCopyExpired):
		web.WriteError(w, http.StatusGone, "expired", "The QR code has expired. Start again on the new phone.")
	case errors.Is(err, app.ErrCopyUsed):
		web.WriteError(w, http.StatusConflict, "already_used", "The QR code has been used already. Start again on the new phone.")
	case errors.Is(err, app.ErrCopyWrongIdentity):
		web.WriteError(w, http.StatusForbidden, "wrong_identity", "The new phone asked for another MitID than the one in this app.")
	case errors.Is(err, app.ErrCopyBadSignature):
		web.WriteError(w, http.StatusBadRequest, "bad_signature", "The approval's signature does not verify with this app's key over the copy shown.")
	case errors.Is(err, app.ErrCopyBadUserID):
		web.WriteError(w, http.StatusBadRequest, "bad_user_id", "user_id is not a user ID a MitID can have.")
	case errors.Is(err, app.ErrCopyUnavailable):
		web.WriteError(w, http.StatusServiceUnavailable, "copy_unavailable", "Copying the app to a new phone is not available on this server.")
	default:
		return false
	}
	return true
}
