package approval

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The binding proves that the phone answering a request is at the screen that
// started it: the browser shows an animated QR code, a new frame every second,
// and the app scans one and sends it at once; or, for a person who cannot scan,
// the browser shows a 4-digit code that the person types into the app. A frame
// is an HMAC over the second it was shown under a key only the server and that
// request share, so a frame from another browser session, or an old one,
// proves nothing (after BankID's animated QR code).

// FrameMaxAge is how old a frame may be when the app sends it: long enough for
// a scan and a round trip, short enough that a photo of the screen, or a frame
// relayed from a phishing page, soon goes stale.
const FrameMaxAge = 10 * time.Second

// clockSkew allows nodes' clocks to differ this much.
const clockSkew = 2 * time.Second

var (
	// ErrBinding is returned for a frame or code that does not bind the request.
	ErrBinding = errors.New("approval: the QR code or code does not match this request")
	// ErrStaleFrame is returned for a genuine frame shown too long ago.
	ErrStaleFrame = errors.New("approval: the QR code was scanned too long ago; scan it again")
)

// Binder makes and checks binding proofs.
type Binder struct {
	key []byte
}

// NewBinder returns a Binder under key (the keyring secret "qr-binding", at
// least 32 bytes).
func NewBinder(key []byte) (*Binder, error) {
	if len(key) < 32 {
		return nil, errors.New("approval: binding key shorter than 32 bytes")
	}
	return &Binder{key: key}, nil
}

const framePrefix = "openmitid1"

func (b *Binder) frameMAC(id string, second int64) string {
	k := hmac.New(sha256.New, b.key)
	k.Write([]byte("qr\x00" + id))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(strconv.FormatInt(second, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Frame returns the QR code's content for the request id, made at created,
// shown at now: "openmitid1.<id>.<seconds since created>.<mac>".
func (b *Binder) Frame(id string, created, now time.Time) string {
	s := max(int64(now.Sub(created)/time.Second), 0)
	return framePrefix + "." + id + "." + strconv.FormatInt(s, 10) + "." + b.frameMAC(id, s)
}

// FrameID returns the request id a frame names, or "" for something that is
// not a frame. It checks nothing else.
func FrameID(frame string) string {
	parts := strings.Split(frame, ".")
	if len(parts) != 4 || parts[0] != framePrefix {
		return ""
	}
	return parts[1]
}

// CheckFrame verifies a frame sent for the request id made at created: that it
// is a frame of this request, genuine, and was shown at most [FrameMaxAge]
// before now.
func (b *Binder) CheckFrame(frame, id string, created, now time.Time) error {
	if len(frame) > 200 {
		return ErrBinding
	}
	parts := strings.Split(frame, ".")
	if len(parts) != 4 || parts[0] != framePrefix || parts[1] != id {
		return ErrBinding
	}
	s, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || s < 0 || strconv.FormatInt(s, 10) != parts[2] {
		return ErrBinding
	}
	if !hmac.Equal([]byte(parts[3]), []byte(b.frameMAC(id, s))) {
		return ErrBinding
	}
	shown := created.Add(time.Duration(s) * time.Second)
	if shown.After(now.Add(clockSkew)) {
		return ErrBinding // a frame from the future was never shown
	}
	if now.Sub(shown) > FrameMaxAge+time.Second { // +1 s: the frame covers its whole second
		return ErrStaleFrame
	}
	return nil
}

// NewCode returns a random 4-digit code, uniformly from 0000 to 9999.
func NewCode(r io.Reader) (string, error) {
	var b [2]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("approval: reading randomness: %w", err)
		}
		// Reject the top of the range so that every code is equally likely.
		if v := int(b[0])<<8 | int(b[1]); v < 60000 {
			return fmt.Sprintf("%04d", v%10000), nil
		}
	}
}

// CheckCode compares a typed code with the request's in constant time.
func CheckCode(want, got string) error {
	got = strings.TrimSpace(got)
	if len(got) != 4 || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return ErrBinding
	}
	return nil
}
