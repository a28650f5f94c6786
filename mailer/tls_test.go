package mailer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// tlsBackend accepts mail only after AUTH PLAIN as user/secret (go-smtp
// refuses AUTH before TLS unless told otherwise).
type tlsBackend struct {
	mu  sync.Mutex
	got []string // recipients delivered
}

func (b *tlsBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &tlsSession{b: b}, nil
}

type tlsSession struct {
	b       *tlsBackend
	tls, ok bool
	rcpt    string
}

func (s *tlsSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *tlsSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "user" || pass != "secret" {
			return smtp.ErrAuthFailed
		}
		s.ok = true
		return nil
	}), nil
}
func (s *tlsSession) Reset()        {}
func (s *tlsSession) Logout() error { return nil }
func (s *tlsSession) Mail(from string, opts *smtp.MailOptions) error {
	if !s.ok {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *tlsSession) Rcpt(to string, opts *smtp.RcptOptions) error { s.rcpt = to; return nil }
func (s *tlsSession) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.got = append(s.b.got, s.rcpt)
	return nil
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// TestTLSModesAndAuth sends through STARTTLS and implicit TLS with AUTH
// PLAIN, and checks that a wrong password is a temporary failure (the
// operator fixes the config; the mail waits).
func TestTLSModesAndAuth(t *testing.T) {
	t.Parallel()
	conf := selfSigned(t)
	for _, mode := range []string{TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			be := &tlsBackend{}
			srv := smtp.NewServer(be)
			srv.Domain = "tls.test"
			srv.TLSConfig = conf
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if mode == TLSImplicit {
				ln = tls.NewListener(ln, conf)
			}
			go srv.Serve(ln)
			t.Cleanup(func() { srv.Close() })
			port := ln.Addr().(*net.TCPAddr).Port
			relay := Relay{Host: "127.0.0.1", Port: port, TLS: mode, Username: "user", Password: "secret", InsecureSkipVerify: true}
			m := newMailer(t, nil, Options{Relays: []Relay{relay}, Timeout: 2 * time.Second})
			msg := listMessage()
			if _, err := m.Send(context.Background(), msg); err != nil {
				t.Fatalf("send over %s: %v", mode, err)
			}
			be.mu.Lock()
			if len(be.got) != 1 || be.got[0] != msg.To {
				t.Errorf("delivered %v", be.got)
			}
			be.mu.Unlock()

			relay.Password = "wrong"
			bad := newMailer(t, nil, Options{Relays: []Relay{relay}, Timeout: 2 * time.Second, RetryBase: time.Hour})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err = bad.Send(ctx, msg)
			var se *Error
			if !errors.As(err, &se) || !se.Temporary || se.Code != 535 {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
}

// Without a certificate check the relay's self-signed certificate is
// refused, and that is a temporary failure.
func TestTLSVerifies(t *testing.T) {
	t.Parallel()
	conf := selfSigned(t)
	srv := smtp.NewServer(&tlsBackend{})
	srv.TLSConfig = conf
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	m := newMailer(t, nil, Options{Timeout: 2 * time.Second, RetryBase: time.Hour,
		Relays: []Relay{{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: TLSStartTLS}}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = m.Send(ctx, listMessage())
	var se *Error
	if !errors.As(err, &se) || !se.Temporary {
		t.Errorf("untrusted certificate: %v", err)
	}
}
