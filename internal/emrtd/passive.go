package emrtd

import (
	"crypto"
	"crypto/subtle"
	"fmt"
	"sort"
	"time"
)

// Result is what passive authentication established.
type Result struct {
	DocumentSigner *Certificate // from the SOD
	CSCA           *Certificate // the trusted CSCA that issued it
	HashAlgorithm  crypto.Hash  // of the data group hashes
	// SignatureAlgorithm describes the SOD's signature, for the record.
	SignatureAlgorithm string
	// Verified lists the data groups presented, all of whose hashes matched.
	Verified []DG
	// Missing lists the data groups the SOD lists but were not presented.
	// A chip need not be read whole; the caller decides what it needs.
	Missing []DG
}

// PassiveAuthenticate checks that the data groups in files are genuine, as
// ICAO 9303 part 11, section 5.1, and part 12, section 4, describe:
//
//  1. the SOD parses, and its signature verifies with the document signer
//     certificate embedded in it (RSA PKCS #1 v1.5, RSA-PSS or ECDSA,
//     brainpool curves included), with its signed attributes matching its
//     content ([ErrMalformedSOD], [ErrSODSignature]);
//  2. a CSCA in trust issued the document signer certificate, found by
//     authority key identifier (or issuer name without one), and its
//     signature on the certificate verifies ([ErrUnknownCSCA],
//     [ErrCertificateSignature]);
//  3. the document signer and CSCA certificates are valid at now
//     ([ErrDSExpired], [ErrCSCAExpired]), and the document signer
//     certificate, if it has key usage, allows digital signatures;
//  4. every file presented is a data group the SOD lists ([ErrDGNotInSOD]),
//     starts with that data group's own tag, so that one group's file cannot
//     stand in for another's ([ErrLDS]), and hashes to the SOD's value
//     ([ErrHashMismatch], as a [*DGHashError] naming it);
//  5. DG1, which ties the chip to the printed MRZ, is among them
//     ([ErrMissingDG]).
//
// The result is returned only when every check passes. Files are the raw
// contents of the elementary files, as read from the chip.
func PassiveAuthenticate(sod []byte, files map[DG][]byte, trust *TrustList, now time.Time) (*Result, error) {
	s, err := ParseSOD(sod)
	if err != nil {
		return nil, err
	}
	ds := s.ds
	if err := s.sd.verify(ds, ErrSODSignature); err != nil {
		return nil, err
	}
	if ds.HasKeyUsage && ds.KeyUsage&KeyUsageDigitalSignature == 0 {
		return nil, fmt.Errorf("%w: document signer %q lacks key usage digitalSignature", ErrSODSignature, ds.Subject)
	}

	candidates := trust.issuersOf(ds)
	if len(candidates) == 0 {
		return nil, fmt.Errorf("%w: issuer %q, authority key identifier %X", ErrUnknownCSCA, ds.Issuer, ds.AuthorityKeyID)
	}
	var csca *Certificate
	var sigErr error
	for _, c := range candidates {
		if sigErr = ds.CheckSignatureFrom(c); sigErr == nil {
			csca = c
			break
		}
	}
	if csca == nil {
		return nil, sigErr
	}
	if !ds.validAt(now) {
		return nil, fmt.Errorf("%w: %q is valid from %s to %s, not at %s", ErrDSExpired, ds.Subject,
			ds.NotBefore.Format(time.DateOnly), ds.NotAfter.Format(time.DateOnly), now.UTC().Format(time.DateOnly))
	}
	if !csca.validAt(now) {
		return nil, fmt.Errorf("%w: %q is valid from %s to %s, not at %s", ErrCSCAExpired, csca.Subject,
			csca.NotBefore.Format(time.DateOnly), csca.NotAfter.Format(time.DateOnly), now.UTC().Format(time.DateOnly))
	}

	res := &Result{DocumentSigner: ds, CSCA: csca, HashAlgorithm: s.hash, SignatureAlgorithm: s.SignatureAlgorithm()}
	dgs := make([]DG, 0, len(files))
	for dg := range files {
		dgs = append(dgs, dg)
	}
	sort.Slice(dgs, func(i, j int) bool { return dgs[i] < dgs[j] })
	for _, dg := range dgs {
		if err := s.checkFile(dg, files[dg]); err != nil {
			return nil, err
		}
		res.Verified = append(res.Verified, dg)
	}
	for _, dg := range s.DataGroups() {
		if _, ok := files[dg]; !ok {
			if dg == DG1 {
				return nil, fmt.Errorf("%w: DG1", ErrMissingDG)
			}
			res.Missing = append(res.Missing, dg)
		}
	}
	if _, ok := files[DG1]; !ok {
		// The SOD does not list DG1 either: not a valid LDS (part 10,
		// section 4.6.3 makes DG1 mandatory).
		return nil, fmt.Errorf("%w: DG1", ErrMissingDG)
	}
	return res, nil
}

// checkFile checks one data group file against the SOD.
func (s *SOD) checkFile(dg DG, file []byte) error {
	want, listed := s.hashes[dg]
	if !listed {
		return fmt.Errorf("%w: %v", ErrDGNotInSOD, dg)
	}
	if len(file) > maxDGSize {
		return fmt.Errorf("%w: %v of %d bytes, more than %d", ErrLDS, dg, len(file), maxDGSize)
	}
	t, err := ParseTLV(file)
	if err != nil {
		return fmt.Errorf("%w: %v: %w", ErrLDS, dg, nested(err))
	}
	if t.Tag != dg.Tag() {
		return fmt.Errorf("%w: the file given as %v has tag %X, which is not %v's %X", ErrLDS, dg, t.Tag, dg, dg.Tag())
	}
	h := s.hash.New()
	h.Write(file)
	if subtle.ConstantTimeCompare(h.Sum(nil), want) != 1 {
		return &DGHashError{DG: dg}
	}
	return nil
}
