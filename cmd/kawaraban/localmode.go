package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"

	"kawaraban/localmail"
)

// localServers are local mode's in-process mail servers: an SMTP relay that
// captures every message into DIR/captured and an IMAP mailbox for bounces,
// which receives a real RFC 3464 DSN for every recipient at *.invalid.
type localServers struct {
	smtp   *localmail.SMTP
	imap   *localmail.IMAP
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// localIMAPPassword is the bounce mailbox's password in local mode; the
// server listens on loopback only.
const localIMAPPassword = "local-bounces"

// startLocalServers starts both servers on loopback ports and points the
// config's smtp and imap sections at them.
func startLocalServers(e *env) (*localServers, error) {
	imap, err := localmail.NewIMAP(localmail.IMAPOptions{Username: "bounces", Password: localIMAPPassword, Logger: e.log})
	if err != nil {
		return nil, fmt.Errorf("local IMAP server: %w", err)
	}
	smtp, err := localmail.NewSMTP(localmail.SMTPOptions{
		Dir: filepath.Join(e.dataDir, "captured"), Hostname: "kawaraban.localhost",
		Bounces: imap, Logger: e.log,
	})
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
	e.cfg.SMTP.Port = sa.(*net.TCPAddr).Port
	e.cfg.IMAP.Port = ia.(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	ls := &localServers{smtp: smtp, imap: imap, cancel: cancel}
	for _, run := range []func(context.Context) error{smtp.Run, imap.Run} {
		ls.wg.Add(1)
		go func() {
			defer ls.wg.Done()
			if err := run(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("local mail server stopped", "err", err)
			}
		}()
	}
	e.log.Info("local mail servers started", "smtp", sa.String(), "imap", ia.String(),
		"captured", filepath.Join(e.dataDir, "captured"))
	return ls, nil
}

// Close stops both servers after open transactions finish.
func (ls *localServers) Close() {
	ls.cancel()
	ls.wg.Wait()
}
