package localmail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// ErrNotListening is returned by Run when Listen was not called first.
var ErrNotListening = errors.New("localmail: smtp server is not listening")

// DSNSink receives the delivery status notifications the relay generates.
// (*IMAP).Deliver satisfies it.
type DSNSink interface {
	Deliver(ctx context.Context, raw []byte) error
}

// SMTPOptions configures an SMTP relay. The zero value accepts all mail,
// keeps nothing but the counts, and sends no DSNs.
type SMTPOptions struct {
	// Dir, when set, receives each accepted message as Dir/<n>.eml, n
	// counting on from the highest number already there.
	Dir string
	// Keep keeps each accepted message in memory for Messages.
	Keep bool
	// CountOnly only counts copies per recipient: the benchmark sink. It
	// cannot be combined with Dir or Keep.
	CountOnly bool
	// Hostname is the server's name in its greeting and in the DSNs'
	// Reporting-MTA (default "localhost").
	Hostname string
	// Username and Password, when Username is set, require AUTH PLAIN
	// (allowed without TLS) before MAIL.
	Username, Password string
	// MaxMessageBytes refuses bigger messages with 552 5.3.4 (0: no limit).
	MaxMessageBytes int64
	// Logger receives the server's errors (nil: discarded).
	Logger *slog.Logger
	// Bounces receives an RFC 3464 DSN for each refused *.invalid recipient
	// (nil: none).
	Bounces DSNSink
	// Fault, when set, may answer MAIL, RCPT and DATA in place of the
	// server; SetFault changes it later.
	Fault FaultFunc
	// Now is the clock for DSN dates (nil: time.Now).
	Now func() time.Time
	// ShutdownGrace is how long Run lets open transactions finish after
	// its context ends before it cuts the connections (default 2s).
	ShutdownGrace time.Duration
}

// Message is one accepted message as Keep records it.
type Message struct {
	// From is the envelope sender (MAIL FROM), "" for the null sender.
	From string
	// To holds the envelope recipients (RCPT TO) that were accepted.
	To []string
	// Data is the message exactly as received after DATA.
	Data []byte
}

// SMTP is an in-process SMTP relay built on go-smtp. It is safe for
// concurrent use.
type SMTP struct {
	opt     SMTPOptions
	srv     *smtp.Server
	capture *capture
	log     *slog.Logger
	fault   atomic.Pointer[FaultFunc]

	connSeq, msgSeq atomic.Int64
	inTx            atomic.Int64 // transactions between MAIL and their end

	done      chan struct{} // closed by Close or at the end of Run
	closeOnce sync.Once
	baseCtx   context.Context
	cancel    context.CancelFunc

	mu     sync.Mutex
	ln     net.Listener
	conns  map[*smtp.Conn]struct{}
	msgs   []Message
	counts map[string]int
	total  int
	// first and last are when the first and the last accepted message
	// ended (Span).
	first, last time.Time
}

// NewSMTP builds a relay from opt. With opt.Dir set it creates the
// directory and finds the next message number.
func NewSMTP(opt SMTPOptions) (*SMTP, error) {
	if opt.CountOnly && (opt.Dir != "" || opt.Keep) {
		return nil, errors.New("localmail: CountOnly cannot be combined with Dir or Keep")
	}
	if opt.Hostname == "" {
		opt.Hostname = "localhost"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.ShutdownGrace == 0 {
		opt.ShutdownGrace = 2 * time.Second
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &SMTP{opt: opt, log: log, done: make(chan struct{}),
		conns: map[*smtp.Conn]struct{}{}, counts: map[string]int{}}
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	if opt.Dir != "" {
		c, err := openCapture(opt.Dir)
		if err != nil {
			return nil, err
		}
		s.capture = c
	}
	if opt.Fault != nil {
		s.SetFault(opt.Fault)
	}
	srv := smtp.NewServer(backend{s})
	srv.Domain = opt.Hostname
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.MaxMessageBytes = opt.MaxMessageBytes
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Minute, 5*time.Minute
	srv.ErrorLog = logAdapter{log}
	s.srv = srv
	return s, nil
}

// SetFault replaces the fault hook; nil removes it. It is safe to call
// while the server runs.
func (s *SMTP) SetFault(f FaultFunc) {
	if f == nil {
		s.fault.Store(nil)
		return
	}
	s.fault.Store(&f)
}

// Listen opens the listening socket on addr (e.g. "127.0.0.1:0") and
// returns its address. Run then serves it.
func (s *SMTP) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for smtp on %s: %w", addr, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		ln.Close()
		return nil, fmt.Errorf("listening for smtp on %s: already listening on %s", addr, s.ln.Addr())
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Addr returns the listening address, or nil before Listen.
func (s *SMTP) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Run serves connections until ctx ends or Close is called. When ctx ends
// it stops accepting, gives open transactions ShutdownGrace to finish,
// then closes every connection and returns nil.
func (s *SMTP) Run(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return ErrNotListening
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	select {
	case err := <-errc:
		if err != nil && !s.closing() {
			return fmt.Errorf("serving smtp on %s: %w", ln.Addr(), err)
		}
		return nil
	case <-ctx.Done():
	}
	s.gracefulStop()
	<-errc
	return nil
}

// gracefulStop closes the listener, waits up to ShutdownGrace for open
// transactions (MAIL to the end of DATA) to end, then closes everything.
// Idle connections, such as a sender's pool, do not hold it up. (go-smtp's
// own Shutdown waits for idle connections too, and races with Serve.)
func (s *SMTP) gracefulStop() {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	_ = ln.Close()
	deadline := time.Now().Add(s.opt.ShutdownGrace)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for s.inTx.Load() > 0 && time.Now().Before(deadline) {
		<-tick.C
	}
	s.Close()
}

// Close stops the server at once: the listener and every connection are
// closed and stalls end. It is safe to call more than once.
func (s *SMTP) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.cancel()
	})
	s.mu.Lock()
	ln := s.ln
	conns := make([]*smtp.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	_ = s.srv.Close() // ErrServerClosed on a second call
	for _, c := range conns {
		_ = c.Conn().Close()
	}
	if ln != nil {
		_ = ln.Close() // Listen without Run: go-smtp never saw it
	}
	return nil
}

func (s *SMTP) closing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Messages returns a copy of the messages kept so far (SMTPOptions.Keep).
func (s *SMTP) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Count returns how many copies were accepted for rcpt (compared
// case-insensitively).
func (s *SMTP) Count(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[strings.ToLower(rcpt)]
}

// Total returns the number of copies accepted, summed over recipients.
func (s *SMTP) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Span returns when the first and the last accepted message ended (zero
// times before the first): a benchmark's first-to-last time at the sink.
func (s *SMTP) Span() (first, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first, s.last
}

// Recipients returns how many distinct recipients got at least one copy.
func (s *SMTP) Recipients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.counts)
}

// accept stores and counts a message whose DATA ended.
func (s *SMTP) accept(from string, rcpts []string, data []byte) error {
	if s.capture != nil {
		if err := s.capture.write(from, rcpts, data); err != nil {
			s.log.Error("capturing message", "err", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store message, try later"}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rcpts {
		s.counts[strings.ToLower(r)]++
	}
	s.total += len(rcpts)
	s.last = time.Now()
	if s.first.IsZero() {
		s.first = s.last
	}
	if s.opt.Keep {
		s.msgs = append(s.msgs, Message{From: from, To: append([]string(nil), rcpts...), Data: data})
	}
	return nil
}

func (s *SMTP) track(c *smtp.Conn, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
}

// stall waits d, or less if the server closes. It reports whether the
// full time passed.
func (s *SMTP) stall(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

type backend struct{ s *SMTP }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.s.track(c, true)
	return &session{s: b.s, conn: c, connSeq: b.s.connSeq.Add(1)}, nil
}

type logAdapter struct{ log *slog.Logger }

func (l logAdapter) Printf(format string, v ...any) {
	l.log.Warn("smtp server", "detail", fmt.Sprintf(format, v...))
}

func (l logAdapter) Println(v ...any) {
	l.log.Warn("smtp server", "detail", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
