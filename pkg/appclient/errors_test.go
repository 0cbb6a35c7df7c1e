package appclient_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/pkg/appclient"
)

func TestAPIError(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		header http.Header
		body   string
		want   appclient.APIError
	}{
		{"documented", 409, nil, `{"error": "not_bound", "message": "Scan the QR code or type the code first."}`,
			appclient.APIError{Status: 409, Code: "not_bound", Message: "Scan the QR code or type the code first."}},
		{"unknown fields ignored", 401, nil, `{"error": "bad_device_signature", "message": "The request is not signed by a known device.", "trace": "x"}`,
			appclient.APIError{Status: 401, Code: "bad_device_signature", Message: "The request is not signed by a known device."}},
		{"rate limited", 429, http.Header{"Retry-After": {"7"}}, `{"error": "rate_limited", "message": "Too many tries."}`,
			appclient.APIError{Status: 429, Code: "rate_limited", Message: "Too many tries.", RetryAfter: 7 * time.Second}},
		{"unavailable", 503, http.Header{"Retry-After": {" 1 "}}, `{"error": "unavailable", "message": "Try again."}`,
			appclient.APIError{Status: 503, Code: "unavailable", Message: "Try again.", RetryAfter: time.Second}},
		{"Retry-After as a date is not read", 429, http.Header{"Retry-After": {"Wed, 21 Oct 2015 07:28:00 GMT"}}, `{"error": "rate_limited", "message": "m"}`,
			appclient.APIError{Status: 429, Code: "rate_limited", Message: "m"}},
		{"a proxy's page", 502, nil, `<html><body>Bad Gateway</body></html>`,
			appclient.APIError{Status: 502, Message: `Bad Gateway, with a body that is not a JSON error: "<html><body>Bad Gateway</body></html>"`}},
		{"JSON without a code", 400, nil, `{"message": "no"}`,
			appclient.APIError{Status: 400, Message: `Bad Request, with a body that is not a JSON error: "{\"message\": \"no\"}"`}},
		{"empty", 404, nil, ``,
			appclient.APIError{Status: 404, Message: `Not Found, with a body that is not a JSON error: ""`}},
		{"long page cut", 500, nil, strings.Repeat("é", 200),
			appclient.APIError{Status: 500, Message: `Internal Server Error, with a body that is not a JSON error: "` + strings.Repeat("é", 60) + `…"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &canned{status: tt.status, header: tt.header, body: tt.body}
			_, err := newClient(t, c, "").DeviceInfo(context.Background())
			var e *appclient.APIError
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if *e != tt.want {
				t.Errorf("got  %+v\nwant %+v", *e, tt.want)
			}
			if appclient.ErrorCode(err) != tt.want.Code {
				t.Errorf("ErrorCode = %q", appclient.ErrorCode(err))
			}
			if !strings.HasPrefix(err.Error(), "appclient: ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestResponseLimits(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
	}{
		{"oversized answer", 200, `{"device_id": "` + strings.Repeat("x", appclient.MaxResponseBody) + `"}`},
		{"oversized error", 400, `{"error": "bad_request", "message": "` + strings.Repeat("x", appclient.MaxResponseBody) + `"}`},
		{"redirect not followed", 302, ``},
		{"other success", 201, `{}`},
	} {
		c := &canned{status: tt.status, body: tt.body, header: http.Header{"Location": {"https://elsewhere.example/"}}}
		d, err := newClient(t, c, "").DeviceInfo(context.Background())
		if err == nil || d != nil {
			t.Errorf("%s: DeviceInfo = %+v, %v", tt.name, d, err)
		}
		if appclient.ErrorCode(err) != "" {
			t.Errorf("%s: an APIError %v", tt.name, err)
		}
		if len(c.reqs) != 1 {
			t.Errorf("%s: %d requests", tt.name, len(c.reqs))
		}
	}
}

func TestNetworkErrorsWrapped(t *testing.T) {
	hc := appclient.NewHTTPClient()
	hc.Transport = failing{}
	cl, err := appclient.New(appclient.Device{Server: testServer, ID: testDevice, Key: testKey(t)}, appclient.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.DeviceInfo(context.Background())
	if !errors.Is(err, errNetwork) || !strings.HasPrefix(err.Error(), "appclient: ") {
		t.Errorf("error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cl.Next(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

var errNetwork = errors.New("connection refused")

type failing struct{}

func (failing) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return nil, errNetwork
}
