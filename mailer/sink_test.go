package mailer

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"kawaraban/localmail"
)

// fault decides how the relay answers; nil means go on as usual. try counts
// the RCPT commands seen for rcpt so far (1 on the first); at the MAIL
// stage rcpt is mailFrom and try counts MAIL commands.
type fault func(stage, rcpt string, try int) *smtp.SMTPError

// testSink is localmail's relay with the bookkeeping the engine tests want:
// RCPT tries per recipient, a fault hook in terms of stages and tries, a
// recipient whose first DATA stalls, and the DSNs it generates.
type testSink struct {
	lm   *localmail.SMTP
	addr string
	port int

	mu       sync.Mutex
	tries    map[string]int
	fault    fault
	stallOn  string
	stalled  bool
	stallEnd time.Time
	dropOn   string // rcpt whose first DATA is cut off after 100 bytes
	dropped  bool
	dsns     [][]byte
	conns    map[int64]int // connection → RCPT commands on it
	mails    int           // MAIL commands seen
}

// mailFrom is the rcpt a fault sees at the MAIL stage; try counts MAIL
// commands.
const mailFrom = "(MAIL FROM)"

func newTestSink(t testing.TB, f fault) *testSink { return newSink(t, f, false) }

func newSink(t testing.TB, f fault, countOnly bool) *testSink {
	t.Helper()
	s := &testSink{tries: map[string]int{}, fault: f, conns: map[int64]int{}}
	lm, err := localmail.NewSMTP(localmail.SMTPOptions{Keep: !countOnly, CountOnly: countOnly, Bounces: s, ShutdownGrace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := lm.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go lm.Run(ctx)
	t.Cleanup(func() {
		// go-smtp v0.25.1 races when a server is closed while a BDAT
		// chunk is still being copied to a backend that stalls: let an
		// injected stall run out first.
		s.mu.Lock()
		end := s.stallEnd
		s.mu.Unlock()
		time.Sleep(time.Until(end.Add(200 * time.Millisecond)))
		cancel()
		lm.Close()
	})
	if !countOnly {
		lm.SetFault(s.hook)
	}
	s.lm, s.addr = lm, addr.String()
	s.port = addr.(*net.TCPAddr).Port
	return s
}

func (s *testSink) hook(ev localmail.Event) localmail.Action {
	s.mu.Lock()
	f := s.fault
	var rcpt string
	var try int
	switch ev.Stage {
	case localmail.StageMail:
		s.mails++
		rcpt, try = mailFrom, s.mails
	case localmail.StageRcpt:
		rcpt = ev.To
		s.conns[ev.Conn]++
		s.tries[rcpt]++
		try = s.tries[rcpt]
	case localmail.StageData:
		if len(ev.Rcpts) > 0 {
			rcpt = ev.Rcpts[0]
			try = s.tries[rcpt]
		}
		if s.dropOn != "" && slices.Contains(ev.Rcpts, s.dropOn) && !s.dropped {
			s.dropped = true
			s.mu.Unlock()
			return localmail.Action{Drop: true, DropAfterBytes: 100}
		}
		if s.stallOn != "" && slices.Contains(ev.Rcpts, s.stallOn) && !s.stalled {
			s.stalled = true
			s.stallEnd = time.Now().Add(3 * time.Second)
			s.mu.Unlock()
			// Longer than the client's Timeout, then hang up: the copy
			// is never accepted.
			return localmail.Action{Stall: 3 * time.Second, Drop: true}
		}
	}
	s.mu.Unlock()
	if f == nil || rcpt == "" {
		return localmail.Action{}
	}
	if e := f(stageOf(ev.Stage), rcpt, try); e != nil {
		return localmail.Action{Reply: e}
	}
	return localmail.Action{}
}

func stageOf(s localmail.Stage) string {
	switch s {
	case localmail.StageMail:
		return StageMail
	case localmail.StageRcpt:
		return StageRcpt
	}
	return StageData
}

// Deliver receives the relay's DSNs (localmail.DSNSink).
func (s *testSink) Deliver(ctx context.Context, raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dsns = append(s.dsns, raw)
	return nil
}

func (s *testSink) relay() Relay {
	return Relay{Host: "127.0.0.1", Port: s.port, TLS: TLSNone, MaxConns: 4}
}

func (s *testSink) count(rcpt string) int { return s.lm.Count(rcpt) }

// get returns "tries" (int), or "from" / "data" (string) of the last
// message to rcpt.
func (s *testSink) get(field string, rcpt string) any {
	if field == "tries" {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.tries[rcpt]
	}
	msgs := s.lm.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if slices.Contains(msgs[i].To, rcpt) {
			if field == "from" {
				return msgs[i].From
			}
			return string(msgs[i].Data)
		}
	}
	return ""
}

func (s *testSink) dsnList() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dsns)
}

func (s *testSink) connCounts() map[int64]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64]int{}
	for k, v := range s.conns {
		out[k] = v
	}
	return out
}
