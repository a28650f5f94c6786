//go:build e2e

package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The mail stack of e2e/mailstack (see its README).
const (
	smtpAddr = "127.0.0.1:2525"
	// the submission port: STARTTLS with a self-signed certificate, AUTH
	submissionPort     = 2587
	submissionUser     = "news@example.test"
	submissionPassword = "news-secret"
	imapAddr           = "127.0.0.1:1143"
	imapUser           = "bounces@example.test"
	imapPassword       = "bounces-secret"
	mailRoot           = "/var/lib/mailstack/mail/example.test"
	dovecotConf        = "/var/lib/mailstack/dovecot.conf"

	listSlug   = "shimin-katsudo"
	editor     = "editor"
	editorPass = "e2e-Passw0rd-かわら版-long"
)

// binary is the kawaraban binary TestMain builds once for every scenario.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv("KAWARABAN_E2E") != "1" {
		fmt.Println("e2e: set KAWARABAN_E2E=1 with the mail stack running (e2e/run.sh does both)")
		return 0
	}
	binary = os.Getenv("KAWARABAN_BIN") // a binary built beforehand, if any
	if binary == "" {
		dir, err := os.MkdirTemp("", "kawaraban-e2e-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "kawaraban")
		build := exec.Command("go", "build", "-o", binary, "./cmd/kawaraban")
		build.Dir = ".."
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building kawaraban:", err)
			return 1
		}
	}
	for _, addr := range []string{smtpAddr, imapAddr} {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: the mail stack does not answer on %s (run e2e/mailstack/start.sh): %v\n", addr, err)
			return 1
		}
		c.Close()
	}
	return m.Run()
}

// nonce returns a short random word that marks one scenario's mail.
func nonce() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// artifacts returns the directory for screenshots and logs.
func artifacts(t *testing.T) string {
	dir := os.Getenv("KAWARABAN_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitFor polls cond every interval until it returns true or timeout
// passes; it reports whether cond came true.
func waitFor(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// listConfig is one list in the generated config.
type listConfig struct {
	Slug, NameJA, NameEN string
}

// daemonOptions shape one daemon's configuration.
type daemonOptions struct {
	SMTPHost string // default 127.0.0.1
	SMTPPort int    // default 2525 (Postfix)
	// SMTPSubmission sends through Postfix's submission port 2587 with
	// STARTTLS and AUTH instead (SMTPHost and SMTPPort are ignored).
	SMTPSubmission bool
	Workers        int // sending.workers, default 4
	BatchSize      int // sending.batch_size, default 100
	Lists          []listConfig
}

// daemon is one kawaraban instance: its data directory, config file, and
// (while running) its process. Its log accumulates across restarts.
type daemon struct {
	t       *testing.T
	name    string
	dir     string
	cfgPath string
	logPath string
	base    string
	env     []string
	token   string // API token, after login()
	opt     daemonOptions

	cmd    *exec.Cmd
	exited chan struct{}
}

// newDaemon writes a config for a fresh daemon (not yet started). Each
// daemon signs its links with its own key, so mail left over from another
// scenario cannot be attributed here.
func newDaemon(t *testing.T, opt daemonOptions) *daemon {
	t.Helper()
	if opt.SMTPHost == "" {
		opt.SMTPHost = "127.0.0.1"
	}
	if opt.SMTPPort == 0 {
		opt.SMTPPort = 2525
	}
	if opt.Workers == 0 {
		opt.Workers = 4
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = 100
	}
	if len(opt.Lists) == 0 {
		opt.Lists = []listConfig{{Slug: listSlug, NameJA: "市民活動総合センター メールマガジン", NameEN: "Citizens' Activity General Center newsletter"}}
	}
	dir := t.TempDir()
	port := freePort(t)
	d := &daemon{
		t: t, name: strings.ReplaceAll(t.Name(), "/", "_"), dir: dir, opt: opt,
		cfgPath: filepath.Join(dir, "kawaraban.yaml"),
		logPath: filepath.Join(dir, "daemon.log"),
		base:    fmt.Sprintf("http://127.0.0.1:%d", port),
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	d.env = append(os.Environ(),
		"KAWARABAN_TOKEN_KEY="+hex.EncodeToString(key),
		"KAWARABAN_IMAP_PASSWORD="+imapPassword,
		"KAWARABAN_CONFIG=", // the flag decides
	)
	smtpTLS := "  tls: none\n"
	if opt.SMTPSubmission {
		opt.SMTPHost, opt.SMTPPort = "127.0.0.1", submissionPort
		smtpTLS = "  tls: starttls\n  insecure_skip_verify: true\n  username: " + submissionUser + "\n  password_env: KAWARABAN_SMTP_PASSWORD\n"
		d.env = append(d.env, "KAWARABAN_SMTP_PASSWORD="+submissionPassword)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `http:
  listen: 127.0.0.1:%d
base_url: %s
timezone: Asia/Tokyo
log:
  format: text
  level: debug
database:
  path: %s
secrets:
  token_key_env: KAWARABAN_TOKEN_KEY
smtp:
  host: %s
  port: %d
%s  helo_name: kawaraban.example.test
  timeout: 10s
sending:
  workers: %d
  batch_size: %d
imap:
  host: 127.0.0.1
  port: 1143
  tls: none
  username: %s
  password_env: KAWARABAN_IMAP_PASSWORD
  mailbox: INBOX
  poll_interval: 1s
bounce:
  return_path_domain: example.test
  inbound_domain: example.test
subscribe:
  max_confirmations_per_day: 50
  rate_per_ip_per_minute: 1000
lists:
`, port, d.base, filepath.Join(dir, "kawaraban.db"), opt.SMTPHost, opt.SMTPPort, smtpTLS, opt.Workers, opt.BatchSize, imapUser)
	for _, l := range opt.Lists {
		fmt.Fprintf(&b, `  - slug: %s
    name_ja: %s
    name_en: %q
    kind: public
    from_address: %s@example.test
    from_name: 京都市 %s
    postal_address: 〒604-8571 京都市中京区寺町通御池上る上本能寺前町488
    contact: 075-000-0000 / %s@example.test
    double_opt_in: true
`, l.Slug, l.NameJA, l.NameEN, l.Slug, l.NameJA, l.Slug)
	}
	if err := os.WriteFile(d.cfgPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.cleanup)
	return d
}

// window is the documented in-flight window: sending.workers × sending.batch_size.
func (d *daemon) window() int { return d.opt.Workers * d.opt.BatchSize }

// start runs `kawaraban serve --config FILE` and waits for /healthz.
func (d *daemon) start() {
	d.t.Helper()
	if d.cmd != nil {
		d.t.Fatal("daemon already running")
	}
	lf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	fmt.Fprintf(lf, "=== e2e: serve started at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(binary, "serve", "--config", d.cfgPath)
	cmd.Env = d.env
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		d.t.Fatalf("starting kawaraban serve: %v", err)
	}
	d.cmd, d.exited = cmd, make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		lf.Close()
		close(done)
	}(d.exited)
	ok := waitFor(30*time.Second, 100*time.Millisecond, func() bool {
		select {
		case <-d.exited:
			return true
		default:
		}
		resp, err := http.Get(d.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	select {
	case <-d.exited:
		d.cmd = nil
		d.fatalf("kawaraban serve exited at start: %v", cmd.ProcessState)
	default:
	}
	if !ok {
		d.fatalf("kawaraban serve: /healthz not 200 within 30s")
	}
}

// stop ends the daemon with SIGTERM (then SIGKILL after 20s).
func (d *daemon) stop() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		d.t.Errorf("kawaraban serve did not stop within 20s of SIGTERM; killing it\n%s", d.logTail())
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	d.cmd = nil
}

// kill9 ends the daemon with SIGKILL, as a crash would.
func (d *daemon) kill9() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Kill()
	<-d.exited
	d.cmd = nil
	if f, err := os.OpenFile(d.logPath, os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintf(f, "=== e2e: killed with SIGKILL at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
		f.Close()
	}
}

func (d *daemon) cleanup() {
	d.stop()
	if dir := os.Getenv("KAWARABAN_ARTIFACTS"); dir != "" {
		if b, err := os.ReadFile(d.logPath); err == nil && os.MkdirAll(dir, 0o755) == nil {
			_ = os.WriteFile(filepath.Join(dir, d.name+"-daemon.log"), b, 0o644)
		}
	}
}

// logTail returns the last lines of the daemon's log.
func (d *daemon) logTail() string {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return "(no daemon log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return "--- daemon log (last " + fmt.Sprint(len(lines)) + " lines of " + d.logPath + ") ---\n" + strings.Join(lines, "\n")
}

// fatalf fails the test with the daemon's log tail.
func (d *daemon) fatalf(format string, args ...any) {
	d.t.Helper()
	d.t.Fatalf(format+"\n%s", append(args, d.logTail())...)
}

// errorf reports a failure with the daemon's log tail and goes on.
func (d *daemon) errorf(format string, args ...any) {
	d.t.Helper()
	d.t.Errorf(format+"\n%s", append(args, d.logTail())...)
}

// run runs a kawaraban command (words, then --config, then args) with
// stdin and returns its stdout, its stderr and exit code.
func (d *daemon) run(stdin string, words []string, args ...string) (string, string, int) {
	d.t.Helper()
	argv := append(append(append([]string{}, words...), "--config", d.cfgPath), args...)
	cmd := exec.Command(binary, argv...)
	cmd.Env = d.env
	cmd.Dir = d.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return out.String(), errb.String(), code
}

// cli runs a command that must succeed and returns its stdout.
func (d *daemon) cli(stdin string, words []string, args ...string) string {
	d.t.Helper()
	out, errs, code := d.run(stdin, words, args...)
	if code != 0 {
		d.fatalf("kawaraban %s %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(words, " "), strings.Join(args, " "), code, out, errs)
	}
	return out
}

// login creates the editor (role admin, so the API may do everything) and
// an API token for it.
func (d *daemon) login() {
	d.t.Helper()
	d.cli(editorPass+"\n", []string{"user", "add"}, "--login", editor, "--role", "admin")
	out := d.cli("", []string{"token", "create"}, "--login", editor)
	// The token is the longest word printed.
	for _, f := range strings.Fields(out) {
		if len(f) > len(d.token) {
			d.token = f
		}
	}
	if len(d.token) < 16 {
		d.fatalf("token create printed no token: %q", out)
	}
}

// importSubscribers imports addresses (with consent source "import") into
// slug and fails unless every row was accepted.
func (d *daemon) importSubscribers(slug string, addrs []string) {
	d.t.Helper()
	var b bytes.Buffer
	b.WriteString("email,name\n")
	for i, a := range addrs {
		fmt.Fprintf(&b, "%s,読者%d\n", a, i+1)
	}
	path := filepath.Join(d.dir, fmt.Sprintf("import-%d.csv", time.Now().UnixNano()))
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.cli("", []string{"import", "subscribers"}, "--list", slug, "--consent-source", "import", path)
}

// export returns `export subscribers --list slug` as address → status.
func (d *daemon) export(slug string) map[string]string {
	d.t.Helper()
	out := d.cli("", []string{"export", "subscribers"}, "--list", slug)
	out = strings.TrimPrefix(out, "\ufeff")
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		d.fatalf("export subscribers: not CSV with a header (%v):\n%s", err, out)
	}
	ei, si := -1, -1
	for i, h := range rows[0] {
		switch strings.TrimSpace(strings.ToLower(h)) {
		case "email":
			ei = i
		case "status":
			si = i
		}
	}
	if ei < 0 || si < 0 {
		d.fatalf("export subscribers: header %q lacks email or status", rows[0])
	}
	m := map[string]string{}
	for _, row := range rows[1:] {
		if len(row) > ei && len(row) > si {
			m[strings.ToLower(row[ei])] = row[si]
		}
	}
	return m
}

// waitStatus polls the export until addr has status want.
func (d *daemon) waitStatus(slug, addr, want string, timeout time.Duration) {
	d.t.Helper()
	var got string
	if !waitFor(timeout, 500*time.Millisecond, func() bool {
		got = d.export(slug)[strings.ToLower(addr)]
		return got == want
	}) {
		d.fatalf("%s on list %s: export status %q, want %q within %s", addr, slug, got, want, timeout)
	}
}

// api sends a JSON request with the editor's token and decodes the answer
// into out (when not nil); it returns the status code.
func (d *daemon) api(method, path string, body, out any) int {
	d.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.base+path, rd)
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			d.fatalf("%s %s: %d, answer is not the JSON expected (%v): %s", method, path, resp.StatusCode, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		d.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// issue is GET /api/v1/issues/{id}.
type issue struct {
	ID        int64          `json:"id"`
	Status    string         `json:"status"`
	Counts    map[string]int `json:"counts"`
	LastError string         `json:"last_error"`
}

// createIssue makes a draft on slug and returns its id.
func (d *daemon) createIssue(slug, subject, body string) int64 {
	d.t.Helper()
	var is issue
	if code := d.api("POST", "/api/v1/issues", map[string]string{"list": slug, "subject": subject, "body_markdown": body}, &is); code != http.StatusCreated {
		d.fatalf("POST /api/v1/issues: status %d, want 201", code)
	}
	if is.ID == 0 {
		d.fatalf("POST /api/v1/issues: no id in the answer")
	}
	return is.ID
}

// sendIssue asks for the issue to be sent now.
func (d *daemon) sendIssue(id int64) {
	d.t.Helper()
	if code := d.api("POST", fmt.Sprintf("/api/v1/issues/%d/send", id), map[string]string{}, nil); code != http.StatusAccepted {
		d.fatalf("POST /api/v1/issues/%d/send: status %d, want 202", id, code)
	}
}

// getIssue reads the issue's status and counts.
func (d *daemon) getIssue(id int64) issue {
	d.t.Helper()
	var is issue
	if code := d.api("GET", fmt.Sprintf("/api/v1/issues/%d", id), nil, &is); code != http.StatusOK {
		d.fatalf("GET /api/v1/issues/%d: status %d, want 200", id, code)
	}
	return is
}

// tryIssue reads the issue without failing (for polls that span a crash).
func (d *daemon) tryIssue(id int64) (issue, bool) {
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/issues/%d", d.base, id), nil)
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return issue{}, false
	}
	defer resp.Body.Close()
	var is issue
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&is) != nil {
		return issue{}, false
	}
	return is, true
}

// waitSent polls the issue until its status is sent.
func (d *daemon) waitSent(id int64, timeout time.Duration) issue {
	d.t.Helper()
	var is issue
	if !waitFor(timeout, 250*time.Millisecond, func() bool {
		var ok bool
		is, ok = d.tryIssue(id)
		return ok && is.Status == "sent"
	}) {
		d.fatalf("issue %d: status %q counts %v, want sent within %s", id, is.Status, is.Counts, timeout)
	}
	return is
}

// consent returns `export consent --list slug` as rows keyed by column name.
func (d *daemon) consent(slug string) []map[string]string {
	d.t.Helper()
	out := strings.TrimPrefix(d.cli("", []string{"export", "consent"}, "--list", slug), "\ufeff")
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		d.fatalf("export consent: not CSV with a header (%v):\n%s", err, out)
	}
	var recs []map[string]string
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			if i < len(row) {
				m[strings.TrimSpace(strings.ToLower(h))] = row[i]
			}
		}
		recs = append(recs, m)
	}
	return recs
}

// consentFrom returns the consent rows for addr with the given source.
func (d *daemon) consentFrom(slug, addr, source string) []map[string]string {
	d.t.Helper()
	var out []map[string]string
	for _, r := range d.consent(slug) {
		if strings.EqualFold(r["email"], addr) && r["source"] == source {
			out = append(out, r)
		}
	}
	return out
}
