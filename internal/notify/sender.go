package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// LogSender "delivers" a message by writing it as one structured log line: the
// sender when no SMTP server is configured, so that development and tests see
// what would have been sent. The address is masked: logs are not a place for
// personal data.
type LogSender struct {
	Logger *slog.Logger
}

// Send implements [Sender].
func (l LogSender) Send(ctx context.Context, e Envelope) error {
	l.Logger.LogAttrs(ctx, slog.LevelInfo, "notification", slog.String("message", e.MessageID),
		slog.String("to", MaskEmail(e.To)), slog.String("subject", e.Subject), slog.String("body", e.Body))
	return nil
}

// SMTP sends e-mail through a mail server (RFC 5321) with net/smtp. It uses
// STARTTLS (RFC 3207) whenever the server offers it, and authenticates (PLAIN,
// RFC 4616) only when Username is set, which net/smtp allows only over TLS or
// to localhost.
type SMTP struct {
	Addr     string // host:port
	From     string // the envelope sender and From header
	Username string
	Password string
	// TLSConfig for STARTTLS; nil: verify the server's certificate for its host name.
	TLSConfig *tls.Config
	// HelloName is the name given in EHLO ("localhost" when empty).
	HelloName string
	// Timeout bounds a whole delivery (30 s when zero).
	Timeout time.Duration
	Now     func() time.Time
}

// CheckSMTP checks the configuration a server is started with.
func CheckSMTP(addr, from string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return fmt.Errorf("--smtp-addr %q: want host:port", addr)
	}
	if _, err := NormalizeEmail(from); err != nil {
		return fmt.Errorf("--smtp-from %q: want a plain e-mail address", from)
	}
	return nil
}

// Send implements [Sender].
func (s *SMTP) Send(ctx context.Context, e Envelope) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	msg, err := s.compose(e)
	if err != nil {
		return err
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("notify: smtp: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("notify: smtp: greeting: %w", err)
	}
	defer c.Close()
	hello := s.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("notify: smtp: EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("notify: smtp: STARTTLS: %w", err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("notify: smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("notify: smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(e.To); err != nil {
		return fmt.Errorf("notify: smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("notify: smtp: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("notify: smtp: writing the message: %w", err)
	}
	// The message is delivered once the server accepts the end of DATA;
	// QUIT's answer no longer matters.
	if err := w.Close(); err != nil {
		return fmt.Errorf("notify: smtp: end of DATA: %w", err)
	}
	c.Quit()
	return nil
}

// compose writes the message (RFC 5322): UTF-8 text, quoted-printable, the
// subject as an RFC 2047 encoded word.
func (s *SMTP) compose(e Envelope) ([]byte, error) {
	if _, err := NormalizeEmail(e.To); err != nil {
		return nil, fmt.Errorf("notify: smtp: recipient: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	_, domain, _ := strings.Cut(s.From, "@")
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", (&mail.Address{Name: "MitID", Address: s.From}).String())
	hdr("To", e.To)
	hdr("Subject", mime.QEncoding.Encode("utf-8", e.Subject))
	hdr("Date", now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+e.MessageID+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies, please
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(e.Body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
