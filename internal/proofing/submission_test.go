package proofing_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
	"github.com/openmitid/openmitid/internal/face"
	"github.com/openmitid/openmitid/internal/proofing"
)

// body is a submission's JSON as an app sends it, with fields to change.
func body(t testing.TB, change func(m map[string]any)) []byte {
	t.Helper()
	pp, err := testchip.NewPassport(testchip.Options{Surname: "Hansen", GivenNames: "Anna", BirthDate: time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]any{}
	for name, f := range pp.Dump.Files {
		files[name] = base64.StdEncoding.EncodeToString(f)
	}
	m := map[string]any{"mrz": pp.Dump.MRZ, "files": files, "active_authentication": base64.StdEncoding.EncodeToString(make([]byte, 128)),
		"selfie": base64.StdEncoding.EncodeToString(pp.Face), "cpr": "020190-1234"}
	if change != nil {
		change(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSubmission(t *testing.T) {
	s, err := proofing.ParseSubmission(body(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := cpr.Parse("020190-1234")
	if s.CPR != n || len(s.Files) != 4 || s.Files[emrtd.DG1] == nil || s.Files[emrtd.DG15] == nil || len(s.SOD) == 0 ||
		len(s.ActiveAuthentication) != 128 || s.SelfieType != "image/jpeg" || !strings.HasPrefix(s.MRZ, "P<DNKHANSEN<<ANNA") {
		t.Fatalf("parsed %+v", s)
	}
	s, err = proofing.ParseSubmission(body(t, func(m map[string]any) { m["cpr"] = "" }))
	if err != nil || !s.CPR.IsZero() {
		t.Fatalf("without CPR: %+v, %v", s, err)
	}
	s, err = proofing.ParseSubmission(body(t, func(m map[string]any) { delete(m, "cpr") }))
	if err != nil || !s.CPR.IsZero() {
		t.Fatalf("without the cpr field: %+v, %v", s, err)
	}
	// A chip without DG15 answers chip authentication instead.
	s, err = proofing.ParseSubmission(body(t, func(m map[string]any) {
		delete(m, "active_authentication")
		m["chip_authentication"] = base64.StdEncoding.EncodeToString(make([]byte, 32))
	}))
	if err != nil || len(s.ChipAuthentication) != 32 || len(s.ActiveAuthentication) != 0 {
		t.Fatalf("with chip_authentication alone: %v", err)
	}
}

func TestParseSubmissionRefuses(t *testing.T) {
	big := base64.StdEncoding.EncodeToString(make([]byte, emrtd.MaxDumpFileSize+1))
	var huge bytes.Buffer
	jpeg.Encode(&huge, image.NewGray(image.Rect(0, 0, 5000, 4000)), &jpeg.Options{Quality: 1})
	for _, tt := range []struct {
		name   string
		change func(m map[string]any)
		raw    []byte
		want   error
		says   string
	}{
		{name: "not JSON", raw: []byte("<html>"), want: proofing.ErrBadSubmission, says: "invalid character"},
		{name: "two objects", raw: append(body(t, nil), []byte(" {}")...), want: proofing.ErrBadSubmission, says: "after the JSON"},
		{name: "an array", raw: []byte("[]"), want: proofing.ErrBadSubmission},
		{name: "too large", raw: make([]byte, proofing.MaxSubmission+1), want: proofing.ErrBadSubmission, says: "more than"},
		{name: "unknown field", change: func(m map[string]any) { m["aa_key"] = "AAAA" }, want: proofing.ErrBadSubmission, says: "aa_key"},
		{name: "no MRZ", change: func(m map[string]any) { delete(m, "mrz") }, want: proofing.ErrBadSubmission, says: "mrz"},
		{name: "long MRZ", change: func(m map[string]any) { m["mrz"] = strings.Repeat("<", 200) }, want: proofing.ErrBadSubmission, says: "mrz"},
		{name: "no SOD", change: func(m map[string]any) { delete(m["files"].(map[string]any), "SOD") }, want: proofing.ErrBadSubmission, says: "SOD"},
		{name: "file DG0", change: func(m map[string]any) { m["files"].(map[string]any)["DG0"] = "AA==" }, want: proofing.ErrBadSubmission, says: "DG0"},
		{name: "file DG01", change: func(m map[string]any) { m["files"].(map[string]any)["DG01"] = "AA==" }, want: proofing.ErrBadSubmission, says: "DG01"},
		{name: "file COM", change: func(m map[string]any) { m["files"].(map[string]any)["COM"] = "AA==" }, want: proofing.ErrBadSubmission, says: "COM"},
		{name: "file too large", change: func(m map[string]any) { m["files"].(map[string]any)["DG2"] = big }, want: proofing.ErrBadSubmission, says: "files.DG2 is more than"},
		{name: "file not base64", change: func(m map[string]any) { m["files"].(map[string]any)["DG1"] = "!!!!" }, want: proofing.ErrBadSubmission, says: "files.DG1 is not standard base64"},
		{name: "URL base64", change: func(m map[string]any) { m["files"].(map[string]any)["DG1"] = "-_-_" }, want: proofing.ErrBadSubmission, says: "base64"},
		{name: "file a number", change: func(m map[string]any) { m["files"].(map[string]any)["DG1"] = 7 }, want: proofing.ErrBadSubmission},
		{name: "no answer", change: func(m map[string]any) { delete(m, "active_authentication") }, want: proofing.ErrBadSubmission, says: "active_authentication"},
		{name: "long answer", change: func(m map[string]any) {
			m["active_authentication"] = base64.StdEncoding.EncodeToString(make([]byte, 2048))
		}, want: proofing.ErrBadSubmission, says: "active_authentication is more than"},
		{name: "long chip authentication answer", change: func(m map[string]any) {
			delete(m, "active_authentication")
			m["chip_authentication"] = base64.StdEncoding.EncodeToString(make([]byte, 513))
		}, want: proofing.ErrBadSubmission, says: "chip_authentication is more than"},
		{name: "chip authentication not base64", change: func(m map[string]any) { m["chip_authentication"] = "!!!!" }, want: proofing.ErrBadSubmission, says: "chip_authentication is not standard base64"},
		{name: "no selfie", change: func(m map[string]any) { delete(m, "selfie") }, want: proofing.ErrBadSelfie},
		{name: "selfie not an image", change: func(m map[string]any) { m["selfie"] = base64.StdEncoding.EncodeToString([]byte("GIF89a")) }, want: proofing.ErrBadSelfie},
		{name: "selfie too large", change: func(m map[string]any) {
			m["selfie"] = base64.StdEncoding.EncodeToString(make([]byte, face.MaxImageSize+1))
		}, want: proofing.ErrBadSelfie, says: "more than"},
		{name: "selfie of too many pixels", change: func(m map[string]any) { m["selfie"] = base64.StdEncoding.EncodeToString(huge.Bytes()) }, want: proofing.ErrBadSelfie, says: "pixels"},
		{name: "bad CPR", change: func(m map[string]any) { m["cpr"] = "320190-1234" }, want: proofing.ErrBadCPR},
		{name: "CPR with letters", change: func(m map[string]any) { m["cpr"] = "abc" }, want: proofing.ErrBadCPR},
	} {
		raw := tt.raw
		if raw == nil {
			raw = body(t, tt.change)
		}
		s, err := proofing.ParseSubmission(raw)
		if !errors.Is(err, tt.want) || s != nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: ParseSubmission = %v, %v; want %v mentioning %q", tt.name, s != nil, err, tt.want, tt.says)
		}
	}
}

// FuzzParseSubmission: hostile bodies never panic, never return both a
// submission and an error, and what parses is within the limits.
func FuzzParseSubmission(f *testing.F) {
	// Seeds made without testchip: its RSA key search is slow under the
	// fuzzer's instrumentation, and every worker would repeat it.
	var selfie bytes.Buffer
	jpeg.Encode(&selfie, image.NewGray(image.Rect(0, 0, 3, 3)), nil)
	seed, _ := json.Marshal(map[string]any{"mrz": "P<DNKHANSEN<<ANNA<<<<<<<<<<<<<<<<<<<<<<<<<<<\n123456789<DNK9001028<3506305<<<<<<<<<<<<<<04",
		"files":                 map[string]string{"DG1": "YQNfHwA=", "DG2": "dQA=", "DG15": "bwA=", "SOD": "dwA="},
		"active_authentication": "AAECAw==", "selfie": base64.StdEncoding.EncodeToString(selfie.Bytes()), "cpr": "020190-1234"})
	f.Add(seed)
	f.Add(bytes.Replace(seed, []byte(`"020190-1234"`), []byte(`""`), 1))
	f.Add([]byte(`{"mrz":"x","files":{"SOD":"AA=="},"active_authentication":"AA==","selfie":""}`))
	f.Add([]byte(`{"files":{"DG16":"","DG1":null}}`))
	f.Add([]byte(`{"mrz":"P","files":{"SOD":"AAAA"},"active_authentication":"AAAA","selfie":"/9j/4AAQ","cpr":"0101900000"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := proofing.ParseSubmission(b)
		if (s == nil) == (err == nil) {
			t.Fatalf("ParseSubmission = %v, %v", s, err)
		}
		if err != nil {
			if !errors.Is(err, proofing.ErrBadSubmission) && !errors.Is(err, proofing.ErrBadSelfie) && !errors.Is(err, proofing.ErrBadCPR) {
				t.Fatalf("error of no documented kind: %v", err)
			}
			return
		}
		total := 0
		for dg, file := range s.Files {
			if dg < 1 || dg > 16 || len(file) > emrtd.MaxDumpFileSize {
				t.Fatalf("file %v of %d bytes", dg, len(file))
			}
			total += len(file)
		}
		if total+len(s.SOD) > emrtd.MaxDumpSize || len(s.SOD) == 0 || len(s.Selfie) > face.MaxImageSize || s.MRZ == "" ||
			len(s.ActiveAuthentication) == 0 || len(s.ActiveAuthentication) > 1024 {
			t.Fatalf("parsed beyond the limits: %d bytes of files, SOD %d, selfie %d", total, len(s.SOD), len(s.Selfie))
		}
		if _, err := face.CheckImage(s.Selfie); err != nil {
			t.Fatalf("a selfie that is not an image passed: %v", err)
		}
	})
}
