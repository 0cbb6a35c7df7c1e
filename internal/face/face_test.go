package face_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/face"
)

func jpegOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// service is a face-verification service that answers with status and body,
// and records what it was sent.
func service(t *testing.T, status int, body string) (*httptest.Server, *atomic.Value) {
	t.Helper()
	var got atomic.Value
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]string
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("service got %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("service got a body that is not JSON: %v", err)
		}
		got.Store(req)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s, &got
}

func TestClient(t *testing.T) {
	ref, probe := jpegOf(t, 24, 32), jpegOf(t, 30, 40)
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   face.Outcome
		score  float64
	}{
		{"match", 200, `{"match": true, "score": 0.93, "liveness": true}`, face.Match, 0.93},
		{"no match", 200, `{"match": false, "score": 0.12, "liveness": true}`, face.NoMatch, 0.12},
		{"no liveness", 200, `{"match": true, "score": 0.97, "liveness": false}`, face.NoLiveness, 0.97},
		{"neither", 200, `{"match": false, "score": 0, "liveness": false}`, face.NoLiveness, 0},
		{"extra fields are ignored", 200, `{"match": true, "score": 1, "liveness": true, "model": "x"}`, face.Match, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, got := service(t, tt.status, tt.body)
			c, err := face.NewClient(s.URL+"/verify", nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.Verify(context.Background(), ref, probe)
			if err != nil || r.Outcome != tt.want || r.Score != tt.score || r.Verifier != strings.TrimPrefix(s.URL, "http://") {
				t.Fatalf("Verify = %+v, %v; want %s, score %v", r, err, tt.want, tt.score)
			}
			sent := got.Load().(map[string]string)
			if sent["reference_image"] != base64.StdEncoding.EncodeToString(ref) || sent["probe_image"] != base64.StdEncoding.EncodeToString(probe) || len(sent) != 2 {
				t.Errorf("the service was sent %d fields, not the two images in standard base64", len(sent))
			}
		})
	}
}

// TestClientUnavailable: every way the service can fail to say is
// ErrUnavailable, never an outcome.
func TestClientUnavailable(t *testing.T) {
	ref := jpegOf(t, 8, 8)
	for _, tt := range []struct {
		name, body, want string
		status           int
	}{
		{"500", `{"match": true, "score": 1, "liveness": true}`, "500", 500},
		{"503 with HTML", `<html>down</html>`, "503", 503},
		{"redirect", ``, "302", 302},
		{"not JSON", `<html>`, "not the protocol's JSON", 200},
		{"no match field", `{"score": 0.9, "liveness": true}`, "without match", 200},
		{"no liveness field", `{"match": true, "score": 0.9}`, "without match", 200},
		{"no score", `{"match": true, "liveness": true}`, "without match", 200},
		{"null match", `{"match": null, "score": 0.9, "liveness": true}`, "without match", 200},
		{"score above 1", `{"match": true, "score": 93, "liveness": true}`, "outside 0 to 1", 200},
		{"negative score", `{"match": true, "score": -0.5, "liveness": true}`, "outside 0 to 1", 200},
		{"string match", `{"match": "true", "score": 0.9, "liveness": true}`, "not the protocol's JSON", 200},
		{"huge answer", `{"match": true, "score": 0.9, "liveness": true, "pad": "` + strings.Repeat("x", 70<<10) + `"}`, "more than", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := service(t, tt.status, tt.body)
			c, _ := face.NewClient(s.URL, nil)
			r, err := c.Verify(context.Background(), ref, ref)
			if !errors.Is(err, face.ErrUnavailable) || !strings.Contains(err.Error(), tt.want) || r != (face.Result{}) {
				t.Fatalf("Verify = %+v, %v; want ErrUnavailable mentioning %q and no result", r, err, tt.want)
			}
		})
	}

	t.Run("down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		c, _ := face.NewClient("http://"+addr+"/verify?key=s3cret", nil)
		r, err := c.Verify(context.Background(), ref, ref)
		if !errors.Is(err, face.ErrUnavailable) || r != (face.Result{}) || !strings.Contains(err.Error(), addr) {
			t.Fatalf("Verify = %+v, %v", r, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the URL's query: %v", err)
		}
	})

	t.Run("too slow", func(t *testing.T) {
		release := make(chan struct{})
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer s.Close()
		defer close(release)
		c, _ := face.NewClient(s.URL, nil)
		start := time.Now()
		r, err := c.WithTimeout(200*time.Millisecond).Verify(context.Background(), ref, ref)
		if !errors.Is(err, face.ErrUnavailable) || !strings.Contains(err.Error(), "did not answer within 200ms") || r != (face.Result{}) {
			t.Fatalf("Verify = %+v, %v", r, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("gave up after %s", d)
		}
	})

	t.Run("caller gave up", func(t *testing.T) {
		s, _ := service(t, 200, `{"match": true, "score": 1, "liveness": true}`)
		c, _ := face.NewClient(s.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if r, err := c.Verify(ctx, ref, ref); err == nil || r.Outcome != "" {
			t.Fatalf("Verify after cancel = %+v, %v", r, err)
		}
	})
}

func TestNew(t *testing.T) {
	for _, spec := range []string{"", "review", " review "} {
		v, err := face.New(spec, nil)
		if err != nil {
			t.Fatalf("New(%q): %v", spec, err)
		}
		r, err := v.Verify(context.Background(), []byte("a"), []byte("b"))
		if err != nil || r.Outcome != face.Review || r.Verifier != "review" {
			t.Errorf("New(%q).Verify = %+v, %v", spec, r, err)
		}
	}
	if v, err := face.New("https://faces.example/v1/verify", nil); err != nil {
		t.Errorf("New(URL) = %v, %v", v, err)
	} else if _, ok := v.(*face.Client); !ok {
		t.Errorf("New(URL) = %T", v)
	}
	for _, bad := range []string{"revue", "faces.example", "ftp://faces.example", "https://", "https://u:p@faces.example/", "https://faces.example/#x", "http://%zz"} {
		if v, err := face.New(bad, nil); err == nil || v != nil {
			t.Errorf("New(%q) = %v, %v; want an error", bad, v, err)
		} else if !strings.Contains(err.Error(), "review") {
			t.Errorf("New(%q): %v does not say what is accepted", bad, err)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("New(%q): %v repeats the password", bad, err)
		}
	}
}

func TestCheckImage(t *testing.T) {
	var p bytes.Buffer
	png.Encode(&p, image.NewGray(image.Rect(0, 0, 5, 7)))
	for _, tt := range []struct {
		img  []byte
		want string
	}{
		{jpegOf(t, 240, 320), "image/jpeg"},
		{p.Bytes(), "image/png"},
	} {
		if got, err := face.CheckImage(tt.img); err != nil || got != tt.want {
			t.Errorf("CheckImage = %q, %v; want %q", got, err, tt.want)
		}
	}
	// A PNG header claiming 100000 × 100000 pixels: refused from the header.
	huge := append([]byte(nil), p.Bytes()...)
	copy(huge[16:24], []byte{0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0})
	for name, img := range map[string][]byte{
		"empty":      nil,
		"not image":  []byte("GIF89a not really"),
		"too large":  append(jpegOf(t, 8, 8), make([]byte, face.MaxImageSize)...),
		"huge image": huge,
		"cut short":  jpegOf(t, 8, 8)[:10],
	} {
		if got, err := face.CheckImage(img); !errors.Is(err, face.ErrBadImage) || got != "" {
			t.Errorf("%s: CheckImage = %q, %v; want ErrBadImage", name, got, err)
		}
	}
}
