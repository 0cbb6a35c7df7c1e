package oidc

import (
	"context"
	"net/http"
	"time"

	"github.com/openmitid/openmitid/internal/web"
)

// whileAway wraps h so that an error it answers while the database cannot be
// reached becomes a 503 with Retry-After: a page for a browser (page), a JSON
// error otherwise. op reports a failed storage call as what the missing
// record would mean (an unknown code is invalid_grant, an unknown token is
// access_denied, an unknown client an unusable request), which would tell a
// service provider that its code or token is bad, or a person that their
// login request is, when only the database is away. Whether it is away is
// asked only when an error is answered, so the working path costs nothing.
func (p *Provider) whileAway(h http.Handler, page bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&awayWriter{ResponseWriter: w, p: p, ctx: r.Context(), page: page}, r)
	})
}

type awayWriter struct {
	http.ResponseWriter
	p       *Provider
	ctx     context.Context
	page    bool
	decided bool // the status is written
	swallow bool // a 503 replaced the handler's answer, whose body goes nowhere
}

func (w *awayWriter) WriteHeader(code int) {
	if w.decided {
		return
	}
	w.decided = true
	if code >= 400 && code != http.StatusServiceUnavailable && w.p.databaseAway(w.ctx) {
		w.swallow = true
		h := w.Header()
		h.Del("Location")
		h.Del("WWW-Authenticate")
		if w.page {
			h.Set("Retry-After", "2")
			errorPage(w.ResponseWriter, http.StatusServiceUnavailable, "The service is briefly unavailable. Please try again in a moment.")
			return
		}
		web.WriteUnavailable(w.ResponseWriter)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *awayWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *awayWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// databaseAway reports whether the database does not answer a ping now.
func (p *Provider) databaseAway(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return p.store.Ping(ctx) != nil
}
