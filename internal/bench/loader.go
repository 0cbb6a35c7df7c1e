package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/authenticator"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/authenticator/otp"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/server"
	"github.com/openmitid/openmitid/internal/store"
)

// LoaderOptions configure [LoadIdentities].
type LoaderOptions struct {
	DSN, KEKFile   string
	Count          int
	Authenticators []string // of "app", "code_display"; both when empty
	Batch          int      // identities per transaction (10,000 when zero)
	Log            io.Writer
}

// LoadIdentities writes opt.Count synthetic identities straight into the
// database, each a person in the demo register with an active identity at
// IAL high, the run's password, and an app and/or a code display at level
// high, as the test tool would make them, but with multi-row INSERTs in big
// transactions. For speed, the password is hashed once per run (with a salt
// of its own) and that hash is stored for every identity; device keys and
// TOTP seeds are derived from the run's seed, so that the returned
// [LoadSpec] lets the bench log in as any of them. Seeds are sealed under the
// KEK as the store requires. It reports progress to opt.Log.
func LoadIdentities(ctx context.Context, opt LoaderOptions) (*LoadSpec, error) {
	if opt.Count < 1 {
		return nil, errors.New("bench: --count must be at least 1")
	}
	if opt.Batch <= 0 {
		opt.Batch = 10000
	}
	if len(opt.Authenticators) == 0 {
		opt.Authenticators = []string{MethodApp, MethodCodeDisplay}
	}
	for _, k := range opt.Authenticators {
		if k != MethodApp && k != MethodCodeDisplay {
			return nil, fmt.Errorf("bench: the loader makes app and code_display authenticators, not %q", k)
		}
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	p, err := server.OpenPlatform(ctx, opt.DSN, server.PlatformOptions{KEKFile: opt.KEKFile, Migrate: true, CreateKEK: true})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	ids, err := server.IdentityService(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	codes := codedisplay.NewService(p.DB, p.Keys, p.DB, nil, nil)

	spec := &LoadSpec{Format: LoadSpecFormat, Count: opt.Count, Seed: make([]byte, 32),
		Authenticators: slices.Clone(opt.Authenticators), CreatedAt: time.Now().UTC().Format(time.RFC3339)}
	rand.Read(spec.Seed)
	// Letters only, so that no user ID looks like a CPR number.
	prefix := []byte("load")
	for _, b := range spec.Seed[:6] {
		prefix = append(prefix, 'a'+b%26)
	}
	spec.UserIDPrefix = string(prefix) + "."
	spec.Password = "bench " + randomString(9) + " " + randomString(9)
	pwHash, err := ids.HashPassword(spec.Password, spec.UserID(0))
	if err != nil {
		return nil, err
	}

	// CPR numbers: none of the synthetic register's (NewCPR avoids them and
	// those it minted before) and none already added to the demo register.
	now := time.Now().UTC()
	synth := cpr.NewSynthetic(cpr.DemoSeed, now)
	taken := map[string]struct{}{}
	if err := p.DB.DemoPersonCPRs(ctx, func(d string) { taken[d] = struct{}{} }); err != nil {
		return nil, err
	}
	rng := mrand.New(mrand.NewPCG(uint64(now.UnixNano()), 1))
	newPerson := func(i int) (*cpr.Person, error) {
		for {
			born := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(50*365))
			sex := cpr.Female
			if rng.IntN(2) == 1 {
				sex = cpr.Male
			}
			n, err := synth.NewCPR(born, sex)
			if err != nil {
				return nil, err
			}
			if _, dup := taken[n.Digits()]; dup {
				continue
			}
			return &cpr.Person{CPR: n, GivenName: "Load", FamilyName: fmt.Sprintf("Person%07d", i), Birthdate: born,
				Sex: n.Sex(), Nationality: "DNK"}, nil
		}
	}

	start := time.Now()
	fmt.Fprintf(opt.Log, "loading %d identities (%v) into %s in batches of %d\n", opt.Count, opt.Authenticators, p.DB.Redacted(), opt.Batch)
	for first := 0; first < opt.Count; first += opt.Batch {
		n := min(opt.Batch, opt.Count-first)
		persons := make([]*cpr.Person, n)
		for k := range persons {
			if persons[k], err = newPerson(first + k); err != nil {
				return nil, err
			}
		}
		rows, err := buildRows(spec, ids, codes, persons, first, pwHash, now)
		if err != nil {
			return nil, err
		}
		ev := audit.Event{Actor: "testdata", Action: "testdata.identities_loaded", Details: map[string]string{
			"count": fmt.Sprint(n), "first": spec.UserID(first), "last": spec.UserID(first + n - 1)}}
		if err := p.DB.BulkInsertIdentities(ctx, rows, ev); err != nil {
			return nil, err
		}
		done := first + n
		el := time.Since(start).Seconds()
		fmt.Fprintf(opt.Log, "%d of %d identities, %.0f/s\n", done, opt.Count, float64(done)/el)
	}
	el := time.Since(start)
	fmt.Fprintf(opt.Log, "loaded %d identities in %.1f s: %.0f identities/s\n", opt.Count, el.Seconds(), float64(opt.Count)/el.Seconds())
	return spec, nil
}

// buildRows makes the rows of one batch on all cores: a P-256 public key, two
// seals and an HMAC an identity are most of the loader's own CPU.
func buildRows(spec *LoadSpec, ids *identity.Service, codes *codedisplay.Service, persons []*cpr.Person, first int,
	pwHash string, now time.Time) ([]store.BulkIdentity, error) {
	rows := make([]store.BulkIdentity, len(persons))
	workers := runtime.GOMAXPROCS(0)
	per := (len(rows) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w * per; k < min(len(rows), (w+1)*per); k++ {
				if err := buildRow(&rows[k], spec, ids, codes, persons[k], first+k, pwHash, now); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return rows, errors.Join(errs...)
}

func buildRow(r *store.BulkIdentity, spec *LoadSpec, ids *identity.Service, codes *codedisplay.Service, person *cpr.Person,
	i int, pwHash string, now time.Time) error {
	userID := spec.UserID(i)
	id, err := ids.Prepare(identity.New{UserID: userID, CPR: person.CPR, IAL: nsis.High, State: identity.Active})
	if err != nil {
		return err
	}
	id.PasswordHash = pwHash
	id.CreatedAt, id.UpdatedAt = now, now
	_, key, _ := identity.NormalizeUserID(userID)
	*r = store.BulkIdentity{Person: person, Identity: id, UserIDKey: key}
	if spec.Has(MethodApp) {
		k, err := spec.DeviceKey(i)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKIXPublicKey(k.Public().(*ecdsa.PublicKey))
		if err != nil {
			return err
		}
		r.Authenticators = append(r.Authenticators, &authenticator.Authenticator{ID: spec.DeviceID(i), Identity: id.UUID,
			Kind: authenticator.App, State: authenticator.Active, Name: "bench phone", Level: nsis.High, PublicKey: der,
			UsableFrom: now, CreatedAt: now, UpdatedAt: now})
	}
	if spec.Has(MethodCodeDisplay) {
		serial := spec.Serial(i)
		sealed, err := codes.SealSeed(serial, spec.TOTPSecret(i))
		if err != nil {
			return err
		}
		a := &authenticator.Authenticator{ID: uuid.NewString(), Identity: id.UUID, Kind: authenticator.CodeDisplay,
			State: authenticator.Active, Name: "test token", Level: nsis.High, Serial: serial, UsableFrom: now,
			CreatedAt: now, UpdatedAt: now}
		r.Authenticators = append(r.Authenticators, a)
		r.Tokens = append(r.Tokens, codedisplay.Token{Serial: serial, Kind: authenticator.CodeDisplay, SealedSecret: sealed,
			Algorithm: otp.SHA1, Digits: 6, Period: 30 * time.Second, Manufacturer: "OpenMitID", Model: "test token",
			ImportedAt: now})
		r.AssignedTo = append(r.AssignedTo, a.ID)
	}
	return nil
}
