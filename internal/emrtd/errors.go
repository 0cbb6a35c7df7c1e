package emrtd

import (
	"errors"
	"fmt"
)

// Errors of passive authentication (ICAO 9303 part 11, section 5.1), each
// telling a different story to the person or operator: test with errors.Is.
var (
	// ErrUnknownCSCA: no CSCA in the trust list issued the document signer
	// certificate (by authority key identifier, or by issuer name where the
	// certificate has none). A rogue or foreign-untrusted issuer.
	ErrUnknownCSCA = errors.New("emrtd: document signer certificate issued by no trusted CSCA")
	// ErrDSExpired: the document signer certificate is expired or not yet
	// valid at the time of the check.
	ErrDSExpired = errors.New("emrtd: document signer certificate not valid now")
	// ErrCSCAExpired: the CSCA certificate that issued the document signer
	// certificate is expired or not yet valid at the time of the check.
	ErrCSCAExpired = errors.New("emrtd: CSCA certificate not valid now")
	// ErrSODSignature: the SOD's signature does not verify with the
	// document signer certificate's key, or its signed attributes do not
	// match its content.
	ErrSODSignature = errors.New("emrtd: SOD signature does not verify")
	// ErrCertificateSignature: a certificate's signature does not verify with
	// its issuer's key.
	ErrCertificateSignature = errors.New("emrtd: certificate signature does not verify")
	// ErrHashMismatch: a data group's hash differs from the one in the SOD;
	// the error is a [*DGHashError] naming the data group.
	ErrHashMismatch = errors.New("emrtd: data group hash differs from the SOD")
	// ErrMalformedSOD: the SOD is not a CMS SignedData with an LDS security
	// object as ICAO 9303 part 10, section 4.6.2, lays out.
	ErrMalformedSOD = errors.New("emrtd: malformed SOD")
	// ErrDGNotInSOD: a data group was presented that the SOD does not list,
	// so nothing vouches for it.
	ErrDGNotInSOD = errors.New("emrtd: data group not listed in the SOD")
	// ErrMissingDG: a data group that must be present is not.
	ErrMissingDG = errors.New("emrtd: required data group missing")
	// ErrLDS: an LDS data group file is malformed (ICAO 9303 part 10).
	ErrLDS = errors.New("emrtd: malformed data group")
)

// DGHashError reports which data group's hash does not match the SOD.
type DGHashError struct {
	DG DG
}

// Error names the data group.
func (e *DGHashError) Error() string {
	return fmt.Sprintf("emrtd: %v hash differs from the SOD", e.DG)
}

// Unwrap makes errors.Is(err, ErrHashMismatch) hold.
func (e *DGHashError) Unwrap() error { return ErrHashMismatch }
