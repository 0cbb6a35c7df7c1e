package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/openmitid/openmitid/internal/authn"
)

// FlowAPI is the JSON login flow API (CONTRACT.md, "Login flow API").
type FlowAPI struct {
	Engine *authn.Engine
	Log    *slog.Logger
	// Secure marks cookies Secure (the issuer is https).
	Secure bool
}

// FlowCookie is the name of the cookie holding a flow's token in a browser.
func FlowCookie(flowID string) string { return "omid_flow_" + flowID }

// Mount adds the API's routes to mux.
func (a *FlowAPI) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /authn/v1/flows", a.create)
	mux.HandleFunc("POST /authn/v1/flows/{id}", a.step)
	mux.HandleFunc("GET /authn/v1/flows/{id}", a.get)
	mux.HandleFunc("GET /authn/v1/flows/{id}/events", a.events)
}

type createRequest struct {
	ClientID      string `json:"client_id"`
	Level         string `json:"level"`
	ReferenceText string `json:"reference_text"`
	ActionText    string `json:"action_text"`
}

type createResponse struct {
	authn.View
	FlowToken string `json:"flow_token"`
}

func (a *FlowAPI) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if !DecodeJSON(w, r, &req) {
		return
	}
	if req.ClientID == "" {
		WriteError(w, http.StatusBadRequest, "client_id_required", "client_id is required.")
		return
	}
	f, token, err := a.Engine.Start(r.Context(), authn.StartRequest{ClientID: req.ClientID, Level: req.Level,
		ReferenceText: req.ReferenceText, ActionText: req.ActionText, OriginIP: ClientIPFrom(r.Context()), UserAgent: r.UserAgent()})
	if err != nil {
		a.fail(w, r, nil, err)
		return
	}
	a.SetFlowCookie(w, f.ID, token)
	v, err := a.Engine.View(r.Context(), f)
	if err != nil {
		a.fail(w, r, nil, err)
		return
	}
	WriteJSON(w, http.StatusCreated, createResponse{View: v, FlowToken: token})
}

// SetFlowCookie hands a browser the flow's token in an HttpOnly cookie, sent
// back only to this site's top-level navigations and same-site requests.
func (a *FlowAPI) SetFlowCookie(w http.ResponseWriter, flowID, token string) {
	SetFlowCookie(w, flowID, token, a.Secure)
}

// SetFlowCookie hands a browser the flow's token in an HttpOnly, SameSite=Lax
// cookie that lives as long as the flow may; secure marks it Secure (the
// issuer is https). Whatever starts a flow for a browser (the flow API, the
// OpenID provider, the login pages' "Try again") sets it with this.
func SetFlowCookie(w http.ResponseWriter, flowID, token string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: FlowCookie(flowID), Value: token, Path: "/", HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteLaxMode, MaxAge: int(authn.FlowLifetime / time.Second)})
}

// ClearFlowCookie tells the browser to forget the flow's cookie.
func ClearFlowCookie(w http.ResponseWriter, flowID string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: FlowCookie(flowID), Value: "", Path: "/", HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// FlowToken returns the token a request presents for a flow: the X-Flow-Token
// header, or the flow's cookie.
func FlowToken(r *http.Request, flowID string) string {
	if t := r.Header.Get("X-Flow-Token"); t != "" {
		return t
	}
	if c, err := r.Cookie(FlowCookie(flowID)); err == nil {
		return c.Value
	}
	return ""
}

func (a *FlowAPI) step(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in authn.StepInput
	if !DecodeJSON(w, r, &in) {
		return
	}
	f, err := a.Engine.Step(r.Context(), id, FlowToken(r, id), in)
	if err != nil {
		a.fail(w, r, f, err)
		return
	}
	a.writeView(w, r, f, http.StatusOK)
}

// maxWait bounds a long poll below common proxy timeouts.
const maxWait = 30 * time.Second

func (a *FlowAPI) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	token := FlowToken(r, id)
	wait, since, ok := waitParams(w, r)
	if !ok {
		return
	}
	var (
		f   *authn.Flow
		err error
	)
	if wait > 0 {
		f, err = a.Engine.Wait(r.Context(), id, token, since, wait)
	} else {
		f, err = a.Engine.Load(r.Context(), id, token)
	}
	if err != nil {
		a.fail(w, r, nil, err)
		return
	}
	a.writeView(w, r, f, http.StatusOK)
}

// waitParams reads ?wait=25s and ?since=N. Without since, the wait returns on
// the first change after the request arrived.
func waitParams(w http.ResponseWriter, r *http.Request) (time.Duration, int64, bool) {
	q := r.URL.Query()
	var wait time.Duration
	if s := q.Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			WriteError(w, http.StatusBadRequest, "bad_wait", "wait must be a duration such as 25s.")
			return 0, 0, false
		}
		wait = min(d, maxWait)
	}
	since := int64(-1)
	if s := q.Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			WriteError(w, http.StatusBadRequest, "bad_since", "since must be the version of the flow last seen.")
			return 0, 0, false
		}
		since = n
	}
	return wait, since, true
}

func (a *FlowAPI) writeView(w http.ResponseWriter, r *http.Request, f *authn.Flow, status int) {
	v, err := a.Engine.View(r.Context(), f)
	if err != nil {
		a.fail(w, r, nil, err)
		return
	}
	WriteJSON(w, status, v)
}

// stepError is a failed step's answer: the error, and the flow as it is now.
type stepError struct {
	Error
	*authn.View
}

func (a *FlowAPI) fail(w http.ResponseWriter, r *http.Request, f *authn.Flow, err error) {
	e, ok := authn.IsError(err)
	if !ok {
		WriteInternal(w, r, a.Log, err)
		return
	}
	if !e.RetryAfter.IsZero() {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(time.Until(e.RetryAfter).Seconds()+1))))
	}
	body := stepError{Error: Error{Code: e.Code, Message: e.Message}}
	if f != nil && !errors.Is(err, authn.ErrFlowNotFound) {
		if v, verr := a.Engine.View(r.Context(), f); verr == nil {
			v.Error, v.Message = "", ""
			body.View = &v
		}
	}
	WriteJSON(w, e.Status, body)
}

// MarshalJSON puts the error's fields beside the view's.
func (s stepError) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if s.View != nil {
		b, err := json.Marshal(s.View)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
	}
	m["error"], m["message"] = s.Error.Code, s.Error.Message
	return json.Marshal(m)
}

// WriteInternal answers an unexpected error with 503 if the database is
// unreachable and 500 otherwise, logging it; the person sees no details.
func WriteInternal(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if isUnavailable(err) {
		WriteUnavailable(w)
		return
	}
	WriteError(w, http.StatusInternalServerError, "internal_error", "Something went wrong on our side. Please try again.")
}

// WriteUnavailable answers 503 with a JSON error and Retry-After: the
// database cannot be reached now, and a retry in a moment may succeed.
func WriteUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "2")
	WriteError(w, http.StatusServiceUnavailable, "unavailable", "The service is briefly unavailable. Please try again in a moment.")
}

// events streams the flow's view as server-sent events: one "flow" event on
// connect and on every change, and while the flow waits for the app a "qr"
// event with a fresh frame every second. The stream ends when the flow does.
func (a *FlowAPI) events(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	token := FlowToken(r, id)
	ctx := r.Context()
	f, err := a.Engine.Load(ctx, id, token)
	if err != nil {
		a.fail(w, r, nil, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	version := int64(-1)
	deadline := time.Now().Add(authn.FlowLifetime)
	for time.Now().Before(deadline) {
		if f.Version != version {
			v, err := a.Engine.View(ctx, f)
			if err != nil || !send("flow", v) {
				return
			}
			version = f.Version
			if f.State.Terminal() {
				return
			}
		} else if f.State == authn.StateWaitingForApp {
			v, err := a.Engine.View(ctx, f)
			if err != nil || !send("qr", map[string]string{"qr": v.QR}) {
				return
			}
		}
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		f, err = a.Engine.Wait(wctx, id, token, version, time.Second)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			return
		}
	}
}
