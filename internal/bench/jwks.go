package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// jwks is the provider's signing keys (RFC 7517), read from its /keys and
// read again when a token names a key not seen yet (a rotation). The check
// itself is [jwkSet.verifyIDToken].
type jwks struct {
	url string
	hc  *http.Client

	mu  sync.RWMutex
	set jwkSet
}

func (j *jwks) refresh(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return err
	}
	resp, err := j.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", j.url, resp.Status)
	}
	var set jwkSet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("%s: %w", j.url, err)
	}
	j.mu.Lock()
	j.set = set
	j.mu.Unlock()
	return nil
}

// verify checks an ID token's signature (RS256 or ES256), issuer, audience,
// nonce and expiry; its subject is pairwise, so any.
func (j *jwks) verify(ctx context.Context, token, issuer, audience, nonce string) error {
	j.mu.RLock()
	set := j.set
	j.mu.RUnlock()
	err := set.verifyIDToken(token, issuer, audience, nonce, "", time.Now())
	if !errors.Is(err, errUnknownKey) {
		return err
	}
	if err := j.refresh(ctx); err != nil {
		return err
	}
	j.mu.RLock()
	set = j.set
	j.mu.RUnlock()
	return set.verifyIDToken(token, issuer, audience, nonce, "", time.Now())
}
