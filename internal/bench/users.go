package bench

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/authenticator/fido/softkey"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/pkg/appclient"
)

// LoadSpecFormat names the users file's format.
const LoadSpecFormat = "openmitid-bench-users/1"

// A LoadSpec describes the identities one run of the bulk loader made
// (`openmitid testdata identities --out FILE`), so that the bench can log in
// as any of them: every secret is derived from Seed and the identity's index,
// so the file stays a few hundred bytes for a million identities. It holds
// the keys to all of them: keep it like a password file.
type LoadSpec struct {
	Format         string   `json:"format"`
	Count          int      `json:"count"`
	UserIDPrefix   string   `json:"user_id_prefix"` // user ID i is the prefix and i in 7 digits
	Password       string   `json:"password"`       // the same for all: hashed once per run
	Seed           []byte   `json:"seed"`           // 32 bytes
	Authenticators []string `json:"authenticators"`
	CreatedAt      string   `json:"created_at"`
}

// ReadLoadSpec reads a users file.
func ReadLoadSpec(path string) (*LoadSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s LoadSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("bench: %s is not a users file: %w", path, err)
	}
	if s.Format != LoadSpecFormat || s.Count < 1 || len(s.Seed) != 32 || s.UserIDPrefix == "" {
		return nil, fmt.Errorf("bench: %s is not a users file of format %s with a count, a prefix and a 32-byte seed", path, LoadSpecFormat)
	}
	return &s, nil
}

// Write writes the users file, readable by its owner only.
func (s *LoadSpec) Write(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// Has reports whether the loaded identities have the authenticator kind.
func (s *LoadSpec) Has(kind string) bool {
	for _, k := range s.Authenticators {
		if k == kind {
			return true
		}
	}
	return false
}

// UserID returns identity i's user ID.
func (s *LoadSpec) UserID(i int) string { return s.UserIDPrefix + fmt.Sprintf("%07d", i) }

// derive returns HMAC-SHA256(seed, label ‖ i ‖ counter).
func (s *LoadSpec) derive(label string, i int, counter uint32) []byte {
	m := hmac.New(sha256.New, s.Seed)
	m.Write([]byte(label))
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(i))
	binary.BigEndian.PutUint32(b[8:], counter)
	m.Write(b[:])
	return m.Sum(nil)
}

// DeviceKey returns identity i's app device key (P-256).
func (s *LoadSpec) DeviceKey(i int) (*ecdsa.PrivateKey, error) {
	for c := uint32(0); c < 16; c++ {
		// A 256-bit value is a valid scalar (1 ≤ d < n) but with
		// probability ~2^-32; the next counter is tried then.
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), s.derive("device-key\x00", i, c)); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("bench: no valid device key derived") // 2^-512: never
}

// DeviceID returns identity i's app device (authenticator) id, a UUID.
func (s *LoadSpec) DeviceID(i int) string {
	u, _ := uuid.FromBytes(s.derive("device-id\x00", i, 0)[:16])
	u[6] = u[6]&0x0f | 0x40 // version 4 (RFC 9562, Section 5.4): random-looking
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// TOTPSecret returns identity i's code display seed (20 bytes, RFC 4226's
// recommended length for HMAC-SHA-1).
func (s *LoadSpec) TOTPSecret(i int) []byte { return s.derive("totp\x00", i, 0)[:20] }

// Serial returns identity i's code display serial number.
func (s *LoadSpec) Serial(i int) string {
	return "LD" + fmt.Sprintf("%x", s.Seed[:4]) + fmt.Sprintf("%07d", i)
}

// loadedUsers picks n of the loaded identities, spread evenly over all of them
// from a random start, so that a rerun soon after mostly uses others (each
// identity's app takes 10 requests per 10 minutes).
func (o *OpenMitID) loadedUsers(n int) ([]*benchUser, error) {
	s := o.opt.Users
	if n > s.Count {
		return nil, fmt.Errorf("bench: %d users asked for, but the users file has %d identities", n, s.Count)
	}
	if !s.Has(o.opt.Method) {
		return nil, fmt.Errorf("bench: the loaded identities have %v, not %s", s.Authenticators, o.opt.Method)
	}
	stride := s.Count / n
	start := rand.IntN(stride)
	users := make([]*benchUser, n)
	var err error
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	per := (n + 7) / 8
	for w := 0; w*per < n; w++ {
		wg.Go(func() {
			for k := w * per; k < min(n, (w+1)*per); k++ {
				i := start + k*stride
				u := &benchUser{UserID: s.UserID(i), Password: s.Password}
				if o.opt.Method == MethodCodeDisplay {
					u.totp = otp.TOTP{Secret: s.TOTPSecret(i)}
				} else {
					key, err := s.DeviceKey(i)
					if err == nil {
						u.app, err = appclient.New(appclient.Device{Server: o.base, ID: s.DeviceID(i), Key: key}, appclient.WithHTTPClient(o.hc))
					}
					if err != nil {
						failed.Store(&err)
						return
					}
				}
				users[k] = u
			}
		})
	}
	wg.Wait()
	if e := failed.Load(); e != nil {
		err = *e
	}
	return users, err
}

// makeUsers makes n identities through the test tool, several at a time, and
// activates their apps.
func (o *OpenMitID) makeUsers(ctx context.Context, n int) ([]*benchUser, error) {
	users := make([]*benchUser, n)
	var next, made atomic.Int64
	var firstErr atomic.Pointer[error]
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || firstErr.Load() != nil || ctx.Err() != nil {
					return
				}
				u, err := o.makeUser(ctx, i)
				if err != nil {
					err = fmt.Errorf("identity %d: %w", i, err)
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				users[i] = u
				if m := made.Add(1); m%500 == 0 {
					fmt.Fprintf(o.opt.Log, "made %d of %d test identities (%.0f/s)\n", m, n, float64(m)/time.Since(start).Seconds())
				}
			}
		})
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return nil, *e
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.opt.Log, "made %d test identities in %.1f s\n", n, time.Since(start).Seconds())
	return users, nil
}

func (o *OpenMitID) makeUser(ctx context.Context, i int) (*benchUser, error) {
	body, _ := json.Marshal(map[string]any{"name": "Bench User" + strconv.Itoa(i%1000), "authenticators": []string{o.opt.Method}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.base+"/testtool/v1/identities", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := o.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		UserID   string `json:"user_id"`
		Password string `json:"password"`
		UUID     string `json:"uuid"`
		App      *struct {
			ActivationCode string `json:"activation_code"`
		} `json:"app"`
		CodeDisplay *struct {
			Secret string `json:"secret"`
		} `json:"code_display"`
		Chip    json.RawMessage `json:"chip"`
		Error   string          `json:"error"`
		Message string          `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("test tool: %d, %v", resp.StatusCode, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, errors.New("the server has no test tool: start it with --demo, or load identities (openmitid testdata identities) and pass --users-file")
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("test tool: %d %s: %s", resp.StatusCode, out.Error, out.Message)
	}
	u := &benchUser{UserID: out.UserID, Password: out.Password}
	switch {
	case o.opt.Method == MethodCodeDisplay && out.CodeDisplay != nil:
		secret, err := otp.DecodeSecret(out.CodeDisplay.Secret)
		if err != nil {
			return nil, err
		}
		u.totp = otp.TOTP{Secret: secret}
	case o.opt.Method == MethodApp && out.App != nil:
		key, err := appclient.NewKey()
		if err != nil {
			return nil, err
		}
		act, err := appclient.Activate(ctx, o.base, out.App.ActivationCode, "bench phone", key,
			appclient.WithHTTPClient(o.activationClient(i)))
		if err != nil {
			return nil, fmt.Errorf("activating the app: %w", err)
		}
		if u.app, err = appclient.New(appclient.Device{Server: o.base, ID: act.DeviceID, Key: key, Identity: out.UUID},
			appclient.WithHTTPClient(o.hc)); err != nil {
			return nil, err
		}
	case o.opt.Method == MethodChip && len(out.Chip) > 0:
		// The test tool's software key, less what only a browser uses.
		var m map[string]any
		if err := json.Unmarshal(out.Chip, &m); err != nil {
			return nil, err
		}
		delete(m, "private_key_pkcs8")
		delete(m, "rp_id")
		b, _ := json.Marshal(m)
		if u.chip, err = softkey.Unmarshal(b); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("the test tool made no %s (chips need a server whose issuer's host is a name, such as localhost)", o.opt.Method)
	}
	return u, nil
}

// browserClient returns the HTTP client of virtual user vu's browser. People
// log in from addresses of their own, and the server limits and orders
// password checks per client address (one evaluation at a time per address,
// a failure limit per address): against a server on the loopback interface
// each virtual user's browser therefore speaks from an address of its own
// (127.2.x.y). Elsewhere all share one client, and password logins are held
// to one hash at a time by that (docs/performance.md).
func (o *OpenMitID) browserClient(vu int) *http.Client {
	if c := o.vuClients[vu]; c != nil {
		return c
	}
	u, _ := url.Parse(o.base)
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		o.vuClients[vu] = o.hc
		return o.hc
	}
	local := net.IPv4(127, 2, byte(vu/250), byte(vu%250+1))
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: local}}
	tr := o.hc.Transport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	tr.MaxIdleConnsPerHost = 4
	c := &http.Client{Transport: tr, Timeout: o.hc.Timeout, CheckRedirect: o.hc.CheckRedirect}
	o.vuClients[vu] = c
	return c
}

// activationsPerAddress stays under the server's limit on activations per
// client address (20 an hour).
const activationsPerAddress = 15

var (
	activationClientsMu sync.Mutex
	activationClients   = map[string]*http.Client{}
)

// activationClient returns the HTTP client that activates identity i's app.
// The server allows 20 activations an hour from one address; against a
// server on the loopback interface, groups of identities activate from
// addresses of their own (127.1.x.y: all of 127/8 is this machine on Linux).
// Elsewhere, use the bulk loader's identities (--users-file).
func (o *OpenMitID) activationClient(i int) *http.Client {
	u, _ := url.Parse(o.base)
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return o.hc
	}
	g := i/activationsPerAddress + 1
	local := net.IPv4(127, 1, byte(g>>8), byte(g))
	key := local.String()
	activationClientsMu.Lock()
	defer activationClientsMu.Unlock()
	if c := activationClients[key]; c != nil {
		return c
	}
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: local}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 2, IdleConnTimeout: 5 * time.Second},
		Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	activationClients[key] = c
	return c
}
