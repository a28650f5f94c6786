package bounces

import (
	"context"
	"time"
)

// Run polls until ctx ends: after each poll it waits for IDLE to report new
// mail (when the server offers IDLE) or for IMAPOptions.PollInterval, and
// reconnects with exponential backoff (IMAPOptions.RetryMin to RetryMax)
// after a failure. It logs out and returns nil when ctx ends. IDLE watches
// IMAPOptions.Mailbox; a separate CommandMailbox is read at each poll. Use
// Run or PollOnce from a scheduler, not both.
func (s *Service) Run(ctx context.Context) error {
	if s.opt.IMAP.Addr == "" {
		return ErrNoIMAP
	}
	backoff := s.opt.IMAP.RetryMin
	for {
		st, err := s.PollOnce(ctx)
		if ctx.Err() != nil {
			s.Close()
			return nil
		}
		if err != nil {
			s.log.Warn("imap poll failed", "err", err, "retry_in", backoff)
			if !sleep(ctx, backoff) {
				s.Close()
				return nil
			}
			backoff = min(backoff*2, s.opt.IMAP.RetryMax)
			continue
		}
		backoff = s.opt.IMAP.RetryMin
		if st.Fetched > 0 {
			s.log.Info("imap poll", "fetched", st.Fetched, "bounces", st.Bounces, "commands", st.Commands,
				"duplicates", st.Duplicates, "not_ours", st.NotOurs)
		}
		s.wait(ctx)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// wait blocks until new mail, the poll interval, or the end of ctx.
func (s *Service) wait(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cn := s.conn
	if cn == nil || !cn.idle {
		s.mu.Unlock()
		sleep(ctx, s.opt.IMAP.PollInterval)
		s.mu.Lock()
		return
	}
	idle, err := cn.c.Idle()
	if err != nil {
		cn.c.Close()
		s.conn = nil
		return
	}
	if s.idling != nil {
		s.idling()
	}
	t := time.NewTimer(s.opt.IMAP.PollInterval)
	defer t.Stop()
	select {
	case <-cn.update:
	case <-t.C:
	case <-ctx.Done():
	case <-cn.c.Closed():
	}
	if err := idle.Close(); err == nil {
		err = idle.Wait()
	}
}

// Close logs out of IMAP and closes the connection, if one is open.
func (s *Service) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	cn := s.conn
	s.conn = nil
	done := make(chan error, 1)
	go func() { done <- cn.c.Logout().Wait() }()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	return cn.c.Close()
}
