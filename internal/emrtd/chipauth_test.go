package emrtd_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"

	"github.com/openmitid/openmitid/internal/emrtd"
	"github.com/openmitid/openmitid/internal/emrtd/testchip"
)

// caPassport makes a chip-authentication-only passport.
func caPassport(t testing.TB, ca testchip.ChipAuthentication, curve testchip.Algorithm, clone bool) *testchip.Passport {
	t.Helper()
	p, err := testchip.NewPassport(testchip.Options{
		Surname: "Jensen", GivenNames: "Karen", ChipAuthentication: ca, CACurve: curve,
		NoActiveAuthentication: true, CloneChip: clone,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Dump.Files["DG15"]; ok {
		t.Fatal("a chip-authentication-only passport has DG15")
	}
	return p
}

func seed(label string) []byte {
	a := sha256.Sum256([]byte(label))
	b := sha256.Sum256(a[:])
	return append(a[:], b[:]...)
}

// startRun is the terminal's side up to the command, as the server does it.
func startRun(t testing.TB, p *testchip.Passport, s []byte) *emrtd.ChipAuthenticationRun {
	t.Helper()
	ca, err := emrtd.NewChipAuthentication(p.Dump.Files["DG14"])
	if err != nil {
		t.Fatal(err)
	}
	run, err := ca.Terminal(s)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestChipAuthenticationRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ca       testchip.ChipAuthentication
		curve    testchip.Algorithm
		protocol string
	}{
		{testchip.CA3DES, testchip.ECDSAP256, "0.4.0.127.0.7.2.2.3.2.1"},
		{testchip.CA3DES, testchip.BrainpoolP256r1, "0.4.0.127.0.7.2.2.3.2.1"},
		{testchip.CAAES128, testchip.ECDSAP256, "0.4.0.127.0.7.2.2.3.2.2"},
		{testchip.CAAES128, testchip.BrainpoolP256r1, "0.4.0.127.0.7.2.2.3.2.2"},
	} {
		t.Run(string(tc.ca)+"/"+string(tc.curve), func(t *testing.T) {
			p := caPassport(t, tc.ca, tc.curve, false)
			ca, err := emrtd.NewChipAuthentication(p.Dump.Files["DG14"])
			if err != nil {
				t.Fatal(err)
			}
			if got := ca.Protocol().String(); got != tc.protocol {
				t.Errorf("protocol %s, want %s", got, tc.protocol)
			}
			if ca.KeyID() == nil || ca.KeyID().Int64() != 1 {
				t.Errorf("key id %v, want 1", ca.KeyID())
			}
			run, err := ca.Terminal(seed("round trip"))
			if err != nil {
				t.Fatal(err)
			}
			if (run.GeneralAuthenticate() == nil) != (tc.ca == testchip.CA3DES) {
				t.Errorf("GENERAL AUTHENTICATE data %x for %s", run.GeneralAuthenticate(), tc.ca)
			}
			resp, err := p.AnswerChipAuthentication(run.MSE(), run.GeneralAuthenticate(), run.Command())
			if err != nil {
				t.Fatal(err)
			}
			if err := run.VerifyResponse(resp, p.Dump.Files["DG1"]); err != nil {
				t.Fatalf("VerifyResponse: %v", err)
			}
			// The same seed gives the same run: the server is stateless.
			again := startRun(t, p, seed("round trip"))
			if !bytes.Equal(again.Command(), run.Command()) || !bytes.Equal(again.TerminalPublicKey(), run.TerminalPublicKey()) {
				t.Error("the same seed gave another run")
			}
			if err := again.VerifyResponse(resp, p.Dump.Files["DG1"]); err != nil {
				t.Errorf("a recomputed run refuses the response: %v", err)
			}
		})
	}
}

func TestChipAuthenticationRefusals(t *testing.T) {
	for _, ca := range []testchip.ChipAuthentication{testchip.CA3DES, testchip.CAAES128} {
		p := caPassport(t, ca, testchip.BrainpoolP256r1, false)
		dg1 := p.Dump.Files["DG1"]
		answer := func(run *emrtd.ChipAuthenticationRun, command []byte) []byte {
			resp, err := p.AnswerChipAuthentication(run.MSE(), run.GeneralAuthenticate(), command)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		for _, tc := range []struct {
			name string
			// resp makes the chip's answer for the run that then checks it.
			resp func(run *emrtd.ChipAuthenticationRun) []byte
			dg1  []byte
			says string
		}{
			{"tampered MAC", func(run *emrtd.ChipAuthenticationRun) []byte {
				r := answer(run, run.Command())
				r[len(r)-3] ^= 1
				return r
			}, dg1, "MAC"},
			{"tampered data", func(run *emrtd.ChipAuthenticationRun) []byte {
				r := answer(run, run.Command())
				r[4] ^= 1
				return r
			}, dg1, "MAC"},
			{"an answer to another run", func(run *emrtd.ChipAuthenticationRun) []byte {
				other := startRun(t, p, seed("other"))
				return answer(other, other.Command())
			}, dg1, "MAC"},
			{"wrong status word: the chip refuses a tampered command", func(run *emrtd.ChipAuthenticationRun) []byte {
				c := run.Command()
				c[3] = 0x01 // P2: another offset, which the MAC does not cover; the chip answers 6988 under the keys
				return answer(run, c)
			}, dg1, "status 6988"},
			{"DG1 differs", func(run *emrtd.ChipAuthenticationRun) []byte {
				return answer(run, run.Command())
			}, append([]byte{0x61, 0x5C}, bytes.Repeat([]byte{'X'}, 20)...), "not the start of DG1"},
			{"an answer under the BAC session's keys", func(run *emrtd.ChipAuthenticationRun) []byte {
				// What a chip that ignored MSE:Set would send: the old
				// session's keys, at the old session's counter.
				var enc, mac [16]byte
				sm := emrtd.NewSecureMessaging(emrtd.BACKeys{Enc: enc, MAC: mac}, 41)
				return oldResponse(t, sm, dg1[:16])
			}, dg1, "MAC"},
			{"no answer", func(run *emrtd.ChipAuthenticationRun) []byte { return nil }, dg1, "response of 0 bytes"},
			{"the status word alone", func(run *emrtd.ChipAuthenticationRun) []byte { return []byte{0x90, 0x00} }, dg1, "with a two-byte status"},
			{"status in clear differs", func(run *emrtd.ChipAuthenticationRun) []byte {
				r := answer(run, run.Command())
				r[len(r)-1] = 0x01
				return r
			}, dg1, "in clear differs"},
		} {
			t.Run(string(ca)+"/"+tc.name, func(t *testing.T) {
				run := startRun(t, p, seed("refusals"))
				err := run.VerifyResponse(tc.resp(startRun(t, p, seed("refusals"))), tc.dg1)
				if !errors.Is(err, emrtd.ErrChipAuthentication) || !strings.Contains(err.Error(), tc.says) {
					t.Errorf("VerifyResponse = %v, want ErrChipAuthentication saying %q", err, tc.says)
				}
			})
		}
		t.Run(string(ca)+"/a cloned chip", func(t *testing.T) {
			clone := caPassport(t, ca, testchip.BrainpoolP256r1, true)
			if !bytes.Equal(clone.Dump.Files["DG14"], p.Dump.Files["DG14"]) {
				t.Fatal("the clone's DG14 differs from the original's")
			}
			run := startRun(t, clone, seed("clone"))
			resp, err := clone.AnswerChipAuthentication(run.MSE(), run.GeneralAuthenticate(), run.Command())
			if err != nil {
				t.Fatal(err)
			}
			if err := run.VerifyResponse(resp, dg1); !errors.Is(err, emrtd.ErrChipAuthentication) {
				t.Errorf("VerifyResponse = %v, want ErrChipAuthentication", err)
			}
		})
	}
}

func TestNewChipAuthenticationRefuses(t *testing.T) {
	aa, err := testchip.NewPassport(testchip.Options{Surname: "Jensen", AAAlgorithm: testchip.ECDSAP256})
	if err != nil {
		t.Fatal(err)
	}
	// Default passports offer AES-128 chip authentication beside DG15.
	if _, err := emrtd.NewChipAuthentication(aa.Dump.Files["DG14"]); err != nil {
		t.Errorf("the default DG14: %v", err)
	}
	dh, err := emrtd.EncodeDG14(&emrtd.SecurityInfos{ChipAuthentication: []emrtd.ChipAuthenticationInfo{
		{Protocol: asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 1, 2}, Version: 1}, // id-CA-DH-AES-CBC-CMAC-128
	}})
	if err != nil {
		t.Fatal(err)
	}
	onlyAA, _ := emrtd.EncodeDG14(&emrtd.SecurityInfos{ActiveAuthentication: &emrtd.ActiveAuthenticationInfo{Version: 1, Hash: 5}})
	for _, tc := range []struct {
		name string
		dg14 []byte
		want error
	}{
		{"not DG14", []byte{0x61, 0x00}, emrtd.ErrLDS},
		{"no chip authentication", onlyAA, emrtd.ErrChipAuthentication},
		{"Diffie-Hellman", dh, emrtd.ErrUnsupportedAlgorithm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, err := emrtd.NewChipAuthentication(tc.dg14)
			if !errors.Is(err, tc.want) || ca != nil {
				t.Errorf("NewChipAuthentication = %v, %v; want nil, %v", ca, err, tc.want)
			}
		})
	}
}

// FuzzChipAuthenticationResponse feeds the response parser anything: it
// must never accept an answer other than the chip's, and every refusal
// wraps ErrChipAuthentication. Run it with
// go test -run '^$' -fuzz '^FuzzChipAuthenticationResponse$' -fuzztime 60s ./internal/emrtd
func FuzzChipAuthenticationResponse(f *testing.F) {
	type chip struct {
		p       *testchip.Passport
		genuine []byte
	}
	chips := map[string]chip{}
	for _, ca := range []testchip.ChipAuthentication{testchip.CA3DES, testchip.CAAES128} {
		p := caPassport(f, ca, testchip.ECDSAP256, false)
		run := startRun(f, p, seed("fuzz"))
		resp, err := p.AnswerChipAuthentication(run.MSE(), run.GeneralAuthenticate(), run.Command())
		if err != nil {
			f.Fatal(err)
		}
		chips[string(ca)] = chip{p, resp}
		f.Add(string(ca), resp)
	}
	f.Add("3des", []byte{0x99, 0x02, 0x90, 0x00, 0x8E, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x90, 0x00})
	f.Add("aes128", []byte{0x87, 0x11, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99, 0x02, 0x90, 0x00, 0x8E, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x90, 0x00})
	f.Fuzz(func(t *testing.T, ca string, resp []byte) {
		c, ok := chips[ca]
		if !ok {
			return
		}
		err := startRun(t, c.p, seed("fuzz")).VerifyResponse(resp, c.p.Dump.Files["DG1"])
		if err == nil && !bytes.Equal(resp, c.genuine) {
			t.Fatalf("accepted %x, which is not the chip's answer %x", resp, c.genuine)
		}
		if err != nil && !errors.Is(err, emrtd.ErrChipAuthentication) {
			t.Fatalf("error %v does not wrap ErrChipAuthentication", err)
		}
	})
}

// oldResponse makes a response as sm's chip would, with the chip's side
// of sm.go's secure messaging.
func oldResponse(t *testing.T, sm *emrtd.SecureMessaging, data []byte) []byte {
	t.Helper()
	return emrtd.ProtectResponseBAC(sm, data, 0x9000)
}

// TestChipAuthenticationAES192And256: the longer AES keys, which testchip
// does not make, with a DG14 written here; their KDF is SHA-256.
func TestChipAuthenticationAES192And256(t *testing.T) {
	d := sha256.Sum256([]byte("chip authentication key"))
	key, err := emrtd.NewECChipKey("brainpoolP256r1", d[:])
	if err != nil {
		t.Fatal(err)
	}
	dg1 := []byte("\x61\x5b\x5f\x1f\x58P<DNKJENSEN<<KAREN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<")
	for _, last := range []int{3, 4} {
		protocol := asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2, last}
		t.Run(protocol.String(), func(t *testing.T) {
			dg14, err := emrtd.EncodeDG14(&emrtd.SecurityInfos{
				ChipAuthentication: []emrtd.ChipAuthenticationInfo{{Protocol: protocol, Version: 1}},
				ChipAuthenticationKeys: []emrtd.ChipAuthenticationPublicKeyInfo{
					{Protocol: asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2}, PublicKey: key.Public().MarshalPKIX(false)},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			ca, err := emrtd.NewChipAuthentication(dg14)
			if err != nil {
				t.Fatal(err)
			}
			if ca.KeyID() != nil || !ca.Protocol().Equal(protocol) {
				t.Errorf("key id %v, protocol %v", ca.KeyID(), ca.Protocol())
			}
			run, err := ca.Terminal(seed("aes"))
			if err != nil {
				t.Fatal(err)
			}
			// 80 0A and the OID's 10 content bytes; no 84, as DG14 names no key.
			if mse := run.MSE(); len(mse) != 12 || mse[0] != 0x80 || mse[1] != 10 {
				t.Errorf("MSE:Set AT %x, want the protocol alone", mse)
			}
			resp, err := emrtd.AnswerChipAuthentication(key, dg14, run.MSE(), run.GeneralAuthenticate(), run.Command(), dg1)
			if err != nil {
				t.Fatal(err)
			}
			if err := run.VerifyResponse(resp, dg1); err != nil {
				t.Fatal(err)
			}
		})
	}
}
