package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxBody is the largest JSON body the APIs read.
const MaxBody = 64 << 10

// DecodeJSON reads one JSON object from the request into v, refusing a body
// that is not application/json (so a cross-site form cannot post it), larger
// than MaxBody, malformed, of the wrong types, with unknown fields, or followed
// by anything. On failure it has answered the request and returns false.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := ReadJSONBody(w, r)
	if !ok {
		return false
	}
	return DecodeBytes(w, body, v)
}

// ReadJSONBody reads a JSON request body (see [DecodeJSON]) and returns it whole,
// for handlers that must also sign or hash the exact bytes.
func ReadJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the body as application/json.")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		WriteError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("The body is larger than %d bytes.", MaxBody))
		return nil, false
	}
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_request", "The body could not be read.")
		return nil, false
	}
	return body, true
}

// DecodeBytes decodes a JSON body read by [ReadJSONBody] into v.
func DecodeBytes(w http.ResponseWriter, body []byte, v any) bool {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "bad_request", describeJSONError(err))
		return false
	}
	if dec.More() {
		WriteError(w, http.StatusBadRequest, "bad_request", "The body holds more than one JSON value.")
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		WriteError(w, http.StatusBadRequest, "bad_request", "Unexpected data after the JSON value.")
		return false
	}
	return true
}

func describeJSONError(err error) string {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("The body is not valid JSON (at byte %d).", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("The field %q must be a %s, not a %s.", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("The body must be a JSON object, not a %s.", te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "The body is empty or cut short."
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Sprintf("Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return "The body could not be read as JSON."
}
