package proofing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

// TestAnchors: the server trusts the demo CSCA only in demo mode, and an
// imported CSCA on every node within the refresh time.
func TestAnchors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, se storetest.Env) {
		ctx := context.Background()
		c := &clock{t: t0}
		demo, _ := emrtd.DemoTrustList()
		demoCSCA := demo.Certificates()[0]

		prod := proofing.NewAnchors(se.DB, false, c.Now)
		tl, err := prod.TrustList(ctx)
		if err != nil || tl.Len() != 0 {
			t.Fatalf("without --demo and imports: %d CSCAs, %v", tl.Len(), err)
		}
		withDemo := proofing.NewAnchors(se.DB, true, c.Now)
		if tl, err := withDemo.TrustList(ctx); err != nil || tl.Len() != 1 || string(tl.Certificates()[0].Raw) != string(demoCSCA.Raw) {
			t.Fatalf("with --demo: %v", err)
		}

		other, err := testchip.GeneratePKI(testchip.PKIOptions{Seed: "import", Country: "SE", Organization: "Sweden Test",
			CSCAAlgorithm: testchip.BrainpoolP256r1, DSAlgorithms: []testchip.Algorithm{testchip.ECDSAP256},
			NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), CSCANotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
			DSNotAfter: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		n, err := proofing.ImportCSCAs(ctx, se.DB, se.DB, []*emrtd.Certificate{other.CSCA.Cert}, "sweden.pem", "admin", t0)
		if err != nil || n != 1 {
			t.Fatalf("import: %d, %v", n, err)
		}
		if n, err := proofing.ImportCSCAs(ctx, se.DB, se.DB, []*emrtd.Certificate{other.CSCA.Cert, demoCSCA}, "again.pem", "admin", t0); err != nil || n != 1 {
			t.Fatalf("second import adds only the new one: %d, %v", n, err)
		}
		// A document signer is not a CSCA: refused, and nothing of the batch is added.
		ds := other.DS[testchip.ECDSAP256].Cert
		if n, err := proofing.ImportCSCAs(ctx, se.DB, se.DB, []*emrtd.Certificate{ds}, "ds.pem", "admin", t0); !errors.Is(err, emrtd.ErrNotCSCA) || n != 0 {
			t.Fatalf("importing a document signer: %d, %v", n, err)
		}
		recs, _ := se.DB.CSCAs(ctx)
		if len(recs) != 2 || recs[0].Source != "sweden.pem" || recs[0].Subject != other.CSCA.Cert.Subject ||
			recs[0].Fingerprint != proofing.Fingerprint(other.CSCA.Cert.Raw) || recs[0].KeyID == "" {
			t.Fatalf("stored %+v", recs)
		}

		// Read again only after the refresh.
		if tl, _ := prod.TrustList(ctx); tl.Len() != 0 {
			t.Fatal("refreshed before its time")
		}
		c.Add(prod.Refresh())
		tl, err = prod.TrustList(ctx)
		if err != nil || tl.Len() != 2 {
			t.Fatalf("after the refresh: %d, %v", tl.Len(), err)
		}
		// The imported demo CSCA is trusted now even without --demo: the
		// operator chose to. A passport of the imported PKI passes.
		pp, err := testchip.NewPassport(testchip.Options{Surname: "Svensson", PKI: other, DSAlgorithm: testchip.ECDSAP256})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := emrtd.PassiveAuthenticate(pp.Dump.SOD(), pp.Dump.DataGroups(), tl, t0); err != nil {
			t.Fatalf("a passport of the imported CSCA: %v", err)
		}
	})
}

func TestFingerprintFormat(t *testing.T) {
	if got := proofing.FormatFingerprint("0a1bff"); got != "0A:1B:FF" {
		t.Errorf("FormatFingerprint = %q", got)
	}
}
