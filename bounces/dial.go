package bounces

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// conn is one logged-in IMAP connection.
type conn struct {
	c      *imapclient.Client
	idle   bool          // the server offers IDLE
	move   bool          // the server offers MOVE
	update chan struct{} // signalled when the selected mailbox grows
}

// dial connects and logs in. The client takes no context, so a context
// that ends closes the connection, which fails the command in progress.
func (s *Service) dial(ctx context.Context) (*conn, error) {
	o := s.opt.IMAP
	if o.Addr == "" {
		return nil, ErrNoIMAP
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("imap address %q: %w", o.Addr, err)
	}
	if o.TLS == TLSNone && !isLoopback(host) {
		return nil, fmt.Errorf("imap %s: %w", o.Addr, ErrInsecure)
	}
	d := net.Dialer{Timeout: o.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to imap %s: %w", o.Addr, err)
	}
	cn := &conn{update: make(chan struct{}, 1)}
	opts := &imapclient.Options{
		TLSConfig: tlsConfig(o.TLSConfig, host),
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(m *imapclient.UnilateralDataMailbox) {
				if m.NumMessages != nil {
					select {
					case cn.update <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	switch o.TLS {
	case TLSStart:
		cn.c, err = imapclient.NewStartTLS(nc, opts)
	case TLSNone:
		cn.c = imapclient.New(nc, opts)
	default:
		tc := tls.Client(nc, opts.TLSConfig)
		if err = tc.HandshakeContext(ctx); err == nil {
			cn.c = imapclient.New(tc, opts)
		}
	}
	if err == nil {
		err = cn.c.WaitGreeting()
	}
	if err == nil {
		err = cn.c.Login(o.Username, o.Password).Wait()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("logging in to imap %s: %w", o.Addr, ctxErr(ctx, err))
	}
	caps := cn.c.Caps()
	cn.idle = caps.Has(imap.CapIdle) || caps.Has(imap.CapIMAP4rev2)
	cn.move = caps.Has(imap.CapMove) || caps.Has(imap.CapIMAP4rev2)
	return cn, nil
}

func tlsConfig(cfg *tls.Config, host string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return cfg
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ctxErr prefers the context's error: a closed connection is how a
// cancelled context shows itself to the client.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
