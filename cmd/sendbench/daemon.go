package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kawaraban/cmd/internal/apiclient"
	"kawaraban/localmail"
	"kawaraban/mailer"
)

// daemonSetup is what daemonRun measures: n subscribers, the daemon's
// smtp and sending settings, whether to crash it half way, and the relay
// to send through (nil: a count-only sink in this process).
type daemonSetup struct {
	n, conns, perConn, workers, batch int
	crash                             bool
	relay                             *relayBench
}

// daemonRun measures the whole daemon: `kawaraban serve` with n subscribers
// imported into a public list sends one issue, created and sent through the
// JSON API, to the count-only sink. It times POST /send until GET says
// sent (snapshot, due-loop pick-up, per-batch subscription re-checks and
// 100 ms polling included), and reads the daemon's CPU time and peak RSS
// from /proc.
func daemonRun(out io.Writer, bin string, s daemonSetup) (_ float64, err error) {
	n, conns, perConn, workers, batch, crash := s.n, s.conns, s.perConn, s.workers, s.batch, s.crash
	// The sink runs in this process, the harness: the daemon is the
	// sender here, and the sink's count is read without asking the daemon.
	// With a relay there is no sink: the status says when it is
	// done.
	sink, err := localmail.NewSMTP(localmail.SMTPOptions{CountOnly: true})
	if err != nil {
		return 0, err
	}
	var sinkAddr string
	smtpConf := ""
	if s.relay == nil {
		sinkLn, err := sink.Listen("127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		sinkAddr = sinkLn.String()
		sinkCtx, stopSink := context.WithCancel(context.Background())
		defer stopSink()
		go sink.Run(sinkCtx)
	} else {
		sinkAddr = s.relay.addr
		smtpConf = "  tls: " + s.relay.tls + "\n  insecure_skip_verify: true\n"
		if s.relay.user != "" {
			smtpConf += "  username: " + s.relay.user + "\n  password_env: KAWARABAN_SMTP_PASSWORD\n"
		}
	}
	imapSrv, err := localmail.NewIMAP(localmail.IMAPOptions{})
	if err != nil {
		return 0, err
	}
	imapAddr, err := imapSrv.Listen("127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go imapSrv.Run(ctx)

	dir, err := os.MkdirTemp("", "sendbench-daemon")
	if err != nil {
		return 0, err
	}
	// The directory (config, database, daemon.log) stays after a failure,
	// or always with SENDBENCH_KEEP=1.
	defer func() {
		if err == nil && os.Getenv("SENDBENCH_KEEP") == "" {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintln(out, "kept", dir)
		}
	}()
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cfg := filepath.Join(dir, "kawaraban.yaml")
	sinkHost, sinkPort, _ := strings.Cut(sinkAddr, ":")
	imapHost, imapPort, _ := strings.Cut(imapAddr.String(), ":")
	if smtpConf == "" {
		smtpConf = "  tls: none\n"
	}
	if err := os.WriteFile(cfg, fmt.Appendf(nil, daemonConfig, port, base, filepath.Join(dir, "k.db"),
		sinkHost, sinkPort, smtpConf, conns, perConn, workers, batch, imapHost, imapPort), 0o600); err != nil {
		return 0, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	env := append(os.Environ(), "KAWARABAN_TOKEN_KEY="+hex.EncodeToString(key), "KAWARABAN_IMAP_PASSWORD=bounces", "KAWARABAN_CONFIG=")
	if s.relay != nil {
		env = append(env, "KAWARABAN_SMTP_PASSWORD="+s.relay.pass)
	}
	command := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = env, dir
		cmd.Stdin = strings.NewReader(stdin)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("kawaraban %s: %v: %s", strings.Join(args, " "), err, e.String())
		}
		return o.String(), nil
	}

	// The daemon creates the database; commands need it to exist.
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	startServe := func() (*exec.Cmd, error) {
		serve := exec.Command(bin, "serve", "--config", cfg)
		serve.Env, serve.Dir = env, dir
		serve.Stdout, serve.Stderr = logf, logf
		if err := serve.Start(); err != nil {
			return nil, err
		}
		return serve, waitHealthy(base)
	}
	serve, err := startServe()
	if serve != nil {
		defer func() {
			serve.Process.Signal(syscall.SIGTERM)
			serve.Wait()
		}()
	}
	if err != nil {
		return 0, err
	}
	var csv bytes.Buffer
	csv.WriteString("email,name\n")
	if s.relay != nil {
		relaySource{n: n, rcpt: s.relay.rcpt}.EachRecipient(context.Background(), nil, 0, func(r mailer.Recipient) error {
			fmt.Fprintf(&csv, "%s,%s\n", r.Email, r.Name)
			return nil
		})
	} else {
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&csv, "r%d@d%d.example.jp,読者%d\n", i, i%50, i)
		}
	}
	csvPath := filepath.Join(dir, "subscribers.csv")
	if err := os.WriteFile(csvPath, csv.Bytes(), 0o600); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if _, err := command("", "import", "subscribers", "--config", cfg, "--list", "bench", "--consent-source", "import", csvPath); err != nil {
		return 0, err
	}
	importTook := time.Since(t0)
	if _, err := command("bench-password-0123456789\n", "user", "add", "--config", cfg, "--login", "bench", "--role", "admin"); err != nil {
		return 0, err
	}
	tokOut, err := command("", "token", "create", "--config", cfg, "--login", "bench")
	if err != nil {
		return 0, err
	}
	cl := apiclient.Client{Base: base, Token: apiclient.TokenFrom(tokOut)}
	api := func(method, path string, body any, into any) error {
		return cl.Do(context.Background(), method, path, body, into)
	}
	var is struct {
		ID     int64          `json:"id"`
		Status string         `json:"status"`
		Counts map[string]int `json:"counts"`
	}
	if err := api("POST", "/api/v1/issues", map[string]string{"list": "bench", "subject": benchSubject, "body_markdown": benchMarkdown}, &is); err != nil {
		return 0, err
	}
	pid := serve.Process.Pid
	cpu0, harnessCPU0 := procCPU(pid), cpuTime()
	start := time.Now()
	if err := api("POST", fmt.Sprintf("/api/v1/issues/%d/send", is.ID), map[string]string{}, nil); err != nil {
		return 0, err
	}
	// Watch the sink until every message has arrived, then the issue (a
	// count over its deliveries) until it says sent.
	watch := func(want int) error {
		for s.relay == nil && sink.Total() < want {
			if time.Since(start) > 10*time.Minute {
				return fmt.Errorf("not all sent after 10 minutes (%d of %d); daemon log: %s", sink.Total(), want, logf.Name())
			}
			time.Sleep(10 * time.Millisecond)
		}
		return nil
	}
	var atKill int
	if crash {
		if err := watch(n / 2); err != nil {
			return 0, err
		}
		atKill = sink.Total()
		serve.Process.Kill()
		serve.Wait()
		if serve, err = startServe(); err != nil {
			return 0, err
		}
		pid = serve.Process.Pid
	} else if err := watch(n); err != nil {
		return 0, err
	}
	for {
		if err := api("GET", fmt.Sprintf("/api/v1/issues/%d", is.ID), nil, &is); err != nil {
			return 0, err
		}
		if is.Status == "sent" {
			break
		}
		if time.Since(start) > 10*time.Minute {
			return 0, fmt.Errorf("issue not sent after 10 minutes: %s %v", is.Status, is.Counts)
		}
		time.Sleep(pollPause(s.relay != nil, n, is.Counts["sent"]+is.Counts["failed"], time.Since(start)))
	}
	wall := time.Since(start)
	cpu := procCPU(pid) - cpu0
	hwm := procHWM(pid)
	serve.Process.Signal(syscall.SIGTERM)
	serve.Wait()
	sinkCPU := cpuTime() - harnessCPU0
	total, distinct := sink.Total(), sink.Recipients()
	if crash {
		lost, dups := n-distinct, total-distinct
		fmt.Fprintf(out, "crash: kill -9 after %d of %d sent, restarted; all sent %.2fs after the start; %d lost, %d duplicate copies (window sending.workers × sending.batch_size = %d)\n",
			atKill, n, wall.Seconds(), lost, dups, workers*batch)
		if lost != 0 || dups > workers*batch {
			return 0, fmt.Errorf("crash: %d lost, %d duplicates", lost, dups)
		}
		return 0, nil
	}
	rate := float64(n) / wall.Seconds()
	if s.relay != nil {
		fmt.Fprintf(out, "  daemon: issue of %d sent in %.2fs = %.0f msgs/s; daemon CPU %.1f µs/msg; counts %v\n",
			n, wall.Seconds(), rate, float64(cpu.Microseconds())/float64(n), is.Counts)
		if is.Counts["sent"] != n {
			return 0, fmt.Errorf("the relay took %d of %d: %v", is.Counts["sent"], n, is.Counts)
		}
		return rate, nil
	}
	first, last := sink.Span()
	span := last.Sub(first)
	fmt.Fprintf(out, "daemon: %d subscribers (import %.1fs); issue sent in %.2fs = %.0f msgs/s (API send to sent); first to last at the sink %.2fs = %.0f msgs/s; daemon CPU %.2fs (%.1f µs/msg); daemon peak RSS %.1f MB; sink counted %d (sink CPU %.1f µs/msg)\n",
		n, importTook.Seconds(), wall.Seconds(), rate, span.Seconds(), float64(n-1)/span.Seconds(),
		cpu.Seconds(), float64(cpu.Microseconds())/float64(n),
		float64(hwm)/1024, total, float64(sinkCPU.Microseconds())/float64(n))
	if total != n {
		return 0, fmt.Errorf("sink counted %d messages, want %d (daemon log: %s)", total, n, logf.Name())
	}
	return rate, nil
}

const daemonConfig = `http:
  listen: 127.0.0.1:%d
base_url: %s
timezone: Asia/Tokyo
log:
  format: text
  level: warn
database:
  path: %s
secrets:
  token_key_env: KAWARABAN_TOKEN_KEY
smtp:
  host: %s
  port: %s
%s  helo_name: sendbench.example.test
  max_conns: %d
  max_messages_per_conn: %d
sending:
  workers: %d
  batch_size: %d
imap:
  host: %s
  port: %s
  tls: none
  username: bounces
  password_env: KAWARABAN_IMAP_PASSWORD
  poll_interval: 1m
bounce:
  return_path_domain: bounce.city.example.jp
  inbound_domain: bounce.city.example.jp
lists:
  - slug: bench
    name_ja: 市民参加通信
    name_en: Sanka
    kind: public
    from_address: news@city.example.jp
    from_name: 京都市 市民参加推進
    postal_address: 〒604-8571 京都市中京区
    contact: 075-000-0000
    double_opt_in: true
    name_fallback: 読者
`

// pollPause is how long to wait before asking the daemon again whether the
// issue is sent, when done of n are final after took. Each answer counts
// the deliveries in the daemon, CPU the daemon would otherwise
// give to sending (against a relay, to the relay on a small machine): so
// the harness waits for most of the expected remaining time, and polls
// finely only near the end (the sink's count already says when the last
// message arrived; against a relay the poll is how the end is seen).
func pollPause(relay bool, n, done int, took time.Duration) time.Duration {
	fine := 20 * time.Millisecond
	if relay {
		fine = 50 * time.Millisecond
	}
	if done <= 0 || done >= n {
		return fine
	}
	left := time.Duration(float64(took) * float64(n-done) / float64(done))
	return max(fine, min(left/2, time.Second))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitHealthy(base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("kawaraban serve: /healthz not 200 within 30s")
}

// procCPU is the user+system time of process pid (/proc/PID/stat, clock
// ticks of 10 ms on Linux).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}

// procHWM is VmHWM of process pid in kB.
func procHWM(pid int) int {
	return hwmFrom("/proc/" + strconv.Itoa(pid) + "/status")
}
