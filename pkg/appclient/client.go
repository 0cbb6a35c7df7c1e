// Package appclient is the Go client of the app API (docs/app-api.md): what a
// MitID app says to the server. The reference app (openmitid app), the
// end-to-end tests and the load benchmark all speak through it.
//
// A device is activated once with [Activate], which registers its key; after
// that a [Client] signs every request with the key ([SignRequest]), fetches
// the pending approval request ([Client.Next]), binds it with the QR frame or
// code the browser shows ([Client.Bind]) and answers it ([Client.Answer]).
//
// The client trusts only what it can check: it shows and signs the request it
// decoded from the canonical bytes ([approval.Decode]), never the server's
// convenience copy of the details.
package appclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// MaxResponseBody is the most the client reads of an answer; a longer one is
// an error. The app API's answers are a few hundred bytes.
const MaxResponseBody = 1 << 20

// MaxWait is the longest long poll the server holds ([Client.Next]).
const MaxWait = 30 * time.Second

// Device is an activated device: the server it was activated with, the id the
// server gave it, and its key.
type Device struct {
	Server string // the server's issuer URL, as given to [Activate]
	ID     string // the device id from the activation
	Key    *ecdsa.PrivateKey
	// Identity is the UUID of the device's identity, where known. When set,
	// [Client.Bind] refuses a request for any other identity; when empty, that
	// check is skipped (the app API does not yet tell a device its identity).
	Identity string
}

// Client speaks the app API for one device. It is safe for concurrent use; it
// holds no state beyond its configuration.
type Client struct {
	base   string // server URL without a trailing slash
	device Device
	hc     *http.Client
	now    func() time.Time
}

// An Option configures a [Client] or [Activate].
type Option func(*options)

type options struct {
	hc  *http.Client
	now func() time.Time
}

// WithHTTPClient makes requests with hc instead of the shared client of
// [NewHTTPClient]. Its Timeout should be longer than [MaxWait].
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) { o.hc = hc }
}

// WithClock takes the time for signed requests' ts from now instead of
// time.Now. now must be safe for concurrent use. Long polls still wait in real
// time.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

func newOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.hc == nil {
		o.hc = sharedHTTPClient()
	}
	return o
}

// New returns a client for the activated device d. It refuses a server URL
// that is not an absolute http or https URL without query or fragment, an
// unusable device id, and a key that is not on P-256.
func New(d Device, opts ...Option) (*Client, error) {
	base, err := baseURL(d.Server)
	if err != nil {
		return nil, err
	}
	if err := checkDeviceID(d.ID); err != nil {
		return nil, err
	}
	if err := checkKey(d.Key); err != nil {
		return nil, err
	}
	o := newOptions(opts)
	return &Client{base: base, device: d, hc: o.hc, now: o.now}, nil
}

// Device returns the device the client speaks for.
func (c *Client) Device() Device { return c.device }

func baseURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("appclient: server URL %q: %w", server, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("appclient: server URL %q is not an http(s) URL of the form https://host[:port][/path]", server)
	}
	return strings.TrimRight(server, "/"), nil
}

// NewHTTPClient returns an HTTP client suited to the app API: a timeout well
// past the longest long poll, no redirects (the API never redirects, and a
// signed request is bound to its path), and a transport that keeps enough idle
// connections for a benchmark driving many devices against one server. Share
// one among many Clients.
func NewHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   4096,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: MaxWait + 15*time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: t,
		Timeout:   MaxWait + 30*time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

var sharedHTTPClient = sync.OnceValue(NewHTTPClient)

// call sends a request and decodes its answer. in is JSON-encoded unless nil
// (then the request has no body). A status in want is success, and out (if not
// nil) is decoded from its body unless it is 204. Any other status is an
// error: an [*APIError] from 400 on, a plain error below.
func call(ctx context.Context, hc *http.Client, method, u string, in, out any, signer func(*http.Request, []byte) error, want ...int) (status int, err error) {
	var body []byte
	if in != nil {
		if body, err = json.Marshal(in); err != nil {
			return 0, fmt.Errorf("appclient: encoding %s %s: %w", method, u, err)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, fmt.Errorf("appclient: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if signer != nil {
		if err := signer(req, body); err != nil {
			return 0, err
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The *url.Error names the method and URL, and unwraps to the
		// context's error or the network's.
		return 0, fmt.Errorf("appclient: %w", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("appclient: reading the answer to %s %s: %w", method, req.URL.Path, err)
	}
	if len(got) > MaxResponseBody {
		return resp.StatusCode, fmt.Errorf("appclient: the answer to %s %s is longer than %d bytes", method, req.URL.Path, MaxResponseBody)
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, newAPIError(resp, got)
	}
	if !slices.Contains(want, resp.StatusCode) {
		return resp.StatusCode, fmt.Errorf("appclient: %s %s answered %q, want %d %s", method, req.URL.Path, resp.Status, want[0], http.StatusText(want[0]))
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(got, out); err != nil {
		return resp.StatusCode, fmt.Errorf("appclient: the answer to %s %s is not the documented JSON: %w", method, req.URL.Path, err)
	}
	return resp.StatusCode, nil
}

// do sends a request signed by the device.
func (c *Client) do(ctx context.Context, method, path string, in, out any, want ...int) (int, error) {
	return call(ctx, c.hc, method, c.base+path, in, out, func(req *http.Request, body []byte) error {
		return SignRequest(req, body, c.device.ID, c.device.Key, c.now())
	}, want...)
}
