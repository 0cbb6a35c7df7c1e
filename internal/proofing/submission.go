package proofing

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/face"
)

// Submission is what the app sends of a passport (docs/app-api.md, "POST
// /app/v1/enrolments/{id}/passport").
type Submission struct {
	MRZ   string              // as scanned from the photo page
	Files map[emrtd.DG][]byte // the data groups read from the chip
	SOD   []byte
	// ActiveAuthentication is the chip's answer to the case's challenge.
	ActiveAuthentication []byte
	// ChipAuthentication is the chip's raw response APDU to the command of
	// [Service.StartChipAuthentication], for a chip without DG15.
	ChipAuthentication []byte
	Selfie             []byte
	SelfieType         string     // from the image's own header: "image/jpeg" or "image/png"
	CPR                cpr.Number // as the person typed it; zero for a person without CPR
}

// Limits of a submission. The chip's files are bounded as a passport dump's
// ([emrtd.MaxDumpSize] in all, [emrtd.MaxDumpFileSize] each); the selfie by
// [face.MaxImageSize]. MaxSubmission bounds the whole JSON body: the
// handler refuses a larger one before reading it.
const (
	MaxSubmission  = emrtd.MaxDumpSize + (face.MaxImageSize+2)/3*4 + 16<<10
	maxMRZ         = 128  // a TD3 MRZ is 88 characters, a TD1 90, with line breaks
	maxAASignature = 1024 // an RSA-4096 answer is 512 bytes; ECDSA less
	maxFiles       = 17   // DG1 to DG16 and the SOD
)

// ErrBadCPR is returned, wrapped, for a CPR number that is not one.
var ErrBadCPR = errors.New("proofing: malformed CPR number")

// ErrBadSelfie is returned, wrapped, for a selfie that is not a JPEG or
// PNG within [face.MaxImageSize] and [face.MaxPixels].
var ErrBadSelfie = errors.New("proofing: the selfie is not a usable image")

type submissionJSON struct {
	MRZ                  string            `json:"mrz"`
	Files                map[string]string `json:"files"`
	ActiveAuthentication string            `json:"active_authentication"`
	ChipAuthentication   string            `json:"chip_authentication"`
	Selfie               string            `json:"selfie"`
	CPR                  string            `json:"cpr"`
}

// ParseSubmission decodes a submission's JSON body:
//
//	{"mrz": "P<DNK…", "files": {"DG1": "<base64>", …, "SOD": "<base64>"},
//	 "active_authentication": "<base64>", "chip_authentication": "<base64>",
//	 "selfie": "<base64>", "cpr": "DDMMYY-SSSS"}
//
// It refuses, with an error wrapping [ErrBadSubmission] that names the field:
// a body over [MaxSubmission] bytes, anything but one JSON object, unknown
// fields, file names other than DG1 to DG16 and SOD, a file over
// [emrtd.MaxDumpFileSize] (checked before it is decoded) or files over
// [emrtd.MaxDumpSize] in all, bad base64 (standard alphabet), a missing SOD
// or MRZ, neither answer (active_authentication or chip_authentication), an
// MRZ over 128 characters, an active authentication answer over 1024 bytes
// and a chip authentication answer over 512.
// A malformed CPR number wraps [ErrBadCPR]; an empty one is none. A selfie
// that is not a usable image wraps [ErrBadSelfie]. On error it returns nil.
func ParseSubmission(body []byte) (*Submission, error) {
	if len(body) > MaxSubmission {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrBadSubmission, len(body), MaxSubmission)
	}
	var j submissionJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSubmission, strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrBadSubmission)
	}
	if j.MRZ == "" || len(j.MRZ) > maxMRZ {
		return nil, fmt.Errorf("%w: mrz of %d bytes; want the scanned lines, at most %d", ErrBadSubmission, len(j.MRZ), maxMRZ)
	}
	if len(j.Files) > maxFiles {
		return nil, fmt.Errorf("%w: %d files; a chip has at most DG1 to DG16 and the SOD", ErrBadSubmission, len(j.Files))
	}
	s := &Submission{MRZ: j.MRZ, Files: map[emrtd.DG][]byte{}}
	total := 0
	for name, v := range j.Files {
		var dg emrtd.DG
		if name != "SOD" {
			var err error
			if dg, err = emrtd.ParseDGName(name); err != nil {
				return nil, fmt.Errorf("%w: file %q is neither DG1 to DG16 nor SOD", ErrBadSubmission, truncate(name))
			}
		}
		f, err := decodeB64("files."+name, v, emrtd.MaxDumpFileSize)
		if err != nil {
			return nil, err
		}
		if total += len(f); total > emrtd.MaxDumpSize {
			return nil, fmt.Errorf("%w: the files are more than %d bytes in all", ErrBadSubmission, emrtd.MaxDumpSize)
		}
		if name == "SOD" {
			s.SOD = f
		} else {
			s.Files[dg] = f
		}
	}
	if len(s.SOD) == 0 {
		return nil, fmt.Errorf("%w: files has no SOD", ErrBadSubmission)
	}
	var err error
	if s.ActiveAuthentication, err = decodeB64("active_authentication", j.ActiveAuthentication, maxAASignature); err != nil {
		return nil, err
	}
	if s.ChipAuthentication, err = decodeB64("chip_authentication", j.ChipAuthentication, maxCAResponse); err != nil {
		return nil, err
	}
	if len(s.ActiveAuthentication) == 0 && len(s.ChipAuthentication) == 0 {
		return nil, fmt.Errorf("%w: active_authentication, the chip's answer to the challenge, is missing (or, for a chip without DG15, chip_authentication)", ErrBadSubmission)
	}
	if s.Selfie, err = decodeB64("selfie", j.Selfie, face.MaxImageSize); err != nil {
		if len(j.Selfie) > 0 && errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("%w: %w", ErrBadSelfie, err)
		}
		return nil, err
	}
	if s.SelfieType, err = face.CheckImage(s.Selfie); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSelfie, err)
	}
	if strings.TrimSpace(j.CPR) != "" {
		if s.CPR, err = cpr.Parse(j.CPR); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadCPR, err)
		}
	}
	return s, nil
}

var errTooLarge = errors.New("too large")

// decodeB64 decodes standard base64, refusing more than max decoded bytes
// before decoding anything.
func decodeB64(field, v string, max int) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(v)) > max+2 {
		return nil, fmt.Errorf("%w: %s is more than %d bytes (%w)", ErrBadSubmission, field, max, errTooLarge)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not standard base64: %v", ErrBadSubmission, field, err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("%w: %s is more than %d bytes (%w)", ErrBadSubmission, field, max, errTooLarge)
	}
	return b, nil
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
