package mailer

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// fault decides how the test server answers; nil means accept.
type fault func(stage, rcpt string, try int) *smtp.SMTPError

// testSink is a small in-process go-smtp server for the engine tests: it
// counts copies per recipient, records envelopes, and answers with faults.
type testSink struct {
	mu      sync.Mutex
	copies  map[string]int    // rcpt → accepted copies
	tries   map[string]int    // rcpt → RCPT commands seen
	from    map[string]string // rcpt → last MAIL FROM
	params  map[string]string // rcpt → "RET=... NOTIFY=..."
	data    map[string][]byte
	fault   fault
	stallOn string // rcpt whose first DATA stalls
	stalled map[string]bool
	addr    string
	port    int
}

func newTestSink(t testing.TB, f fault) *testSink {
	t.Helper()
	s := &testSink{copies: map[string]int{}, tries: map[string]int{}, from: map[string]string{},
		params: map[string]string{}, data: map[string][]byte{}, stalled: map[string]bool{}, fault: f}
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.EnableDSN = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.addr = ln.Addr().String()
	s.port = ln.Addr().(*net.TCPAddr).Port
	return s
}

func (s *testSink) relay() Relay {
	return Relay{Host: "127.0.0.1", Port: s.port, TLS: TLSNone, MaxConns: 4}
}

func (s *testSink) count(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copies[rcpt]
}

func (s *testSink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &sinkSession{s: s}, nil
}

type sinkSession struct {
	s      *testSink
	from   string
	ret    string
	rcpt   string
	notify string
}

func (ss *sinkSession) Reset()        { ss.rcpt = "" }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, opts *smtp.MailOptions) error {
	ss.from = from
	if opts != nil {
		ss.ret = string(opts.Return)
	}
	return nil
}

func (ss *sinkSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	s := ss.s
	s.mu.Lock()
	s.tries[to]++
	try := s.tries[to]
	s.mu.Unlock()
	s.mu.Lock()
	f := s.fault
	s.mu.Unlock()
	if f != nil {
		if e := f(StageRcpt, to, try); e != nil {
			return e
		}
	}
	ss.rcpt = to
	var n []string
	if opts != nil {
		for _, x := range opts.Notify {
			n = append(n, string(x))
		}
	}
	ss.notify = strings.Join(n, ",")
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	s := ss.s
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	try := s.tries[ss.rcpt]
	stall := s.stallOn == ss.rcpt && !s.stalled[ss.rcpt]
	if stall {
		s.stalled[ss.rcpt] = true
	}
	s.mu.Unlock()
	if stall {
		time.Sleep(3 * time.Second) // longer than the client's Timeout
		return errors.New("stalled")
	}
	s.mu.Lock()
	f := s.fault
	s.mu.Unlock()
	if f != nil {
		if e := f(StageData, ss.rcpt, try); e != nil {
			return e
		}
	}
	s.mu.Lock()
	s.copies[ss.rcpt]++
	s.from[ss.rcpt] = ss.from
	s.params[ss.rcpt] = "RET=" + ss.ret + " NOTIFY=" + ss.notify
	s.data[ss.rcpt] = b
	s.mu.Unlock()
	return nil
}

func (s *testSink) get(field string, rcpt string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch field {
	case "tries":
		return s.tries[rcpt]
	case "from":
		return s.from[rcpt]
	case "params":
		return s.params[rcpt]
	default:
		return string(s.data[rcpt])
	}
}
