package appclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// AuthScheme is the HTTP authentication scheme of a signed request
// (docs/app-api.md, "Device keys and signed requests").
const AuthScheme = "OpenMitID-Device"

const requestMagic = "OMIDREQ1"

// NewKey makes a device key: an ECDSA key pair on P-256 (docs/app-api.md).
// Its randomness comes from crypto/rand; tests that need reproducible keys use
// [testing/cryptotest.SetGlobalRandom] or [ecdsa.ParseRawPrivateKey].
func NewKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("appclient: making a device key: %w", err)
	}
	return k, nil
}

// RequestSigningString returns the bytes a device signs for a request
// (docs/app-api.md, "Device keys and signed requests"):
//
//	OMIDREQ1\n<METHOD>\n<path and query exactly as sent>\n<ts>\n<lower-case hex SHA-256 of the body>
//
// method is used as given (HTTP methods are case-sensitive), pathAndQuery is
// the request target as it goes on the wire ([url.URL.RequestURI]), ts is Unix
// seconds, and body is nil or empty for a GET.
func RequestSigningString(method, pathAndQuery string, ts int64, body []byte) []byte {
	sum := sha256.Sum256(body)
	b := make([]byte, 0, len(requestMagic)+len(method)+len(pathAndQuery)+20+2*sha256.Size+4)
	b = append(b, requestMagic...)
	b = append(b, '\n')
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, pathAndQuery...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '\n')
	return hex.AppendEncode(b, sum[:])
}

// SignRequest signs req, whose body is body, with the device key and sets
//
//	Authorization: OpenMitID-Device id="<deviceID>", ts="<unix seconds>", sig="<signature>"
//
// where sig is an ECDSA P-256 / SHA-256 signature in ASN.1 DER, base64url
// without padding, over [RequestSigningString] of req's method, req.URL's
// request URI, now in Unix seconds and body. It does not read or set req's
// body: the caller must send exactly body. It refuses a key that is not on
// P-256 and a device id that cannot stand in a quoted header parameter.
//
// The server's tests use it to make requests as a device would.
func SignRequest(req *http.Request, body []byte, deviceID string, key *ecdsa.PrivateKey, now time.Time) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkDeviceID(deviceID); err != nil {
		return err
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet // as net/http sends it
	}
	ts := now.Unix()
	sig, err := sign(key, RequestSigningString(method, req.URL.RequestURI(), ts, body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", AuthScheme+` id="`+deviceID+`", ts="`+strconv.FormatInt(ts, 10)+`", sig="`+sig+`"`)
	return nil
}

// sign returns the base64url (unpadded) ASN.1 DER ECDSA signature over the
// SHA-256 of msg.
func sign(key *ecdsa.PrivateKey, msg []byte) (string, error) {
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		return "", fmt.Errorf("appclient: signing: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sig), nil
}

var errKey = errors.New("appclient: the device key must be an ECDSA P-256 private key")

func checkKey(key *ecdsa.PrivateKey) error {
	if key == nil || key.Curve != elliptic.P256() {
		return errKey
	}
	return nil
}

// checkDeviceID refuses what would break out of, or need escaping in, a quoted
// header parameter: the server hands out plain tokens, so anything else is a
// corrupt state or a hostile server.
func checkDeviceID(id string) error {
	if id == "" || len(id) > 256 {
		return fmt.Errorf("appclient: device id of %d bytes (want 1 to 256)", len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == ',' {
			return fmt.Errorf("appclient: device id %q has a character (%q) not allowed in the Authorization header", id, c)
		}
	}
	return nil
}
