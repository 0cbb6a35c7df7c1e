package emrtd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// ErrMalformedDump is returned, wrapped, for a passport dump that is not the
// JSON of CONTRACT.md or exceeds its limits.
var ErrMalformedDump = errors.New("emrtd: malformed passport dump")

const (
	// MaxDumpSize bounds a whole passport dump: five files of which the
	// portrait is the largest, base64 encoded.
	MaxDumpSize = 1 << 20
	// MaxDumpFileSize bounds each file of a dump, decoded.
	MaxDumpFileSize = maxDGSize
)

// Dump is a chip as an app read it, in the JSON of CONTRACT.md
// (`openmitid testdata passport`):
//
//	{"mrz": "...", "files": {"DG1": "<base64>", "DG2": ..., "SOD": ...}, "aa_key": "<base64>", "ca_key": "<base64>"}
//
// Files are keyed "DG1" to "DG16" and "SOD"; any may be missing where a chip
// lacks it. AAKey is the active authentication private key and CAKey the
// chip authentication private key (the one of DG14), both PKCS #8 DER,
// which only synthetic passports carry (see [ChipKey]).
type Dump struct {
	MRZ   string
	Files map[string][]byte
	AAKey []byte
	CAKey []byte
}

type dumpJSON struct {
	MRZ   string            `json:"mrz"`
	Files map[string]string `json:"files"`
	AAKey string            `json:"aa_key,omitempty"`
	CAKey string            `json:"ca_key,omitempty"`
}

// ParseDump reads a passport dump, refusing more than [MaxDumpSize] bytes
// before reading them all, a file of more than [MaxDumpFileSize] bytes
// before decoding it, file names other than DG1 to DG16 and SOD, and bad
// base64.
func ParseDump(r io.Reader) (*Dump, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDumpSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedDump, err)
	}
	if len(b) > MaxDumpSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrMalformedDump, MaxDumpSize)
	}
	var j dumpJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedDump, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformedDump)
	}
	d := &Dump{MRZ: j.MRZ, Files: map[string][]byte{}}
	for name, v := range j.Files {
		if name != "SOD" {
			if _, err := ParseDGName(name); err != nil {
				return nil, fmt.Errorf("%w: file %q is neither DG1 to DG16 nor SOD", ErrMalformedDump, name)
			}
		}
		if base64.StdEncoding.DecodedLen(len(v)) > MaxDumpFileSize+2 {
			return nil, fmt.Errorf("%w: file %s is more than %d bytes", ErrMalformedDump, name, MaxDumpFileSize)
		}
		f, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%w: file %s is not base64: %v", ErrMalformedDump, name, err)
		}
		if len(f) > MaxDumpFileSize {
			return nil, fmt.Errorf("%w: file %s is more than %d bytes", ErrMalformedDump, name, MaxDumpFileSize)
		}
		d.Files[name] = f
	}
	if j.AAKey != "" {
		if d.AAKey, err = base64.StdEncoding.DecodeString(j.AAKey); err != nil {
			return nil, fmt.Errorf("%w: aa_key is not base64: %v", ErrMalformedDump, err)
		}
	}
	if j.CAKey != "" {
		if d.CAKey, err = base64.StdEncoding.DecodeString(j.CAKey); err != nil {
			return nil, fmt.Errorf("%w: ca_key is not base64: %v", ErrMalformedDump, err)
		}
	}
	return d, nil
}

// Marshal writes the dump as JSON, files in name order.
func (d *Dump) Marshal() ([]byte, error) {
	j := dumpJSON{MRZ: d.MRZ, Files: map[string]string{}}
	for name, f := range d.Files {
		j.Files[name] = base64.StdEncoding.EncodeToString(f)
	}
	if d.AAKey != nil {
		j.AAKey = base64.StdEncoding.EncodeToString(d.AAKey)
	}
	if d.CAKey != nil {
		j.CAKey = base64.StdEncoding.EncodeToString(d.CAKey)
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, err
	}
	if len(b) > MaxDumpSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedDump, len(b), MaxDumpSize)
	}
	return append(b, '\n'), nil
}

// DataGroups returns the dump's data group files keyed by number, for
// [PassiveAuthenticate].
func (d *Dump) DataGroups() map[DG][]byte {
	out := map[DG][]byte{}
	for name, f := range d.Files {
		if dg, err := ParseDGName(name); err == nil {
			out[dg] = f
		}
	}
	return out
}

// SOD returns the dump's SOD file, or nil.
func (d *Dump) SOD() []byte { return d.Files["SOD"] }

// Names returns the dump's file names, sorted.
func (d *Dump) Names() []string {
	names := make([]string, 0, len(d.Files))
	for n := range d.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
