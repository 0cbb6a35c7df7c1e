package appclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is an error answer of the app API: a status of 400 or more with the
// body {"error": "machine_code", "message": "…"} (docs/app-api.md, "Errors").
// Callers compare Code with [errors.As] (or use [ErrorCode]):
//
//	var e *appclient.APIError
//	if errors.As(err, &e) && e.Code == "not_bound" { … }
type APIError struct {
	Status  int    // the HTTP status
	Code    string // the machine code ("not_bound"); empty if the body was not the documented JSON
	Message string // the server's sentence for a person, or a description of the undocumented body
	// RetryAfter is the Retry-After of a 429 or 503, or zero.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = "no error code"
	}
	return fmt.Sprintf("appclient: %d %s: %s", e.Status, code, e.Message)
}

// ErrorCode returns the machine code of the [APIError] in err's chain, or "".
func ErrorCode(err error) string {
	if e, ok := errors.AsType[*APIError](err); ok {
		return e.Code
	}
	return ""
}

// newAPIError decodes an error answer. A body that is not the documented JSON
// (a proxy's HTML page, a truncated answer) still gives an APIError, without a
// code and with a short, printable excerpt as its message.
func newAPIError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode}
	var doc struct {
		Code    string `json:"error"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &doc); err == nil && doc.Code != "" {
		e.Code, e.Message = doc.Code, doc.Message
	} else {
		e.Message = fmt.Sprintf("%s, with a body that is not a JSON error: %q", http.StatusText(resp.StatusCode), excerpt(body, 120))
	}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// excerpt returns at most n bytes of b, cut at a rune boundary.
func excerpt(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}
