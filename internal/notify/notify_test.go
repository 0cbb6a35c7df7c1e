package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openmitid/openmitid/internal/audit"
	"github.com/openmitid/openmitid/internal/identity"
	"github.com/openmitid/openmitid/internal/notify"
	"github.com/openmitid/openmitid/internal/notify/smtptest"
	"github.com/openmitid/openmitid/internal/nsis"
	"github.com/openmitid/openmitid/internal/store"
	"github.com/openmitid/openmitid/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

type clock struct{ ns atomic.Int64 }

func newClock() *clock               { c := &clock{}; c.ns.Store(t0.UnixNano()); return c }
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func quiet() *slog.Logger            { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func params() map[string]string {
	return map[string]string{"device_name": "Pixel 8", "added_at": "24-11-2026 13:00", "usable_from": "24-11-2026 14:00", "approved_by": "iPhone"}
}

func addIdentity(t *testing.T, db *store.DB, uuid string) {
	t.Helper()
	id := &identity.Identity{UUID: uuid, UserID: uuid, State: identity.Active, IAL: nsis.Substantial, PCode: uuid[len(uuid)-8:],
		Restrictions: identity.PCodeOnly, CreatedAt: t0, UpdatedAt: t0}
	if err := db.InsertIdentity(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

func newService(t *testing.T, env storetest.Env, db *store.DB, sender notify.Sender, now func() time.Time) *notify.Service {
	t.Helper()
	s, err := notify.NewService(notify.Config{Store: db, Keys: env.Keys, Log: db, Sender: sender, Logger: quiet(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// enqueue writes a message in a transaction with an audit event, as an event
// that causes one does.
func enqueue(t *testing.T, db *store.DB, s *notify.Service, uuid string) []notify.Channel {
	t.Helper()
	var ch []notify.Channel
	err := db.InTx(context.Background(), func(ctx context.Context) error {
		var err error
		if ch, err = s.Enqueue(ctx, uuid, notify.AppCopied, params()); err != nil {
			return err
		}
		return db.Record(ctx, audit.Event{Actor: "system", Action: "test.event", Identity: uuid})
	})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestSMTPMessage(t *testing.T) {
	serverTLS, clientTLS := smtptest.SelfSigned(t)
	for _, tc := range []struct {
		name     string
		tls      bool
		username string
	}{{"plain", false, ""}, {"starttls", true, ""}, {"starttls-auth", true, "mailer"}} {
		t.Run(tc.name, func(t *testing.T) {
			var srvCfg *tls.Config
			if tc.tls {
				srvCfg = serverTLS
			}
			srv := smtptest.Start(t, srvCfg)
			srv.Auth = tc.username != ""
			sender := &notify.SMTP{Addr: srv.Addr(), From: "noreply@mitid.example", TLSConfig: clientTLS,
				Username: tc.username, Password: "secret", Now: func() time.Time { return t0 }}
			subject, body, err := notify.Render(notify.AppCopied, params())
			if err != nil {
				t.Fatal(err)
			}
			body += ".a line that starts with a dot\n"
			env := notify.Envelope{MessageID: "m-1", To: "anna@example.dk", Subject: subject, Body: body}
			if err := sender.Send(context.Background(), env); err != nil {
				t.Fatal(err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("delivered %d messages, want 1", len(got))
			}
			r := got[0]
			if !strings.HasPrefix(r.From, "FROM:<noreply@mitid.example>") || !strings.HasPrefix(r.To, "TO:<anna@example.dk>") || r.TLS != tc.tls {
				t.Errorf("envelope from %q to %q tls %v", r.From, r.To, r.TLS)
			}
			if tc.username != "" && len(srv.AuthCommands()) != 1 {
				t.Errorf("AUTH commands: %q", srv.AuthCommands())
			}
			m, err := mail.ReadMessage(strings.NewReader(r.Data))
			if err != nil {
				t.Fatal(err)
			}
			dec := new(mime.WordDecoder)
			gotSubject, err := dec.DecodeHeader(m.Header.Get("Subject"))
			if err != nil || gotSubject != subject {
				t.Errorf("Subject %q (%v), want %q", gotSubject, err, subject)
			}
			for k, want := range map[string]string{"To": "anna@example.dk", "From": `"MitID" <noreply@mitid.example>`,
				"Content-Type": "text/plain; charset=utf-8", "Content-Transfer-Encoding": "quoted-printable",
				"Message-Id": "<m-1@mitid.example>", "Mime-Version": "1.0", "Date": t0.Format(time.RFC1123Z)} {
				if v := m.Header.Get(k); v != want {
					t.Errorf("%s: %q, want %q", k, v, want)
				}
			}
			raw, err := io.ReadAll(quotedprintable.NewReader(m.Body))
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(body, "\n", "\r\n"); string(raw) != want {
				t.Errorf("body:\n%q\nwant\n%q", raw, want)
			}
			for _, s := range []string{"Pixel 8", "Der er tilføjet en ny MitID-app", "A new MitID app"} {
				if !bytes.Contains(raw, []byte(s)) {
					t.Errorf("body lacks %q", s)
				}
			}
		})
	}
}

func TestSMTPRefusals(t *testing.T) {
	srv := smtptest.Start(t, nil)
	srv.FailNext(1)
	s := &notify.SMTP{Addr: srv.Addr(), From: "noreply@mitid.example", Timeout: 5 * time.Second}
	env := notify.Envelope{MessageID: "m", To: "anna@example.dk", Subject: "s", Body: "b"}
	if err := s.Send(context.Background(), env); err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("a 451 at the end of DATA: %v", err)
	}
	if err := s.Send(context.Background(), notify.Envelope{MessageID: "m", To: "x@y.dk\r\nBcc: z@y.dk", Subject: "s", Body: "b"}); !errors.Is(err, notify.ErrBadAddress) {
		t.Errorf("a recipient with a header in it: %v", err)
	}
	if len(srv.Messages()) != 0 {
		t.Errorf("delivered %d", len(srv.Messages()))
	}
	closed := &notify.SMTP{Addr: "127.0.0.1:1", From: "noreply@mitid.example", Timeout: time.Second}
	if err := closed.Send(context.Background(), env); err == nil {
		t.Error("no server: no error")
	}
}

func TestOutboxRetriesThenDelivers(t *testing.T) {
	clk := newClock()
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		srv := smtptest.Start(t, nil)
		s := newService(t, env, env.DB, &notify.SMTP{Addr: srv.Addr(), From: "noreply@mitid.example"}, clk.Now)
		addIdentity(t, env.DB, "id-00000001")
		if ch := enqueue(t, env.DB, s, "id-00000001"); len(ch) != 0 {
			t.Fatalf("no address, yet enqueued on %v", ch)
		}
		if err := s.SetEmail(ctx, "id-00000001", "Anna.Hansen@Example.DK", "identity:id-00000001"); err != nil {
			t.Fatal(err)
		}
		if addr, err := s.Email(ctx, "id-00000001"); err != nil || addr != "Anna.Hansen@example.dk" {
			t.Fatalf("Email: %q, %v", addr, err)
		}
		sealed, err := env.DB.ContactEmail(ctx, "id-00000001")
		if err != nil || bytes.Contains(bytes.ToLower(sealed), []byte("example")) {
			t.Fatalf("the address is stored in the clear: %q, %v", sealed, err)
		}
		if ch := enqueue(t, env.DB, s, "id-00000001"); len(ch) != 1 || ch[0] != notify.Email {
			t.Fatalf("enqueued on %v", ch)
		}
		srv.FailNext(2)
		for i := 1; i <= 2; i++ {
			if n, err := s.DeliverDue(ctx); n != 0 || err != nil {
				t.Fatalf("attempt %d: sent %d, %v", i, n, err)
			}
			msgs, _ := s.Messages(ctx, "id-00000001")
			m := msgs[0]
			if m.State != notify.Pending || m.Attempts != i || !m.NextAttemptAt.After(clk.Now()) || !strings.Contains(m.LastError, "451") {
				t.Fatalf("after failure %d: %+v", i, m)
			}
			// Not due yet: nothing is attempted.
			if n, err := s.DeliverDue(ctx); n != 0 || err != nil {
				t.Fatalf("before the back-off ran out: sent %d, %v", n, err)
			}
			clk.Add(notify.Backoff(i) + 30*time.Second)
		}
		if n, err := s.DeliverDue(ctx); n != 1 || err != nil {
			t.Fatalf("third attempt: sent %d, %v", n, err)
		}
		msgs, _ := s.Messages(ctx, "id-00000001")
		if m := msgs[0]; m.State != notify.Sent || m.Attempts != 3 || m.SentAt.IsZero() {
			t.Fatalf("after delivery: %+v", m)
		}
		if got := srv.Messages(); len(got) != 1 || !strings.Contains(got[0].To, "Anna.Hansen@example.dk") {
			t.Fatalf("delivered %+v", got)
		}
		if st := s.Stats(); st.Sent.Load() != 1 || st.Retried.Load() != 2 || st.Failed.Load() != 0 {
			t.Errorf("stats: sent %d, retried %d, failed %d", st.Sent.Load(), st.Retried.Load(), st.Failed.Load())
		}
		if n, err := s.DeliverDue(ctx); n != 0 || err != nil || len(srv.Messages()) != 1 {
			t.Fatalf("sent again: %d, %v", n, err)
		}
	})
}

func TestOutboxGivesUpAndDrops(t *testing.T) {
	clk := newClock()
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		srv := smtptest.Start(t, nil)
		s := newService(t, env, env.DB, &notify.SMTP{Addr: srv.Addr(), From: "noreply@mitid.example"}, clk.Now)
		addIdentity(t, env.DB, "id-00000001")
		addIdentity(t, env.DB, "id-00000002")
		for _, id := range []string{"id-00000001", "id-00000002"} {
			if err := s.SetEmail(ctx, id, id+"@example.dk", "system"); err != nil {
				t.Fatal(err)
			}
			enqueue(t, env.DB, s, id)
		}
		// The second person removes the address before the message is sent.
		if err := s.SetEmail(ctx, "id-00000002", "", "system"); err != nil {
			t.Fatal(err)
		}
		srv.FailNext(1000)
		for i := 0; i < notify.MaxAttempts; i++ {
			if _, err := s.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Add(2 * time.Hour)
		}
		m1, _ := s.Messages(ctx, "id-00000001")
		m2, _ := s.Messages(ctx, "id-00000002")
		if m1[0].State != notify.Failed || m1[0].Attempts != notify.MaxAttempts {
			t.Errorf("after %d failures: %+v", notify.MaxAttempts, m1[0])
		}
		if m2[0].State != notify.Dropped {
			t.Errorf("without an address: %+v", m2[0])
		}
	})
}

func TestOutboxRollsBackWithItsEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		s := newService(t, env, env.DB, nil, nil)
		addIdentity(t, env.DB, "id-00000001")
		if err := s.SetEmail(ctx, "id-00000001", "anna@example.dk", "system"); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("the event failed")
		err := env.DB.InTx(ctx, func(ctx context.Context) error {
			if _, err := s.Enqueue(ctx, "id-00000001", notify.AppCopied, params()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if msgs, err := s.Messages(ctx, "id-00000001"); err != nil || len(msgs) != 0 {
			t.Fatalf("a rolled-back event left messages: %v, %v", msgs, err)
		}
		if _, err := s.Enqueue(ctx, "id-00000001", "no_such_template", nil); err == nil {
			t.Error("unknown template accepted")
		}
	})
}

// TestOutboxTwoSenders runs two senders, each with a database connection of
// its own as on two nodes, over one outbox: every message is delivered once.
func TestOutboxTwoSenders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		srv := smtptest.Start(t, nil)
		other, err := store.Open(ctx, env.DSN, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		other.SetAuditSealer(env.Sealer)
		smtp := &notify.SMTP{Addr: srv.Addr(), From: "noreply@mitid.example"}
		a := newService(t, env, env.DB, smtp, nil)
		b := newService(t, env, other, smtp, nil)
		const people, each = 8, 5
		for i := range people {
			id := fmt.Sprintf("id-%08d", i)
			addIdentity(t, env.DB, id)
			if err := a.SetEmail(ctx, id, id+"@example.dk", "system"); err != nil {
				t.Fatal(err)
			}
			for range each {
				enqueue(t, env.DB, a, id)
			}
		}
		var wg sync.WaitGroup
		var sent [2]atomic.Int64
		for i, s := range []*notify.Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					n, err := s.DeliverDue(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					sent[i].Add(int64(n))
					if sent[0].Load()+sent[1].Load() >= people*each {
						return
					}
				}
			}()
		}
		wg.Wait()
		got := srv.Messages()
		ids := map[string]int{}
		for _, r := range got {
			m, err := mail.ReadMessage(strings.NewReader(r.Data))
			if err != nil {
				t.Fatal(err)
			}
			ids[m.Header.Get("Message-Id")]++
		}
		if len(got) != people*each || len(ids) != people*each || sent[0].Load()+sent[1].Load() != people*each {
			t.Fatalf("delivered %d messages, %d distinct, senders counted %v; want %d each once", len(got), len(ids), sent[0].Load()+sent[1].Load(), people*each)
		}
		t.Logf("sender a sent %d, sender b %d", sent[0].Load(), sent[1].Load())
	})
}

// TestClaimRunsOut: a sender that died holding messages leaves them to another
// once its claim runs out, and its late answer is ignored.
func TestClaimRunsOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		s := newService(t, env, env.DB, nil, nil)
		addIdentity(t, env.DB, "id-00000001")
		if err := s.SetEmail(ctx, "id-00000001", "anna@example.dk", "system"); err != nil {
			t.Fatal(err)
		}
		enqueue(t, env.DB, s, "id-00000001")
		now := time.Now().UTC()
		first, err := env.DB.ClaimMessages(ctx, "dead", now, now.Add(time.Minute), 10)
		if err != nil || len(first) != 1 {
			t.Fatalf("first claim: %v, %v", first, err)
		}
		if again, err := env.DB.ClaimMessages(ctx, "other", now, now.Add(time.Minute), 10); err != nil || len(again) != 0 {
			t.Fatalf("claimed twice: %v, %v", again, err)
		}
		later := now.Add(2 * time.Minute)
		second, err := env.DB.ClaimMessages(ctx, "other", later, later.Add(time.Minute), 10)
		if err != nil || len(second) != 1 || second[0].Attempts != 2 {
			t.Fatalf("after the claim ran out: %v, %v", second, err)
		}
		if ok, err := env.DB.FinishMessage(ctx, first[0].ID, "dead", notify.Outcome{State: notify.Sent, At: later}); ok || err != nil {
			t.Fatalf("the dead sender's answer counted: %v, %v", ok, err)
		}
		if ok, err := env.DB.FinishMessage(ctx, first[0].ID, "other", notify.Outcome{State: notify.Sent, At: later}); !ok || err != nil {
			t.Fatalf("the holder's answer: %v, %v", ok, err)
		}
	})
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"anna@example.dk", "anna@example.dk"},
		{" Anna@EXAMPLE.dk ", "Anna@example.dk"},
		{"a.b+c@sub.example.dk", "a.b+c@sub.example.dk"},
	} {
		if got, err := notify.NormalizeEmail(tc.in); err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "anna", "anna@", "@example.dk", "anna@localhost", "Anna <anna@example.dk>",
		"anna@example.dk\r\nBcc: x@y.dk", "anna@@example.dk", "anna@example..dk", "anna@.example.dk", "a b@example.dk",
		"anna@example.dk, bob@example.dk", "(c)anna@example.dk", strings.Repeat("a", 250) + "@example.dk"} {
		if got, err := notify.NormalizeEmail(bad); !errors.Is(err, notify.ErrBadAddress) || got != "" {
			t.Errorf("%q: %q, %v; want ErrBadAddress", bad, got, err)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"anna@example.dk", "a@b.c", "\"a b\"@example.dk", "anna@[127.0.0.1]", "ø@æ.dk"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := notify.NormalizeEmail(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(got, "\r\n<>,; ") || len(got) > 254 || strings.Count(got, "@") != 1 {
			t.Fatalf("%q accepted as %q", s, got)
		}
		if again, err := notify.NormalizeEmail(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, got, again, err)
		}
	})
}

func TestRender(t *testing.T) {
	subject, body, err := notify.Render(notify.AppCopied, params())
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Ny MitID-app tilføjet / New MitID app added" || !strings.Contains(body, `"Pixel 8"`) || strings.Contains(body, "{") {
		t.Errorf("%q\n%s", subject, body)
	}
	p := params()
	p["device_name"] = "Evil\r\nBcc: x@y.dk"
	if _, body, _ := notify.Render(notify.AppCopied, p); strings.Contains(body, "\r") || strings.Contains(body, "Evil\n") {
		t.Errorf("control characters kept: %q", body)
	}
	missing := params()
	delete(missing, "usable_from")
	extra := params()
	extra["cpr"] = "0101901234"
	for name, tc := range map[string]struct {
		t notify.Template
		p map[string]string
	}{"missing": {notify.AppCopied, missing}, "extra": {notify.AppCopied, extra}, "unknown": {"nope", params()}} {
		if s, b, err := notify.Render(tc.t, tc.p); err == nil || s != "" || b != "" {
			t.Errorf("%s: %q %q %v", name, s, b, err)
		}
	}
	if _, _, err := notify.Render(notify.Reactivated, map[string]string{"device_name": "x", "added_at": "y"}); err != nil {
		t.Error(err)
	}
}

func TestBackoff(t *testing.T) {
	prevMax := time.Duration(0)
	for n := 1; n <= 30; n++ {
		d := notify.Backoff(n)
		if d <= 0 || d > time.Hour {
			t.Fatalf("Backoff(%d) = %v", n, d)
		}
		if n < 5 && d < prevMax/2 {
			t.Fatalf("Backoff(%d) = %v shrank", n, d)
		}
		prevMax = d
	}
}

// slowSender is a real SMTP sender behind a connection so slow that each
// message takes a minute by the service's clock.
type slowSender struct {
	notify.Sender
	clk *clock
}

func (s slowSender) Send(ctx context.Context, e notify.Envelope) error {
	s.clk.Add(time.Minute)
	return s.Sender.Send(ctx, e)
}

// TestSlowServerBatch: a batch that would outlast its claim hands back what
// it has not sent, so that no other sender can take over a message this one
// is still to send; everything is delivered once.
func TestSlowServerBatch(t *testing.T) {
	clk := newClock()
	storetest.Each(t, func(t *testing.T, env storetest.Env) {
		ctx := context.Background()
		srv := smtptest.Start(t, nil)
		s := newService(t, env, env.DB, slowSender{&notify.SMTP{Addr: srv.Addr(), From: "noreply@mitid.example"}, clk}, clk.Now)
		addIdentity(t, env.DB, "id-00000001")
		if err := s.SetEmail(ctx, "id-00000001", "anna@example.dk", "system"); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			enqueue(t, env.DB, s, "id-00000001")
		}
		if n, err := s.DeliverDue(ctx); n != 2 || err != nil {
			t.Fatalf("first batch: sent %d, %v; want the 2 that fit in the claim", n, err)
		}
		msgs, _ := s.Messages(ctx, "id-00000001")
		pending := 0
		for _, m := range msgs {
			if m.State == notify.Pending {
				pending++
				if m.NextAttemptAt.After(clk.Now()) {
					t.Errorf("a handed-back message waits until %v", m.NextAttemptAt)
				}
			}
		}
		if pending != 3 {
			t.Fatalf("%d handed back, want 3", pending)
		}
		for i := 0; i < 5 && len(srv.Messages()) < 5; i++ {
			if _, err := s.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(srv.Messages()); got != 5 {
			t.Fatalf("delivered %d, want 5", got)
		}
	})
}
