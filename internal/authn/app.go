package authn

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
)

// askApp makes the approval request the person answers in the app; for a user
// ID that does not exist, a decoy that no app will ever see, so that the
// browser waits alike.
func (e *Engine) askApp(ctx context.Context, f *Flow) error {
	a, err := e.approvals.Create(ctx, approval.New{Identity: f.Identity, RateKey: f.UserKey, FlowID: f.ID,
		Kind: approval.KindLogin, ClientName: f.ClientName, ReferenceText: f.ReferenceText, ActionText: f.ActionText,
		Location: coarseLocation(f.OriginIP), Browser: f.Browser})
	switch {
	case errors.Is(err, approval.ErrTooMany):
		return errorf(http.StatusTooManyRequests, "too_many_app_requests",
			"Too many requests to your app in a short time. Wait a few minutes, or choose another method.")
	case errors.Is(err, approval.ErrOpenExists):
		return errorf(http.StatusConflict, "app_request_pending", "Another request to your app is being made. Try again.")
	case err != nil:
		return err
	}
	f.ApprovalID, f.State = a.ID, StateWaitingForApp
	return nil
}

// Resolved implements [approval.Resolver] for login requests: it moves the
// flow waiting for the request, in the same transaction that settled it.
func (e *Engine) Resolved(ctx context.Context, a *approval.Approval) error {
	if a.Reason == reasonFlowMoved {
		return nil // the flow itself cancelled it and has moved on
	}
	f, err := e.store.Flow(ctx, a.FlowID)
	if err != nil {
		return err
	}
	if f.State != StateWaitingForApp || f.ApprovalID != a.ID {
		return nil // the flow is no longer waiting for this request
	}
	// The answer belongs to this flow's identity by construction: the approval
	// service accepts answers only from that identity's devices.
	if a.Identity != f.Identity {
		return errors.New("authn: an approval answered for another identity than its flow's")
	}
	f.UpdatedAt = e.now().UTC()
	switch a.State {
	case approval.StateApproved:
		f.ApprovalID = ""
		// The app API refuses a device in its waiting period (a copied app)
		// before it can answer; the engine does not rely on that alone.
		dev, derr := e.store.Authenticator(ctx, a.DeviceID)
		switch {
		case derr != nil:
			return derr
		case dev.Identity != f.Identity || dev.Kind != authenticator.App:
			return errors.New("authn: an approval answered by a device that is not the identity's app")
		case !dev.Usable(e.now()):
			err = e.fail(ctx, f, "app_not_usable_yet")
		default:
			err = e.advance(ctx, f, FactorUse{Factor: FactorApp, Authenticator: a.DeviceID})
		}
	case approval.StateRejected:
		err = e.fail(ctx, f, "rejected")
	case approval.StateFraud:
		if err = e.store.InsertFraudReport(ctx, FraudReport{ID: uuid.NewString(), Identity: a.Identity, ApprovalID: a.ID,
			FlowID: f.ID, ClientID: f.ClientID, OriginIP: f.OriginIP, Browser: f.Browser, CreatedAt: e.now().UTC()}); err != nil {
			return err
		}
		if err = e.log.Record(ctx, audit.Event{Actor: audit.ActorIdentity(a.Identity), Action: "fraud.reported",
			Identity: a.Identity, Details: map[string]string{"flow": f.ID, "approval": a.ID, "client": f.ClientID,
				"origin_ip": f.OriginIP, "browser": f.Browser}}); err != nil {
			return err
		}
		err = e.fail(ctx, f, "fraud_reported")
	case approval.StateExpired:
		err = e.fail(ctx, f, "expired")
	case approval.StateFailed:
		err = e.fail(ctx, f, "binding_failed")
	case approval.StateCancelled:
		err = e.fail(ctx, f, "replaced")
	default:
		return nil
	}
	if err != nil {
		return err
	}
	f.ApprovalID = ""
	if f.State == StateWaitingForApp { // advanced into a new request? keep it
		return errors.New("authn: a flow cannot wait for two requests")
	}
	if err := e.store.UpdateFlow(ctx, f); err != nil {
		return err
	}
	return e.store.Notify(ctx, TopicFlow(f.ID))
}

// coarseLocation says roughly where the browser is, for the app to show. With
// no geolocation database, it shows the network, not the address: enough for a
// person to notice "that is not my network", without publishing their address.
func coarseLocation(ip string) string {
	p := net.ParseIP(ip)
	switch {
	case p == nil:
		return "unknown"
	case p.IsLoopback():
		return "this computer"
	case p.IsPrivate():
		return "a private network"
	case p.To4() != nil:
		v4 := p.To4()
		return net.IPv4(v4[0], v4[1], 0, 0).String() + "/16"
	default:
		return (&net.IPNet{IP: p.Mask(net.CIDRMask(48, 128)), Mask: net.CIDRMask(48, 128)}).String()
	}
}

// shortBrowser names the browser as a person would: "Chrome on Linux".
func shortBrowser(ua string) string {
	if ua == "" {
		return "unknown browser"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"},
		{"HeadlessChrome/", "Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	os := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			os = o.name
			break
		}
	}
	switch {
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	}
	if len(ua) > 40 {
		ua = ua[:40] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, ua)
}
