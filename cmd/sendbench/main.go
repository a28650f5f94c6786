// Command sendbench measures kawaraban's delivery engine: it snapshots a
// personalised issue of -n recipients into a fresh SQLite outbox, sends it
// through mailer.Run (rendering, VERP, List-Unsubscribe, go-mail
// composition, pooled pipelining SMTP) to localmail's count-only sink
// running in a child process on loopback, and prints messages/s, peak RSS
// (VmHWM) and CPU seconds of the sender. With smtp-source (Debian's postfix
// package) on PATH it then measures the same sink's raw ceiling with 20
// pipelining sessions of messages the size of ours (-raw-len), so the
// ratio is honest. With
// -relay it measures against a real relay instead (the e2e mail stack's
// Postfix), beside smtp-source with the same sessions (relay.go).
//
//	go run ./cmd/sendbench -n 100000
package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kawaraban/localmail"
	"kawaraban/mailer"
	"kawaraban/store"
	"kawaraban/templates"
	"kawaraban/token"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sendbench:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sendbench", flag.ContinueOnError)
	n := fs.Int("n", 100_000, "recipients")
	conns := fs.Int("conns", 8, "SMTP connections")
	workers := fs.Int("workers", 16, "mailer workers")
	raw := fs.Bool("raw", true, "also measure the sink with smtp-source when it is installed")
	fs.IntVar(&rawLen, "raw-len", 7200, "smtp-source's message length for the raw ceiling (-l): ours are about 7,200 bytes on the wire (4096 before 2026-12-04)")
	sink := fs.Bool("sink", false, "internal: run the count-only sink and print its address")
	prof := fs.String("cpuprofile", "", "write the sender's CPU profile to this file")
	daemonBin := fs.String("daemon", "", "measure the whole daemon instead: the kawaraban binary to run (go build -o /tmp/kawaraban ./cmd/kawaraban)")
	batch := fs.Int("batch", 200, "sending.batch_size for -daemon")
	crash := fs.Bool("crash", false, "with -daemon: kill -9 the daemon half way, restart it, and count lost and duplicate copies")
	perConn := fs.Int("per-conn", 1000, "smtp.max_messages_per_conn for -daemon (the daemon's default is 1000)")
	gogc := fs.Int("gogc", 400, "the sender's GC percent (400 and a 64 MiB soft limit are what kawaraban serve sets; 0 leaves Go's default)")
	relay := fs.String("relay", "", "measure against this relay (host:port, e.g. the e2e mail stack's Postfix 127.0.0.1:2525) beside smtp-source, with the daemon's shipped defaults (workers 4, conns 4, batch 100) unless set")
	relayTLS := fs.String("relay-tls", "none", "with -relay: none, starttls or tls (certificates are not checked)")
	relayUser := fs.String("relay-user", "", "with -relay: AUTH user")
	relayPass := fs.String("relay-pass", "", "with -relay: AUTH password")
	sourceAddr := fs.String("source", "", "with -relay: where smtp-source sends (default: -relay; it speaks neither STARTTLS nor AUTH)")
	sessions := fs.Int("sessions", 0, "with -relay: smtp-source sessions (default: -conns)")
	sourceLen := fs.Int("source-len", 0, "with -relay: smtp-source message length (-l; 0: its default)")
	rcpt := fs.String("rcpt", "bench@example.test", "with -relay: the recipient; kawaraban sends to local+rN@domain")
	maildir := fs.String("maildir", "", "with -relay: a Maildir to empty before each run")
	runs := fs.Int("runs", 1, "with -relay: rounds of smtp-source, kawaraban, smtp-source")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *relay != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		b := relayBench{addr: *relay, tls: *relayTLS, user: *relayUser, pass: *relayPass,
			source: *sourceAddr, sessions: *sessions, sourceLen: *sourceLen, rcpt: *rcpt,
			maildir: *maildir, daemon: *daemonBin, runs: max(*runs, 1),
			n: *n, conns: 4, workers: 4, batch: 100, perConn: *perConn}
		if set["conns"] {
			b.conns = *conns
		}
		if set["workers"] {
			b.workers = *workers
		}
		if set["batch"] {
			b.batch = *batch
		}
		if b.source == "" {
			b.source = b.addr
		}
		if b.sessions == 0 {
			b.sessions = b.conns
		}
		if *gogc != 0 && b.daemon == "" {
			debug.SetGCPercent(*gogc)
			debug.SetMemoryLimit(64 << 20)
		}
		return b.run(out)
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *sink {
		return serveSink(out)
	}
	if *daemonBin != "" {
		// This process is the sink here, with Go's default collector like
		// the -sink child of the raw ceiling.
		return measured(out, *raw && !*crash, *n, func() (float64, error) {
			return daemonRun(out, *daemonBin, daemonSetup{n: *n, conns: *conns, perConn: *perConn,
				workers: *workers, batch: *batch, crash: *crash})
		})
	}
	if *gogc != 0 {
		debug.SetGCPercent(*gogc)
		debug.SetMemoryLimit(64 << 20)
	}
	return measured(out, *raw, *n, func() (float64, error) {
		return pipelineRun(out, *n, *conns, *workers)
	})
}

// pipelineRun sends the issue in this process to a sink child and prints
// what it measured; it returns messages/s.
func pipelineRun(out io.Writer, n, conns, workers int) (float64, error) {
	addr, stop, err := startSink()
	if err != nil {
		return 0, err
	}
	host, portStr, _ := strings.Cut(addr, ":")
	port, _ := strconv.Atoi(portStr)
	res, err := sendIssue(sendSetup{
		relay:   mailer.Relay{Host: host, Port: port, TLS: mailer.TLSNone, MaxConns: conns},
		workers: workers, src: source(n),
	}, n)
	total, serr := stop()
	if err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, serr
	}
	rate := float64(n) / res.wall.Seconds()
	fmt.Fprintf(out, "pipeline: %d recipients in %.2fs = %.0f msgs/s; snapshot %.2fs; peak RSS %.1f MB; CPU %.2fs (%.1f µs/msg); sink counted %d (sink CPU %.1f µs/msg)\n",
		n, res.wall.Seconds(), rate, res.snapshot.Seconds(),
		float64(res.hwmKB)/1024, res.cpu.Seconds(), float64(res.cpu.Microseconds())/float64(n), total,
		float64(lastSinkCPU.Microseconds())/float64(n))
	if total != n {
		return 0, fmt.Errorf("sink counted %d messages, want %d", total, n)
	}
	return rate, nil
}

type result struct {
	wall, snapshot, cpu time.Duration
	hwmKB               int
	progress            mailer.Progress
}

// sendSetup is what sendIssue sends through: the relay, the mailer's
// workers and batch size (0 = the mailer's defaults) and the recipients.
type sendSetup struct {
	relay          mailer.Relay
	workers, batch int
	src            mailer.RecipientSource
	log            *slog.Logger // nil: none
}

// sendIssue snapshots an issue of n recipients from s.src and runs the
// mailer until every delivery is final.
func sendIssue(s sendSetup, n int) (result, error) {
	var r result
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sendbench")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "k.db"), store.Options{})
	if err != nil {
		return r, err
	}
	defer db.Close()
	signer, err := token.NewSigner([]byte("sendbench-key-0123456789abcdef0123456789"))
	if err != nil {
		return r, err
	}
	rend, err := newRenderer(signer)
	if err != nil {
		return r, err
	}
	done := make(chan int64, 1)
	m, err := mailer.New(db, mailer.Options{
		Relays:    []mailer.Relay{s.relay},
		Workers:   s.workers,
		BatchSize: s.batch,
		HeloName:  "sendbench.example.test",
		Logger:    s.log,
		Signer:    signer, ReturnPathDomain: "bounce.city.example.jp",
		Renderer:    rend,
		OnIssueDone: func(ctx context.Context, id int64) { done <- id },
	})
	if err != nil {
		return r, err
	}
	start := time.Now()
	defer m.Close()
	if _, err := m.Snapshot(ctx, 1, 1, s.src); err != nil {
		return r, err
	}
	r.snapshot = time.Since(start)
	cpu0 := cpuTime()
	start = time.Now()
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- m.Run(runCtx) }()
	select {
	case <-done:
	case err := <-ran:
		cancel()
		return r, fmt.Errorf("run ended early: %v", err)
	}
	r.wall = time.Since(start)
	r.cpu = cpuTime() - cpu0
	cancel()
	if err := <-ran; err != nil {
		return r, err
	}
	r.hwmKB = peakRSSKB()
	r.progress, err = m.Progress(ctx, 1)
	return r, err
}

// smtpSource finds Postfix's smtp-source, or "".
func smtpSource() string {
	if bin, err := exec.LookPath("smtp-source"); err == nil {
		return bin
	}
	for _, p := range []string{"/usr/sbin/smtp-source", "/usr/lib/postfix/sbin/smtp-source"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// rawCeiling runs smtp-source against a fresh sink: 20 sessions that stay
// connected (-d) and pipeline, messages of rawLen bytes. It returns
// messages/s.
func rawCeiling(out io.Writer, bin, when string, n int) (float64, error) {
	addr, stop, err := startSink()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	cmd := exec.Command(bin, "-d", "-s", "20", "-m", strconv.Itoa(n), "-l", strconv.Itoa(rawLen),
		"-f", "bench@city.example.jp", "-t", "r@example.jp", addr)
	cmd.Stderr = os.Stderr
	err = cmd.Run()
	wall := time.Since(start)
	total, serr := stop()
	if err != nil {
		return 0, fmt.Errorf("smtp-source: %w", err)
	}
	if serr != nil {
		return 0, serr
	}
	rate := float64(total) / wall.Seconds()
	fmt.Fprintf(out, "raw ceiling %s (smtp-source -d -s 20 -l %d): %d msgs in %.2fs = %.0f msgs/s (sink CPU %.1f µs/msg)\n",
		when, rawLen, total, wall.Seconds(), rate, float64(lastSinkCPU.Microseconds())/float64(total))
	return rate, nil
}

// measured runs the pipeline between two raw-ceiling runs, so that a change
// in the machine's load during the run moves both sides of the ratio, and
// prints the ratio to their mean.
func measured(out io.Writer, raw bool, n int, pipeline func() (float64, error)) error {
	bin := ""
	if raw {
		if bin = smtpSource(); bin == "" {
			fmt.Fprintln(out, "raw ceiling: smtp-source not installed (apt-get install postfix); skipped")
		}
	}
	var before float64
	if bin != "" {
		var err error
		if before, err = rawCeiling(out, bin, "before", n); err != nil {
			return err
		}
	}
	ours, err := pipeline()
	if err != nil || bin == "" || ours == 0 {
		return err
	}
	after, err := rawCeiling(out, bin, "after", n)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pipeline/raw = %.0f%% (raw ceiling: mean of before and after, %.0f msgs/s)\n", 200*ours/(before+after), (before+after)/2)
	return nil
}

// rawLen is the raw ceiling's message length (-raw-len).
var rawLen = 7200

// lastSinkCPU is the CPU time of the sink stopped last.
var lastSinkCPU time.Duration

// startSink runs this binary with -sink and returns the sink's address and
// a function that stops it and returns its count.
func startSink() (string, func() (int, error), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, "-sink")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	rd := bufio.NewReader(stdout)
	line, err := rd.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return "", nil, fmt.Errorf("starting sink: %w", err)
	}
	stop := func() (int, error) {
		cmd.Process.Signal(syscall.SIGTERM)
		line, err := rd.ReadString('\n')
		cmd.Wait()
		if err != nil {
			return 0, fmt.Errorf("reading sink count: %w", err)
		}
		lastSinkCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return strconv.Atoi(strings.TrimSpace(line))
	}
	return strings.TrimSpace(line), stop, nil
}

func serveSink(out io.Writer) error {
	s, err := localmail.NewSMTP(localmail.SMTPOptions{CountOnly: true})
	if err != nil {
		return err
	}
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fmt.Fprintln(out, addr.String())
	if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(out, s.Total())
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSKB reads VmHWM from /proc/self/status (Linux).
func peakRSSKB() int { return hwmFrom("/proc/self/status") }

// hwmFrom reads VmHWM in kB from a /proc status file.
func hwmFrom(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb
		}
	}
	return 0
}

// The issue both modes send: a greeting with the reader's name, four
// Japanese paragraphs and a link; the layout adds the legal footer.
const (
	benchSubject  = "【市民参加】第12号 フォーラムのお知らせ"
	benchPara     = "京都市では、市民の皆さまの市政への参加を進めるため、さまざまな取組を行っています。今号では、市民参加推進フォーラムの開催と、区民まちづくり会議の報告をお届けします。\n\n"
	benchMarkdown = "{{ .Name }} 様\n\n" + benchPara + benchPara + benchPara + benchPara + "[詳しくはこちら](https://www.city.kyoto.lg.jp/)\n"
)

// renderer personalises the issue per recipient the way the daemon does:
// templates.Prepare once (Markdown, sanitising, layout and the legal
// footer), then Prepared.Render per recipient with its signed links.
type renderer struct {
	signer *token.Signer
	p      *templates.Prepared
	list   templates.ListInfo
}

func newRenderer(s *token.Signer) (*renderer, error) {
	set, err := templates.New(templates.Options{})
	if err != nil {
		return nil, err
	}
	list := templates.ListInfo{Slug: "sanka", NameJA: "市民参加通信", NameEN: "Sanka", FromName: "京都市 市民参加推進",
		FromAddress: "news@city.example.jp", PostalAddress: "〒604-8571 京都市中京区", Contact: "075-000-0000", NameFallback: "読者"}
	p, err := set.Prepare(templates.IssueInput{List: list, IssueID: 1, Subject: benchSubject,
		Markdown:   benchMarkdown,
		ArchiveURL: "https://city.example.jp/archive/sanka/1", Date: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return nil, err
	}
	p.UseCRLF() // as the daemon's renderer does
	return &renderer{signer: s, p: p, list: list}, nil
}

func (r *renderer) Render(ctx context.Context, d mailer.Delivery) (*mailer.Message, error) {
	unsub := r.signer.Sign("unsubscribe", token.IDs(d.SubscriberID, 1), time.Time{})
	url := "https://city.example.jp/unsubscribe/" + unsub
	parts, err := r.p.Render(templates.Recipient{Name: d.Name, Email: d.Email, UnsubscribeURL: url,
		PreferencesURL: "https://city.example.jp/preferences/" + r.signer.Sign("prefs", token.IDs(d.SubscriberID), time.Time{})})
	if err != nil {
		return nil, err
	}
	return &mailer.Message{
		FromName: r.list.FromName, FromAddress: r.list.FromAddress,
		To: d.Email, ToName: d.Name,
		Subject: parts.Subject, Text: parts.Text, HTML: parts.HTML,
		ListID:            "sanka <sanka.city.example.jp>",
		UnsubscribeURL:    url,
		UnsubscribeMailto: "mailto:unsubscribe+" + unsub + "@city.example.jp",
	}, nil
}

type source int

func (n source) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(mailer.Recipient) error) error {
	for i := 1; i <= int(n); i++ {
		r := mailer.Recipient{SubscriberID: int64(i), Name: "読者" + strconv.Itoa(i),
			Email: "r" + strconv.Itoa(i) + "@d" + strconv.Itoa(i%50) + ".example.jp"}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
