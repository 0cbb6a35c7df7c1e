package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/web"
)

func TestClientIP(t *testing.T) {
	proxies, err := web.ParseTrustedProxies("10.0.0.0/8, 192.168.1.5, ::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client", "203.0.113.7:5555", nil, "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:5555", []string{"1.2.3.4"}, "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:80", []string{"198.51.100.9"}, "198.51.100.9"},
		{"client-sent prefix is ignored", "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9"},
		{"chain of proxies", "10.1.2.3:80", []string{"198.51.100.9, 192.168.1.5"}, "198.51.100.9"},
		{"several header lines", "10.1.2.3:80", []string{"6.6.6.6", "198.51.100.9"}, "198.51.100.9"},
		{"garbage stops the walk", "10.1.2.3:80", []string{"198.51.100.9, nonsense"}, "10.1.2.3"},
		{"proxy without header", "10.1.2.3:80", nil, "10.1.2.3"},
		{"ipv6 proxy", "[::1]:80", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := proxies.ClientIP(r); got != tt.want {
			t.Errorf("%s: ClientIP = %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, err := web.ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad CIDR was accepted")
	}
	if _, err := web.ParseTrustedProxies("not-an-ip"); err == nil {
		t.Error("a bad address was accepted")
	}
}

func TestMiddleware(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := web.NewMetrics(reg)
	mux := http.NewServeMux()
	var origin audit.Origin
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		origin = audit.OriginFrom(r.Context())
		w.Write([]byte("item"))
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	h := web.Chain(mux, web.Recover(slog.New(slog.NewTextHandler(io.Discard, nil))), web.SecurityHeaders(true),
		web.Origin(nil), m.Wrap)

	for _, id := range []string{"1", "2", "3"} {
		r := httptest.NewRequest("GET", "/items/"+id, nil)
		r.Header.Set("User-Agent", "test-agent")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Header().Get("Strict-Transport-Security") == "" || w.Header().Get("Content-Security-Policy") != web.DefaultCSP {
			t.Fatalf("GET /items/%s: %d %v", id, w.Code, w.Header())
		}
	}
	if origin.IP != "192.0.2.1" || origin.UserAgent != "test-agent" {
		t.Errorf("origin = %+v", origin)
	}
	// Metrics are by pattern: three paths, one series.
	if got := count(t, m.Requests().WithLabelValues("GET /items/{id}", "GET", "200")); got != 3 {
		t.Errorf("requests{GET /items/{id}} = %v, want 3", got)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"error":"internal_error"`) {
		t.Fatalf("a panic gave %d %s", w.Code, w.Body)
	}
	if got := count(t, m.Requests().WithLabelValues("GET /boom", "GET", "500")); got != 1 {
		t.Errorf("the panic was counted %v times as a 500", got)
	}
	w = httptest.NewRecorder()
	r := httptest.NewRequest("BREW", "/items/1", nil)
	h.ServeHTTP(w, r)
	// An unknown method is counted under "other", never as a label value of its own.
	if w.Code != 405 {
		t.Fatalf("BREW /items/1 = %d", w.Code)
	}
	if got := count(t, m.Requests().WithLabelValues("unmatched", "other", "405")); got != 1 {
		t.Errorf("BREW counted %v times under method=other", got)
	}
}

func count(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

type notReady struct{ err error }

func (n notReady) Ready(context.Context) error { return n.err }

func TestReadyz(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code int
	}{{nil, 200}, {errors.New("store: the database schema is not up to date"), 503}} {
		mux := http.NewServeMux()
		web.MountOps(mux, notReady{tt.err}, prometheus.NewRegistry())
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != tt.code {
			t.Errorf("ready error %v: /readyz = %d, want %d", tt.err, w.Code, tt.code)
		}
		if tt.err != nil && (!strings.Contains(w.Body.String(), `"error":"not_ready"`) || w.Header().Get("Retry-After") == "") {
			t.Errorf("/readyz body = %s, Retry-After %q", w.Body, w.Header().Get("Retry-After"))
		}
	}
}
