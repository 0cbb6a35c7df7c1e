package emrtd_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// Verifying a chip as the enrolment service does: the app sends the MRZ it
// scanned, the files it read and the chip's answer to the server's
// challenge.
func Example() {
	b, _ := os.ReadFile("testdata/passports/brainpool-ds.json")
	g, _ := parseGolden(b)
	dump, err := emrtd.ParseDump(bytes.NewReader(g.Dump))
	if err != nil {
		fmt.Println(err)
		return
	}
	trust, _ := emrtd.DemoTrustList() // --demo only; production loads CSCAs with emrtd.ParseCSCAs
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	// 1. Passive authentication: the files are what the issuing state signed.
	res, err := emrtd.PassiveAuthenticate(dump.SOD(), dump.DataGroups(), trust, now)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	// 2. The MRZ printed in the passport is the one in the chip.
	scanned, err := emrtd.ParseMRZ(dump.MRZ)
	if err != nil {
		fmt.Println(err)
		return
	}
	chip, _ := emrtd.ParseDG1(dump.Files["DG1"])
	if *scanned != *chip {
		fmt.Println("refused: MRZ differs from DG1")
		return
	}
	// 3. Active authentication: the chip answers a fresh challenge with the
	// key in DG15, which a copy cannot. (Here the dump's aa_key plays the chip.)
	var challenge [emrtd.ChallengeSize]byte
	rand.Read(challenge[:])
	key, _ := emrtd.ParseChipKey(dump.AAKey)
	answer, _ := emrtd.SignChallenge(rand.Reader, key, dump.Files["DG14"], challenge)
	if err := emrtd.ActiveAuthenticate(dump.Files["DG15"], dump.Files["DG14"], challenge, answer); err != nil {
		fmt.Println("refused:", err)
		return
	}
	portrait, _ := emrtd.ParseDG2(dump.Files["DG2"])
	birth, _ := chip.BirthDate(now)
	fmt.Println(chip.Surname, chip.GivenNames, birth.Format(time.DateOnly))
	fmt.Println("signed by", res.DocumentSigner.Subject, "with", res.SignatureAlgorithm)
	fmt.Println("portrait:", portrait.Format.MIMEType())
	// Output:
	// TESTESEN KAREN MARIE 1984-03-17
	// signed by C=DK, O=OpenMitID Demo, OU=Document Signer, CN=DS brainpoolP256r1 with SHA-256-ECDSA
	// portrait: image/jpeg
}
