package static_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/web/static"
)

func get(t *testing.T, mux *http.ServeMux, method, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w
}

func TestEveryFileIsServed(t *testing.T) {
	entries, err := fs.ReadDir(os.DirFS("files"), ".")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, n := range static.Names() {
		names[n] = true
	}
	for _, e := range entries {
		if !names[e.Name()] {
			t.Errorf("files/%s is not served: give its extension a content type", e.Name())
		}
	}
	if len(names) < 3 {
		t.Fatalf("only %d assets", len(names))
	}
}

func TestServe(t *testing.T) {
	mux := http.NewServeMux()
	static.Mount(mux)
	hashed := regexp.MustCompile(`^/static/login\.[0-9a-f]{12}\.css$`)
	css := static.Path("login.css")
	if !hashed.MatchString(css) {
		t.Fatalf("Path(login.css) = %q", css)
	}
	for _, tt := range []struct{ name, ct string }{
		{"login.css", "text/css; charset=utf-8"},
		{"login.js", "text/javascript; charset=utf-8"},
		{"icon.svg", "image/svg+xml"},
	} {
		w := get(t, mux, "GET", static.Path(tt.name))
		if w.Code != 200 || w.Header().Get("Content-Type") != tt.ct || w.Body.Len() == 0 {
			t.Errorf("%s: %d %q (%d bytes)", tt.name, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
		if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", tt.name, cc)
		}
		// Revalidation answers 304 without a body.
		w2 := get(t, mux, "GET", static.Path(tt.name), "If-None-Match", w.Header().Get("ETag"))
		if w2.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d", tt.name, w2.Code)
		}
	}
	// The plain name, and the name with another release's hash, get the
	// current file without the long cache.
	for _, p := range []string{"/static/login.css", "/static/login.0123456789ab.css"} {
		w := get(t, mux, "GET", p)
		if w.Code != 200 || w.Header().Get("Cache-Control") != "no-cache" || !strings.Contains(w.Body.String(), "--blue") {
			t.Errorf("%s: %d %q", p, w.Code, w.Header().Get("Cache-Control"))
		}
	}
	if w := get(t, mux, "HEAD", css); w.Code != 200 {
		t.Errorf("HEAD: %d", w.Code)
	}
	for _, p := range []string{"/static/nothing.css", "/static/login.0123456789ab.exe", "/static/login.xyz.css",
		"/static/files/login.css", "/static/../static.go", "/static/login.0123456789abc.css"} {
		if w := get(t, mux, "GET", p); w.Code != 404 && w.Code != http.StatusTemporaryRedirect {
			t.Errorf("%s: %d, want 404 (or the mux cleaning the path)", p, w.Code)
		}
	}
	if w := get(t, mux, "POST", css); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
}

// The stylesheet and the script must not need 'unsafe-inline' or 'unsafe-eval'.
func TestNoInlineOrEval(t *testing.T) {
	js, _ := os.ReadFile("files/login.js")
	for _, bad := range []string{"eval(", "new Function", "innerHTML", ".style.", "setAttribute('style'", "document.write"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("login.js uses %s", bad)
		}
	}
	css, _ := os.ReadFile("files/login.css")
	if strings.Contains(string(css), "@import") || strings.Contains(string(css), "url(http") {
		t.Error("login.css loads from elsewhere")
	}
}
