package proofing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/openmitid/openmitid/internal/emrtd"
)

// ErrChipAuthenticationUnavailable is returned by
// [Service.StartChipAuthentication] when the service has no chip
// authentication key (Config.ChipAuthenticationKey).
var ErrChipAuthenticationUnavailable = errors.New("proofing: chip authentication is not configured")

// ErrNoChipAuthentication is returned, wrapped, by
// [Service.StartChipAuthentication] for a DG14 that offers no chip
// authentication this service can run.
var ErrNoChipAuthentication = errors.New("proofing: DG14 offers no chip authentication this server runs")

// MaxChipAuthenticationBody bounds the body of the chip authentication
// request: DG14 in base64 and the JSON around it.
const MaxChipAuthenticationBody = (emrtd.MaxDumpFileSize+2)/3*4 + 1<<10

// maxCAResponse bounds the chip's answer in a submission: 16 bytes of DG1
// encrypted, the status and the MAC take under 64 bytes.
const maxCAResponse = 512

// ChipAuthenticationRequest is what the app sends the chip to run chip
// authentication (ICAO 9303 part 11, section 6.2) for a case: the data of
// MSE:Set (and, for AES, of GENERAL AUTHENTICATE) under its BAC or PACE
// session, then Command under the new keys. The chip's raw answer to
// Command goes into the submission (Submission.ChipAuthentication).
type ChipAuthenticationRequest struct {
	Protocol            asn1.ObjectIdentifier // id-CA-ECDH-*
	KeyID               *big.Int              // nil when DG14 names none
	TerminalPublicKey   []byte                // the ephemeral public key, an uncompressed point
	MSE                 []byte                // MSE:Set KAT (3DES) or MSE:Set AT (AES) data
	GeneralAuthenticate []byte                // GENERAL AUTHENTICATE data for AES; nil for 3DES
	Command             []byte                // the protected READ BINARY of DG1
}

// StartChipAuthentication makes the terminal's side of chip authentication
// for the case that the token opens, with the chip's DG14, while the case
// waits for its passport and its challenge lives. The terminal's ephemeral
// key is derived from the service's chip authentication key, the case, its
// challenge and the chip's key, so that nothing is stored and [Service.SubmitPassport]
// derives it again; the app never learns it. DG14 is not trusted here:
// passive authentication checks it with the submission, and a DG14 other
// than the one submitted leads to other keys and a refusal.
func (s *Service) StartChipAuthentication(ctx context.Context, id, token string, dg14 []byte) (*ChipAuthenticationRequest, error) {
	if s.caKey == nil {
		return nil, ErrChipAuthenticationUnavailable
	}
	c, err := s.open(ctx, id, token)
	if err != nil {
		return nil, err
	}
	if c.State != Started {
		return nil, ErrAlreadySubmitted
	}
	if now := s.now().UTC(); !now.Before(c.ChallengeExpiresAt) {
		return nil, refuse(RefuseChallengeExpired, "chip authentication asked at %s; the challenge expired at %s",
			now.Format(time.RFC3339), c.ChallengeExpiresAt.Format(time.RFC3339))
	}
	var challenge [emrtd.ChallengeSize]byte
	copy(challenge[:], c.Challenge)
	run, ca, err := s.chipAuthentication(c.ID, challenge, dg14)
	if err != nil {
		return nil, err
	}
	return &ChipAuthenticationRequest{Protocol: ca.Protocol(), KeyID: ca.KeyID(), TerminalPublicKey: run.TerminalPublicKey(),
		MSE: run.MSE(), GeneralAuthenticate: run.GeneralAuthenticate(), Command: run.Command()}, nil
}

// chipAuthentication starts the case's run for dg14.
func (s *Service) chipAuthentication(caseID string, challenge [emrtd.ChallengeSize]byte, dg14 []byte) (*emrtd.ChipAuthenticationRun, *emrtd.ChipAuthentication, error) {
	ca, err := emrtd.NewChipAuthentication(dg14)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrNoChipAuthentication, err)
	}
	run, err := ca.Terminal(s.terminalSeed(caseID, challenge, ca))
	if err != nil {
		return nil, nil, err
	}
	return run, ca, nil
}

// terminalSeed is HMAC-SHA256 under the chip authentication key, in
// counter mode, over a label, the case, its challenge, the curve and the
// chip's public key, as many bytes as the curve's scalar needs
// ([emrtd.ChipAuthentication.Terminal] reduces them). A case's challenge is
// spent by its one submission, so a terminal key serves one run. The chip's
// key is in because the DG14 asked about is the app's word until the
// submission's passive authentication: with it, every key an app makes up
// meets another terminal key, and the endpoint is no static Diffie-Hellman
// oracle on the key that will check the genuine chip.
func (s *Service) terminalSeed(caseID string, challenge [emrtd.ChallengeSize]byte, ca *emrtd.ChipAuthentication) []byte {
	curve, err := asn1.Marshal(ca.CurveOID())
	if err != nil {
		// The OID is one of ecmath's constants, all valid.
		panic(err)
	}
	var out []byte
	for counter := uint32(1); len(out) < ca.ScalarSeedSize(); counter++ {
		m := hmac.New(sha256.New, s.caKey)
		m.Write([]byte("openmitid chip authentication\x00"))
		m.Write(binary.BigEndian.AppendUint32(nil, counter))
		m.Write(binary.BigEndian.AppendUint16(nil, uint16(len(caseID))))
		m.Write([]byte(caseID))
		m.Write(challenge[:])
		m.Write(curve)
		m.Write(ca.ChipPublicKey())
		out = m.Sum(out)
	}
	return out
}
