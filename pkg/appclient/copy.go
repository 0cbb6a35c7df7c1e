package appclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Copying the app to a new phone (docs/app-api.md, "Copy to a new phone"):
// the new app starts a copy ([StartCopy]) and shows its QR code; an active app
// of the same MitID scans it ([Client.ScanCopy]), shows the new phone's name
// and key, and approves ([Client.ApproveCopy]); the new app learns its device
// id from [Copy.Wait] and may be used once its waiting period is over.

// CopyTokenHeader carries a copy's token on the new app's requests.
const CopyTokenHeader = "X-Copy-Token"

// CopyQRPrefix begins every copy QR code's payload.
const CopyQRPrefix = "openmitid-copy1."

// CopyProofMessage returns the bytes the new key signs when the copy starts:
//
//	OMIDCPY1\n<user id as sent>\n<public_key as sent>
func CopyProofMessage(userID, publicKey string) []byte {
	return []byte("OMIDCPY1\n" + userID + "\n" + publicKey)
}

// CopyApprovalMessage returns the bytes the old app signs to approve:
//
//	OMIDCPA1\n<copy id>\n<lower-case hex SHA-256 of the new key's DER>\n<device name>
func CopyApprovalMessage(copyID string, newKeyDER []byte, deviceName string) []byte {
	sum := sha256.Sum256(newKeyDER)
	return []byte("OMIDCPA1\n" + copyID + "\n" + hex.EncodeToString(sum[:]) + "\n" + deviceName)
}

// Copy is a copy the new app started.
type Copy struct {
	ID        string    `json:"copy_id"`
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expires_at"`
	Token     string    `json:"token"`
	QR        string    `json:"qr"` // the QR code's payload, to show

	base string
	o    options
}

// CopyStatus is a copy as the new app sees it.
type CopyStatus struct {
	ID         string    `json:"copy_id"`
	State      string    `json:"state"` // pending, approved or expired
	ExpiresAt  time.Time `json:"expires_at"`
	DeviceID   string    `json:"device_id"`   // once approved
	Identity   string    `json:"identity"`    // once approved
	UsableFrom time.Time `json:"usable_from"` // once approved: the new app waits until then
	Level      string    `json:"level"`
}

// StartCopy starts copying a MitID to this (new) phone's key (POST
// /app/v1/copies). userID is the MitID's user ID; the server does not say
// whether it exists: an app of that MitID must approve.
func StartCopy(ctx context.Context, server, userID, deviceName string, key *ecdsa.PrivateKey, opts ...Option) (*Copy, error) {
	base, err := baseURL(server)
	if err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	pub, err := EncodePublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	proof, err := sign(key, CopyProofMessage(userID, pub))
	if err != nil {
		return nil, err
	}
	in := struct {
		UserID string `json:"user_id"`
		Key    string `json:"public_key"`
		Name   string `json:"device_name"`
		Proof  string `json:"proof"`
	}{userID, pub, deviceName, proof}
	c := &Copy{base: base, o: newOptions(opts)}
	if _, err := call(ctx, c.o.hc, http.MethodPost, base+"/app/v1/copies", in, c, nil, http.StatusCreated); err != nil {
		return nil, err
	}
	if err := checkPathSegment(c.ID); err != nil || c.Token == "" || !strings.HasPrefix(c.QR, CopyQRPrefix) {
		return nil, fmt.Errorf("appclient: the answer to the copy's start is not the documented one")
	}
	return c, nil
}

// Wait returns the copy's state once it is no longer pending, or after wait
// (at most [MaxWait] a request; it asks again until wait has passed).
func (c *Copy) Wait(ctx context.Context, wait time.Duration) (*CopyStatus, error) {
	deadline := time.Now().Add(wait)
	for {
		w := min(time.Until(deadline), MaxWait)
		if w < 0 {
			w = 0
		}
		var st CopyStatus
		u := c.base + "/app/v1/copies/" + url.PathEscape(c.ID) + "?wait=" + w.Round(time.Second).String()
		_, err := call(ctx, c.o.hc, http.MethodGet, u, nil, &st, func(r *http.Request, _ []byte) error {
			r.Header.Set(CopyTokenHeader, c.Token)
			return nil
		}, http.StatusOK)
		if err != nil {
			return nil, err
		}
		if st.State != "pending" || !time.Now().Before(deadline) {
			if st.State == "approved" {
				if err := checkDeviceID(st.DeviceID); err != nil {
					return nil, fmt.Errorf("%w (in the copy's answer)", err)
				}
			}
			return &st, nil
		}
	}
}

// CopyOffer is what the old app learns by scanning a copy QR code: the new
// phone's name and key, to show before the person approves.
type CopyOffer struct {
	CopyID         string    `json:"copy_id"`
	DeviceName     string    `json:"device_name"`
	PublicKey      string    `json:"public_key"` // base64 SubjectPublicKeyInfo DER
	KeyFingerprint string    `json:"key_fingerprint"`
	CreatedAt      time.Time `json:"created_at"`
	ExpiresAt      time.Time `json:"expires_at"`

	qr  string
	der []byte
}

// ScanCopy shows the server the copy QR code this (old) app scanned (POST
// /app/v1/copies/scan) and returns what the person must see. It checks that
// the key fingerprint is the key's.
func (c *Client) ScanCopy(ctx context.Context, qr string) (*CopyOffer, error) {
	qr = strings.TrimSpace(qr)
	if !strings.HasPrefix(qr, CopyQRPrefix) {
		return nil, fmt.Errorf("appclient: %q is not a MitID copy QR code (they begin %s)", excerpt([]byte(qr), 40), CopyQRPrefix)
	}
	var o CopyOffer
	if _, err := c.do(ctx, http.MethodPost, "/app/v1/copies/scan", map[string]string{"qr": qr}, &o, http.StatusOK); err != nil {
		return nil, err
	}
	der, err := base64.StdEncoding.DecodeString(o.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("appclient: the copy's public key is not base64: %w", err)
	}
	sum := sha256.Sum256(der)
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(o.KeyFingerprint)) != 1 {
		return nil, fmt.Errorf("appclient: the copy's key fingerprint is not its key's")
	}
	o.qr, o.der = qr, der
	return &o, nil
}

// ApproveCopy approves the copy the person saw (POST /app/v1/copies/approve),
// signing [CopyApprovalMessage] over the offer as shown. The answer says the
// new app's device id and when it can be used.
func (c *Client) ApproveCopy(ctx context.Context, o *CopyOffer) (*CopyStatus, error) {
	sig, err := sign(c.device.Key, CopyApprovalMessage(o.CopyID, o.der, o.DeviceName))
	if err != nil {
		return nil, err
	}
	var st CopyStatus
	in := map[string]string{"qr": o.qr, "signature": sig}
	if _, err := c.do(ctx, http.MethodPost, "/app/v1/copies/approve", in, &st, http.StatusOK); err != nil {
		return nil, err
	}
	return &st, nil
}
