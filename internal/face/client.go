package face

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"time"
)

// Timeout is how long a [Client] waits for the service by default: a person
// is waiting in the app, and a matcher answers in well under a second.
const Timeout = 10 * time.Second

// maxAnswer bounds what is read of the service's answer, three small fields.
const maxAnswer = 64 << 10

// Client asks a face-verification service over HTTP, by the protocol of
// docs/face-verification.md:
//
//	POST <url>  {"reference_image": "<base64>", "probe_image": "<base64>"}
//	200         {"match": true, "score": 0.93, "liveness": true}
//
// Anything but a 200 with that JSON (a connection refused, a time-out, a
// 5xx, an HTML page, a missing field, a score outside 0 to 1) is
// [ErrUnavailable]: a service that cannot say is never taken to have said
// yes, nor no.
type Client struct {
	url     string
	host    string
	hc      *http.Client
	timeout time.Duration
}

// NewClient returns a client of the service at serviceURL (http or https).
// hc may be nil; its own timeout, if any, applies besides [Client]'s.
func NewClient(serviceURL string, hc *http.Client) (*Client, error) {
	u, err := checkServiceURL(serviceURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{
			// The protocol never redirects; following one could send the
			// images somewhere the operator did not configure.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Client{url: u.String(), host: u.Host, hc: hc, timeout: Timeout}, nil
}

// WithTimeout returns a copy of c that waits at most d for an answer.
func (c *Client) WithTimeout(d time.Duration) *Client {
	cp := *c
	cp.timeout = d
	return &cp
}

type request struct {
	Reference string `json:"reference_image"`
	Probe     string `json:"probe_image"`
}

type answer struct {
	Match    *bool    `json:"match"`
	Score    *float64 `json:"score"`
	Liveness *bool    `json:"liveness"`
}

// Verify implements [Verifier]. The outcome is [Match] only when the service
// says both match and liveness; [NoLiveness] when it says the probe is not
// live (whatever the match); [NoMatch] otherwise.
func (c *Client) Verify(ctx context.Context, reference, probe []byte) (Result, error) {
	body, err := json.Marshal(request{Reference: base64.StdEncoding.EncodeToString(reference), Probe: base64.StdEncoding.EncodeToString(probe)})
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return Result{}, fmt.Errorf("%w: %s did not answer within %s", ErrUnavailable, c.host, c.timeout)
		}
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return Result{}, err
		}
		return Result{}, fmt.Errorf("%w: %s: %v", ErrUnavailable, c.host, unwrapURL(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return Result{}, fmt.Errorf("%w: reading the answer of %s: %v", ErrUnavailable, c.host, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("%w: %s answered %s", ErrUnavailable, c.host, resp.Status)
	}
	if len(b) > maxAnswer {
		return Result{}, fmt.Errorf("%w: %s answered more than %d bytes", ErrUnavailable, c.host, maxAnswer)
	}
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		return Result{}, fmt.Errorf("%w: %s answered something that is not the protocol's JSON: %v", ErrUnavailable, c.host, err)
	}
	if a.Match == nil || a.Liveness == nil || a.Score == nil {
		return Result{}, fmt.Errorf("%w: %s answered without match, score or liveness", ErrUnavailable, c.host)
	}
	if math.IsNaN(*a.Score) || *a.Score < 0 || *a.Score > 1 {
		return Result{}, fmt.Errorf("%w: %s answered score %v, outside 0 to 1", ErrUnavailable, c.host, *a.Score)
	}
	r := Result{Score: *a.Score, Liveness: *a.Liveness, Verifier: c.host}
	switch {
	case !*a.Liveness:
		r.Outcome = NoLiveness
	case *a.Match:
		r.Outcome = Match
	default:
		r.Outcome = NoMatch
	}
	return r, nil
}

// unwrapURL drops the *url.Error's "Post "<url>":" prefix: the URL may carry
// a credential in its query, and the host is named already.
func unwrapURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
