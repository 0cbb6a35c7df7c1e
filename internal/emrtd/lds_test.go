package emrtd_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
)

func TestDG1(t *testing.T) {
	m, err := emrtd.ParseMRZ(specimenTD3)
	if err != nil {
		t.Fatal(err)
	}
	dg1, err := emrtd.EncodeDG1(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(dg1, []byte{0x61, 0x5B, 0x5F, 0x1F, 0x58}) {
		t.Errorf("DG1 starts % X, want 61 5B 5F 1F 58 (part 10, section 4.7.1)", dg1[:5])
	}
	back, err := emrtd.ParseDG1(dg1)
	if err != nil || *back != *m {
		t.Fatalf("ParseDG1 = %+v, %v", back, err)
	}
	tests := map[string][]byte{
		"empty":        nil,
		"wrong tag":    append([]byte{0x62}, dg1[1:]...),
		"no 5F1F":      emrtd.AppendTLV(nil, 0x61, emrtd.AppendTLV(nil, 0x5F20, []byte(strings.ReplaceAll(specimenTD3, "\n", "")))),
		"short MRZ":    emrtd.AppendTLV(nil, 0x61, emrtd.AppendTLV(nil, 0x5F1F, []byte("P<UTO"))),
		"trailing":     append(append([]byte(nil), dg1...), 0),
		"truncated":    dg1[:len(dg1)-1],
		"bad checksum": bytes.Replace(dg1, []byte("L898902C36"), []byte("L898902C37"), 1),
	}
	for name, b := range tests {
		m, err := emrtd.ParseDG1(b)
		if m != nil || !(errors.Is(err, emrtd.ErrLDS) || errors.Is(err, emrtd.ErrMRZ)) {
			t.Errorf("%s: ParseDG1 = %v, %v", name, m, err)
		}
	}
}

func TestDG2(t *testing.T) {
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{1}, 500)...)
	jp2 := append([]byte{0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A}, bytes.Repeat([]byte{2}, 300)...)
	j2k := append([]byte{0xFF, 0x4F, 0xFF, 0x51}, bytes.Repeat([]byte{3}, 100)...)
	for _, p := range []emrtd.Portrait{
		{Format: emrtd.ImageJPEG, Width: 480, Height: 640, Image: jpeg},
		{Format: emrtd.ImageJPEG2000, Width: 240, Height: 320, Image: jp2},
		{Format: emrtd.ImageJPEG2000, Width: 1, Height: 1, Image: j2k},
	} {
		dg2, err := emrtd.EncodeDG2(&p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := emrtd.ParseDG2(dg2)
		if err != nil || got.Format != p.Format || got.Width != p.Width || got.Height != p.Height || !bytes.Equal(got.Image, p.Image) {
			t.Errorf("ParseDG2(EncodeDG2(%v)) = %+v, %v", p.Format, got, err)
		}
	}
	if _, err := emrtd.EncodeDG2(&emrtd.Portrait{Format: emrtd.ImageJPEG2000, Width: 1, Height: 1, Image: jpeg}); !errors.Is(err, emrtd.ErrLDS) {
		t.Errorf("EncodeDG2 with a format its bytes contradict: %v", err)
	}
	good, _ := emrtd.EncodeDG2(&emrtd.Portrait{Format: emrtd.ImageJPEG, Width: 2, Height: 2, Image: jpeg})
	record := good[bytes.Index(good, []byte("FAC\x00")):]
	wrap := func(bdbTag uint32, rec []byte, count byte) []byte {
		bit := emrtd.AppendTLV(nil, 0xA1, []byte{0x80, 0x02, 0x01, 0x01})
		bit = emrtd.AppendTLV(bit, bdbTag, rec)
		group := emrtd.AppendTLV(nil, 0x02, []byte{count})
		group = emrtd.AppendTLV(group, 0x7F60, bit)
		return emrtd.AppendTLV(nil, 0x75, emrtd.AppendTLV(nil, 0x7F61, group))
	}
	if p, err := emrtd.ParseDG2(wrap(0x7F2E, record, 1)); err != nil || p.Format != emrtd.ImageJPEG {
		t.Errorf("7F2E block holding a plain record: %+v, %v", p, err)
	}
	mut := func(i int, v byte) []byte { r := append([]byte(nil), record...); r[i] = v; return r }
	tests := map[string][]byte{
		"wrong outer tag":       append([]byte{0x76}, good[1:]...),
		"count 2, one instance": wrap(0x5F2E, record, 2),
		"count 0":               wrap(0x5F2E, record, 0),
		"no data block":         wrap(0x5F30, record, 1),
		"not FAC":               wrap(0x5F2E, mut(0, 'X'), 1),
		"version 020":           wrap(0x5F2E, mut(5, '2'), 1),
		"record length past":    wrap(0x5F2E, mut(8, 0xFF), 1),
		"facial length past":    wrap(0x5F2E, mut(14, 0xFF), 1),
		"feature points past":   wrap(0x5F2E, mut(18, 0xFF), 1),
		"no images":             wrap(0x5F2E, mut(13, 0), 1),
		"PNG image":             wrap(0x5F2E, mut(46, 0x89), 1),
		"record cut":            wrap(0x5F2E, record[:30], 1),
		"two blocks":            emrtd.AppendTLV(nil, 0x75, emrtd.AppendTLV(nil, 0x7F61, append(emrtd.AppendTLV(nil, 0x02, []byte{1}), emrtd.AppendTLV(nil, 0x7F60, append(emrtd.AppendTLV(nil, 0x5F2E, record), emrtd.AppendTLV(nil, 0x5F2E, record)...))...))),
		"oversized":             make([]byte, 300<<10),
	}
	for name, b := range tests {
		p, err := emrtd.ParseDG2(b)
		if p != nil || !errors.Is(err, emrtd.ErrLDS) {
			t.Errorf("%s: ParseDG2 = %v, %v; want ErrLDS alone", name, p, err)
		}
	}
}

func TestDG14(t *testing.T) {
	ca, _ := emrtd.NewECChipKey("brainpoolP256r1", []byte{5})
	in := &emrtd.SecurityInfos{
		ActiveAuthentication: &emrtd.ActiveAuthenticationInfo{Version: 1, Hash: crypto.SHA384},
		ChipAuthentication:   []emrtd.ChipAuthenticationInfo{{Protocol: asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 4}, Version: 1, KeyID: big.NewInt(7)}},
		ChipAuthenticationKeys: []emrtd.ChipAuthenticationPublicKeyInfo{
			{Protocol: asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2}, PublicKey: ca.Public().MarshalPKIX(true), KeyID: big.NewInt(7)},
		},
	}
	dg14, err := emrtd.EncodeDG14(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := emrtd.ParseDG14(dg14)
	if err != nil {
		t.Fatal(err)
	}
	if out.ActiveAuthentication.Hash != crypto.SHA384 || len(out.ChipAuthentication) != 1 || out.ChipAuthentication[0].KeyID.Int64() != 7 ||
		len(out.ChipAuthenticationKeys) != 1 || !bytes.Equal(out.ChipAuthenticationKeys[0].PublicKey, in.ChipAuthenticationKeys[0].PublicKey) {
		t.Errorf("ParseDG14 = %+v", out)
	}
	if k, err := emrtd.ParsePublicKey(out.ChipAuthenticationKeys[0].PublicKey); err != nil || !k.Equal(ca.Public()) {
		t.Errorf("chip authentication key: %v, %v", k, err)
	}
	for name, b := range map[string][]byte{
		"empty":         nil,
		"wrong tag":     append([]byte{0x6F}, dg14[1:]...),
		"not a SET":     emrtd.AppendTLV(nil, 0x6E, []byte{0x30, 0x00}),
		"garbage entry": emrtd.AppendTLV(nil, 0x6E, []byte{0x31, 0x02, 0x04, 0x00}),
	} {
		if si, err := emrtd.ParseDG14(b); si != nil || !errors.Is(err, emrtd.ErrLDS) {
			t.Errorf("%s: ParseDG14 = %v, %v", name, si, err)
		}
	}
}

func TestDG15Rejects(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ok := emrtd.EncodeDG15(emrtd.NewRSAPublicKey(&small.PublicKey), false)
	if k, err := emrtd.ParseDG15(ok); err != nil || k.RSA().N.Cmp(small.N) != 0 {
		t.Fatalf("ParseDG15 = %v, %v", k, err)
	}
	tiny := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 511), E: 65537}
	tiny.N.Add(tiny.N, big.NewInt(1))
	even := &rsa.PublicKey{N: small.N, E: 65536}
	p256, _ := emrtd.NewECChipKey("P-256", []byte{3})
	explicit := p256.Public().MarshalPKIX(true)
	// Change one byte of the explicit curve's b coefficient: a curve of the
	// key's own choosing, which must be refused.
	i := bytes.Index(explicit, []byte{0x04, 0x20, 0x5A, 0xC6})
	weird := append([]byte(nil), explicit...)
	weird[i+5] ^= 1
	pt := p256.Public().MarshalPKIX(false)
	offCurve := append([]byte(nil), pt...)
	offCurve[len(offCurve)-1] ^= 1
	tests := map[string]struct {
		b    []byte
		want error
	}{
		"RSA-512":               {emrtd.EncodeDG15(emrtd.NewRSAPublicKey(tiny), false), emrtd.ErrUnsupportedKey},
		"even exponent":         {emrtd.EncodeDG15(emrtd.NewRSAPublicKey(even), false), emrtd.ErrUnsupportedKey},
		"unknown explicit":      {emrtd.AppendTLV(nil, 0x6F, weird), emrtd.ErrUnsupportedKey},
		"point off the curve":   {emrtd.AppendTLV(nil, 0x6F, offCurve), emrtd.ErrMalformedKey},
		"not SPKI":              {emrtd.AppendTLV(nil, 0x6F, []byte{0x30, 0x00}), emrtd.ErrMalformedKey},
		"DSA":                   {emrtd.AppendTLV(nil, 0x6F, mustSPKI(t, asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1})), emrtd.ErrUnsupportedKey},
		"implicitlyCA":          {emrtd.AppendTLV(nil, 0x6F, mustSPKI(t, asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, asn1.NullRawValue)), emrtd.ErrUnsupportedKey},
		"unknown named curve":   {emrtd.AppendTLV(nil, 0x6F, mustSPKI(t, asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, asn1.ObjectIdentifier{1, 3, 132, 0, 10})), emrtd.ErrUnsupportedKey},
		"wrong tag":             {append([]byte{0x6E}, ok[1:]...), emrtd.ErrLDS},
		"trailing data in file": {append(append([]byte(nil), ok...), 0), emrtd.ErrLDS},
	}
	for name, tt := range tests {
		k, err := emrtd.ParseDG15(tt.b)
		if k != nil || !errors.Is(err, tt.want) {
			t.Errorf("%s: ParseDG15 = %v, %v; want %v alone", name, k, err, tt.want)
		}
	}
	// The same key, named or explicit, is the same key.
	named, _ := emrtd.ParsePublicKey(pt)
	expl, _ := emrtd.ParsePublicKey(explicit)
	if !named.Equal(expl) || named.ExplicitParameters() || !expl.ExplicitParameters() {
		t.Errorf("named %v and explicit %v differ", named, expl)
	}
}

// mustSPKI makes a SubjectPublicKeyInfo with the given algorithm and
// parameters and a dummy key.
func mustSPKI(t *testing.T, oid asn1.ObjectIdentifier, params ...any) []byte {
	t.Helper()
	type algID struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	a := algID{Algorithm: oid}
	if len(params) > 0 {
		p, err := asn1.Marshal(params[0])
		if err != nil {
			t.Fatal(err)
		}
		a.Parameters = asn1.RawValue{FullBytes: p}
	}
	der, err := asn1.Marshal(struct {
		Algorithm algID
		Key       asn1.BitString
	}{a, asn1.BitString{Bytes: []byte{4, 1, 2}, BitLength: 24}})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseDGName(t *testing.T) {
	for _, ok := range []string{"DG1", "DG2", "DG14", "DG16"} {
		if dg, err := emrtd.ParseDGName(ok); err != nil || dg.String() != ok {
			t.Errorf("ParseDGName(%s) = %v, %v", ok, dg, err)
		}
	}
	for _, bad := range []string{"", "DG0", "DG17", "DG01", "dg1", "DG+1", "SOD", "DG 1"} {
		if _, err := emrtd.ParseDGName(bad); !errors.Is(err, emrtd.ErrLDS) {
			t.Errorf("ParseDGName(%q) accepted", bad)
		}
	}
}
