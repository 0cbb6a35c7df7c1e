package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// pingStore is a Store whose Ping answers err and counts the calls; nothing
// else of it is used.
type pingStore struct {
	Store
	err   error
	pings *int
}

func (s pingStore) Ping(context.Context) error { *s.pings++; return s.err }

func TestWhileAway(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	answer := func(status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			}
			w.WriteHeader(status)
			w.Write([]byte(`{"error":"invalid_grant"}`))
		})
	}
	for _, tt := range []struct {
		name       string
		status     int
		page       bool
		pingErr    error
		wantStatus int
		wantType   string
		wantPings  int
	}{
		{"success, database away: untouched, not even asked", 200, false, refused, 200, "application/json", 0},
		{"error, database there: the handler's own", 400, false, nil, 400, "application/json", 1},
		{"error, database away: a JSON 503", 400, false, refused, 503, "application/json", 1},
		{"401, database away: a JSON 503", 401, false, refused, 503, "application/json", 1},
		{"error on a browser's route, database away: a 503 page", 400, true, refused, 503, "text/html", 1},
		{"a 503 already: as it is", 503, false, refused, 503, "application/json", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pings := 0
			p := &Provider{store: pingStore{err: tt.pingErr, pings: &pings}}
			w := httptest.NewRecorder()
			p.whileAway(answer(tt.status), tt.page).ServeHTTP(w, httptest.NewRequest("POST", "/oauth/token", nil))
			if w.Code != tt.wantStatus || !strings.HasPrefix(w.Header().Get("Content-Type"), tt.wantType) || pings != tt.wantPings {
				t.Fatalf("status %d, type %q, %d pings; want %d, %q, %d", w.Code, w.Header().Get("Content-Type"), pings,
					tt.wantStatus, tt.wantType, tt.wantPings)
			}
			if tt.wantStatus == 503 && tt.status != 503 {
				if w.Header().Get("Retry-After") == "" || w.Header().Get("WWW-Authenticate") != "" || strings.Contains(w.Body.String(), "invalid_grant") {
					t.Fatalf("the 503 carries %v: %s", w.Header(), w.Body)
				}
			}
		})
	}
}
