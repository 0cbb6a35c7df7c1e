// Package smtptest is a small SMTP server (RFC 5321) on 127.0.0.1 for tests:
// enough of the protocol for net/smtp, with STARTTLS when given a
// certificate, AUTH PLAIN after it when asked, and failures on demand. It
// keeps every message it accepts.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running test SMTP server.
type Server struct {
	ln  net.Listener
	tls *tls.Config // offers STARTTLS when set
	// Auth makes the server offer AUTH PLAIN (after STARTTLS); set it before use.
	Auth bool

	mu        sync.Mutex
	failData  int // answer the next failData DATA terminations with 451
	delivered []Message
	authed    []string
}

// Message is one message the server accepted.
type Message struct {
	From, To string // the MAIL FROM and RCPT TO arguments, as sent
	Data     string // the DATA, dot-unstuffed, with CRLF line ends
	TLS      bool   // sent after STARTTLS
}

// Start starts a server, stopped when the test ends; with cfg it offers STARTTLS.
func Start(t testing.TB, cfg *tls.Config) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, tls: cfg}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// FailNext makes the next n messages fail with 451 at the end of DATA.
func (s *Server) FailNext(n int) { s.mu.Lock(); s.failData = n; s.mu.Unlock() }

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.delivered...)
}

// AuthCommands returns the arguments of the AUTH commands received.
func (s *Server) AuthCommands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.authed...)
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
	say("220 test.invalid ESMTP")
	var (
		from, to string
		secure   bool
	)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"250-test.invalid", "250-8BITMIME"}
			if s.tls != nil && !secure {
				ext = append(ext, "250-STARTTLS")
			}
			if s.Auth && secure {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 SMTPUTF8")
			say(strings.Join(ext, "\r\n"))
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, secure = tc, true
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
		case "AUTH":
			s.mu.Lock()
			s.authed = append(s.authed, arg)
			s.mu.Unlock()
			say("235 ok")
		case "MAIL":
			from = arg
			say("250 ok")
		case "RCPT":
			to = arg
			say("250 ok")
		case "DATA":
			say("354 send it")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".")) // dot-unstuffing, RFC 5321 section 4.5.2
			}
			s.mu.Lock()
			fail := s.failData > 0
			if fail {
				s.failData--
			} else {
				s.delivered = append(s.delivered, Message{From: from, To: to, Data: b.String(), TLS: secure})
			}
			s.mu.Unlock()
			if fail {
				say("451 try again later")
			} else {
				say("250 queued")
			}
		case "RSET", "NOOP":
			say("250 ok")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

// SelfSigned makes a certificate for 127.0.0.1 and a client config trusting it.
func SelfSigned(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}
