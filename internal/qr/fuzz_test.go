package qr_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/qr"
)

// FuzzEncode checks that Encode never panics, that it refuses only what it
// must, and that every symbol it returns has its version's size, its
// function patterns, and format information naming its level and mask.
//
//	go test -fuzz FuzzEncode ./internal/qr
func FuzzEncode(f *testing.F) {
	f.Add([]byte(frame), uint8(qr.M))
	f.Add([]byte(""), uint8(qr.L))
	f.Add([]byte("01234567"), uint8(qr.M))
	f.Add([]byte("HELLO WORLD"), uint8(qr.Q))
	f.Add([]byte{0, 0xff, 0x80, '\n'}, uint8(qr.H))
	f.Add([]byte(strings.Repeat("9", 300)), uint8(qr.H))
	f.Add([]byte("x"), uint8(7))
	f.Add([]byte("x"), uint8(0x80)) // Level(-128)
	f.Fuzz(func(t *testing.T, data []byte, l uint8) {
		level := qr.Level(l)
		c, err := qr.Encode(data, level)
		switch {
		case level < qr.L || level > qr.H:
			if !errors.Is(err, qr.ErrLevel) || c != nil {
				t.Fatalf("level %d: got %v, %v", l, c, err)
			}
			return
		case err != nil:
			// The smallest version 40 capacity is 1273 bytes at H.
			if !errors.Is(err, qr.ErrTooLong) || len(data) <= 1273 || c != nil {
				t.Fatalf("%d bytes at %v: got %v, %v", len(data), level, c, err)
			}
			return
		}
		if c.Level() != level {
			t.Fatalf("level %v, want %v", c.Level(), level)
		}
		checkSymbol(t, c)
	})
}
