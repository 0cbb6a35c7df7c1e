package testchip

import (
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// Authority is a certificate with its private key: a CSCA or a document
// signer of the test PKI.
type Authority struct {
	Cert *emrtd.Certificate
	key  *privateKey
}

// Signer returns the authority's signer, for emrtd.BuildSOD and friends.
func (a Authority) Signer() emrtd.Signer { return signer{k: a.key, alg: a.key.alg} }

// Algorithm returns the authority's key and signature algorithm.
func (a Authority) Algorithm() Algorithm { return a.key.alg }

// PKI is a test country's passport PKI: one CSCA and its document signers.
type PKI struct {
	CSCA Authority
	DS   map[Algorithm]Authority
}

// PKIOptions describe a test PKI to generate.
type PKIOptions struct {
	Seed          string      // makes the keys: the same seed gives the same PKI
	Country       string      // two-letter code for the certificates' C attribute
	Organization  string      // O attribute
	CSCAAlgorithm Algorithm   // the CSCA's key; it signs the document signer certificates
	DSAlgorithms  []Algorithm // one document signer per algorithm
	NotBefore     time.Time
	CSCANotAfter  time.Time
	DSNotAfter    time.Time
}

// GeneratePKI makes a test PKI from opts, deterministically.
func GeneratePKI(opts PKIOptions) (*PKI, error) {
	cscaKey, err := generateKey(opts.CSCAAlgorithm, newStream(opts.Seed, "csca"))
	if err != nil {
		return nil, err
	}
	csca, err := issueCertificate(certTemplate{
		serial:    1,
		subject:   name{opts.Country, opts.Organization, "", opts.Organization + " CSCA"},
		notBefore: opts.NotBefore, notAfter: opts.CSCANotAfter, isCA: true,
	}, cscaKey.public(), opts.CSCAAlgorithm.explicit(), nil, signer{k: cscaKey, alg: opts.CSCAAlgorithm})
	if err != nil {
		return nil, fmt.Errorf("testchip: CSCA certificate: %w", err)
	}
	p := &PKI{CSCA: Authority{Cert: csca, key: cscaKey}, DS: map[Algorithm]Authority{}}
	for i, alg := range opts.DSAlgorithms {
		ds, err := p.NewDocumentSigner(alg, opts.Seed+"/ds/"+string(alg), int64(100+i), opts.NotBefore, opts.DSNotAfter)
		if err != nil {
			return nil, err
		}
		p.DS[alg] = ds
	}
	return p, nil
}

// NewDocumentSigner issues a document signer certificate from the PKI's
// CSCA with a key made from seed.
func (p *PKI) NewDocumentSigner(alg Algorithm, seed string, serial int64, notBefore, notAfter time.Time) (Authority, error) {
	key, err := generateKey(alg, newStream(seed, "ds"))
	if err != nil {
		return Authority{}, err
	}
	subject := name{Country: countryOf(p.CSCA.Cert), Organization: "OpenMitID Demo", OrganizationalUnit: "Document Signer", CommonName: "DS " + string(alg)}
	cert, err := issueCertificate(certTemplate{serial: serial, subject: subject, notBefore: notBefore, notAfter: notAfter},
		key.public(), alg.explicit(), p.CSCA.Cert, p.CSCA.Signer())
	if err != nil {
		return Authority{}, fmt.Errorf("testchip: %s document signer certificate: %w", alg, err)
	}
	return Authority{Cert: cert, key: key}, nil
}

// TrustList returns a trust list holding the PKI's CSCA.
func (p *PKI) TrustList() *emrtd.TrustList {
	tl := &emrtd.TrustList{}
	if err := tl.Add(p.CSCA.Cert); err != nil {
		// issueCertificate makes CSCA certificates with cA and keyCertSign.
		panic(err)
	}
	return tl
}

// MasterList writes a CSCA master list holding certs, signed by a master
// list signer that the PKI's CSCA issues (ICAO 9303 part 12, section 9).
func (p *PKI) MasterList(seed string, certs []*emrtd.Certificate, notBefore, notAfter time.Time) ([]byte, error) {
	signerAuth, err := p.NewDocumentSigner(ECDSAP256, seed+"/masterlist-signer", 900, notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	return emrtd.BuildMasterList(certs, signerAuth.Cert, signerAuth.Signer(), ECDSAP256.hash())
}

func countryOf(c *emrtd.Certificate) string {
	// The subject starts "C=XX" in certificates made here.
	if len(c.Subject) >= 4 && c.Subject[:2] == "C=" {
		return c.Subject[2:4]
	}
	return "UT"
}

// WriteFiles writes the PKI as PEM files into dir: csca.pem, csca.key.pem,
// ds-<algorithm>.pem and ds-<algorithm>.key.pem.
func (p *PKI) WriteFiles(dir string) error {
	write := func(base string, a Authority) error {
		cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Cert.Raw})
		key, err := a.key.pemBlock()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, base+".pem"), cert, 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, base+".key.pem"), key, 0o644)
	}
	if err := write("csca", p.CSCA); err != nil {
		return err
	}
	for alg, ds := range p.DS {
		if err := write("ds-"+string(alg), ds); err != nil {
			return err
		}
	}
	return nil
}

// ReadPKI reads what WriteFiles wrote, for the document signers listed.
func ReadPKI(fsys fs.FS, dsAlgorithms []Algorithm) (*PKI, error) {
	read := func(base string) (Authority, error) {
		certPEM, err := fs.ReadFile(fsys, base+".pem")
		if err != nil {
			return Authority{}, err
		}
		block, _ := pem.Decode(certPEM)
		if block == nil {
			return Authority{}, fmt.Errorf("testchip: %s.pem has no PEM block", base)
		}
		cert, err := emrtd.ParseCertificate(block.Bytes)
		if err != nil {
			return Authority{}, err
		}
		keyPEM, err := fs.ReadFile(fsys, base+".key.pem")
		if err != nil {
			return Authority{}, err
		}
		key, err := parsePrivateKey(keyPEM)
		if err != nil {
			return Authority{}, fmt.Errorf("testchip: %s.key.pem: %w", base, err)
		}
		return Authority{Cert: cert, key: key}, nil
	}
	csca, err := read("csca")
	if err != nil {
		return nil, err
	}
	p := &PKI{CSCA: csca, DS: map[Algorithm]Authority{}}
	for _, alg := range dsAlgorithms {
		if p.DS[alg], err = read("ds-" + string(alg)); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// DemoPKIOptions are the options the project's demo PKI was generated with
// (see emrtd.DemoPKI): a CSCA on brainpoolP384r1 with explicit parameters,
// as the German CSCA has it, and one document signer per algorithm.
var DemoPKIOptions = PKIOptions{
	Seed:          "openmitid demo pki v1",
	Country:       "DK",
	Organization:  "OpenMitID Demo",
	CSCAAlgorithm: BrainpoolP384r1,
	DSAlgorithms:  DSAlgorithms,
	NotBefore:     time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	CSCANotAfter:  time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC),
	DSNotAfter:    time.Date(2045, 12, 31, 23, 59, 59, 0, time.UTC),
}

var (
	demoOnce sync.Once
	demoPKI  *PKI
	demoErr  error
)

// DemoPKI returns the project's demo PKI, read from emrtd.DemoPKI. It is
// trusted only in --demo mode.
func DemoPKI() (*PKI, error) {
	demoOnce.Do(func() { demoPKI, demoErr = ReadPKI(emrtd.DemoPKI(), DSAlgorithms) })
	return demoPKI, demoErr
}
