package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/server"
)

// runAdminCSCA manages the CSCA trust list that passive authentication of
// passports chains to (CONTRACT.md, "openmitid admin csca").
func runAdminCSCA(args []string) error {
	if len(args) == 0 {
		return usageError{"want: openmitid admin csca import|list …"}
	}
	switch args[0] {
	case "import":
		return runCSCAImport(args[1:])
	case "list":
		return runCSCAList(args[1:])
	}
	return usageError{fmt.Sprintf("unknown csca command %q (want import or list)", args[0])}
}

// cscaFile is what one file to import holds.
type cscaFile struct {
	name    string
	certs   []*emrtd.Certificate
	source  string
	ml      *emrtd.MasterList // for a master list
	skipped int               // a master list's certificates that are not CSCAs or do not parse
}

// readCSCAFile reads PEM certificates, one DER certificate, or an ICAO master
// list, whose signature emrtd.ParseMasterList verifies.
func readCSCAFile(name string) (*cscaFile, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	f := &cscaFile{name: name, source: filepath.Base(name)}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		if _, err := emrtd.ParseCertificate(data); err != nil {
			ml, mlErr := emrtd.ParseMasterList(data)
			if mlErr != nil {
				return nil, fmt.Errorf("%s is neither a certificate (%v) nor an ICAO master list (%v)", name, err, mlErr)
			}
			f.ml, f.skipped = ml, ml.Skipped()
			// A master list carries link certificates and the like besides
			// CSCAs; only CA certificates are trust anchors.
			for _, c := range ml.Certificates() {
				if c.IsCA && (!c.HasKeyUsage || c.KeyUsage&emrtd.KeyUsageCertSign != 0) {
					f.certs = append(f.certs, c)
				} else {
					f.skipped++
				}
			}
			f.source = fmt.Sprintf("master list %s signed by %q (SHA-256 %s)", filepath.Base(name), ml.Signer().Subject,
				proofing.FormatFingerprint(proofing.Fingerprint(ml.Signer().Raw)))
			return f, nil
		}
	}
	if f.certs, err = emrtd.ParseCSCAs(data); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

func runCSCAImport(args []string) error {
	fs := newFlags("admin csca import", "admin csca import [--db DSN] [--kek-file FILE] FILE…")
	dsn, kek := platformFlags(fs)
	if err := parse(fs, args, 1<<20); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"give the files to import: PEM or DER certificates, or ICAO master lists"}
	}
	// Every file is read and checked before anything is written: all or none.
	var files []*cscaFile
	for _, name := range fs.Args() {
		f, err := readCSCAFile(name)
		if err != nil {
			return err
		}
		var check emrtd.TrustList
		if err := check.Add(f.certs...); err != nil {
			return fmt.Errorf("%s: %w; only CSCA certificates (basic constraints cA, key usage keyCertSign) can be trust anchors", name, err)
		}
		files = append(files, f)
	}
	ctx := context.Background()
	p, err := server.OpenPlatform(ctx, *dsn, server.PlatformOptions{KEKFile: *kek})
	if err != nil {
		return err
	}
	defer p.Close()
	now := time.Now()
	for _, f := range files {
		if f.ml != nil {
			fmt.Printf("%s: an ICAO master list; its signature verifies.\n", f.name)
			fmt.Printf("  signed by   %s\n  SHA-256     %s\n", f.ml.Signer().Subject, proofing.FormatFingerprint(proofing.Fingerprint(f.ml.Signer().Raw)))
			fmt.Printf("  issued by   %s\n  SHA-256     %s\n", f.ml.SignerIssuer().Subject, proofing.FormatFingerprint(proofing.Fingerprint(f.ml.SignerIssuer().Raw)))
			fmt.Println("  Compare these fingerprints with the ones the issuer publishes before you rely on the list.")
			if f.skipped > 0 {
				fmt.Printf("  %d of its certificates were left out: not CSCA certificates, or not readable.\n", f.skipped)
			}
		}
		n, err := proofing.ImportCSCAs(ctx, p.DB, p.DB, f.certs, f.source, "admin", now)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		fmt.Printf("%s: %d CSCA certificates added to the trust list (%d already in it).\n", f.name, n, len(f.certs)-n)
	}
	fmt.Println("Running servers use the new trust list within a minute.")
	return nil
}

func runCSCAList(args []string) error {
	fs := newFlags("admin csca list", "admin csca list [--db DSN] [--kek-file FILE]")
	dsn, kek := platformFlags(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ctx := context.Background()
	p, err := server.OpenPlatform(ctx, *dsn, server.PlatformOptions{KEKFile: *kek})
	if err != nil {
		return err
	}
	defer p.Close()
	list, err := p.DB.CSCAs(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Println("The trust list is empty: no passport can be verified (except demo passports with serve --demo).")
		return nil
	}
	now := time.Now()
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SHA-256\tSUBJECT\tKEY ID\tVALID\tSTATUS\tSOURCE")
	for _, c := range list {
		status := "valid"
		switch {
		case now.After(c.NotAfter):
			status = "expired"
		case now.Before(c.NotBefore):
			status = "not yet valid"
		}
		keyID := c.KeyID
		if len(keyID) > 16 {
			keyID = keyID[:16] + "…"
		}
		source := printable(c.Source)
		if r := []rune(source); len(r) > 48 {
			source = string(r[:47]) + "…"
		}
		fmt.Fprintf(w, "%s…\t%s\t%s\t%s to %s\t%s\t%s\n", c.Fingerprint[:16], printable(c.Subject), keyID,
			c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), status, source)
	}
	w.Flush()
	fmt.Printf("%d CSCA certificates.\n", len(list))
	return nil
}
