package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Copenhagen on hosts without a zone database

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/notify"
)

// Copying the app to a new phone (DESIGN.md, flow 6). The new phone, which has
// no MitID yet, makes its key and starts a copy session naming the user ID: it
// gets a QR code, valid for [CopyTTL], and a token with which it follows the
// session. An active app of that identity scans the QR code, shows the new
// phone's name and key fingerprint, and approves with a signature by its own
// device key. The approval registers the new key, in one transaction with its
// audit event and the notification on every other channel, as an app at the
// approving app's level that cannot be used for [Service.CopyWait] (an hour by
// default), so that a person whose phone was borrowed for a minute is told
// and can block before the new phone works. The QR code's secret and the
// token are 256 random bits each and only their hashes are kept; a session is
// approved once.

// CopySession is one attempt to copy the app to a new phone.
type CopySession struct {
	ID         string
	SecretHash []byte // SHA-256 of the QR code's secret
	TokenHash  []byte // SHA-256 of the new app's token
	UserIDKey  string // the user ID the new app named, as looked up
	PublicKey  []byte // the new device key (PKIX DER)
	DeviceName string
	State      CopyState
	Identity   string // once approved
	DeviceID   string // the new app, once approved
	ApprovedBy string // the old app
	OriginIP   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ApprovedAt time.Time
}

// CopyState is where a copy session is.
type CopyState string

const (
	CopyPending  CopyState = "pending"
	CopyApproved CopyState = "approved"
	CopyExpired  CopyState = "expired" // shown, not stored: a pending session past its expiry
)

// CopyStore keeps copy sessions (internal/store).
type CopyStore interface {
	InsertCopySession(ctx context.Context, c *CopySession) error
	// CopySession returns the session, locked for the rest of a write
	// transaction; ErrCopyNotFound when there is none.
	CopySession(ctx context.Context, id string) (*CopySession, error)
	// ApproveCopySession records the approval if the session is still pending.
	ApproveCopySession(ctx context.Context, c *CopySession) error
	// Notify wakes the waiters on topic once the transaction in ctx commits.
	Notify(ctx context.Context, topic string) error
}

// TopicCopy is the notification topic of a copy session: the new app waits on it.
func TopicCopy(id string) string { return "copy:" + id }

// CopiedDevice returns the app an approved copy session registered.
func (s *Service) CopiedDevice(ctx context.Context, c *CopySession) (*authenticator.Authenticator, error) {
	if c.State != CopyApproved {
		return nil, ErrCopyNotFound
	}
	return s.store.Authenticator(ctx, c.DeviceID)
}

// Notifier writes a message to the person's other channels in the
// transaction in ctx (internal/notify).
type Notifier interface {
	Enqueue(ctx context.Context, identityUUID string, t notify.Template, params map[string]string) ([]notify.Channel, error)
}

// Errors of copying; each leaves everything as it was.
var (
	ErrCopyNotFound      = errors.New("app: no such copy session, or the QR code or token does not match it")
	ErrCopyExpired       = errors.New("app: the copy QR code has expired")
	ErrCopyUsed          = errors.New("app: the copy QR code has been used")
	ErrCopyBadQR         = errors.New("app: not a copy QR code")
	ErrCopyWrongIdentity = errors.New("app: the copy QR code is for another MitID than this app's")
	ErrCopyBadUserID     = errors.New("app: the user ID is not one a MitID can have")
	ErrCopyBadSignature  = errors.New("app: the copy's approval signature does not verify with the approving app's key")
	ErrCopyUnavailable   = errors.New("app: copying to a new phone is not configured on this server")
)

// Limits of copying.
const (
	CopyTTL         = 3 * time.Minute
	DefaultCopyWait = time.Hour
	copyQRPrefix    = "openmitid-copy1."
	copySecretLen   = 32
	maxCopiesPer    = 30 // copy sessions started per client address per hour
)

// CopyStart is what the new app gets: the QR code to show and the token with
// which it follows the session. Both are shown once.
type CopyStart struct {
	Session *CopySession
	QR      string
	Token   string
}

// CopyProofMessage is what the new key signs when the copy starts, so that
// nobody starts a copy for a key they do not hold.
func CopyProofMessage(userID, publicKeyB64 string) []byte {
	return []byte("OMIDCPY1\n" + userID + "\n" + publicKeyB64)
}

// CopyApprovalMessage is what the old app signs to approve: the session, the
// new key (its SHA-256, lower-case hex) and the name it showed the person.
func CopyApprovalMessage(copyID string, newKey []byte, deviceName string) []byte {
	return []byte("OMIDCPA1\n" + copyID + "\n" + KeyFingerprint(newKey) + "\n" + deviceName)
}

// KeyFingerprint is the lower-case hex SHA-256 of a device key (PKIX DER).
func KeyFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// ParseCopyQR reads the payload of a copy QR code,
// "openmitid-copy1.<session id>.<secret, base64url>", and refuses anything
// else with [ErrCopyBadQR].
func ParseCopyQR(s string) (id string, secret []byte, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), copyQRPrefix)
	if !ok || len(rest) > 200 {
		return "", nil, ErrCopyBadQR
	}
	id, enc, ok := strings.Cut(rest, ".")
	if !ok {
		return "", nil, ErrCopyBadQR
	}
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return "", nil, ErrCopyBadQR
	}
	secret, err = base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil || len(secret) != copySecretLen {
		return "", nil, ErrCopyBadQR
	}
	return strings.ToLower(id), secret, nil
}

func copyHash(kind string, secret []byte) []byte {
	h := sha256.New()
	h.Write([]byte("openmitid copy " + kind + "\x00"))
	h.Write(secret)
	return h.Sum(nil)
}

// StartCopy begins a copy for the new app's key. publicKey is the base64
// SubjectPublicKeyInfo as sent and proof the key's signature over
// [CopyProofMessage]. The user ID is not looked up: whether it exists shows
// only to an app of that identity, which is the point.
func (s *Service) StartCopy(ctx context.Context, userID, publicKey, name string, proof []byte, clientIP string) (*CopyStart, error) {
	if s.copies == nil || s.notifier == nil {
		return nil, ErrCopyUnavailable
	}
	now := s.now().UTC()
	if n, err := s.store.CountInWindow(ctx, "copy:"+clientIP, activationWindow, now); err != nil {
		return nil, err
	} else if n > maxCopiesPer {
		return nil, ErrRateLimited
	}
	if _, _, err := identity.NormalizeUserID(userID); err != nil {
		return nil, ErrCopyBadUserID
	}
	der, err := base64.StdEncoding.DecodeString(publicKey)
	if err != nil {
		return nil, ErrBadKey
	}
	key, err := ParseDeviceKey(der)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(CopyProofMessage(userID, publicKey))
	if !ecdsa.VerifyASN1(key, digest[:], proof) {
		return nil, ErrBadProof
	}
	var secret, token [copySecretLen]byte
	if _, err := io.ReadFull(s.rand, secret[:]); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(s.rand, token[:]); err != nil {
		return nil, err
	}
	c := &CopySession{ID: uuid.NewString(), SecretHash: copyHash("secret", secret[:]), TokenHash: copyHash("token", token[:]),
		UserIDKey: identity.UserIDKey(userID), PublicKey: der, DeviceName: DeviceName(name), State: CopyPending,
		OriginIP: clientIP, CreatedAt: now, ExpiresAt: now.Add(CopyTTL)}
	if err := s.copies.InsertCopySession(ctx, c); err != nil {
		return nil, err
	}
	return &CopyStart{Session: c, QR: copyQRPrefix + c.ID + "." + base64.RawURLEncoding.EncodeToString(secret[:]),
		Token: base64.RawURLEncoding.EncodeToString(token[:])}, nil
}

// CopyStatus returns the session for the new app holding its token; a wrong
// token is [ErrCopyNotFound], as an unknown session. A pending session past
// its expiry shows as [CopyExpired].
func (s *Service) CopyStatus(ctx context.Context, id, token string) (*CopySession, error) {
	if s.copies == nil {
		return nil, ErrCopyUnavailable
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrCopyNotFound
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != copySecretLen {
		return nil, ErrCopyNotFound
	}
	c, err := s.copies.CopySession(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(c.TokenHash, copyHash("token", raw)) != 1 {
		return nil, ErrCopyNotFound
	}
	if c.State == CopyPending && !s.now().Before(c.ExpiresAt) {
		c.State = CopyExpired
	}
	return c, nil
}

// ScanCopy returns the session an old app scanned, for it to show the new
// phone's name and key before the person approves. It refuses a QR code that
// does not parse ([ErrCopyBadQR]), is unknown ([ErrCopyNotFound]), expired,
// used, or made for another identity than old's.
func (s *Service) ScanCopy(ctx context.Context, old *Device, qr string) (*CopySession, error) {
	if s.copies == nil {
		return nil, ErrCopyUnavailable
	}
	id, secret, err := ParseCopyQR(qr)
	if err != nil {
		return nil, err
	}
	c, err := s.copies.CopySession(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, s.checkCopy(c, old, secret)
}

func (s *Service) checkCopy(c *CopySession, old *Device, secret []byte) error {
	if subtle.ConstantTimeCompare(c.SecretHash, copyHash("secret", secret)) != 1 {
		return ErrCopyNotFound
	}
	if c.State != CopyPending {
		return ErrCopyUsed
	}
	if !s.now().Before(c.ExpiresAt) {
		return ErrCopyExpired
	}
	if identity.UserIDKey(old.Identity.UserID) != c.UserIDKey {
		return ErrCopyWrongIdentity
	}
	return nil
}

// ApproveCopy registers the new app of a copy session that the old app
// scanned and signed ([CopyApprovalMessage]). The new app gets the old app's
// level and may be used from now + [Service.CopyWait]; the identity may then
// have at most [authenticator.MaxApps] apps. The registration, the session's
// approval, the audit event and the notification are one transaction; any
// refusal ([ErrCopyNotFound], [ErrCopyExpired], [ErrCopyUsed],
// [ErrCopyWrongIdentity], [ErrCopyBadSignature], [ErrTooManyApps]) changes
// nothing.
func (s *Service) ApproveCopy(ctx context.Context, old *Device, qr string, signature []byte) (*CopySession, *authenticator.Authenticator, error) {
	if s.copies == nil || s.notifier == nil {
		return nil, nil, ErrCopyUnavailable
	}
	id, secret, err := ParseCopyQR(qr)
	if err != nil {
		return nil, nil, err
	}
	var (
		out *CopySession
		dev *authenticator.Authenticator
	)
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.copies.CopySession(ctx, id)
		if err != nil {
			return err
		}
		if err := s.checkCopy(c, old, secret); err != nil {
			return err
		}
		digest := sha256.Sum256(CopyApprovalMessage(c.ID, c.PublicKey, c.DeviceName))
		if !ecdsa.VerifyASN1(old.Key, digest[:], signature) {
			return ErrCopyBadSignature
		}
		if err := s.store.LockIdentity(ctx, old.Identity.UUID); err != nil {
			return err
		}
		// The old app, read again under the lock: blocked meanwhile?
		cur, ident, err := s.store.DeviceAndIdentity(ctx, old.Authenticator.ID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if cur.State != authenticator.Active || ident.State != identity.Active {
			return ErrDeviceBlocked
		}
		if now.Before(cur.UsableFrom) {
			return ErrNotUsableYet
		}
		if err := s.countApps(ctx, ident.UUID); err != nil {
			return err
		}
		dev = &authenticator.Authenticator{ID: uuid.NewString(), Identity: ident.UUID, Kind: authenticator.App,
			State: authenticator.Active, Name: c.DeviceName, Level: cur.Level, PublicKey: c.PublicKey,
			UsableFrom: now.Add(s.copyWait), CreatedAt: now, UpdatedAt: now}
		if err := s.store.InsertAuthenticator(ctx, dev); err != nil {
			return err
		}
		c.State, c.Identity, c.DeviceID, c.ApprovedBy, c.ApprovedAt = CopyApproved, ident.UUID, dev.ID, cur.ID, now
		if err := s.copies.ApproveCopySession(ctx, c); err != nil {
			return err
		}
		if err := s.copies.Notify(ctx, TopicCopy(c.ID)); err != nil {
			return err
		}
		channels, err := s.notifier.Enqueue(ctx, ident.UUID, notify.AppCopied, map[string]string{
			"device_name": dev.Name, "added_at": localTime(now), "usable_from": localTime(dev.UsableFrom), "approved_by": cur.Name})
		if err != nil {
			return err
		}
		out = c
		return s.log.Record(ctx, audit.Event{Actor: audit.ActorIdentity(ident.UUID), Action: "app.copied", Identity: ident.UUID,
			Details: map[string]string{"device": dev.ID, "name": dev.Name, "level": dev.Level.String(), "from_device": cur.ID,
				"copy": c.ID, "usable_from": dev.UsableFrom.Format(time.RFC3339), "key": KeyFingerprint(c.PublicKey),
				"notified": channelList(channels)}})
	})
	if err != nil {
		return nil, nil, err
	}
	return out, dev, nil
}

// countApps refuses a new app for an identity that has [authenticator.MaxApps].
func (s *Service) countApps(ctx context.Context, identityUUID string) error {
	existing, err := s.store.AuthenticatorsOf(ctx, identityUUID)
	if err != nil {
		return err
	}
	apps := 0
	for _, a := range existing {
		if a.Kind == authenticator.App && a.State != authenticator.Revoked {
			apps++
		}
	}
	if apps >= authenticator.MaxApps {
		return ErrTooManyApps
	}
	return nil
}

// copenhagen is where the messages' times are told.
var copenhagen = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Copenhagen"); err == nil {
		return l
	}
	return time.FixedZone("CET", 3600)
}()

func localTime(t time.Time) string { return t.In(copenhagen).Format("02-01-2006 15:04 MST") }

func channelList(ch []notify.Channel) string {
	s := make([]string, len(ch))
	for i, c := range ch {
		s[i] = string(c)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}
