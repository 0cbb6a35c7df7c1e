package robustness_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// balancer is a round-robin reverse proxy without sticky sessions: each
// request goes to the next node, whatever the one before it was. It tells the
// node the client's address in X-Forwarded-For and the test which node
// answered in X-Test-Node.
type balancer struct {
	URL      string
	backends []*url.URL
	next     atomic.Uint64
	served   []atomic.Int64
}

// newBalancer serves on ln (made before the nodes, which need its address
// for their issuer) in front of the nodes at urls.
func newBalancer(t *testing.T, ln net.Listener, urls []string) *balancer {
	t.Helper()
	b := &balancer{URL: "http://" + ln.Addr().String(), served: make([]atomic.Int64, len(urls))}
	for _, u := range urls {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		b.backends = append(b.backends, pu)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			i := int((b.next.Add(1) - 1) % uint64(len(b.backends)))
			b.served[i].Add(1)
			pr.SetURL(b.backends[i])
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Test-Node", strconv.Itoa(i))
		},
		ModifyResponse: func(r *http.Response) error {
			r.Header.Set("X-Test-Node", r.Request.Header.Get("X-Test-Node"))
			return nil
		},
		FlushInterval: -1, // server-sent events pass at once
		Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second,
			DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext},
	}
	srv := httptest.NewUnstartedServer(proxy)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return b
}

// Served returns how many requests each node got.
func (b *balancer) Served() []int64 {
	out := make([]int64, len(b.served))
	for i := range b.served {
		out[i] = b.served[i].Load()
	}
	return out
}
