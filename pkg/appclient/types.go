package appclient

import "github.com/openmitid/openmitid/internal/approval"

// The approval types this package's API uses, under names that programs
// outside this module can spell (they cannot import internal/approval).
type (
	// Request is an approval request decoded from its canonical encoding.
	Request = approval.Request
	// Decision is the person's answer.
	Decision = approval.Decision
	// Kind says what an approval is for.
	Kind = approval.Kind
)

// The three answers ([approval.Approve], [approval.Reject], [approval.Fraud]).
const (
	Approve = approval.Approve
	Reject  = approval.Reject
	Fraud   = approval.Fraud
)

// ErrMalformedRequest is [approval.ErrMalformed]: [Client.Bind] wraps it when
// the server's canonical request does not decode.
var ErrMalformedRequest = approval.ErrMalformed
