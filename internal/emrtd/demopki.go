package emrtd

import (
	"embed"
	"fmt"
	"io/fs"
)

// demoPKI holds the project's test CSCA and document signers, made once by
// `go generate` (see internal/gentestdata) with seeded randomness.
//
//go:embed testdata/pki
var demoPKI embed.FS

// DemoPKI returns the project's demo PKI as PEM files: csca.pem and
// csca.key.pem, the test CSCA; ds-<algorithm>.pem and ds-<algorithm>.key.pem,
// its document signers. The keys are public, in the repository: a server may
// trust this CSCA only in --demo mode, never in production, since anyone can
// sign passports with it.
func DemoPKI() fs.FS {
	sub, err := fs.Sub(demoPKI, "testdata/pki")
	if err != nil {
		// fs.Sub fails only for an invalid path; this one is a constant.
		panic(err)
	}
	return sub
}

// DemoTrustList returns a trust list holding only the demo CSCA of
// [DemoPKI]. Use it only in --demo mode.
func DemoTrustList() (*TrustList, error) {
	b, err := fs.ReadFile(DemoPKI(), "csca.pem")
	if err != nil {
		return nil, fmt.Errorf("emrtd: demo CSCA: %w", err)
	}
	certs, err := ParseCSCAs(b)
	if err != nil {
		return nil, err
	}
	tl := &TrustList{}
	if err := tl.Add(certs...); err != nil {
		return nil, err
	}
	return tl, nil
}
