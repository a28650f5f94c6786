// Command loadsubscribe measures POST /subscribe: it drives concurrent
// HTTP/1.1 keep-alive clients that each post distinct addresses to one public
// list, then prints requests/s, latency percentiles, status counts and, when
// it started the server itself, the server's peak RSS.
//
// It targets one of three servers:
//
//   - -url BASE: a daemon that is already running (nothing is started). Mind
//     its per-IP rate limit (subscribe.rate_per_ip_per_minute).
//   - -spawn: builds cmd/kawaraban, starts `kawaraban serve` in production
//     mode with a generated config in a temporary directory (SMTP pointed at
//     an in-process count-only localmail sink, IMAP at an in-process
//     localmail mailbox, the per-IP limit raised for the benchmark only) on a
//     free loopback port, and stops it afterwards.
//   - -inproc: builds the same handler chain inside this process (store,
//     subscribers, templates, mailer, web), so that -cpuprofile sees the
//     server's hot spots.
//
// The run always ends by itself: after -n requests or -d elapsed, whichever
// comes first (-d is capped at 10 minutes). It leaves every other package
// alone; the rate limit is raised only in the config it generates.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

// maxDuration bounds every run, whatever the flags say.
const maxDuration = 10 * time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadsubscribe:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errUsage marks bad flags (exit code 2).
var errUsage = errors.New("usage")

// flags are the command line, parsed.
type flags struct {
	url        string
	spawn      bool
	inproc     bool
	binary     string
	keep       bool
	load       LoadOptions
	cpuprofile string
	dbConns    int
	stmtCache  int
	faults     faultsOptions
}

func parseArgs(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("loadsubscribe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.url, "url", "", "base URL of a running daemon, e.g. http://127.0.0.1:8080")
	fs.BoolVar(&f.spawn, "spawn", false, "build and start `kawaraban serve` (production mode, loopback sinks) and stop it after")
	fs.BoolVar(&f.inproc, "inproc", false, "serve from an in-process server built like cmd/kawaraban (for -cpuprofile)")
	fs.StringVar(&f.binary, "kawaraban", "", "with -spawn: a prebuilt kawaraban binary (default: go build ./cmd/kawaraban)")
	fs.BoolVar(&f.keep, "keep", false, "with -spawn or -inproc: keep the temporary directory")
	fs.IntVar(&f.load.Concurrency, "c", 32, "concurrent keep-alive clients")
	fs.IntVar(&f.load.Total, "n", 0, "total requests (0: until -d)")
	fs.DurationVar(&f.load.Duration, "d", 15*time.Second, "duration (at most 10m)")
	fs.Float64Var(&f.load.Rate, "rate", 0, "open loop: offer this many requests/s (latency counts from each request's slot); 0: closed loop")
	fs.StringVar(&f.load.List, "list", "bench", "slug of the public list to subscribe to")
	fs.StringVar(&f.load.Domain, "domain", "bench.example.jp", "domain of the generated addresses")
	fs.DurationVar(&f.load.Warmup, "warmup", time.Second, "requests sent before measuring (not counted)")
	fs.IntVar(&f.dbConns, "inproc-db-conns", 0, "with -inproc: SQLite pool size (0: store's default)")
	fs.IntVar(&f.stmtCache, "inproc-stmt-cache", 0, "with -inproc: experiment with go-sqlite3's _stmt_cache_size (0: off, as store opens it)")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of this process to FILE")
	fs.IntVar(&f.faults.importRows, "import-rows", 0, "with -spawn: run `kawaraban import subscribers` of this many rows while the load runs; print its time, its peak RSS and the daemon's \"database is locked\" lines")
	fs.IntVar(&f.faults.send, "send", 0, "with -spawn: first import this many subscribers and send them an issue, so the daemon sends while the load runs")
	fs.BoolVar(&f.faults.importAlone, "import-alone", false, "with -spawn -import-rows: only the import, no load")
	if err := fs.Parse(args); err != nil {
		return f, fmt.Errorf("%w: %v", errUsage, err)
	}
	modes := 0
	for _, on := range []bool{f.url != "", f.spawn, f.inproc} {
		if on {
			modes++
		}
	}
	switch {
	case modes != 1:
		return f, fmt.Errorf("%w: give exactly one of -url, -spawn, -inproc", errUsage)
	case f.load.Concurrency < 1:
		return f, fmt.Errorf("%w: -c must be at least 1", errUsage)
	case f.load.Total < 0 || f.load.Duration < 0 || f.load.Rate < 0:
		return f, fmt.Errorf("%w: -n, -d and -rate must not be negative", errUsage)
	case (f.faults.importRows > 0 || f.faults.send > 0) && !f.spawn:
		return f, fmt.Errorf("%w: -import-rows and -send need -spawn", errUsage)
	}
	if f.load.Duration == 0 || f.load.Duration > maxDuration {
		f.load.Duration = maxDuration
	}
	return f, nil
}

// target is a server under test.
type target struct {
	baseURL string
	// pid is the server's process when it is not this one (0: unknown).
	pid int
	// self says the server runs in this process.
	self bool
	// sent reports the confirmation mails the sink has received (nil:
	// unknown).
	sent func() int
	// serverSide summarises the server's own request times (nil: none).
	serverSide func() string
	stop       func() error
	// daemon is how to run commands beside a spawned daemon (nil
	// otherwise); list is the public list's slug.
	daemon *daemonFiles
	list   string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return fmt.Errorf("creating cpu profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("starting cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	t, err := startTarget(ctx, f, stderr)
	if err != nil {
		return err
	}
	t.list = f.load.List
	if f.faults.on() {
		ferr := runFaults(ctx, t, f, stdout, stderr)
		return errors.Join(ferr, t.stop())
	}
	m := &meter{pid: t.pid, client: os.Getpid()}
	who := "server"
	if t.self {
		m.client = 0
		m.pid, who = os.Getpid(), "this process (server and clients)"
	}
	if m.pid != 0 {
		f.load.OnMeasure = m.mark
	}
	res, lerr := Load(ctx, t.baseURL, f.load)
	rss := peakRSS(t)
	sentAtEnd := -1
	if t.sent != nil {
		sentAtEnd = t.sent()
	}
	report(ctx, stdout, t, res, rss, m.report(res.Requests(), who), sentAtEnd)
	serr := t.stop()
	return errors.Join(lerr, serr)
}

// report prints the run's figures after the load has ended.
func report(ctx context.Context, w io.Writer, t *target, res *Result, rss string, cpu []string, sentAtEnd int) {
	res.Print(w)
	if rss != "" {
		fmt.Fprintln(w, rss)
	}
	for _, line := range cpu {
		fmt.Fprintln(w, line)
	}
	if t.serverSide != nil {
		if s := t.serverSide(); s != "" {
			fmt.Fprintln(w, s)
		}
	}
	if t.sent != nil {
		drained := waitDrained(ctx, t.sent, res.Accepted(), 10*time.Second)
		fmt.Fprintf(w, "confirmation mails at the sink: %d at the end of the run, %d after up to 10s more (of %d accepted)\n",
			sentAtEnd, drained, res.Accepted())
	}
}

func startTarget(ctx context.Context, f flags, stderr io.Writer) (*target, error) {
	switch {
	case f.spawn:
		return spawn(ctx, spawnOptions{binary: f.binary, keep: f.keep, list: f.load.List, stderr: stderr})
	case f.inproc:
		return startInProcess(ctx, inprocOptions{keep: f.keep, list: f.load.List, dbConns: f.dbConns, stmtCache: f.stmtCache})
	}
	return &target{baseURL: f.url, stop: func() error { return nil }}, nil
}

// waitDrained waits until the sink has want mails or d has passed, and
// returns the count it saw last.
func waitDrained(ctx context.Context, sent func() int, want int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		n := sent()
		if n >= want || time.Now().After(deadline) || ctx.Err() != nil {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}
