package fido

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Timeouts of a ceremony. WebAuthn Level 3, §15.1 "Recommended Range for Ceremony Timeouts",
// recommends 5 minutes and at most 10; a login transaction lives at most 10 minutes, so a chip
// ceremony never outlives the login that started it. Less than 30 seconds is too short for a
// person who first has to find the chip.
const (
	DefaultTimeout = 5 * time.Minute
	MinTimeout     = 30 * time.Second
	MaxTimeout     = 10 * time.Minute
)

// Config is the relying party: the MitID issuer as browsers see it.
type Config struct {
	// RPID is the relying party ID (WebAuthn Level 3, §5.1.3 and "RP ID" in §4): the issuer's
	// host, such as "mitid.example.dk", in lower case, without scheme, port or trailing dot.
	// Credentials are scoped to it for good: changing it orphans every registered chip.
	RPID string
	// RPName is shown by some browsers while registering (§5.4.1), such as "MitID".
	RPName string
	// Origins are the origins the login pages are served from (§5.8.1, C.origin): scheme, host
	// and port only, such as "https://mitid.example.dk". Each host must be RPID or a
	// subdomain of it. http is allowed only for localhost, as browsers allow WebAuthn over http
	// only there.
	Origins []string
	// Timeout is how long a ceremony may take, sent to the browser and enforced here; 0 means
	// [DefaultTimeout]. It must be within [MinTimeout] and [MaxTimeout].
	Timeout time.Duration

	Now  func() time.Time // time.Now when nil; called concurrently
	Rand io.Reader        // crypto/rand when nil; challenges are read from it, one at a time
}

// Service runs WebAuthn ceremonies for one relying party. It keeps no state: what a ceremony
// needs between its beginning and its end is in the session bytes the caller stores. It is safe
// for concurrent use.
type Service struct {
	wa      *webauthn.WebAuthn
	rpID    string
	origins []string
	timeout time.Duration
	now     func() time.Time

	randMu sync.Mutex // test readers such as a ChaCha8 are not safe for concurrent use
	rand   io.Reader
}

// New returns a Service for c. It refuses (with [ErrInvalidConfig]) an empty or malformed RPID
// (an IP address, a name with empty or over-long labels, or not in lower-case ASCII), an empty
// RPName, no origins, an origin that is not a bare scheme://host[:port], an http origin other
// than localhost, an origin whose host is not RPID or below it (§5.1.3: the RP ID must be a
// registrable domain suffix of, or equal to, the origin's effective domain), and a timeout
// outside [MinTimeout]..[MaxTimeout].
func New(c Config) (*Service, error) {
	if c.RPID == "" || c.RPID != strings.ToLower(c.RPID) {
		return nil, fmt.Errorf("%w: RP ID %q must be a lower-case host name", ErrInvalidConfig, c.RPID)
	}
	if err := protocol.ValidateRPID(c.RPID); err != nil {
		return nil, fmt.Errorf("%w: RP ID %q: %v", ErrInvalidConfig, c.RPID, err)
	}
	if strings.TrimSpace(c.RPName) == "" {
		return nil, fmt.Errorf("%w: empty RP name", ErrInvalidConfig)
	}
	if len(c.Origins) == 0 {
		return nil, fmt.Errorf("%w: no origins", ErrInvalidConfig)
	}
	origins := make([]string, len(c.Origins))
	for i, o := range c.Origins {
		norm, err := checkOrigin(o, c.RPID)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		origins[i] = norm
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout < MinTimeout || timeout > MaxTimeout {
		return nil, fmt.Errorf("%w: timeout %v, want %v to %v", ErrInvalidConfig, c.Timeout, MinTimeout, MaxTimeout)
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          c.RPID,
		RPDisplayName: c.RPName,
		RPOrigins:     origins,
		// Timeout applies to user verification preferred or required, TimeoutUVD to
		// discouraged; the chip uses discouraged, but both say the same so nothing hangs on it.
		// Enforce stays off: the session's expiry is checked here, against Now.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout},
			Registration: webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	s := &Service{wa: wa, rpID: c.RPID, origins: origins, timeout: timeout, now: c.Now, rand: c.Rand}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s, nil
}

// checkOrigin returns o as browsers serialize it in C.origin (lower case, no default port), or
// an error naming what is wrong with it.
func checkOrigin(o, rpID string) (string, error) {
	u, err := url.Parse(o)
	if err != nil {
		return "", fmt.Errorf("origin %q: %v", o, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
		return "", fmt.Errorf("origin %q must be scheme://host[:port] and nothing more", o)
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme == "http" && host != "localhost" {
		return "", fmt.Errorf("origin %q: http is allowed only for localhost (a secure context)", o)
	}
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return "", fmt.Errorf("origin %q: host %q is not the RP ID %q or a subdomain of it", o, host, rpID)
	}
	port := u.Port()
	if port == "" || u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		return u.Scheme + "://" + host, nil
	}
	return u.Scheme + "://" + host + ":" + port, nil
}

// challenge returns a new challenge of 32 random bytes: §13.4.3 asks for at least 16 bytes,
// unguessable, and never reused.
func (s *Service) challenge() ([]byte, error) {
	c := make([]byte, 32)
	s.randMu.Lock()
	_, err := io.ReadFull(s.rand, c)
	s.randMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("fido: reading a challenge: %w", err)
	}
	return c, nil
}
