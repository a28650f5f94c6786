package localmail

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/wneessen/go-mail"
)

// startSMTP runs a relay on a loopback port for the test's lifetime.
func startSMTP(t *testing.T, opt SMTPOptions) (*SMTP, int) {
	t.Helper()
	s, err := NewSMTP(opt)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s, addr.(*net.TCPAddr).Port
}

func client(t *testing.T, port int, extra ...mail.Option) *mail.Client {
	t.Helper()
	opts := append([]mail.Option{mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS), mail.WithTimeout(5 * time.Second)}, extra...)
	c, err := mail.NewClient("127.0.0.1", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testMessage(t *testing.T, from string, to ...string) *mail.Msg {
	t.Helper()
	m := mail.NewMsg()
	if err := m.EnvelopeFrom(from); err != nil {
		t.Fatal(err)
	}
	if err := m.From("京都市 <news@city.example.jp>"); err != nil {
		t.Fatal(err)
	}
	if err := m.To(to...); err != nil {
		t.Fatal(err)
	}
	m.Subject("メールマガジン")
	m.SetMessageIDWithValue("test.1@city.example.jp")
	m.SetBodyString(mail.TypeTextPlain, "本文です。\n.leading dot line\n")
	return m
}

func TestCaptureDirNumbersAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "captured")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	// Leftovers of an earlier run: message 7 and a half-written file.
	if err := os.WriteFile(filepath.Join(dir, "7.eml"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for round, want := range []string{"8.eml", "9.eml"} {
		s, port := startSMTP(t, SMTPOptions{Dir: dir})
		if err := client(t, port).DialAndSend(testMessage(t, "bounces+tok@city.example.jp", "a@example.jp")); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		s.Close()
		raw, err := os.ReadFile(filepath.Join(dir, want))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		head := "Return-Path: <bounces+tok@city.example.jp>\r\nDelivered-To: a@example.jp\r\n"
		if !bytes.HasPrefix(raw, []byte(head)) {
			t.Fatalf("round %d: %s starts %q", round, want, raw[:min(len(raw), 120)])
		}
		if !bytes.Contains(raw, []byte("\r\n.leading dot line")) || !bytes.Contains(raw, []byte("Message-ID: <test.1@city.example.jp>")) {
			t.Errorf("round %d: body not kept as sent:\n%s", round, raw)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestKeepAndCount(t *testing.T) {
	t.Parallel()
	s, port := startSMTP(t, SMTPOptions{Keep: true})
	c := client(t, port)
	if err := c.DialAndSend(testMessage(t, "b@x.example", "A@Example.jp", "b@example.jp"), testMessage(t, "b@x.example", "a@example.jp")); err != nil {
		t.Fatal(err)
	}
	if got := s.Count("a@example.jp"); got != 2 {
		t.Errorf("Count(a) = %d, want 2", got)
	}
	if got := s.Total(); got != 3 {
		t.Errorf("Total = %d, want 3", got)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[0].From != "b@x.example" || len(msgs[0].To) != 2 || !bytes.Contains(msgs[1].Data, []byte("Subject:")) {
		t.Fatalf("messages: %+v", msgs)
	}
}

func TestCountOnly(t *testing.T) {
	t.Parallel()
	if _, err := NewSMTP(SMTPOptions{CountOnly: true, Keep: true}); err == nil {
		t.Error("CountOnly with Keep accepted")
	}
	s, port := startSMTP(t, SMTPOptions{CountOnly: true})
	if err := client(t, port).DialAndSend(testMessage(t, "b@x.example", "a@example.jp")); err != nil {
		t.Fatal(err)
	}
	if s.Count("a@example.jp") != 1 || len(s.Messages()) != 0 {
		t.Errorf("count %d, kept %d", s.Count("a@example.jp"), len(s.Messages()))
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s, port := startSMTP(t, SMTPOptions{Username: "news", Password: "secret"})
	auth := func(user, pass string) []mail.Option {
		return []mail.Option{mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(user), mail.WithPassword(pass)}
	}
	if err := client(t, port, auth("news", "secret")...).DialAndSend(testMessage(t, "b@x.example", "a@example.jp")); err != nil {
		t.Fatalf("good password: %v", err)
	}
	err := client(t, port, auth("news", "wrong")...).DialAndSend(testMessage(t, "b@x.example", "a@example.jp"))
	if err == nil || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: %v, want 535", err)
	}
	err = client(t, port).DialAndSend(testMessage(t, "b@x.example", "a@example.jp"))
	var se *mail.SendError
	if !errors.As(err, &se) || se.ErrorCode() != 502 {
		t.Errorf("no auth: %v, want 502 at MAIL", err)
	}
	if s.Total() != 1 {
		t.Errorf("Total = %d, want 1", s.Total())
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fault     FaultFunc
		wantCode  int
		wantTemp  bool
		wantCount int
	}{
		{"450 at RCPT (RFC 3463 4.2.1)", func(e Event) Action {
			if e.Stage == StageRcpt {
				return Reply(450, "4.2.1", "mailbox busy")
			}
			return Action{}
		}, 450, true, 0},
		{"421 at MAIL", func(e Event) Action {
			if e.Stage == StageMail {
				return Reply(421, "4.7.0", "too many connections")
			}
			return Action{}
		}, 421, true, 0},
		{"550 after DATA", func(e Event) Action {
			if e.Stage == StageData {
				return Reply(550, "5.7.1", "content rejected")
			}
			return Action{}
		}, 550, false, 0},
		{"drop mid-DATA", func(e Event) Action {
			if e.Stage == StageData {
				return Action{Drop: true, DropAfterBytes: 20}
			}
			return Action{}
		}, 0, false, 0},
		{"drop at RCPT", func(e Event) Action {
			if e.Stage == StageRcpt {
				return Action{Drop: true}
			}
			return Action{}
		}, 0, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, port := startSMTP(t, SMTPOptions{Fault: tc.fault})
			err := client(t, port).DialAndSend(testMessage(t, "b@x.example", "a@example.jp"))
			if err == nil {
				t.Fatal("send succeeded")
			}
			if tc.wantCode != 0 {
				var se *mail.SendError
				if !errors.As(err, &se) || se.ErrorCode() != tc.wantCode || se.IsTemp() != tc.wantTemp {
					t.Fatalf("err %v, want code %d temp %v", err, tc.wantCode, tc.wantTemp)
				}
			}
			if got := s.Count("a@example.jp"); got != tc.wantCount {
				t.Errorf("Count = %d, want %d", got, tc.wantCount)
			}
		})
	}
}

func TestFaultTempThenOK(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	s, port := startSMTP(t, SMTPOptions{Fault: func(e Event) Action {
		if e.Stage != StageRcpt {
			return Action{}
		}
		mu.Lock()
		defer mu.Unlock()
		seen[e.To]++
		if seen[e.To] == 1 {
			return Reply(450, "4.2.1", "try again later")
		}
		return Action{}
	}})
	m := testMessage(t, "b@x.example", "a@example.jp")
	err := client(t, port).DialAndSend(m)
	var se *mail.SendError
	if !errors.As(err, &se) || !se.IsTemp() || se.EnhancedStatusCode() != "4.2.1" {
		t.Fatalf("first attempt: %v", err)
	}
	if err := client(t, port).DialAndSend(testMessage(t, "b@x.example", "a@example.jp")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if s.Count("a@example.jp") != 1 {
		t.Errorf("Count = %d, want 1", s.Count("a@example.jp"))
	}
}

func TestFaultStallClientTimesOut(t *testing.T) {
	t.Parallel()
	s, port := startSMTP(t, SMTPOptions{})
	s.SetFault(func(e Event) Action {
		if e.Stage == StageData {
			return Action{Stall: time.Hour}
		}
		return Action{}
	})
	start := time.Now()
	err := client(t, port, mail.WithTimeout(300*time.Millisecond)).DialAndSend(testMessage(t, "b@x.example", "a@example.jp"))
	if err == nil {
		t.Fatal("stalled send succeeded")
	}
	// Close must end the hour-long stall at once.
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the stall")
	}
	if s.Count("a@example.jp") != 0 {
		t.Error("stalled message counted")
	}
	t.Logf("client gave up after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

func TestFaultEventNumbers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var events []Event
	_, port := startSMTP(t, SMTPOptions{Fault: func(e Event) Action {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		return Action{}
	}})
	c := client(t, port)
	if err := c.DialAndSend(testMessage(t, "b@x.example", "a@example.jp"), testMessage(t, "b@x.example", "c@example.jp")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 6 {
		t.Fatalf("events: %+v", events)
	}
	last := events[5]
	if last.Stage != StageData || last.Conn != 1 || last.Msg != 2 || len(last.Rcpts) != 1 || last.Rcpts[0] != "c@example.jp" {
		t.Errorf("last event %+v", last)
	}
}

func TestInvalidDomainRefusedWithDSN(t *testing.T) {
	t.Parallel()
	box := &sinkRecorder{}
	s, port := startSMTP(t, SMTPOptions{Hostname: "relay.test", Bounces: box, Now: fixedNow})
	err := client(t, port).DialAndSend(testMessage(t, "bounces+AbC_1@city.example.jp", "nobody@example.invalid"))
	var se *mail.SendError
	if !errors.As(err, &se) || se.IsTemp() || se.ErrorCode() != 550 || se.EnhancedStatusCode() != "5.1.1" {
		t.Fatalf("want 550 5.1.1 at RCPT, got %v", err)
	}
	if s.Total() != 0 {
		t.Errorf("Total = %d", s.Total())
	}
	dsns := box.all()
	if len(dsns) != 1 {
		t.Fatalf("%d DSNs delivered", len(dsns))
	}
	r := parseDSN(t, dsns[0])
	if r.to != "bounces+AbC_1@city.example.jp" || r.deliveredTo != "bounces+AbC_1@city.example.jp" {
		t.Errorf("To %q Delivered-To %q", r.to, r.deliveredTo)
	}
	if r.reportType != "delivery-status" || r.mta != "dns; relay.test" {
		t.Errorf("report-type %q, Reporting-MTA %q", r.reportType, r.mta)
	}
	if len(r.rcpts) != 1 || r.rcpts[0]["Final-Recipient"] != "rfc822; nobody@example.invalid" ||
		r.rcpts[0]["Status"] != "5.1.1" || r.rcpts[0]["Action"] != "failed" ||
		!strings.HasPrefix(r.rcpts[0]["Diagnostic-Code"], "smtp; 550 5.1.1") {
		t.Errorf("recipient fields %v", r.rcpts)
	}
	// A good recipient in the same transaction still gets the message.
	c, err := smtp.Dial("127.0.0.1:" + strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("bounces+x@city.example.jp", nil); err != nil {
		t.Fatal(err)
	}
	var refused *smtp.SMTPError
	if err := c.Rcpt("x@sub.INVALID", nil); !errors.As(err, &refused) || refused.Code != 550 {
		t.Errorf("RCPT x@sub.INVALID: %v", err)
	}
	if err := c.Rcpt("ok@example.jp", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("Subject: x\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Count("ok@example.jp") != 1 || s.Count("x@sub.invalid") != 0 {
		t.Errorf("counts ok=%d invalid=%d", s.Count("ok@example.jp"), s.Count("x@sub.invalid"))
	}
	if len(box.all()) != 2 {
		t.Errorf("want a second DSN, have %d", len(box.all()))
	}
}

func TestRunStopsWithContext(t *testing.T) {
	t.Parallel()
	s, err := NewSMTP(SMTPOptions{ShutdownGrace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); !errors.Is(err, ErrNotListening) {
		t.Errorf("Run before Listen: %v", err)
	}
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr().String() != addr.String() {
		t.Errorf("Addr %v, Listen %v", s.Addr(), addr)
	}
	// An idle client connection must not keep Run from returning.
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestDSNOnlyWhenAskedFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		from   string
		notify []mail.DSNRcptNotifyOption
		want   int
	}{
		{"default", "b@x.example", nil, 1},
		{"NOTIFY=FAILURE,DELAY", "b@x.example", []mail.DSNRcptNotifyOption{mail.DSNRcptNotifyFailure, mail.DSNRcptNotifyDelay}, 1},
		{"NOTIFY=NEVER (RFC 3461 section 4.1)", "b@x.example", []mail.DSNRcptNotifyOption{mail.DSNRcptNotifyNever}, 0},
		{"NOTIFY=SUCCESS only", "b@x.example", []mail.DSNRcptNotifyOption{mail.DSNRcptNotifySuccess}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			box := &sinkRecorder{}
			_, port := startSMTP(t, SMTPOptions{Bounces: box})
			var opts []mail.Option
			if tc.notify != nil {
				opts = append(opts, mail.WithDSNRcptNotifyType(tc.notify...))
			}
			_ = client(t, port, opts...).DialAndSend(testMessage(t, tc.from, "n@example.invalid"))
			if n := len(box.all()); n != tc.want {
				t.Errorf("%d DSNs, want %d", n, tc.want)
			}
		})
	}
}

func TestNoDSNForNullSender(t *testing.T) {
	t.Parallel()
	box := &sinkRecorder{}
	_, port := startSMTP(t, SMTPOptions{Bounces: box})
	c, err := smtp.Dial("127.0.0.1:" + strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("n@example.invalid", nil); err == nil {
		t.Error("RCPT to .invalid accepted")
	}
	if n := len(box.all()); n != 0 {
		t.Errorf("a bounce of a bounce: %d DSNs", n)
	}
}

type sinkRecorder struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (r *sinkRecorder) Deliver(_ context.Context, raw []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, raw)
	return nil
}

func (r *sinkRecorder) all() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs...)
}

func fixedNow() time.Time {
	return time.Date(2027, 3, 14, 10, 0, 0, 0, time.FixedZone("JST", 9*3600))
}

// Two relays capturing into one directory (a daemon and a command run with
// --data beside it) never overwrite each other's messages.
func TestCaptureSharedDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, p1 := startSMTP(t, SMTPOptions{Dir: dir})
	_, p2 := startSMTP(t, SMTPOptions{Dir: dir})
	for i := 0; i < 5; i++ {
		for _, p := range []int{p1, p2} {
			if err := client(t, p).DialAndSend(testMessage(t, "s@city.example.jp", "a@example.jp")); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 10 {
		t.Fatalf("%d files, want 10", len(files))
	}
}

func TestMaxMessageBytes(t *testing.T) {
	t.Parallel()
	s, port := startSMTP(t, SMTPOptions{MaxMessageBytes: 200, Keep: true})
	err := client(t, port).DialAndSend(testMessage(t, "b@x.example", "a@example.jp"))
	var se *mail.SendError
	if !errors.As(err, &se) || se.ErrorCode() != 552 {
		t.Fatalf("oversized message: %v, want 552", err)
	}
	if s.Total() != 0 || len(s.Messages()) != 0 {
		t.Error("oversized message kept")
	}
}
