// Package testchip makes synthetic ICAO 9303 passports for tests and demos:
// an MRZ, DG1, a drawn portrait in DG2, DG14 and DG15 with an active
// authentication key, and an SOD signed by a document signer of the
// project's demo PKI (emrtd.DemoPKI), or of a rogue one. Everything is
// derived from a seed, so the same options give the same passport.
//
// Nothing here is for production: the demo CSCA's keys are public, and the
// signing code is not constant time.
package testchip

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// Options describe a synthetic passport. The zero value of every field has a
// default; only names and birth date usually matter.
type Options struct {
	// Seed makes every random choice; "" derives one from the other fields,
	// so that the same person gets the same passport.
	Seed string

	Surname, GivenNames string    // as printed; transliterated for the MRZ by emrtd.Transliterate
	BirthDate           time.Time // default 1990-01-01
	Sex                 string    // emrtd.SexMale, SexFemale, SexUnspecified; default unspecified
	DocumentNumber      string    // default nine digits from the seed
	Nationality         string    // three letters, also the issuing state; default "DNK"
	Expiry              time.Time // default 2035-06-30
	Format              emrtd.Format

	// DSAlgorithm is the document signer's algorithm; default RSA.
	DSAlgorithm Algorithm
	// AAAlgorithm is the chip's active authentication key; default RSA1024.
	AAAlgorithm Algorithm
	// OmitDG14 leaves DG14 out (possible with an RSA active authentication
	// key only: ECDSA needs DG14 to name its hash).
	OmitDG14 bool

	// ChipAuthentication chooses the chip authentication protocol DG14
	// offers and puts its private key in the dump (ca_key), so that the
	// chip's side can be played ([Passport.AnswerChipAuthentication]). The
	// zero value keeps DG14 as before: AES-128 with a key that is not kept.
	ChipAuthentication ChipAuthentication
	// CACurve is the chip authentication key's curve: BrainpoolP256r1 (the
	// default) or ECDSAP256.
	CACurve Algorithm
	// NoActiveAuthentication leaves DG15 out: the chip proves itself
	// genuine by chip authentication only, as many passports do. It needs
	// ChipAuthentication.
	NoActiveAuthentication bool

	// RogueCSCA signs with a document signer of a CSCA nobody trusts.
	RogueCSCA bool
	// CloneChip stores an active authentication key in the dump that does
	// not match DG15, and a chip authentication key that does not match
	// DG14, as a copied chip would have to.
	CloneChip bool

	// PKI signs the passport; nil means the demo PKI (DemoPKI).
	PKI *PKI
}

// Passport is a synthetic passport.
type Passport struct {
	Dump  *emrtd.Dump    // the CONTRACT.md dump: MRZ, files, aa_key
	MRZ   *emrtd.MRZ     // as in DG1
	Face  []byte         // the JPEG portrait in DG2
	AAKey *emrtd.ChipKey // the key in Dump.AAKey
	CAKey *emrtd.ChipKey // the key in Dump.CAKey; nil without Options.ChipAuthentication
	PKI   *PKI           // the PKI that signed it
}

// NewPassport makes a synthetic passport from opts.
func NewPassport(opts Options) (*Passport, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	r := newStream(opts.Seed, "passport")
	if opts.DocumentNumber == "" {
		opts.DocumentNumber = fmt.Sprintf("%09d", r.intn(1_000_000_000))
	}
	m := &emrtd.MRZ{
		Format: opts.Format, DocumentCode: "P", IssuingState: opts.Nationality,
		Surname: emrtd.Transliterate(opts.Surname), GivenNames: emrtd.Transliterate(opts.GivenNames),
		DocumentNumber: strings.ToUpper(opts.DocumentNumber), Nationality: opts.Nationality,
		DateOfBirth: emrtd.MRZDate(opts.BirthDate), Sex: opts.Sex, DateOfExpiry: emrtd.MRZDate(opts.Expiry),
	}
	if opts.Format == emrtd.TD1 {
		m.DocumentCode = "ID"
	}
	mrz, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("testchip: %w", err)
	}
	dg1, err := emrtd.EncodeDG1(m)
	if err != nil {
		return nil, err
	}
	face, err := drawFace(newStream(opts.Seed, "face"))
	if err != nil {
		return nil, err
	}
	dg2, err := emrtd.EncodeDG2(&emrtd.Portrait{Format: emrtd.ImageJPEG, Width: faceWidth, Height: faceHeight, Image: face})
	if err != nil {
		return nil, err
	}
	aaKey, err := generateKey(opts.AAAlgorithm, newStream(opts.Seed, "aa"))
	if err != nil {
		return nil, err
	}
	files := map[emrtd.DG][]byte{emrtd.DG1: dg1, emrtd.DG2: dg2}
	if !opts.NoActiveAuthentication {
		files[emrtd.DG15] = emrtd.EncodeDG15(aaKey.public(), opts.AAAlgorithm.explicit())
	}
	caKey, err := generateKey(opts.CACurve, newStream(opts.Seed, "chip authentication"))
	if err != nil {
		return nil, err
	}
	if !opts.OmitDG14 {
		if files[emrtd.DG14], err = makeDG14(opts, aaKey, caKey); err != nil {
			return nil, err
		}
	} else if aaKey.rsa == nil {
		return nil, errors.New("testchip: an ECDSA active authentication key needs DG14")
	}

	pki := opts.PKI
	if opts.RogueCSCA {
		if pki, err = roguePKI(opts); err != nil {
			return nil, err
		}
	}
	ds, ok := pki.DS[opts.DSAlgorithm]
	if !ok {
		return nil, fmt.Errorf("testchip: the PKI has no %s document signer", opts.DSAlgorithm)
	}
	sod, err := emrtd.BuildSOD(crypto.SHA256, files, ds.Cert, ds.Signer(), true)
	if err != nil {
		return nil, err
	}

	chipKey := aaKey
	if opts.CloneChip {
		// A copy of the chip has every file but not the private key: it
		// must answer with a key of its own.
		if chipKey, err = generateKey(opts.AAAlgorithm, newStream(opts.Seed, "clone")); err != nil {
			return nil, err
		}
	}
	ck, err := chipKey.chipKey()
	if err != nil {
		return nil, err
	}
	pkcs8, err := ck.MarshalPKCS8()
	if err != nil {
		return nil, err
	}
	dump := &emrtd.Dump{MRZ: mrz, Files: map[string][]byte{"SOD": sod}}
	if !opts.NoActiveAuthentication {
		dump.AAKey = pkcs8
	}
	for dg, f := range files {
		dump.Files[dg.String()] = f
	}
	p := &Passport{Dump: dump, MRZ: m, Face: face, AAKey: ck, PKI: pki}
	if opts.ChipAuthentication != "" {
		if opts.CloneChip {
			// The copy cannot read the chip authentication key either.
			if caKey, err = generateKey(opts.CACurve, newStream(opts.Seed, "clone chip authentication")); err != nil {
				return nil, err
			}
		}
		if p.CAKey, err = caKey.chipKey(); err != nil {
			return nil, err
		}
		if dump.CAKey, err = p.CAKey.MarshalPKCS8(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// AnswerChipAuthentication plays the chip's side of chip authentication
// with the passport's chip authentication key (see
// [emrtd.AnswerChipAuthentication]): the answer to command, the protected
// READ BINARY of DG1, under the session keys the MSE data leads to.
func (p *Passport) AnswerChipAuthentication(mse, generalAuthenticate, command []byte) ([]byte, error) {
	return AnswerChipAuthentication(p.Dump, mse, generalAuthenticate, command)
}

// AnswerChipAuthentication plays the chip's side of chip authentication
// for a dump with a ca_key, as the reference app does.
func AnswerChipAuthentication(d *emrtd.Dump, mse, generalAuthenticate, command []byte) ([]byte, error) {
	if d.CAKey == nil {
		return nil, errors.New("testchip: the dump has no ca_key to answer chip authentication with")
	}
	key, err := emrtd.ParseChipKey(d.CAKey)
	if err != nil {
		return nil, err
	}
	return emrtd.AnswerChipAuthentication(key, d.Files["DG14"], mse, generalAuthenticate, command, d.Files["DG1"])
}

func (opts *Options) defaults() error {
	if emrtd.Transliterate(opts.Surname) == "" {
		return errors.New("testchip: a surname in Latin letters is needed")
	}
	if opts.BirthDate.IsZero() {
		opts.BirthDate = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if opts.Sex == "" {
		opts.Sex = emrtd.SexUnspecified
	}
	if opts.Nationality == "" {
		opts.Nationality = "DNK"
	}
	if opts.Expiry.IsZero() {
		opts.Expiry = time.Date(2035, 6, 30, 0, 0, 0, 0, time.UTC)
	}
	if opts.Format == 0 {
		opts.Format = emrtd.TD3
	}
	if opts.DSAlgorithm == "" {
		opts.DSAlgorithm = RSA
	}
	if opts.AAAlgorithm == "" {
		opts.AAAlgorithm = RSA1024
	}
	if opts.CACurve == "" {
		opts.CACurve = BrainpoolP256r1
	}
	switch opts.ChipAuthentication {
	case "", CA3DES, CAAES128:
	default:
		return fmt.Errorf("testchip: chip authentication %q is none of %q and %q", opts.ChipAuthentication, CA3DES, CAAES128)
	}
	if opts.CACurve.curve() == nil {
		return fmt.Errorf("testchip: chip authentication key %q is not on a curve", opts.CACurve)
	}
	if opts.NoActiveAuthentication && (opts.ChipAuthentication == "" || opts.OmitDG14) {
		return errors.New("testchip: a chip without active authentication needs chip authentication in DG14")
	}
	if opts.Seed == "" {
		opts.Seed = strings.Join([]string{opts.Surname, opts.GivenNames, opts.BirthDate.Format(time.DateOnly), opts.DocumentNumber}, "|")
	}
	if opts.PKI == nil {
		pki, err := DemoPKI()
		if err != nil {
			return fmt.Errorf("testchip: demo PKI: %w", err)
		}
		opts.PKI = pki
	}
	return nil
}

// ChipAuthentication names a chip authentication protocol of DG14.
type ChipAuthentication string

// The protocols a synthetic chip offers.
const (
	CA3DES   ChipAuthentication = "3des"   // id-CA-ECDH-3DES-CBC-CBC
	CAAES128 ChipAuthentication = "aes128" // id-CA-ECDH-AES-CBC-CMAC-128
)

// Chip authentication: id-CA-ECDH-3DES-CBC-CBC, id-CA-ECDH-AES-CBC-CMAC-128
// and id-PK-ECDH (ICAO 9303 part 11, section 9.2.5 and 9.2.6).
var (
	oidCAECDH3DES   = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 1}
	oidCAECDHAES128 = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 2}
	oidPKECDH       = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2}
)

// makeDG14 writes DG14 as a current chip has it: chip authentication with an
// ECDH key, by default on brainpoolP256r1 with AES-128, and, for an ECDSA
// active authentication key, the ActiveAuthenticationInfo naming its hash.
func makeDG14(opts Options, aaKey, caKey *privateKey) ([]byte, error) {
	protocol := oidCAECDHAES128
	if opts.ChipAuthentication == CA3DES {
		protocol = oidCAECDH3DES
	}
	si := &emrtd.SecurityInfos{
		ChipAuthentication: []emrtd.ChipAuthenticationInfo{{Protocol: protocol, Version: 1, KeyID: big.NewInt(1)}},
		ChipAuthenticationKeys: []emrtd.ChipAuthenticationPublicKeyInfo{
			{Protocol: oidPKECDH, PublicKey: caKey.public().MarshalPKIX(opts.CACurve.explicit()), KeyID: big.NewInt(1)},
		},
	}
	if aaKey.rsa == nil && !opts.NoActiveAuthentication {
		si.ActiveAuthentication = &emrtd.ActiveAuthenticationInfo{Version: 1, Hash: opts.AAAlgorithm.hash()}
	}
	return emrtd.EncodeDG14(si)
}

// SplitName splits a full name as the CLI takes it, "Given Names Family",
// into given names and surname: the last word is the surname.
func SplitName(full string) (given, surname string) {
	f := strings.Fields(full)
	if len(f) == 0 {
		return "", ""
	}
	return strings.Join(f[:len(f)-1], " "), f[len(f)-1]
}

// roguePKI makes a CSCA nobody trusts, named like the real one, with a
// document signer of the requested algorithm.
func roguePKI(opts Options) (*PKI, error) {
	genuine, ok := opts.PKI.DS[opts.DSAlgorithm]
	if !ok {
		return nil, fmt.Errorf("testchip: the PKI has no %s document signer to imitate", opts.DSAlgorithm)
	}
	return GeneratePKI(PKIOptions{
		Seed:          "rogue/" + opts.Seed,
		Country:       countryOf(opts.PKI.CSCA.Cert),
		Organization:  "OpenMitID Demo",
		CSCAAlgorithm: ECDSAP256,
		DSAlgorithms:  []Algorithm{opts.DSAlgorithm},
		NotBefore:     opts.PKI.CSCA.Cert.NotBefore,
		CSCANotAfter:  opts.PKI.CSCA.Cert.NotAfter,
		DSNotAfter:    genuine.Cert.NotAfter,
	})
}
