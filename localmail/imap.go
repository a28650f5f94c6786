package localmail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAPOptions configures the in-memory IMAP mailbox.
type IMAPOptions struct {
	// Username and Password are the one account's login (default
	// "bounces" / "bounces").
	Username, Password string
	// Logger receives the server's errors (nil: discarded).
	Logger *slog.Logger
}

// IMAP is an in-memory IMAP server (go-imap/v2 imapmemserver) with one
// user whose INBOX collects delivered messages. Nothing survives a restart:
// in local mode the bounce reader has recorded what it read by then.
type IMAP struct {
	user *imapmemserver.User
	srv  *imapserver.Server

	mu sync.Mutex
	ln net.Listener
}

// NewIMAP builds the server and its user with an empty INBOX.
func NewIMAP(opt IMAPOptions) (*IMAP, error) {
	if opt.Username == "" {
		opt.Username = "bounces"
	}
	if opt.Password == "" {
		opt.Password = "bounces"
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(opt.Username, opt.Password)
	if err := u.Create("INBOX", nil); err != nil { // NewUser has no mailbox at all
		return nil, fmt.Errorf("creating INBOX: %w", err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true, // loopback only, no TLS
		Logger:       imapLogAdapter{log},
	})
	return &IMAP{user: u, srv: srv}, nil
}

// Listen opens the listening socket on addr (e.g. "127.0.0.1:0") and
// returns its address. Run then serves it.
func (m *IMAP) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for imap on %s: %w", addr, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ln != nil {
		ln.Close()
		return nil, fmt.Errorf("listening for imap on %s: already listening on %s", addr, m.ln.Addr())
	}
	m.ln = ln
	return ln.Addr(), nil
}

// Addr returns the listening address, or nil before Listen.
func (m *IMAP) Addr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ln == nil {
		return nil
	}
	return m.ln.Addr()
}

// Run serves connections until ctx ends or Close is called, then closes
// every connection and returns nil.
func (m *IMAP) Run(ctx context.Context) error {
	m.mu.Lock()
	ln := m.ln
	m.mu.Unlock()
	if ln == nil {
		return errors.New("localmail: imap server is not listening")
	}
	errc := make(chan error, 1)
	go func() { errc <- m.srv.Serve(ln) }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("serving imap on %s: %w", ln.Addr(), err)
		}
		return nil
	case <-ctx.Done():
	}
	m.Close()
	<-errc
	return nil
}

// Close stops the server and closes every connection.
func (m *IMAP) Close() error {
	_ = m.srv.Close() // an error only says it was closed already
	m.mu.Lock()
	ln := m.ln
	m.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	return nil
}

// Deliver appends raw to INBOX, as a local delivery agent would. It
// satisfies DSNSink.
func (m *IMAP) Deliver(ctx context.Context, raw []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delivering to INBOX: %w", err)
	}
	buf := bytes.Clone(raw)
	if _, err := m.user.Append("INBOX", bytes.NewReader(buf), &imap.AppendOptions{Time: time.Now()}); err != nil {
		return fmt.Errorf("delivering to INBOX: %w", err)
	}
	return nil
}

type imapLogAdapter struct{ log *slog.Logger }

func (l imapLogAdapter) Printf(format string, v ...any) {
	l.log.Warn("imap server", "detail", fmt.Sprintf(format, v...))
}
