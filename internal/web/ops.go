package web

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyChecker reports whether the node can serve: the database answers and
// its schema is current.
type ReadyChecker interface {
	Ready(ctx context.Context) error
}

// MountOps adds /healthz, /readyz and /metrics to mux.
func MountOps(mux *http.ServeMux, ready ReadyChecker, gatherer prometheus.Gatherer) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := ready.Ready(ctx); err != nil {
			w.Header().Set("Retry-After", "2")
			WriteError(w, http.StatusServiceUnavailable, "not_ready", err.Error())
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
}

// NotFound answers unknown routes with a JSON 404.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, "not_found", "There is nothing at this address.")
}
