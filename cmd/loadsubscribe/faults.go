package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"kawaraban/cmd/internal/apiclient"
)

// faultsOptions is the issue-16 scenario: a big import beside a daemon
// that sends an issue and takes subscriptions.
type faultsOptions struct {
	importRows  int
	send        int
	importAlone bool
}

func (o faultsOptions) on() bool { return o.importRows > 0 || o.send > 0 }

// daemonFiles is how to run kawaraban commands beside a spawned daemon.
type daemonFiles struct {
	bin, config, dir, log string
	env                   []string
	lastLog               string // stderr of the last command
}

// longestBatch finds the import's longest write transaction in its log.
func longestBatch(log string) string {
	i := strings.Index(log, `"longest_batch_ms":`)
	if i < 0 {
		return "?"
	}
	v := log[i+len(`"longest_batch_ms":`):]
	if j := strings.IndexAny(v, ",}"); j >= 0 {
		v = v[:j]
	}
	return v + " ms"
}

// command runs `kawaraban args...` beside the daemon and returns its
// stdout (the log on stderr is in d.lastLog).
func (d *daemonFiles) command(ctx context.Context, stdin string, args ...string) (string, *os.ProcessState, error) {
	cmd := exec.CommandContext(ctx, d.bin, args...)
	cmd.Env, cmd.Dir, cmd.Stdin = d.env, d.dir, strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	d.lastLog = errb.String()
	if err != nil {
		return "", cmd.ProcessState, fmt.Errorf("kawaraban %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), cmd.ProcessState, nil
}

// writeCSV writes n subscriber rows at domain into the daemon's directory.
func (d *daemonFiles) writeCSV(name, domain string, n int) (string, error) {
	path := filepath.Join(d.dir, name)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("email,name,ward\n")
	for i := range n {
		fmt.Fprintf(w, "r%07d@%s,山田 太郎%d,北区\n", i, domain, i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// runFaults runs the scenario and prints its figures.
func runFaults(ctx context.Context, t *target, f flags, stdout, stderr io.Writer) error {
	d := t.daemon
	sent0 := t.sent()
	var issueStart time.Time
	if f.faults.send > 0 {
		path, err := d.writeCSV("send.csv", "send.example.jp", f.faults.send)
		if err != nil {
			return err
		}
		if _, _, err := d.command(ctx, "", "import", "subscribers", "--config", d.config, "--list", f.load.List, "--consent-source", "bench", path); err != nil {
			return err
		}
		if issueStart, err = sendIssue(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "loadsubscribe: sending an issue to %d subscribers\n", f.faults.send)
	}
	type imported struct {
		took         time.Duration
		rss          int64
		cpu          time.Duration
		out          string
		err          error
		sent0, sent1 int    // messages at the sink when the import began and ended
		longest      string // its longest write transaction
	}
	imp := make(chan imported, 1)
	if f.faults.importRows > 0 {
		path, err := d.writeCSV("import.csv", "import.example.jp", f.faults.importRows)
		if err != nil {
			return err
		}
		go func() {
			if !f.faults.importAlone {
				time.Sleep(f.load.Warmup) // start with the measured phase
			}
			t0, s0 := time.Now(), t.sent()
			out, ps, err := d.command(ctx, "", "import", "subscribers", "--config", d.config, "--list", f.load.List, "--consent-source", "bench", path)
			r := imported{took: time.Since(t0), out: out, err: err, sent0: s0, sent1: t.sent(), longest: longestBatch(d.lastLog)}
			if ps != nil {
				if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
					r.rss = ru.Maxrss // kB on Linux
				}
				r.cpu = ps.UserTime() + ps.SystemTime()
			}
			imp <- r
		}()
	} else {
		close(imp)
	}
	var res *Result
	if !f.faults.importAlone {
		var err error
		if res, err = Load(ctx, t.baseURL, f.load); err != nil {
			return err
		}
		res.Print(stdout)
	}
	failed := 0
	if res != nil {
		for code, n := range res.Status {
			if code != http.StatusOK {
				failed += n
			}
		}
		for _, n := range res.Errors {
			failed += n
		}
	}
	r, ok := <-imp
	if ok {
		if r.err != nil {
			return r.err
		}
		fmt.Fprintf(stdout, "import of %d rows beside the daemon: %.1f s (CPU %.1f s), peak RSS %.1f MB, longest write transaction %s; the daemon sent %d messages meanwhile (%s)\n",
			f.faults.importRows, r.took.Seconds(), r.cpu.Seconds(), float64(r.rss)/1024, r.longest, r.sent1-r.sent0, strings.TrimSpace(r.out))
	}
	if f.faults.send > 0 {
		want := sent0 + f.faults.send
		for t.sent() < want && time.Since(issueStart) < 10*time.Minute && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		fmt.Fprintf(stdout, "issue to %d subscribers: %d messages at the sink (the issue and the confirmations) %.1f s after the send began\n",
			f.faults.send, t.sent()-sent0, time.Since(issueStart).Seconds())
	}
	locked, err := countLines(d.log, "database is locked")
	if err != nil {
		return err
	}
	if res != nil {
		fmt.Fprintf(stdout, "failed subscribe requests: %d of %d\n", failed, res.Requests())
	}
	fmt.Fprintf(stdout, "\"database is locked\" lines in the daemon log: %d\n", locked)
	if failed > 0 || locked > 0 {
		return fmt.Errorf("%d failed requests, %d \"database is locked\" lines (log %s)", failed, locked, d.log)
	}
	return nil
}

// sendIssue creates an admin token, an issue to the list and sends it.
func sendIssue(ctx context.Context, t *target) (time.Time, error) {
	d := t.daemon
	if _, _, err := d.command(ctx, "load-password-0123456789\n", "user", "add", "--config", d.config, "--login", "load", "--role", "admin"); err != nil {
		return time.Time{}, err
	}
	out, _, err := d.command(ctx, "", "token", "create", "--config", d.config, "--login", "load")
	if err != nil {
		return time.Time{}, err
	}
	cl := apiclient.Client{Base: t.baseURL, Token: apiclient.TokenFrom(out)}
	api := func(method, path string, body any, into any) error {
		return cl.Do(ctx, method, path, body, into)
	}
	var is struct {
		ID int64 `json:"id"`
	}
	list := strings.TrimSpace(t.list)
	if err := api("POST", "/api/v1/issues", map[string]string{"list": list, "subject": "負荷試験号",
		"body_markdown": "市民参加のお知らせです。"}, &is); err != nil {
		return time.Time{}, err
	}
	start := time.Now()
	if err := api("POST", fmt.Sprintf("/api/v1/issues/%d/send", is.ID), map[string]string{}, nil); err != nil {
		return time.Time{}, err
	}
	return start, nil
}

// countLines counts the lines of file that contain s.
func countLines(file, s string) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return n, err
	}
	return n, nil
}
