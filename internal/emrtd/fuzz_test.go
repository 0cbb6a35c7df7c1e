package emrtd_test

import (
	"bytes"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// Fuzz targets for every parser, seeded with the golden files. Run one with
// go test -run '^$' -fuzz '^FuzzParseSOD$' -fuzztime 60s -fuzzminimizetime 2s ./internal/emrtd
// (a short minimisation time keeps the fuzzer fuzzing: with the default one
// it spends most of its time minimising kilobyte-sized inputs).
// Plain `go test` runs only the seeds.

// goldenDumpFiles returns every file of the given names ("SOD", "DG2", ...) in
// the golden passport dumps.
func goldenDumpFiles(f *testing.F, names ...string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, g := range loadGoldenPassports(f) {
		d, err := emrtd.ParseDump(bytes.NewReader(g.Dump))
		if err != nil {
			f.Fatal(err)
		}
		for _, n := range names {
			if b, ok := d.Files[n]; ok {
				out = append(out, b)
			}
		}
	}
	return out
}

func FuzzParseMRZ(f *testing.F) {
	for _, g := range goldenFiles(f, "mrz/*.txt") {
		f.Add(g.body)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := emrtd.ParseMRZ(s)
		if (m == nil) == (err == nil) {
			t.Fatalf("ParseMRZ = %v, %v: want exactly one", m, err)
		}
		if err != nil {
			if !errors.Is(err, emrtd.ErrMRZ) || !strings.HasPrefix(err.Error(), "emrtd: ") {
				t.Fatalf("error %v is not ErrMRZ", err)
			}
			return
		}
		// What parses encodes, and encodes to an MRZ that parses the same.
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("Encode(%+v): %v", m, err)
		}
		m2, err := emrtd.ParseMRZ(enc)
		if err != nil || *m2 != *m {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", s, m2, err, m)
		}
		m.BirthDate(time.Now())
		m.ExpiryDate()
		_ = m.MRZInfo()
	})
}

func FuzzTLV(f *testing.F) {
	for _, b := range goldenDumpFiles(f, "DG1", "DG2", "DG14", "DG15", "SOD") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tlv, err := emrtd.ParseTLV(b)
		if err != nil {
			if !errors.Is(err, emrtd.ErrTLV) {
				t.Fatalf("error %v is not ErrTLV", err)
			}
			return
		}
		again, err := emrtd.ParseTLV(emrtd.AppendTLV(nil, tlv.Tag, tlv.Value))
		if err != nil || again.Tag != tlv.Tag || !bytes.Equal(again.Value, tlv.Value) {
			t.Fatalf("re-encoding %X: %+v, %v", tlv.Tag, again, err)
		}
		walk(t, tlv, 0)
	})
}

func walk(t *testing.T, n emrtd.TLV, depth int) {
	if depth > emrtd.MaxTLVDepth+1 {
		t.Fatalf("walked %d levels deep", depth)
	}
	if !n.Constructed() {
		return
	}
	kids, err := n.Children()
	if err != nil {
		return
	}
	for _, k := range kids {
		walk(t, k, depth+1)
	}
}

func FuzzParseSOD(f *testing.F) {
	for _, b := range goldenDumpFiles(f, "SOD") {
		f.Add(b)
	}
	trust, err := emrtd.DemoTrustList()
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := emrtd.ParseSOD(b)
		if (s == nil) == (err == nil) {
			t.Fatalf("ParseSOD = %v, %v: want exactly one", s, err)
		}
		if err != nil {
			if !errors.Is(err, emrtd.ErrMalformedSOD) && !errors.Is(err, emrtd.ErrUnsupportedAlgorithm) &&
				!errors.Is(err, emrtd.ErrUnsupportedKey) && !errors.Is(err, emrtd.ErrMalformedKey) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, dg := range s.DataGroups() {
			if len(s.Hash(dg)) != s.HashAlgorithm().Size() {
				t.Fatalf("%v hash has the wrong length", dg)
			}
		}
		// Whatever parses goes through the checks without panicking.
		res, err := emrtd.PassiveAuthenticate(b, map[emrtd.DG][]byte{emrtd.DG1: {0x61, 0x00}}, trust, now)
		if res != nil && err != nil || res == nil && err == nil {
			t.Fatalf("PassiveAuthenticate = %v, %v", res, err)
		}
	})
}

func FuzzParseDG2(f *testing.F) {
	for _, b := range goldenDumpFiles(f, "DG2") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := emrtd.ParseDG2(b)
		if (p == nil) == (err == nil) {
			t.Fatalf("ParseDG2 = %v, %v: want exactly one", p, err)
		}
		if err != nil {
			if !errors.Is(err, emrtd.ErrLDS) {
				t.Fatalf("error %v is not ErrLDS", err)
			}
			return
		}
		if p.Format != emrtd.ImageJPEG && p.Format != emrtd.ImageJPEG2000 || len(p.Image) == 0 {
			t.Fatalf("portrait %v of %d bytes", p.Format, len(p.Image))
		}
	})
}

func FuzzParseDG15(f *testing.F) {
	for _, b := range goldenDumpFiles(f, "DG15") {
		f.Add(b)
	}
	var challenge [emrtd.ChallengeSize]byte
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := emrtd.ParseDG15(b)
		if (k == nil) == (err == nil) {
			t.Fatalf("ParseDG15 = %v, %v: want exactly one", k, err)
		}
		if err != nil {
			return
		}
		if k.RSA() == nil && k.Curve() == "" {
			t.Fatalf("key %v is neither RSA nor EC", k)
		}
		// A garbage answer must be refused, not panic.
		sig := bytes.Repeat([]byte{0x5A}, 64)
		if err := emrtd.ActiveAuthenticate(b, nil, challenge, sig); err == nil {
			t.Fatal("a garbage answer was accepted")
		}
	})
}

func FuzzParseDG14(f *testing.F) {
	for _, b := range goldenDumpFiles(f, "DG14") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		si, err := emrtd.ParseDG14(b)
		if (si == nil) == (err == nil) {
			t.Fatalf("ParseDG14 = %v, %v: want exactly one", si, err)
		}
	})
}

func FuzzParseCertificate(f *testing.F) {
	pki, _ := filepath.Glob("testdata/pki/*.pem")
	for _, p := range pki {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if block, _ := pem.Decode(b); block != nil && block.Type == "CERTIFICATE" {
			f.Add(block.Bytes)
		}
	}
	for _, sod := range goldenDumpFiles(f, "SOD") {
		if s, err := emrtd.ParseSOD(sod); err == nil {
			f.Add(s.DocumentSigner().Raw)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := emrtd.ParseCertificate(b)
		if (c == nil) == (err == nil) {
			t.Fatalf("ParseCertificate = %v, %v: want exactly one", c, err)
		}
		if err != nil {
			return
		}
		// Self-verification must not panic, whatever the key and algorithm.
		_ = c.CheckSignatureFrom(c)
		if c.PublicKey == nil || c.SerialNumber == nil {
			t.Fatal("certificate without key or serial number")
		}
	})
}

func FuzzParseDump(f *testing.F) {
	// Small seeds: Go's fuzzer stalls on the 14 KB golden dumps, and the
	// portrait's bytes add nothing ParseDump looks at.
	f.Add([]byte(`{"mrz":"P<UTO","files":{"DG1":"YQA=","DG15":"bwA=","SOD":"dwA="},"aa_key":"AQI="}`))
	f.Add([]byte(`{"mrz":"","files":{}}`))
	f.Add([]byte(`{"mrz":"x","files":{"DG16":""}}`))
	for _, g := range loadGoldenPassports(f) {
		d, err := emrtd.ParseDump(bytes.NewReader(g.Dump))
		if err != nil {
			f.Fatal(err)
		}
		delete(d.Files, "DG2")
		b, err := d.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		break
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := emrtd.ParseDump(bytes.NewReader(b))
		if (d == nil) == (err == nil) {
			t.Fatalf("ParseDump = %v, %v: want exactly one", d, err)
		}
		if err != nil {
			return
		}
		for _, f := range d.Files {
			if len(f) > emrtd.MaxDumpFileSize {
				t.Fatalf("a file of %d bytes got through", len(f))
			}
		}
	})
}

func FuzzUnprotect(f *testing.F) {
	g := readGolden(f, "testdata/bac-icao-9303-p11-d3-d4.txt")
	for _, k := range []string{"select_response", "read1_response", "read2_response"} {
		b, _ := hex.DecodeString(g.header[k])
		f.Add(b)
	}
	var keys emrtd.BACKeys
	k, _ := hex.DecodeString(g.header["ksenc"])
	copy(keys.Enc[:], k)
	k, _ = hex.DecodeString(g.header["ksmac"])
	copy(keys.MAC[:], k)
	f.Fuzz(func(t *testing.T, resp []byte) {
		for ssc := uint64(0x887022120C06C227); ssc < 0x887022120C06C22D; ssc += 2 {
			data, sw, err := emrtd.NewSecureMessaging(keys, ssc).Unprotect(resp)
			if err != nil && (data != nil || sw != 0 || !errors.Is(err, emrtd.ErrSecureMessaging)) {
				t.Fatalf("Unprotect = %X, %X, %v", data, sw, err)
			}
		}
	})
}
