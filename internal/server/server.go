package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/openmitid/openmitid/internal/appapi"
	"github.com/openmitid/openmitid/internal/approval"
	"github.com/openmitid/openmitid/internal/authenticator/app"
	"github.com/openmitid/openmitid/internal/authenticator/codedisplay"
	"github.com/openmitid/openmitid/internal/authenticator/fido"
	"github.com/openmitid/openmitid/internal/authenticator/password"
	"github.com/openmitid/openmitid/internal/authn"
	"github.com/openmitid/openmitid/internal/cpr"
	"github.com/openmitid/openmitid/internal/demo"
	"github.com/openmitid/openmitid/internal/face"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/notify"
	oidcp "github.com/openmitid/openmitid/internal/oidc"
	"github.com/openmitid/openmitid/internal/operator"
	"github.com/openmitid/openmitid/internal/pki"
	"github.com/openmitid/openmitid/internal/proofing"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/testtool"
	"github.com/openmitid/openmitid/internal/web"
	"github.com/openmitid/openmitid/internal/web/pages"
)

// Config is what `openmitid serve` takes (CONTRACT.md).
type Config struct {
	Addr           string
	DB             string
	Issuer         string
	Demo           bool
	FaceVerifier   string
	KEKFile        string
	TrustedProxies string
	Logger         *slog.Logger
	Now            func() time.Time
	Rotation       pki.RotationPolicy
	// Notifications (internal/notify): without SMTPAddr, messages are
	// written to the log. SMTPAuth is (user name, password), from the environment.
	SMTPAddr, SMTPFrom string
	SMTPAuth           [2]string
	// CopyWait is how long a copied app waits before it can be used (an hour when zero).
	CopyWait time.Duration

	// AddressFailureLimit is how many failed passwords and codes one client
	// address may have per window before it is refused; 0: authn's default.
	AddressFailureLimit int
}

// Server is one node.
type Server struct {
	cfg        Config
	log        *slog.Logger
	platform   *Platform
	keyset     *pki.KeySet
	register   cpr.Register // nil unless a register is configured (--demo: the synthetic one)
	identities *identity.Service
	approvals  *approval.Service
	apps       *app.Service
	codes      *codedisplay.Service
	engine     *authn.Engine
	oidc       *oidcp.Provider
	demo       *demo.SP
	chips      *fido.Registrar   // nil when the issuer cannot be a WebAuthn relying party
	proofing   *proofing.Service // nil without a population register: enrolment answers 503
	testtool   *testtool.Tool
	operators  *operator.Service // the operator console's (console.go)
	notify     *notify.Service
	registry   *prometheus.Registry
	handler    http.Handler
}

// New opens the database (migrating it) and the keys, and builds the node.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rotation == (pki.RotationPolicy{}) {
		cfg.Rotation = pki.DefaultRotation
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "http://" + cfg.Addr
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || (iss.Scheme != "http" && iss.Scheme != "https") || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" {
		return nil, fmt.Errorf("--issuer %q: want an http(s) URL without query or fragment", cfg.Issuer)
	}
	proxies, err := web.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies %q: %w", cfg.TrustedProxies, err)
	}
	p, err := OpenPlatform(ctx, cfg.DB, PlatformOptions{KEKFile: cfg.KEKFile, Migrate: true, CreateKEK: true, Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, platform: p, registry: prometheus.NewRegistry()}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerNotificationMetrics(s.registry, p.DB)
	if s.keyset, err = pki.NewKeySet(pki.KeySetConfig{Store: p.DB, Keys: p.Keys, Policy: cfg.Rotation, Log: p.DB, Now: cfg.Now}); err != nil {
		p.Close()
		return nil, err
	}
	if err := s.keyset.Rotate(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("rotating signing keys: %w", err)
	}
	if err := s.buildDomain(ctx); err != nil {
		p.Close()
		return nil, err
	}
	registerOutboxMetrics(s.registry, s.notify.Stats())

	mux := http.NewServeMux()
	web.MountOps(mux, p.DB, s.registry)
	(&web.FlowAPI{Engine: s.engine, Log: s.log, Secure: iss.Scheme == "https"}).Mount(mux)
	csrfKey, err := p.Keys.Secret(ctx, p.DB, "login-csrf", 32)
	if err != nil {
		p.Close()
		return nil, err
	}
	loginPages, err := pages.New(pages.Config{Engine: s.engine, Finisher: s.oidc, Log: s.log,
		Secure: iss.Scheme == "https", CSRFKey: csrfKey, Now: cfg.Now})
	if err != nil {
		p.Close()
		return nil, err
	}
	loginPages.Mount(mux)
	(&appapi.API{Apps: s.apps, Approvals: s.approvals, Notify: p.DB, Log: s.log, Now: cfg.Now}).Mount(mux)
	(&appapi.Enrolment{Proofing: s.proofing, Notify: p.DB, Log: s.log}).Mount(mux)
	s.oidc.Mount(mux)
	if err := s.mountConsole(ctx, mux); err != nil {
		p.Close()
		return nil, err
	}
	if s.testtool != nil {
		s.testtool.Mount(mux)
	}
	if s.demo != nil {
		s.demo.Mount(mux)
	}
	mux.HandleFunc("/", web.NotFound)
	metrics := web.NewMetrics(s.registry)
	s.handler = web.Chain(mux,
		web.Recover(s.log),
		web.SecurityHeaders(iss.Scheme == "https"),
		web.Origin(proxies),
		metrics.Wrap,
	)
	return s, nil
}

// registerNotificationMetrics publishes how waiters learn of changes: a node
// whose listener is down still answers, only later (by the 2-second re-check),
// so these are what shows it.
func registerNotificationMetrics(reg prometheus.Registerer, db *store.DB) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "openmitid_notifications_received_total",
			Help: "Change notifications that reached this node (from PostgreSQL LISTEN, or in process on SQLite).",
		}, func() float64 { return float64(db.NotificationStats().Received) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "openmitid_notification_wakeups_total",
			Help: "Waiting requests (long polls, event streams) on this node woken by a change notification.",
		}, func() float64 { return float64(db.NotificationStats().Wakeups) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "openmitid_notification_listener_up",
			Help: "1 while this node's PostgreSQL LISTEN connection is up (always 1 on SQLite).",
		}, func() float64 {
			if db.Listening() {
				return 1
			}
			return 0
		}),
	)
}

// IdentityService returns the identity service on a platform, for tools that
// work on identities without serving.
// now may be nil (time.Now).
func IdentityService(ctx context.Context, p *Platform, now func() time.Time) (*identity.Service, error) {
	hasher, err := password.NewHasher(password.OWASP, nil)
	if err != nil {
		return nil, err
	}
	indexKey, err := p.Keys.Secret(ctx, p.DB, "cpr-index", 32)
	if err != nil {
		return nil, err
	}
	return identity.NewService(identity.Config{Store: p.DB, Log: p.DB, Keys: p.Keys, Hasher: hasher,
		Policy: password.CheckPolicy, CPRIndexKey: indexKey, Now: now})
}

// buildDomain makes the domain services on the platform.
func (s *Server) buildDomain(ctx context.Context) error {
	p := s.platform
	var err error
	if s.identities, err = IdentityService(ctx, p, s.cfg.Now); err != nil {
		return err
	}
	secret := func(name string) []byte {
		if err != nil {
			return nil
		}
		var v []byte
		v, err = p.Keys.Secret(ctx, p.DB, name, 32)
		return v
	}
	qrKey, decoyKey := secret("qr-binding"), secret("decoy")
	if err != nil {
		return err
	}
	binder, err := approval.NewBinder(qrKey)
	if err != nil {
		return err
	}
	if s.approvals, err = approval.NewService(approval.Config{Store: p.DB, Log: p.DB, Binder: binder, Now: s.cfg.Now}); err != nil {
		return err
	}
	if s.notify, err = newNotifier(s.cfg, p); err != nil {
		return err
	}
	if s.apps, err = app.NewService(app.Config{Store: p.DB, Identities: s.identities, Approvals: s.approvals, Log: p.DB,
		Now: s.cfg.Now, Notifier: s.notify, CopyWait: s.cfg.CopyWait}); err != nil {
		return err
	}
	s.codes = codedisplay.NewService(p.DB, p.Keys, p.DB, s.cfg.Now, nil)
	clients := oidcp.Directory{Store: p.DB}
	if s.cfg.Demo {
		if err := ensureDemoClient(ctx, p.DB, s.cfg.Issuer, s.cfg.Now()); err != nil {
			return err
		}
	}
	var chips authn.Chips
	iss, _ := url.Parse(s.cfg.Issuer)
	webauthn, werr := fido.New(fido.Config{RPID: iss.Hostname(), RPName: "OpenMitID", Origins: []string{iss.Scheme + "://" + iss.Host}, Now: s.cfg.Now})
	if werr != nil {
		s.log.Warn("chips (FIDO2 security keys) are off: the issuer's host cannot be a WebAuthn relying party; use a host name such as localhost", "issuer", s.cfg.Issuer, "err", werr)
	} else {
		chips = fido.Chips{Service: webauthn, DecoyKey: decoyKey}
		s.chips = &fido.Registrar{Service: webauthn, Store: p.DB, Log: p.DB, Now: s.cfg.Now}
	}
	if s.engine, err = authn.NewEngine(authn.Config{Store: p.DB, Identities: s.identities, Approvals: s.approvals,
		Codes: s.codes, Chips: chips, Clients: clients, Log: p.DB, DecoyKey: decoyKey, Now: s.cfg.Now,
		Limits: authn.DefaultLimits.WithAddressFailures(s.cfg.AddressFailureLimit)}); err != nil {
		return err
	}
	cryptoKey, pairwiseKey := secret("oidc-crypto"), secret("pairwise")
	if err != nil {
		return err
	}
	var register cpr.Register
	var demoRegister *testtool.Register
	if s.cfg.Demo {
		// The same people on every node and every start (cpr.DemoSeed), and
		// those the test tool adds, in the database.
		demoRegister = testtool.NewRegister(cpr.NewSynthetic(cpr.DemoSeed, s.cfg.Now()), p.DB)
		register = demoRegister
	}
	s.oidc, err = oidcp.New(oidcp.Config{Issuer: s.cfg.Issuer, Store: p.DB, Log: p.DB, Keys: s.keyset, Identities: s.identities,
		CPRIndex: s.identities.CPRIndex, Register: register, Engine: s.engine, CryptoKey: [32]byte(cryptoKey),
		PairwiseKey: pairwiseKey, Logger: s.log, Now: s.cfg.Now})
	if err != nil {
		return err
	}
	s.identities.OnChange(s.oidc.IdentityChanged)
	faces, err := face.New(s.cfg.FaceVerifier, nil)
	if err != nil {
		return fmt.Errorf("--face-verifier: %w", err)
	}
	if register != nil {
		// The demo CSCA, whose key is public, is trusted only with --demo.
		anchors := proofing.NewAnchors(p.DB, s.cfg.Demo, s.cfg.Now)
		// Each case's chip authentication terminal key derives from it.
		caKey, err := p.Keys.Secret(ctx, p.DB, "chip-authentication", 32)
		if err != nil {
			return err
		}
		if s.proofing, err = proofing.NewService(proofing.Config{Store: p.DB, Identities: s.identities, Approvals: s.approvals,
			Register: register, Faces: faces, Trust: anchors, Keys: p.Keys, Log: p.DB, Now: s.cfg.Now, Notifier: s.notify,
			ChipAuthenticationKey: caKey}); err != nil {
			return err
		}
		s.approvals.Handle(approval.KindConsent, s.proofing)
	} else {
		s.log.Info("enrolment with a passport is off: no population register is configured")
	}
	if s.cfg.Demo {
		// The same people on every node and every start (cpr.DemoSeed), and
		// those the test tool adds, in the database.
		reg := demoRegister
		s.register = reg
		s.testtool = &testtool.Tool{Register: reg, Identities: s.identities, Apps: s.apps, Codes: s.codes,
			Authenticators: p.DB, Tx: p.DB, Notify: s.notify, Log: s.log, Now: s.cfg.Now}
		if s.chips != nil {
			s.testtool.Chips = testtool.SoftChips{Registrar: s.chips, Origin: iss.Scheme + "://" + iss.Host, RPID: iss.Hostname()}
		}
		demoKey, err := p.Keys.Secret(ctx, p.DB, "demo-cookie", 64)
		if err != nil {
			return err
		}
		s.demo = demo.New(s.cfg.Issuer, oidcp.DemoSecret, demoKey, s.log)
	}
	return nil
}

// Handler returns the node's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// OIDC returns the node's OpenID provider.
func (s *Server) OIDC() *oidcp.Provider { return s.oidc }

// Engine returns the node's login engine.
func (s *Server) Engine() *authn.Engine { return s.engine }

// Platform returns the node's database and keys.
func (s *Server) Platform() *Platform { return s.platform }

// Issuer returns the node's issuer URL.
func (s *Server) Issuer() string { return s.cfg.Issuer }

// Close releases the database.
func (s *Server) Close() error { return s.platform.Close() }

// Serve serves on ln until ctx ends, then stops taking requests and waits up to
// 20 seconds for those in progress; long polls see their context end at once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	baseCtx, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	var wg sync.WaitGroup
	jobs, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.runJobs(jobs)
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "issuer", s.cfg.Issuer, "db", s.platform.DB.Redacted(), "demo", s.cfg.Demo)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down")
		cancelBase() // wake long polls and event streams
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
	}
	stopJobs()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// runJobs does periodic maintenance until ctx ends. Every node runs it; the
// jobs are safe to run on several nodes at once.
func (s *Server) runJobs(ctx context.Context) {
	db := s.platform.DB
	go db.Listen(ctx)
	go s.notify.Run(ctx, 2*time.Second) // on its own: a slow mail server must not hold up the other jobs
	often := time.NewTicker(2 * time.Second)
	defer often.Stop()
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	report := func(what string, err error) {
		if err != nil && ctx.Err() == nil {
			s.log.Error(what, "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-often.C:
			// Settle requests nobody answered, so the logins waiting for
			// them fail promptly even if no browser is looking.
			_, err := s.approvals.ExpireDue(ctx)
			report("expiring approval requests", err)
			_, err = s.oidc.DeliverLogouts(ctx)
			report("delivering back-channel logouts", err)
			if s.proofing != nil {
				_, err = s.proofing.ExpireDue(ctx)
				report("expiring enrolment cases", err)
			}
		case <-hourly.C:
			report("rotating signing keys", s.keyset.Rotate(ctx))
			report("deleting expired counters", db.DeleteExpiredCounters(ctx, s.cfg.Now()))
			report("deleting old login flows", db.DeleteOldFlows(ctx, s.cfg.Now()))
			report("deleting expired OpenID requests and tokens", db.DeleteExpiredOIDC(ctx, s.cfg.Now()))
			report("deleting ended operator sessions", s.operators.ExpireSessions(ctx))
			report("deleting old copy sessions", db.DeleteOldCopySessions(ctx, s.cfg.Now()))
		}
	}
}
