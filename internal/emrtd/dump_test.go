package emrtd_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
)

func TestDumpRoundTrip(t *testing.T) {
	d := &emrtd.Dump{MRZ: specimenTD3, Files: map[string][]byte{"DG1": {0x61, 0}, "SOD": {0x77, 0}, "DG15": {0x6F, 0}}, AAKey: []byte{1, 2}, CAKey: []byte{3}}
	b, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := emrtd.ParseDump(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if back.MRZ != d.MRZ || !bytes.Equal(back.AAKey, d.AAKey) || !bytes.Equal(back.CAKey, d.CAKey) || !bytes.Equal(back.SOD(), d.Files["SOD"]) ||
		strings.Join(back.Names(), ",") != "DG1,DG15,SOD" || len(back.DataGroups()) != 2 {
		t.Errorf("round trip = %+v", back)
	}
}

// endless is a reader that never ends: ParseDump must stop reading it.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	e.n += len(p)
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestParseDumpRejects(t *testing.T) {
	big := base64.StdEncoding.EncodeToString(make([]byte, emrtd.MaxDumpFileSize+1))
	tests := map[string]string{
		"not JSON":         "mrz",
		"unknown field":    `{"mrz":"","files":{},"extra":1}`,
		"unknown file":     `{"mrz":"","files":{"EF.COM":""}}`,
		"DG0":              `{"mrz":"","files":{"DG0":""}}`,
		"bad base64":       `{"mrz":"","files":{"DG1":"!!"}}`,
		"bad aa_key":       `{"mrz":"","files":{},"aa_key":"!!"}`,
		"bad ca_key":       `{"mrz":"","files":{},"ca_key":"!!"}`,
		"two objects":      `{"mrz":"","files":{}} {}`,
		"file over limit":  fmt.Sprintf(`{"mrz":"","files":{"DG2":%q}}`, big),
		"files not object": `{"mrz":"","files":[]}`,
	}
	for name, in := range tests {
		d, err := emrtd.ParseDump(strings.NewReader(in))
		if d != nil || !errors.Is(err, emrtd.ErrMalformedDump) {
			t.Errorf("%s: ParseDump = %v, %v; want ErrMalformedDump alone", name, d, err)
		}
	}
	r := &endless{}
	if d, err := emrtd.ParseDump(r); d != nil || !errors.Is(err, emrtd.ErrMalformedDump) {
		t.Errorf("endless input: %v, %v", d, err)
	}
	if r.n > emrtd.MaxDumpSize+64<<10 {
		t.Errorf("read %d bytes of an endless input, more than the limit", r.n)
	}
	var _ io.Reader = r
}
