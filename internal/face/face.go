// Package face compares the portrait on a passport chip with a selfie taken
// during enrolment, through a [Verifier]: [Review], which leaves the decision
// to a caseworker, or [Client], which asks a face-verification service over
// HTTP (docs/face-verification.md).
//
// The package decides nothing about identities: it reports what the verifier
// found. Whether a match is enough is internal/proofing's rule.
package face

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of selfies and portraits
	_ "image/png"
	"net/http"
	"net/url"
	"strings"
)

// Outcome is what a verifier found.
type Outcome string

const (
	// Match: the same person, and the probe was taken of a live person.
	Match Outcome = "match"
	// NoMatch: not the same person.
	NoMatch Outcome = "no_match"
	// NoLiveness: the faces may match, but the probe is not of a live
	// person (a photo of a photo, a screen, a mask).
	NoLiveness Outcome = "no_liveness"
	// Review: the verifier does not decide; a caseworker compares the two
	// images and decides later.
	Review Outcome = "review"
)

// Result is a verifier's answer.
type Result struct {
	Outcome  Outcome
	Score    float64 // the service's similarity score, 0 to 1; zero for Review
	Liveness bool    // the service judged the probe live
	Verifier string  // which verifier answered: "review" or the service's host
}

// Limits on the images a verifier is given. A chip's portrait is 15 to 30
// KiB (ICAO 9303 part 10); a phone's selfie, scaled for face matching, a few
// hundred KiB at most.
const (
	MaxImageSize = 512 << 10
	MaxPixels    = 4096 * 4096 // width × height, checked before anything is decoded
)

var (
	// ErrUnavailable is returned, wrapped, when the face-verification
	// service cannot be reached, does not answer in time, or answers
	// something other than the protocol: nobody's face was judged.
	ErrUnavailable = errors.New("face: the face-verification service is unavailable")
	// ErrBadImage is returned, wrapped, by [CheckImage] for an image that
	// is not a JPEG or PNG within the limits.
	ErrBadImage = errors.New("face: not a usable image")
)

// A Verifier compares a reference image (the chip's portrait, which passive
// authentication has proved genuine) with a probe (the selfie). Its contract:
//
//   - It returns a [Result] whose Outcome is one of [Match], [NoMatch],
//     [NoLiveness] or [Review], or an error; never both.
//   - An error means nothing was judged: it wraps [ErrUnavailable] when the
//     verifier could not be asked, or ctx's error.
//   - It keeps neither image after it returns.
//   - It is safe for concurrent use.
type Verifier interface {
	Verify(ctx context.Context, reference, probe []byte) (Result, error)
}

// ReviewVerifier is the verifier that decides nothing: every comparison
// waits for a caseworker, who sees both images in the operator console. It
// is the default (CONTRACT.md, --face-verifier review).
type ReviewVerifier struct{}

// Verify returns [Review] at once.
func (ReviewVerifier) Verify(ctx context.Context, reference, probe []byte) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	return Result{Outcome: Review, Verifier: "review"}, nil
}

// New returns the verifier that --face-verifier names: "review" (or empty)
// for [ReviewVerifier], or the http or https URL of a face-verification
// service for a [Client] using hc (nil: a client of its own). It refuses
// anything else with an error that says what is accepted.
func New(spec string, hc *http.Client) (Verifier, error) {
	switch strings.TrimSpace(spec) {
	case "", "review":
		return ReviewVerifier{}, nil
	}
	c, err := NewClient(spec, hc)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CheckImage returns the MIME type of img, "image/jpeg" or "image/png", after
// checking that it is at most [MaxImageSize] bytes and that its header
// declares at most [MaxPixels] pixels. Only the header is decoded, so a small
// file claiming a huge picture costs nothing here.
func CheckImage(img []byte) (string, error) {
	if len(img) == 0 {
		return "", fmt.Errorf("%w: empty", ErrBadImage)
	}
	if len(img) > MaxImageSize {
		return "", fmt.Errorf("%w: %d bytes, more than %d", ErrBadImage, len(img), MaxImageSize)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return "", fmt.Errorf("%w: neither JPEG nor PNG (%v)", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return "", fmt.Errorf("%w: %d × %d pixels, more than %d in all", ErrBadImage, cfg.Width, cfg.Height, MaxPixels)
	}
	return "image/" + format, nil
}

// checkServiceURL accepts an absolute http(s) URL without user info or
// fragment.
func checkServiceURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		shown := s
		if err == nil {
			shown = u.Redacted() // never repeat a password given in the URL
		}
		return nil, fmt.Errorf("face: %q is neither \"review\" nor the http(s) URL of a face-verification service (without user info or fragment)", shown)
	}
	return u, nil
}
