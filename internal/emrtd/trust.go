package emrtd

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// ErrNotCSCA is returned, wrapped, when a certificate offered as a trust
// anchor is not a CA certificate: ICAO 9303 part 12, section 7.1.1.3,
// requires basic constraints cA and key usage keyCertSign of a CSCA.
var ErrNotCSCA = errors.New("emrtd: not a CSCA certificate")

// TrustList is a set of trusted CSCA certificates (ICAO 9303 part 12,
// section 4.1): the anchors that passive authentication chains document
// signer certificates to. The zero value is an empty list; it is safe for
// concurrent reads once filled, but Add must not race with use.
type TrustList struct {
	certs []*Certificate
	seen  map[string]bool // Raw, to drop duplicates
}

// Add puts CSCA certificates in the list, dropping exact duplicates. A
// certificate that is not a CA (see [ErrNotCSCA]) is refused and nothing is
// added.
func (t *TrustList) Add(certs ...*Certificate) error {
	for _, c := range certs {
		if !c.IsCA || c.HasKeyUsage && c.KeyUsage&KeyUsageCertSign == 0 {
			return fmt.Errorf("%w: %q lacks basic constraints cA or key usage keyCertSign", ErrNotCSCA, c.Subject)
		}
	}
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	for _, c := range certs {
		if !t.seen[string(c.Raw)] {
			t.seen[string(c.Raw)] = true
			t.certs = append(t.certs, c)
		}
	}
	return nil
}

// Certificates returns the CSCA certificates in the list.
func (t *TrustList) Certificates() []*Certificate {
	if t == nil {
		return nil
	}
	return append([]*Certificate(nil), t.certs...)
}

// Len returns how many certificates the list holds.
func (t *TrustList) Len() int {
	if t == nil {
		return 0
	}
	return len(t.certs)
}

// issuersOf returns the CSCAs that may have issued c: those whose subject
// is c's issuer (RFC 5280, section 6.1: names chain) and, when both carry
// key identifiers, whose subject key identifier is c's authority key
// identifier. A CSCA renewing its key keeps its name, so the name alone is
// ambiguous; ICAO 9303 part 12, section 7.1.1.3, makes the identifier
// mandatory in document signer certificates.
func (t *TrustList) issuersOf(c *Certificate) []*Certificate {
	if t == nil {
		return nil
	}
	var out []*Certificate
	for _, ca := range t.certs {
		if ca.subjectKey != c.issuerKey {
			continue
		}
		if len(c.AuthorityKeyID) > 0 && len(ca.SubjectKeyID) > 0 && !bytes.Equal(ca.SubjectKeyID, c.AuthorityKeyID) {
			continue
		}
		out = append(out, ca)
	}
	return out
}

// validAt reports whether now lies within the certificate's validity.
func (c *Certificate) validAt(now time.Time) bool {
	return !now.Before(c.NotBefore) && !now.After(c.NotAfter)
}

// maxCSCAFile bounds what ParseCSCAs reads: the ICAO master list, the
// largest such file, is about one megabyte.
const maxCSCAFile = 8 << 20

// ParseCSCAs reads CSCA certificates from a file as an operator imports
// them: PEM (any number of CERTIFICATE blocks), one DER certificate, or an
// ICAO master list (see [ParseMasterList], whose signature is verified).
// It does not check that they are CA certificates; [TrustList.Add] does.
func ParseCSCAs(data []byte) ([]*Certificate, error) {
	if len(data) > maxCSCAFile {
		return nil, fmt.Errorf("%w: file of %d bytes, more than %d", ErrMalformedCertificate, len(data), maxCSCAFile)
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		var certs []*Certificate
		for {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			c, err := ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %d: %w", len(certs)+1, err)
			}
			certs = append(certs, c)
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrMalformedCertificate)
		}
		return certs, nil
	}
	if c, err := ParseCertificate(data); err == nil {
		return []*Certificate{c}, nil
	} else if _, mlErr := parseSignedData(data, ErrMalformedMasterList); mlErr != nil {
		// Neither: report it as a certificate, the commoner case.
		return nil, err
	}
	ml, err := ParseMasterList(data)
	if err != nil {
		return nil, err
	}
	return ml.Certificates(), nil
}
