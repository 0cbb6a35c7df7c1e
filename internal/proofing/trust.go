package proofing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/emrtd"
)

// CSCA is a country signing CA certificate in the trust list, as an
// operator imported it (ICAO 9303 part 12, section 4.1).
type CSCA struct {
	Fingerprint string // lower-case hex SHA-256 of DER
	DER         []byte
	Subject     string
	KeyID       string // hex subject key identifier, "" if the certificate has none
	NotBefore   time.Time
	NotAfter    time.Time
	Source      string // where it came from: a file name, a master list and its signer
	ImportedAt  time.Time
}

// Fingerprint returns the lower-case hex SHA-256 of der, as certificates
// are compared with what a state publishes.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// FormatFingerprint writes a fingerprint as states publish them: upper-case
// hex pairs separated by colons.
func FormatFingerprint(fp string) string {
	var b strings.Builder
	for i := 0; i+1 < len(fp); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(fp[i : i+2]))
	}
	return b.String()
}

// CSCAStore keeps the trust list (internal/store).
type CSCAStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// InsertCSCA adds c; it reports false, and changes nothing, for a
	// certificate already in the list (by fingerprint).
	InsertCSCA(ctx context.Context, c CSCA) (bool, error)
	CSCAs(ctx context.Context) ([]CSCA, error)
}

// ImportCSCAs adds certificates to the trust list, all or none, with one
// audit event naming each fingerprint added. It refuses, adding nothing, a
// certificate that is not a CSCA (basic constraints cA, key usage
// keyCertSign; see [emrtd.TrustList.Add]). It returns how many were new.
func ImportCSCAs(ctx context.Context, st CSCAStore, log audit.Log, certs []*emrtd.Certificate, source, actor string, now time.Time) (int, error) {
	var check emrtd.TrustList
	if err := check.Add(certs...); err != nil {
		return 0, err
	}
	added := 0
	err := st.InTx(ctx, func(ctx context.Context) error {
		added = 0
		var fps []string
		for _, c := range certs {
			rec := CSCA{Fingerprint: Fingerprint(c.Raw), DER: c.Raw, Subject: c.Subject, KeyID: hex.EncodeToString(c.SubjectKeyID),
				NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), Source: source, ImportedAt: now.UTC()}
			ok, err := st.InsertCSCA(ctx, rec)
			if err != nil {
				return err
			}
			if ok {
				added++
				fps = append(fps, rec.Fingerprint)
			}
		}
		if added == 0 {
			return nil
		}
		return log.Record(ctx, audit.Event{Actor: actor, Action: "csca.imported",
			Details: map[string]string{"source": source, "count": fmt.Sprint(added), "fingerprints": strings.Join(fps, " ")}})
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// A TrustSource gives the CSCA trust list that passive authentication uses
// now.
type TrustSource interface {
	TrustList(ctx context.Context) (*emrtd.TrustList, error)
}

// Anchors is the server's trust list: the CSCAs imported into the database
// (openmitid admin csca import) and, only in --demo mode, the project's demo
// CSCA, whose private key is public ([emrtd.DemoTrustList]). The list is
// read again at most every [Anchors.Refresh], so a CSCA imported while
// nodes run is used within that time on every node.
type Anchors struct {
	store   CSCAStore
	demo    bool
	now     func() time.Time
	refresh time.Duration

	mu     sync.Mutex
	list   *emrtd.TrustList
	loaded time.Time
}

// NewAnchors returns the trust list over st. demo adds the demo CSCA: pass
// true only for a server started with --demo. now may be nil (time.Now).
func NewAnchors(st CSCAStore, demo bool, now func() time.Time) *Anchors {
	if now == nil {
		now = time.Now
	}
	return &Anchors{store: st, demo: demo, now: now, refresh: time.Minute}
}

// Refresh is how long a loaded list is used before it is read again.
func (a *Anchors) Refresh() time.Duration { return a.refresh }

// TrustList implements [TrustSource]. A certificate in the database that no
// longer parses is skipped (and so distrusted), not fatal: one bad row must
// not stop every enrolment.
func (a *Anchors) TrustList(ctx context.Context) (*emrtd.TrustList, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if a.list != nil && now.Sub(a.loaded) < a.refresh && !now.Before(a.loaded) {
		return a.list, nil
	}
	recs, err := a.store.CSCAs(ctx)
	if err != nil {
		return nil, err
	}
	tl := &emrtd.TrustList{}
	if a.demo {
		demo, err := emrtd.DemoTrustList()
		if err != nil {
			return nil, err
		}
		if err := tl.Add(demo.Certificates()...); err != nil {
			return nil, err
		}
	}
	for _, r := range recs {
		// The import refused certificates that do not parse or are not
		// CSCAs, so one that fails here was altered in the database:
		// distrusting it is the safe side.
		if c, err := emrtd.ParseCertificate(r.DER); err == nil {
			tl.Add(c)
		}
	}
	a.list, a.loaded = tl, now
	return tl, nil
}
