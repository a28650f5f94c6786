package localmail

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
)

// Mailbox is the username of local mode's bounce mailbox; MailboxPassword
// its password (the server listens on loopback only).
const (
	Mailbox         = "bounces"
	MailboxPassword = "local-bounces"
)

// Servers are local mode's two mail servers on loopback: an SMTP relay
// that captures every message into a directory, and the IMAP mailbox
// Mailbox, which receives a real RFC 3464 DSN for every recipient at
// *.invalid.
type Servers struct {
	SMTP *SMTP
	IMAP *IMAP
	// SMTPPort and IMAPPort are where they listen on 127.0.0.1.
	SMTPPort, IMAPPort int

	cancel context.CancelFunc
	wg     sync.WaitGroup
	// announced is the directory Announce recorded the mailbox's
	// address in; Close forgets it.
	announced string
}

// Start starts both servers on free loopback ports, capturing into dir;
// they run until Close.
func Start(dir string, log *slog.Logger) (*Servers, error) {
	imap, err := NewIMAP(IMAPOptions{Username: Mailbox, Password: MailboxPassword, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("local IMAP server: %w", err)
	}
	smtp, err := NewSMTP(SMTPOptions{Dir: dir, Hostname: "kawaraban.localhost", Bounces: imap, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("local SMTP relay: %w", err)
	}
	ia, err := imap.Listen("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("local IMAP server: %w", err)
	}
	sa, err := smtp.Listen("127.0.0.1:0")
	if err != nil {
		imap.Close()
		return nil, fmt.Errorf("local SMTP relay: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Servers{SMTP: smtp, IMAP: imap, SMTPPort: sa.(*net.TCPAddr).Port, IMAPPort: ia.(*net.TCPAddr).Port, cancel: cancel}
	for _, run := range []func(context.Context) error{smtp.Run, imap.Run} {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := run(ctx); err != nil && ctx.Err() == nil && log != nil {
				log.Error("local mail server stopped", "err", err)
			}
		}()
	}
	if log != nil {
		log.Info("local mail servers started", "smtp", sa.String(), "imap", ia.String(), "captured", dir)
	}
	return s, nil
}

// Announce records the mailbox's address in the data directory dir
// (IMAPAddrFile), where commands such as `kawaraban local mail` find the
// running daemon's mailbox; Close forgets it again. Only the daemon
// announces its servers: a command that starts its own for a while does
// not.
func (s *Servers) Announce(dir string) error {
	if err := writeIMAPAddr(dir, s.IMAP.Addr()); err != nil {
		return err
	}
	s.announced = dir
	return nil
}

// Close stops both servers after open transactions finish, and forgets
// the address Announce recorded.
func (s *Servers) Close() {
	if s.announced != "" {
		removeIMAPAddr(s.announced)
	}
	s.cancel()
	s.wg.Wait()
}

// Inbox puts a citizen's mail into local mode's mailbox, where the bounce
// reader picks it up as it would a real one (the admin UI's local mail
// page).
type Inbox struct {
	IMAP *IMAP
	// Domain is the domain of the join and unsubscribe addresses.
	Domain string
}

// Deliver builds in's message and appends it; a mail that cannot be built
// is ErrBadInbound.
func (b Inbox) Deliver(ctx context.Context, in Inbound) error {
	raw, err := in.Message()
	if err != nil {
		return err
	}
	return b.IMAP.Deliver(ctx, raw)
}

// InboundDomain is the domain of the join and unsubscribe addresses.
func (b Inbox) InboundDomain() string { return b.Domain }
