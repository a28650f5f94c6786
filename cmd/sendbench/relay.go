package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kawaraban/mailer"
)

// relayBench is the -relay mode: kawaraban against a real relay (the e2e
// mail stack's Postfix) beside Postfix's smtp-source with the same number
// of sessions to the same relay in the same run.
type relayBench struct {
	addr      string // host:port kawaraban sends to
	tls       string // none, starttls or tls
	user      string // AUTH user, "" for none
	pass      string
	source    string // host:port smtp-source sends to (it speaks neither TLS nor AUTH)
	sessions  int    // smtp-source -s
	sourceLen int    // smtp-source -l (0: its default)
	rcpt      string // recipient: local+rN@domain for kawaraban, as is for smtp-source
	maildir   string // emptied before each run when set
	daemon    string // the kawaraban binary: measure the whole daemon instead of the pipeline
	runs      int

	n, conns, workers, batch, perConn int
}

// run measures b.runs rounds of smtp-source, kawaraban, smtp-source and
// prints each round's rates and the ratio of kawaraban to the mean of the
// two smtp-source runs around it, then the medians.
func (b relayBench) run(out io.Writer) error {
	bin := smtpSource()
	if bin == "" {
		return fmt.Errorf("smtp-source not installed (apt-get install postfix)")
	}
	load, _ := os.ReadFile("/proc/loadavg")
	what := "pipeline"
	if b.daemon != "" {
		what = "daemon"
	}
	fmt.Fprintf(out, "relay %s (tls %s, auth %v): %d recipients, kawaraban %s with workers %d, conns %d, batch %d; smtp-source -d -s %d to %s; load %s",
		b.addr, b.tls, b.user != "", b.n, what, b.workers, b.conns, b.batch, b.sessions, b.source, load)
	var ratios, ours, theirs []float64
	for i := 1; i <= b.runs; i++ {
		before, err := b.smtpSource(bin)
		if err != nil {
			return err
		}
		rate, err := b.kawaraban(out)
		if err != nil {
			return err
		}
		after, err := b.smtpSource(bin)
		if err != nil {
			return err
		}
		ratio := 2 * rate / (before + after)
		fmt.Fprintf(out, "run %d: smtp-source %.0f msgs/s, kawaraban %.0f msgs/s, smtp-source %.0f msgs/s: ratio %.2f\n", i, before, rate, after, ratio)
		ratios, ours, theirs = append(ratios, ratio), append(ours, rate), append(theirs, before, after)
	}
	load, _ = os.ReadFile("/proc/loadavg")
	fmt.Fprintf(out, "median of %d: kawaraban %.0f msgs/s, smtp-source %.0f msgs/s, ratio %.2f (runs %s); load %s",
		b.runs, median(ours), median(theirs), median(ratios), floats(ratios), load)
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func floats(v []float64) string {
	var parts []string
	for _, f := range v {
		parts = append(parts, strconv.FormatFloat(f, 'f', 2, 64))
	}
	return strings.Join(parts, " ")
}

// settle waits until the relay has delivered what earlier runs left in its
// queue (so that no run pays for another's deliveries), writes dirty pages
// back and empties the Maildir.
func (b relayBench) settle() error {
	if q, err := exec.LookPath("postqueue"); err == nil {
		deadline := time.Now().Add(5 * time.Minute)
		for {
			o, err := exec.Command(q, "-j").Output()
			if err != nil {
				return fmt.Errorf("postqueue -j: %w", err)
			}
			if len(bytes.TrimSpace(o)) == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the relay's queue did not drain in 5 minutes (%d messages)", bytes.Count(o, []byte("\n")))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Write back what the last run left dirty, so that its fsyncs do not
	// slow the next one.
	syscall.Sync()
	if b.maildir != "" {
		for _, sub := range []string{"new", "cur", "tmp"} {
			files, _ := filepath.Glob(filepath.Join(b.maildir, sub, "*"))
			for _, f := range files {
				os.Remove(f)
			}
		}
	}
	return nil
}

// smtpSource runs smtp-source -d -s sessions -m n against b.source and
// returns messages/s.
func (b relayBench) smtpSource(bin string) (float64, error) {
	if err := b.settle(); err != nil {
		return 0, err
	}
	args := []string{"-d", "-s", strconv.Itoa(b.sessions), "-m", strconv.Itoa(b.n),
		"-M", "sendbench.example.test", "-f", b.rcpt, "-t", b.rcpt}
	if b.sourceLen > 0 {
		args = append(args, "-l", strconv.Itoa(b.sourceLen))
	}
	start := time.Now()
	o, err := exec.Command(bin, append(args, b.source)...).CombinedOutput()
	wall := time.Since(start)
	if err != nil || len(bytes.TrimSpace(o)) > 0 {
		// smtp-source says nothing when every message was taken.
		return 0, fmt.Errorf("smtp-source %s: %v: %s", strings.Join(args, " "), err, o)
	}
	return float64(b.n) / wall.Seconds(), nil
}

// kawaraban sends the issue through the relay and returns messages/s.
func (b relayBench) kawaraban(out io.Writer) (float64, error) {
	if err := b.settle(); err != nil {
		return 0, err
	}
	if b.daemon != "" {
		return daemonRun(out, b.daemon, daemonSetup{n: b.n, conns: b.conns, perConn: b.perConn,
			workers: b.workers, batch: b.batch, relay: &b})
	}
	host, portStr, err := net.SplitHostPort(b.addr)
	if err != nil {
		return 0, err
	}
	port, _ := strconv.Atoi(portStr)
	res, err := sendIssue(sendSetup{
		relay: mailer.Relay{Host: host, Port: port, TLS: b.tls, Username: b.user, Password: b.pass,
			MaxConns: b.conns, MaxMessagesPerConn: b.perConn, InsecureSkipVerify: true},
		workers: b.workers, batch: b.batch, src: relaySource{n: b.n, rcpt: b.rcpt},
		log: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}, b.n)
	if err != nil {
		return 0, err
	}
	if res.progress.Sent != b.n {
		return 0, fmt.Errorf("the relay took %d of %d (%+v)", res.progress.Sent, b.n, res.progress)
	}
	rate := float64(b.n) / res.wall.Seconds()
	fmt.Fprintf(out, "  pipeline: %d in %.2fs = %.0f msgs/s; CPU %.1f µs/msg\n",
		b.n, res.wall.Seconds(), rate, float64(res.cpu.Microseconds())/float64(b.n))
	return rate, nil
}

// relaySource names n recipients local+rI@domain after rcpt, so that a
// relay with a recipient delimiter delivers them all to one mailbox.
type relaySource struct {
	n    int
	rcpt string
}

func (s relaySource) EachRecipient(ctx context.Context, tx *sql.Tx, listID int64, fn func(mailer.Recipient) error) error {
	local, domain, _ := strings.Cut(s.rcpt, "@")
	for i := 1; i <= s.n; i++ {
		r := mailer.Recipient{SubscriberID: int64(i), Name: "読者" + strconv.Itoa(i),
			Email: local + "+r" + strconv.Itoa(i) + "@" + domain}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
