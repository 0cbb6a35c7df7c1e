package appclient

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
)

// Pending is an open approval request as the server announces it before it is
// bound: only that it exists, not what it says (docs/app-api.md, "GET
// /app/v1/approvals/next").
type Pending struct {
	ApprovalID string        `json:"approval_id"`
	Kind       approval.Kind `json:"kind"`
	State      string        `json:"state"`
	ExpiresAt  time.Time     `json:"expires_at"`
}

// Next waits up to wait (at most [MaxWait]; rounded up to whole seconds) for
// an open approval request for the device's identity (GET
// /app/v1/approvals/next?wait=Ns). It returns nil, nil when none arrived in
// time (204). See [Client.WaitNext] to wait longer.
func (c *Client) Next(ctx context.Context, wait time.Duration) (*Pending, error) {
	secs := int64(min(max(wait, 0), MaxWait)+time.Second-1) / int64(time.Second)
	var p Pending
	status, err := c.do(ctx, http.MethodGet, "/app/v1/approvals/next?wait="+strconv.FormatInt(secs, 10)+"s", nil, &p, http.StatusOK, http.StatusNoContent)
	if err != nil || status == http.StatusNoContent {
		return nil, err
	}
	if p.ApprovalID == "" {
		return nil, errors.New("appclient: the server announced an approval request without an approval_id")
	}
	return &p, nil
}

// WaitNext is [Client.Next] repeated until a request arrives or wait has
// passed (in real time), for waits longer than one long poll. It returns nil,
// nil when none arrived. It polls at most about once a second, even against a
// server that answers 204 at once.
func (c *Client) WaitNext(ctx context.Context, wait time.Duration) (*Pending, error) {
	deadline := time.Now().Add(wait)
	for {
		started := time.Now()
		p, err := c.Next(ctx, time.Until(deadline))
		if err != nil || p != nil {
			return p, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if pause := min(time.Second-time.Since(started), left); pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("appclient: waiting for an approval request: %w", ctx.Err())
			case <-t.C:
			}
		}
	}
}

// Bound is a request this device has bound: the canonical bytes the server
// sent, what they decode to, and the binding (QR frame or code) sent. It is
// what [Client.Answer] signs. The server's "details" are deliberately not
// kept: only what was decoded from Raw may be shown to the person.
type Bound struct {
	ApprovalID string
	Raw        []byte           // the canonical encoding, as received
	Request    approval.Request // decoded from Raw
	Binding    string           // the QR frame or the code, as sent
}

// ErrRequestMismatch is returned by [Client.Bind] when the canonical request
// the server sent is for another approval or another identity than asked.
var ErrRequestMismatch = errors.New("appclient: the server sent a request other than the one bound")

// Bind binds the approval request approvalID to this device with the QR frame
// the app scanned (qr) or the 4-digit code the person typed (code); exactly
// one must be given (POST /app/v1/approvals/{id}/bind). See [SplitBinding].
// It refuses, before sending, a code that is not 4 digits and a frame longer
// than any the server makes, so that a typo costs none of the 3 tries.
//
// It decodes the canonical request with [approval.Decode] and refuses
// (wrapping [approval.ErrMalformed] or [ErrRequestMismatch]) bytes that do not
// decode, or that name another approval id, or another identity than the
// device's when [Device.Identity] is known. It does not check whether a QR
// frame names approvalID: the server judges bindings, and counts the tries.
//
// Server errors are [*APIError]s: binding_failed, stale_qr,
// binding_failed_too_often, already_bound, expired, not_found.
func (c *Client) Bind(ctx context.Context, approvalID, qr, code string) (*Bound, error) {
	if err := checkApprovalID(approvalID); err != nil {
		return nil, err
	}
	var in any
	switch {
	case qr != "" && code != "":
		return nil, errors.New("appclient: bind with the QR frame or the code, not both")
	case qr != "":
		if len(qr) > maxFrame {
			return nil, fmt.Errorf("appclient: a QR frame of %d bytes is not one the server shows (at most %d)", len(qr), maxFrame)
		}
		in = struct {
			QR string `json:"qr"`
		}{qr}
	case code != "":
		if !isCode(code) {
			return nil, errors.New("appclient: a binding code is the 4 digits the browser shows")
		}
		in = struct {
			Code string `json:"code"`
		}{code}
	default:
		return nil, errors.New("appclient: no QR frame or code to bind with")
	}
	var out struct {
		ApprovalID string `json:"approval_id"`
		Request    string `json:"request"`
	}
	if _, err := c.do(ctx, http.MethodPost, approvalPath(approvalID, "bind"), in, &out, http.StatusOK); err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(out.Request)
	if err != nil {
		return nil, fmt.Errorf("%w: the request is not base64: %v", approval.ErrMalformed, err)
	}
	r, err := approval.Decode(raw)
	if err != nil {
		return nil, err
	}
	switch {
	case out.ApprovalID != approvalID:
		return nil, fmt.Errorf("%w: bound %q, the answer names %q", ErrRequestMismatch, approvalID, out.ApprovalID)
	case r.ID != approvalID:
		return nil, fmt.Errorf("%w: bound %q, the request is %q", ErrRequestMismatch, approvalID, r.ID)
	case c.device.Identity != "" && r.Identity != c.device.Identity:
		return nil, fmt.Errorf("%w: this device belongs to identity %s, the request asks %s", ErrRequestMismatch, c.device.Identity, r.Identity)
	}
	return &Bound{ApprovalID: approvalID, Raw: raw, Request: r, Binding: qr + code}, nil
}

// SplitBinding tells a QR frame ("openmitid1.…") from a typed code, for
// [Client.Bind]. White space around the value is dropped.
func SplitBinding(binding string) (qr, code string) {
	binding = strings.TrimSpace(binding)
	if strings.HasPrefix(binding, "openmitid1.") {
		return binding, ""
	}
	return "", binding
}

// Answer answers a bound request with decision, signing
// [approval.AnswerMessage] over b's approval id, canonical bytes and binding
// (POST /app/v1/approvals/{id}/answer). It signs b.Raw as it is: the server
// must refuse a signature over anything but what it sent. It returns the
// request's new state: "approved", "rejected" or "fraud".
//
// Server errors are [*APIError]s: not_bound, bad_signature, expired,
// already_answered, not_found.
func (c *Client) Answer(ctx context.Context, b *Bound, decision approval.Decision) (string, error) {
	if b == nil {
		return "", errors.New("appclient: no bound request to answer")
	}
	return c.answer(ctx, b.ApprovalID, b.Raw, b.Binding, decision)
}

// AnswerUnbound answers a request this device has not bound, with empty
// request and binding in the signed message. The server accepts that for
// [approval.Reject] and [approval.Fraud] (a person who did not start a login
// has no screen to scan) and refuses [approval.Approve] with not_bound; the
// client sends it anyway, so that the refusal can be shown.
func (c *Client) AnswerUnbound(ctx context.Context, approvalID string, decision approval.Decision) (string, error) {
	return c.answer(ctx, approvalID, nil, "", decision)
}

func (c *Client) answer(ctx context.Context, approvalID string, raw []byte, binding string, d approval.Decision) (string, error) {
	if err := checkApprovalID(approvalID); err != nil {
		return "", err
	}
	if !d.Valid() {
		return "", fmt.Errorf("appclient: decision %q is not approve, reject or fraud", d)
	}
	sig, err := sign(c.device.Key, approval.AnswerMessage(approvalID, raw, d, binding))
	if err != nil {
		return "", err
	}
	in := struct {
		Decision  approval.Decision `json:"decision"`
		Signature string            `json:"signature"`
	}{d, sig}
	var out struct {
		State string `json:"state"`
	}
	if _, err := c.do(ctx, http.MethodPost, approvalPath(approvalID, "answer"), in, &out, http.StatusOK); err != nil {
		return "", err
	}
	if out.State == "" {
		return "", errors.New("appclient: the answer's answer has no state")
	}
	return out.State, nil
}

// ErrNoRequest is returned by [Client.ApproveNext] when no request arrived in time.
var ErrNoRequest = errors.New("appclient: no approval request arrived")

// ApproveNext waits up to wait for the next request ([Client.WaitNext]), binds
// it with binding, a QR frame or a code ([SplitBinding]), and answers it with
// decision: the whole of a person's part in a login, for tests and the
// benchmark. With an empty binding it answers unbound ([Client.AnswerUnbound])
// and returns a nil request. It returns the decoded request and the state the
// answer reached.
func (c *Client) ApproveNext(ctx context.Context, wait time.Duration, binding string, decision approval.Decision) (*approval.Request, string, error) {
	p, err := c.WaitNext(ctx, wait)
	if err != nil {
		return nil, "", err
	}
	if p == nil {
		return nil, "", fmt.Errorf("%w within %s", ErrNoRequest, wait)
	}
	if binding == "" {
		state, err := c.AnswerUnbound(ctx, p.ApprovalID, decision)
		return nil, state, err
	}
	qr, code := SplitBinding(binding)
	b, err := c.Bind(ctx, p.ApprovalID, qr, code)
	if err != nil {
		return nil, "", err
	}
	state, err := c.Answer(ctx, b, decision)
	return &b.Request, state, err
}

// Block blocks the device's identity: a lost or stolen phone (POST
// /app/v1/block). It is idempotent.
func (c *Client) Block(ctx context.Context) error {
	var out struct {
		State string `json:"state"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/app/v1/block", struct{}{}, &out, http.StatusOK); err != nil {
		return err
	}
	if out.State != "blocked" {
		return fmt.Errorf("appclient: block answered state %q, want \"blocked\"", out.State)
	}
	return nil
}

// DeviceInfo is what the server knows of the device (GET /app/v1/device).
type DeviceInfo struct {
	DeviceID   string    `json:"device_id"`
	UserID     string    `json:"user_id"`
	Name       string    `json:"name"`
	State      string    `json:"state"`
	UsableFrom time.Time `json:"usable_from"`
	Level      string    `json:"level"`
	Identity   string    `json:"identity,omitempty"` // if the server sends it; not yet documented
}

// DeviceInfo returns what the server knows of the device.
func (c *Client) DeviceInfo(ctx context.Context) (*DeviceInfo, error) {
	var d DeviceInfo
	if _, err := c.do(ctx, http.MethodGet, "/app/v1/device", nil, &d, http.StatusOK); err != nil {
		return nil, err
	}
	return &d, nil
}

func approvalPath(id, action string) string {
	return "/app/v1/approvals/" + url.PathEscape(id) + "/" + action
}

// checkApprovalID refuses an empty id (which would name another route) and
// one longer than a canonical request's field may be.
func checkApprovalID(id string) error {
	if id == "" {
		return errors.New("appclient: no approval id")
	}
	if len(id) > approval.MaxField || strings.ContainsAny(id, "\x00\r\n") {
		return fmt.Errorf("appclient: approval id of %d bytes is not one the server makes", len(id))
	}
	return nil
}

// maxFrame is the longest QR frame the server accepts ([approval.Binder.CheckFrame]).
const maxFrame = 200

func isCode(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
