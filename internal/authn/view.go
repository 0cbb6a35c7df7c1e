package authn

import (
	"context"
	"encoding/json"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
)

// failureMessages say in a sentence why a flow ended (for developers reading
// the JSON; pages show their own texts for the codes).
var failureMessages = map[string]string{
	"flow_expired":        "The login took too long. Please start again.",
	"expired":             "The request to your app expired. Please start again.",
	"rejected":            "The request was rejected in the app.",
	"fraud_reported":      "The request was reported as not started by you. Your other open requests were cancelled.",
	"binding_failed":      "The app could not be matched to this screen. Please start again.",
	"replaced":            "A newer request to your app replaced this one.",
	"app_not_usable_yet":  "The app that answered was added recently and cannot be used until its waiting period is over.",
	"cancelled":           "The login was cancelled.",
	"identity_blocked":    "Your MitID is blocked. Contact MitID support to have it opened again.",
	"level_not_reachable": "You cannot log in at the level the service provider asks for with the authenticators you have.",
	"wrong_password":      "The password is wrong.",
	"wrong_code":          "The code is wrong, or it has been used.",
	"chip_failed":         "The chip could not be verified. Try again.",
	"chip_blocked":        "Your chip has been blocked because a copy of it may be in use. Contact MitID support.",
}

// Message returns the sentence for a flow error code.
func Message(code string) string { return failureMessages[code] }

// View returns the flow as its client sees it now.
func (e *Engine) View(ctx context.Context, f *Flow) (View, error) {
	v := View{FlowID: f.ID, State: f.State, Methods: f.Methods, Method: f.Method, Level: f.Level.String(),
		AMR: f.AMR(), Error: f.Error, Message: Message(f.Error), ClientName: f.ClientName,
		ReferenceText: f.ReferenceText, ExpiresAt: f.ExpiresAt, Version: f.Version}
	if v.Methods == nil {
		v.Methods = []Method{}
	}
	switch f.State {
	case StateDone:
		v.Level = f.LoA.String()
	case StateWaitingForApp:
		a, err := e.approvals.Get(ctx, f.ApprovalID)
		if err != nil {
			return View{}, err
		}
		v.BindingCode, v.QR = a.BindingCode, e.approvals.Frame(a)
		exp := a.ExpiresAt
		v.AppExpiresAt = &exp
	case StateChip:
		v.WebAuthn = json.RawMessage(f.WebAuthn)
	case StatePassword, StateCode:
		key := "pw:" + f.UserKey
		if f.State == StateCode {
			key = "code:" + f.Identity + ":" + codeKind(f)
		}
		if until, err := e.store.LockedUntil(ctx, key, e.now()); err == nil && !until.IsZero() {
			v.LockedUntil = &until
		}
	}
	return v, nil
}

func codeKind(f *Flow) string {
	if f.Method == MethodAudioCodeReader {
		return "audio_code_reader"
	}
	return "code_display"
}

// recheck is how often a waiter looks again without a notification, in case
// one was lost (a node's listener reconnecting).
const recheck = 2 * time.Second

// Wait returns the flow once its version differs from since, or once timeout
// has passed, whichever is first; it wakes for the app's answer, the request's
// expiry and the flow's.
func (e *Engine) Wait(ctx context.Context, id, token string, since int64, timeout time.Duration) (*Flow, error) {
	ch, cancel := e.store.Subscribe(TopicFlow(id))
	defer cancel()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f, err := e.Load(ctx, id, token)
		if err != nil {
			return nil, err
		}
		if f.Version != since || f.State.Terminal() {
			return f, nil
		}
		wake := recheck
		if d := f.ExpiresAt.Sub(e.now()); d < wake {
			wake = max(d, 10*time.Millisecond)
		}
		if f.State == StateWaitingForApp {
			if a, err := e.approvals.Get(ctx, f.ApprovalID); err == nil {
				if d := a.ExpiresAt.Sub(e.now()); d < wake {
					wake = max(d, 10*time.Millisecond)
				}
			}
		}
		t := time.NewTimer(wake)
		select {
		case <-ctx.Done():
			t.Stop()
			return f, nil
		case <-deadline.C:
			t.Stop()
			return f, nil
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

var _ approval.Resolver = (*Engine)(nil)
