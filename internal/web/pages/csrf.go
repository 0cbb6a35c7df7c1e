package pages

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// csrfToken is the token every form of a flow carries: an HMAC under the CSRF
// key over the flow's id and its token. Only a page opened with the flow's
// cookie can know it, and it says nothing about the token itself, so it may be
// in the page. It is the same for the whole flow, so a page left open in a tab
// still posts.
func (p *Pages) csrfToken(flowID, flowToken string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	m.Write([]byte("openmitid login form\x00"))
	m.Write([]byte(flowID)) // a flow id has no NUL (validFlowID)
	m.Write([]byte{0})
	m.Write([]byte(flowToken))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF compares a form's token with the flow's in constant time.
func (p *Pages) validCSRF(flowID, flowToken, got string) bool {
	if flowToken == "" || got == "" || len(got) > 64 {
		return false
	}
	return hmac.Equal([]byte(got), []byte(p.csrfToken(flowID, flowToken)))
}
