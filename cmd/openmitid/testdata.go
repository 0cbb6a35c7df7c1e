package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
)

// runTestdata makes test data (CONTRACT.md, "openmitid testdata passport").
func runTestdata(args []string) error {
	const want = "want: openmitid testdata passport|identities [flags] (openmitid testdata passport -h for its flags)"
	if len(args) == 0 {
		return usageError{want}
	}
	switch args[0] {
	case "passport":
		return runTestdataPassport(args[1:])
	case "identities":
		return runTestdataIdentities(args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Println("Usage: openmitid testdata <command> [flags]\n\nCommands:\n" +
			"  passport     make a synthetic ICAO 9303 passport chip (a dump) and its portrait\n" +
			"  identities   bulk-load synthetic identities into a database for the load benchmark")
		return flag.ErrHelp
	}
	return usageError{fmt.Sprintf("unknown testdata command %q; %s", args[0], want)}
}

func runTestdataPassport(args []string) error {
	fs := newFlags("testdata passport", `testdata passport --out DUMP --name "Given Family" --birthdate YYYY-MM-DD --face-out IMAGE [--rogue-csca] [--clone-chip] [--chip-authentication 3des|aes128] [--document-number N] [--nationality DNK] [--expiry YYYY-MM-DD] [--sex F|M|X] [--force]`)
	out := fs.String("out", "", "the passport dump to write, JSON (required)")
	name := fs.String("name", "", `the holder's name, given names first and the family name last: "Anna Marie Hansen" (required)`)
	birth := fs.String("birthdate", "", "the holder's date of birth, YYYY-MM-DD (required)")
	faceOut := fs.String("face-out", "", "where to write the portrait stored in DG2, JPEG (required)")
	rogue := fs.Bool("rogue-csca", false, "sign with a CSCA nobody trusts (a forged passport)")
	clone := fs.Bool("clone-chip", false, "store an active-authentication key that does not match DG15, and a chip-authentication key that does not match DG14 (a copied chip)")
	chipAuth := fs.String("chip-authentication", "", "3des or aes128: a chip without DG15 that proves itself genuine by chip authentication with that protocol, its key in ca_key")
	number := fs.String("document-number", "", "the document number, up to 9 letters and digits (default: made from the name)")
	nationality := fs.String("nationality", "DNK", "the holder's nationality and the issuing state, ICAO three-letter code")
	expiry := fs.String("expiry", "", "the date of expiry, YYYY-MM-DD (default 2035-06-30)")
	sex := fs.String("sex", "X", "F, M or X (unspecified)")
	force := fs.Bool("force", false, "replace existing files")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if err := requireFlags(fs, "out", "name", "birthdate", "face-out"); err != nil {
		return err
	}
	given, family := testchip.SplitName(*name)
	if given == "" || emrtd.Transliterate(family) == "" {
		return usageError{fmt.Sprintf(`--name %q: give the given names and the family name, as "Anna Hansen"`, *name)}
	}
	opts := testchip.Options{Surname: family, GivenNames: given, RogueCSCA: *rogue, CloneChip: *clone,
		DocumentNumber: strings.ToUpper(*number), Nationality: strings.ToUpper(*nationality)}
	switch ca := testchip.ChipAuthentication(strings.ToLower(*chipAuth)); ca {
	case "":
	case testchip.CA3DES, testchip.CAAES128:
		opts.ChipAuthentication, opts.NoActiveAuthentication = ca, true
	default:
		return usageError{fmt.Sprintf("--chip-authentication %q: want 3des or aes128", *chipAuth)}
	}
	var err error
	if opts.BirthDate, err = time.Parse(time.DateOnly, *birth); err != nil {
		return usageError{fmt.Sprintf("--birthdate %q is not a date YYYY-MM-DD", *birth)}
	}
	if *expiry != "" {
		if opts.Expiry, err = time.Parse(time.DateOnly, *expiry); err != nil {
			return usageError{fmt.Sprintf("--expiry %q is not a date YYYY-MM-DD", *expiry)}
		}
	}
	switch strings.ToUpper(*sex) {
	case "F":
		opts.Sex = emrtd.SexFemale
	case "M":
		opts.Sex = emrtd.SexMale
	case "X", "":
		opts.Sex = emrtd.SexUnspecified
	default:
		return usageError{fmt.Sprintf("--sex %q: want F, M or X", *sex)}
	}
	if !*force {
		for _, f := range []string{*out, *faceOut} {
			if _, err := os.Stat(f); err == nil {
				return fmt.Errorf("%s exists already; use --force to replace it", f)
			}
		}
	}
	p, err := testchip.NewPassport(opts)
	if err != nil {
		return fmt.Errorf("cannot make that passport: %s", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "testchip: "), "emrtd: "))
	}
	dump, err := p.Dump.Marshal()
	if err != nil {
		return err
	}
	// The dump holds the chip's private key: readable by its owner only.
	if err := os.WriteFile(*out, dump, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(*faceOut, p.Face, 0o644); err != nil {
		return err
	}
	signer := p.PKI.CSCA.Cert.Subject
	trust := "trusted only by a server started with --demo"
	if *rogue {
		trust = "a rogue CSCA that no server trusts"
	}
	fmt.Printf("Wrote %s: passport %s of %s %s, born %s, expires %s.\n", *out, p.MRZ.DocumentNumber, p.MRZ.Surname, p.MRZ.GivenNames,
		opts.BirthDate.Format(time.DateOnly), dateOf(p.MRZ))
	fmt.Printf("Signed under %q (%s).\n", signer, trust)
	switch {
	case *clone && opts.ChipAuthentication != "":
		fmt.Println("The chip is a copy: its chip-authentication key does not match DG14.")
	case *clone:
		fmt.Println("The chip is a copy: its active-authentication key does not match DG15.")
	}
	if opts.ChipAuthentication != "" {
		fmt.Printf("The chip has no DG15: it proves itself genuine by chip authentication (%s), its key in ca_key.\n", opts.ChipAuthentication)
	}
	fmt.Printf("Wrote %s: the portrait in DG2 (JPEG).\n", *faceOut)
	return nil
}

func dateOf(m *emrtd.MRZ) string {
	t, err := m.ExpiryDate()
	if err != nil {
		return m.DateOfExpiry
	}
	return t.Format(time.DateOnly)
}
