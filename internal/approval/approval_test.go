package approval_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/approval"
)

func sample() approval.Request {
	return approval.Request{
		ID: "aZ3kq9Lm0PXvYtR2sDf8Wq", Identity: "5f0c6e2e-7d2f-4c6a-9b1e-3f2d1c0b9a88", Kind: approval.KindLogin,
		ClientName: "Skattestyrelsen", ReferenceText: "Log på TastSelv – årsopgørelse 2026", ActionText: "LOG_ON",
		Location: "Danmark", Browser: "Chrome on Linux",
		CreatedAt: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 11, 24, 12, 3, 0, 0, time.UTC),
		Nonce: bytes.Repeat([]byte{0xab}, 16),
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := sample()
	b, err := approval.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := approval.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
	}
	again, _ := approval.Encode(got)
	if !bytes.Equal(again, b) {
		t.Fatal("re-encoding differs")
	}
}

func TestEncodeRefuses(t *testing.T) {
	for name, mutate := range map[string]func(*approval.Request){
		"unknown kind":     func(r *approval.Request) { r.Kind = "transfer" },
		"no id":            func(r *approval.Request) { r.ID = "" },
		"no identity":      func(r *approval.Request) { r.Identity = "" },
		"short nonce":      func(r *approval.Request) { r.Nonce = r.Nonce[:8] },
		"expired at birth": func(r *approval.Request) { r.ExpiresAt = r.CreatedAt },
		"long field":       func(r *approval.Request) { r.ReferenceText = strings.Repeat("x", approval.MaxField+1) },
		"bad utf-8":        func(r *approval.Request) { r.ClientName = "bad\xff" },
	} {
		r := sample()
		mutate(&r)
		if b, err := approval.Encode(r); !errors.Is(err, approval.ErrInvalid) || b != nil {
			t.Errorf("%s: Encode = %d bytes, %v", name, len(b), err)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, _ := approval.Encode(sample())
	for name, b := range map[string][]byte{
		"empty":         nil,
		"magic only":    []byte("OMIDAPR1"),
		"other magic":   append([]byte("OMIDAPR2"), good[8:]...),
		"truncated":     good[:len(good)-1],
		"trailing byte": append(append([]byte{}, good...), 0),
		"field swapped": swapFirstTags(good),
		"oversized":     append(append([]byte{}, good...), make([]byte, approval.MaxEncoded)...),
		"long length":   append([]byte("OMIDAPR1\x01\xff\xff\xff\xff\x0f"), good[8:]...),
		"padded length": append([]byte("OMIDAPR1\x01\x96\x00"), good[10:]...),
	} {
		r, err := approval.Decode(b)
		if !errors.Is(err, approval.ErrMalformed) || !reflect.DeepEqual(r, approval.Request{}) {
			t.Errorf("%s: Decode = %+v, %v", name, r, err)
		}
	}
}

// swapFirstTags makes the first field claim to be the second.
func swapFirstTags(b []byte) []byte {
	c := append([]byte{}, b...)
	c[8] = 2
	return c
}

func FuzzDecode(f *testing.F) {
	good, _ := approval.Encode(sample())
	f.Add(good)
	f.Add([]byte("OMIDAPR1"))
	f.Add(good[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := approval.Decode(b)
		if err != nil {
			if !reflect.DeepEqual(r, approval.Request{}) {
				t.Fatal("an error came with a request")
			}
			return
		}
		// What decodes is canonical: it encodes back to the same bytes.
		again, err := approval.Encode(r)
		if err != nil {
			t.Fatalf("decoded request does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("not canonical:\n%x\n%x", b, again)
		}
	})
}

func TestAnswerMessageUnambiguous(t *testing.T) {
	a := approval.AnswerMessage("id", []byte("req"), approval.Approve, "openmitid1.x.1.y")
	b := approval.AnswerMessage("idr", []byte("eq"), approval.Approve, "openmitid1.x.1.y")
	c := approval.AnswerMessage("id", []byte("req"), approval.Reject, "openmitid1.x.1.y")
	if bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatal("different answers sign the same bytes")
	}
}

func TestFrames(t *testing.T) {
	b, err := approval.NewBinder(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := approval.NewBinder(bytes.Repeat([]byte{2}, 32))
	created := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	shown := created.Add(37 * time.Second)
	frame := b.Frame("req1", created, shown)
	if approval.FrameID(frame) != "req1" {
		t.Fatalf("FrameID(%q)", frame)
	}
	if b.Frame("req1", created, shown.Add(time.Second)) == frame {
		t.Fatal("frames do not change every second")
	}
	tests := []struct {
		name  string
		frame string
		id    string
		now   time.Time
		want  error
	}{
		{"fresh", frame, "req1", shown.Add(2 * time.Second), nil},
		{"at the limit", frame, "req1", shown.Add(approval.FrameMaxAge), nil},
		{"stale", frame, "req1", shown.Add(approval.FrameMaxAge + 2*time.Second), approval.ErrStaleFrame},
		{"another request's frame", frame, "req2", shown, approval.ErrBinding},
		{"another server's frame", other.Frame("req1", created, shown), "req1", shown, approval.ErrBinding},
		{"from the future", b.Frame("req1", created, shown.Add(time.Minute)), "req1", shown, approval.ErrBinding},
		{"second changed", strings.Replace(frame, ".37.", ".38.", 1), "req1", shown, approval.ErrBinding},
		{"leading zero", strings.Replace(frame, ".37.", ".037.", 1), "req1", shown, approval.ErrBinding},
		{"mac cut", frame[:len(frame)-2], "req1", shown, approval.ErrBinding},
		{"garbage", "bankid.x.1.y", "req1", shown, approval.ErrBinding},
		{"empty", "", "req1", shown, approval.ErrBinding},
	}
	for _, tt := range tests {
		if err := b.CheckFrame(tt.frame, tt.id, created, tt.now); !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
			t.Errorf("%s: CheckFrame = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		c, err := approval.NewCode(rand.Reader)
		if err != nil || len(c) != 4 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("NewCode = %q, %v", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 1500 {
		t.Fatalf("only %d distinct codes in 2000", len(seen))
	}
	if approval.CheckCode("0427", " 0427 ") != nil {
		t.Error("the right code was refused")
	}
	for _, bad := range []string{"0428", "427", "04270", "", "042a"} {
		if approval.CheckCode("0427", bad) == nil {
			t.Errorf("code %q accepted for 0427", bad)
		}
	}
}
