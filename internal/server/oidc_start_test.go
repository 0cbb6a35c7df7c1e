package server_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestOIDCStartOnce: one authorization request started by many browsers at
// once gets one flow; the others get an error page.
func TestOIDCStartOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, n *node) {
		c := newRP(t, n, "demo", "demo-secret", "http://127.0.0.1:53117/callback")
		code, loc, body := c.get(t, c.authorizeURL(nil))
		if code != http.StatusFound || !strings.HasPrefix(loc, "/authorize/start") {
			t.Fatalf("authorize: %d %s %s", code, loc, body)
		}
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		var (
			mu     sync.Mutex
			status = map[int]int{}
			wg     sync.WaitGroup
		)
		for range 6 {
			wg.Go(func() {
				resp, err := hc.Get(n.URL + loc)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				mu.Lock()
				status[resp.StatusCode]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if status[http.StatusSeeOther] != 1 || status[http.StatusSeeOther]+status[http.StatusBadRequest]+status[http.StatusConflict] != 6 {
			t.Fatalf("six starts of one request: %v, want one 303 and the rest 400 or 409", status)
		}
	})
}
