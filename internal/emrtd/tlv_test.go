package emrtd_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
)

func TestTLV(t *testing.T) {
	long := bytes.Repeat([]byte{0xAB}, 300)
	enc := emrtd.AppendTLV(nil, 0x5F2E, long)
	if !bytes.HasPrefix(enc, []byte{0x5F, 0x2E, 0x82, 0x01, 0x2C}) {
		t.Fatalf("AppendTLV header % X", enc[:5])
	}
	got, err := emrtd.ParseTLV(enc)
	if err != nil || got.Tag != 0x5F2E || !bytes.Equal(got.Value, long) || got.Constructed() {
		t.Fatalf("ParseTLV = %+v, %v", got, err)
	}
	nested := emrtd.AppendTLV(nil, 0x75, emrtd.AppendTLV(nil, 0x7F61, emrtd.AppendTLV(nil, 0x02, []byte{1})))
	outer, err := emrtd.ParseTLV(nested)
	if err != nil || !outer.Constructed() {
		t.Fatal(err)
	}
	kids, err := outer.Children()
	if err != nil || len(kids) != 1 || kids[0].Tag != 0x7F61 {
		t.Fatalf("Children = %+v, %v", kids, err)
	}
	if _, err := got.Children(); !errors.Is(err, emrtd.ErrTLV) {
		t.Errorf("Children of a primitive object: %v", err)
	}
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536} {
		b := emrtd.AppendTLV(nil, 0x04, make([]byte, n))
		if got, err := emrtd.ParseTLV(b); err != nil || len(got.Value) != n {
			t.Errorf("length %d: %v", n, err)
		}
	}
}

func TestTLVRejects(t *testing.T) {
	deep := []byte{0x04, 0x00}
	for i := 0; i < emrtd.MaxTLVDepth+2; i++ {
		deep = emrtd.AppendTLV(nil, 0x30, deep)
	}
	tests := map[string][]byte{
		"empty":               {},
		"no length":           {0x61},
		"length past input":   {0x61, 0x05, 0x01},
		"long length past":    {0x61, 0x82, 0xFF, 0xFF, 0x00},
		"indefinite length":   {0x61, 0x80, 0x00, 0x00},
		"five length bytes":   {0x61, 0x85, 0, 0, 0, 0, 1, 0},
		"length bytes cut":    {0x61, 0x82, 0x01},
		"tag cut":             {0x5F},
		"four byte tag":       {0x5F, 0x81, 0x81, 0x01, 0x00},
		"trailing bytes":      {0x04, 0x00, 0x00},
		"zero tag":            {0x00, 0x00},
		"four gigabyte claim": {0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF},
	}
	for name, b := range tests {
		got, err := emrtd.ParseTLV(b)
		if !errors.Is(err, emrtd.ErrTLV) || got.Tag != 0 || got.Value != nil {
			t.Errorf("%s: ParseTLV = %+v, %v; want ErrTLV alone", name, got, err)
		}
	}
	// Nesting beyond MaxTLVDepth is refused when walked.
	node, err := emrtd.ParseTLV(deep)
	for depth := 0; err == nil; depth++ {
		var kids []emrtd.TLV
		kids, err = node.Children()
		if err == nil {
			node = kids[0]
		}
		if depth > emrtd.MaxTLVDepth+1 {
			t.Fatal("nesting not bounded")
		}
	}
	if !errors.Is(err, emrtd.ErrTLV) || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("deep nesting: %v", err)
	}
	// Too many siblings.
	many := bytes.Repeat([]byte{0x04, 0x00}, 2000)
	if got, err := emrtd.ParseTLVs(many); !errors.Is(err, emrtd.ErrTLV) || got != nil {
		t.Errorf("2000 siblings: %d objects, %v", len(got), err)
	}
}
