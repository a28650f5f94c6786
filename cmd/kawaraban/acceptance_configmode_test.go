package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/emersion/go-message/charset" // ISO-2022-JP parts
	"github.com/emersion/go-msgauth/dkim"

	"kawaraban/localmail"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startConfigDaemon runs `kawaraban serve` with KAWARABAN_CONFIG=cfg and
// waits for /healthz on listen.
func startConfigDaemon(t *testing.T, cfg, listen string, env []string) *daemonProc {
	t.Helper()
	cmd := exec.Command(kawarabanBinary(t), "serve")
	cmd.Env = append(append(os.Environ(), "KAWARABAN_CONFIG="+cfg), env...)
	out := &syncBuffer{}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
		}
	}()
	d := &daemonProc{cmd: cmd, BaseURL: "http://" + listen, out: out}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := httpGetQuiet(d.BaseURL + "/healthz"); err == nil && resp == 200 {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon with --config did not answer /healthz; output:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// configMode is `kawaraban serve --config`: config.example.yaml with its
// relay, database and ports moved into a test's directory, the mail
// captured in DIR/captured by the repository's capture server acting as
// the relay, and the secrets in the environment.
type configMode struct {
	*daemonProc
	config string   // the config file
	env    []string // the secrets
}

// configEdit replaces the first old in config.example.yaml with new.
type configEdit struct{ old, new string }

// startConfigMode writes the config, with edits after the relay's own, into
// dir, checks it with check-config and starts the daemon.
func startConfigMode(t *testing.T, dir string, edits ...configEdit) *configMode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // after the daemon's own cleanup has stopped it
	sink, err := localmail.NewSMTP(localmail.SMTPOptions{Dir: filepath.Join(dir, "captured"), Hostname: "relay.test"})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := sink.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go sink.Run(ctx)
	example, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	listen := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfgText := string(example)
	for _, r := range append([]configEdit{
		{"  listen: 127.0.0.1:8080\n", "  listen: " + listen + "\n"},
		{"  path: /var/lib/kawaraban/kawaraban.db\n", "  path: " + filepath.Join(dir, "k.db") + "\n"},
		{"  host: smtp.city.example.jp\n", "  host: 127.0.0.1\n"},
		{"  port: 587\n", "  port: " + strconv.Itoa(sa.(*net.TCPAddr).Port) + "\n"},
		{"  tls: starttls\n", "  tls: none\n"},
		{"  username: kawaraban\n", "  username: \"\"\n"},
		{"  host: imap.city.example.jp\n", "  host: 127.0.0.1\n"},
		{"  port: 993\n", "  port: " + strconv.Itoa(freePort(t)) + "\n"},
		{"  tls: tls\n", "  tls: none\n"},
	}, edits...) {
		if !strings.Contains(cfgText, r.old) {
			t.Fatalf("config.example.yaml has no %q to change", r.old)
		}
		cfgText = strings.Replace(cfgText, r.old, r.new, 1)
	}
	c := &configMode{config: filepath.Join(dir, "kawaraban.yaml")}
	if err := os.WriteFile(c.config, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, "", "check-config", c.config); res.Exit != 0 {
		t.Fatalf("check-config: exit %d\n%s", res.Exit, res.Stderr)
	}
	tokenKey := make([]byte, 32)
	rand.Read(tokenKey)
	c.env = []string{"KAWARABAN_TOKEN_KEY=" + base64.StdEncoding.EncodeToString(tokenKey), "KAWARABAN_IMAP_PASSWORD=unused"}
	c.daemonProc = startConfigDaemon(t, c.config, listen, c.env)
	return c
}

// cli runs the CLI with KAWARABAN_CONFIG and the secrets in the
// environment.
func (c *configMode) cli(t *testing.T, stdin string, args ...string) (cliResult, error) {
	t.Helper()
	cmd := exec.Command(kawarabanBinary(t), args...)
	cmd.Env = append(append(os.Environ(), "KAWARABAN_CONFIG="+c.config), c.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return cliResult{Stdout: o.String(), Stderr: e.String()}, err
}

// mustCLI is cli that fails the test unless the command succeeds.
func (c *configMode) mustCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	res, err := c.cli(t, stdin, args...)
	if err != nil {
		t.Fatalf("kawaraban %v: %v\n%s%s", args, err, res.Stdout, res.Stderr)
	}
	return res
}

var shortClient = &http.Client{Timeout: 2 * time.Second}

func httpGetQuiet(url string) (int, error) {
	resp, err := shortClient.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// The production path: `serve --config` with a real relay (here the
// repository's capture server, started by the test), an ISO-2022-JP list
// for older phones, DKIM signing and an https base_url in every link.
func TestAcceptanceConfigModeISO2022JPAndDKIM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "dkim.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startConfigMode(t, dir,
		configEdit{"    encoding: utf-8\n", "    encoding: iso-2022-jp\n"},
		configEdit{"  domain: \"\"\n  selector: \"\"\n", "  domain: city.example.jp\n  selector: k2026\n"},
		configEdit{"  key_file: \"\"\n", "  key_file: " + keyFile + "\n"})
	d := c.daemonProc
	csvFile := filepath.Join(dir, "subs.csv")
	// 髙 is outside JIS X 0208: that one message falls back to UTF-8
	// (docs/ENCODINGS.md); the other goes as ISO-2022-JP.
	os.WriteFile(csvFile, []byte("email,name\nkeitai@docomo.ne.jp,高木 はなこ\nibm@ezweb.ne.jp,髙木 次郎\n"), 0o600)
	c.mustCLI(t, "", "import", "subscribers", "--list", "shimin-katsudo", "--consent-source", "窓口", csvFile)
	res, err := c.cli(t, "", "token", "create", "--login", "admin")
	if err != nil {
		t.Logf("no admin after the first start with a config (%v): adding one", err)
		c.mustCLI(t, "admin-password-for-the-test-2026\n", "user", "add", "--login", "ops", "--role", "admin")
		res = c.mustCLI(t, "", "token", "create", "--login", "ops")
	}
	token := strings.TrimSpace(res.Stdout)

	const subject = "市民活動ニュース 〜 第3号（ガラケー向け）"
	is := createIssue(t, d, token, map[string]any{"list": "shimin-katsudo", "subject": subject, "body_markdown": "{{ .Name }} 様\n\n１番の講座のお知らせです。"})
	sendIssue(t, d, token, is.ID)
	waitIssueSent(t, d, token, is.ID)

	ms := mailsTo(readCaptured(t, dir), "keitai@docomo.ne.jp", "")
	if len(ms) != 1 {
		t.Fatalf("%d copies to keitai@docomo.ne.jp, want 1", len(ms))
	}
	m := ms[0]
	checkRawHeaders(t, m.File)
	raw, _ := os.ReadFile(m.File)
	// JIS X 0208 1-33 reads back as U+301C or U+FF5E depending on the
	// decoder's table; either is the wave dash that was written.
	if strings.ReplaceAll(m.Subject, "～", "〜") != subject {
		t.Errorf("subject decodes to %q, want %q", m.Subject, subject)
	}
	if !bytes.Contains(bytes.ToLower(raw), []byte("iso-2022-jp")) {
		t.Errorf("an iso-2022-jp list's mail names no ISO-2022-JP charset:\n%.1500s", raw)
	}
	if !regexp.MustCompile(`(?i)content-type:\s*text/plain;\s*charset="?iso-2022-jp`).Match(raw) {
		t.Errorf("the text part is not ISO-2022-JP although every character is in JIS X 0208")
	}
	text := m.Parts["text/plain"]
	if !strings.Contains(text, "高木 はなこ 様") || !strings.Contains(text, "講座のお知らせ") {
		t.Errorf("the text part does not decode from ISO-2022-JP to what was written:\n%s", text)
	}
	if !strings.Contains(text, "〒600-8127") {
		t.Errorf("the legally required sender address is missing from the text part:\n%s", text)
	}
	lu := m.Header.Get("List-Unsubscribe")
	if !strings.Contains(lu, "<https://mail.city.example.jp/unsubscribe/") || !strings.Contains(lu, "@bounces.city.example.jp>") {
		t.Errorf("List-Unsubscribe %q: want the https base_url and a mailto at the inbound domain", lu)
	}
	if !strings.HasPrefix(m.ReturnPath, "<bounces+") || !strings.HasSuffix(m.ReturnPath, "@bounces.city.example.jp>") {
		t.Errorf("Return-Path %q: want bounces+TOKEN@bounces.city.example.jp", m.ReturnPath)
	}

	// The fallback: whole message in UTF-8, still readable.
	if fb := mailsTo(readCaptured(t, dir), "ibm@ezweb.ne.jp", subject); len(fb) != 1 || !strings.Contains(fb[0].Parts["text/plain"], "髙木 次郎 様") {
		t.Errorf("the message with 髙 (outside JIS X 0208): %d copies, want 1 in UTF-8 greeting 髙木 次郎", len(fb))
	}

	record := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if name != "k2026._domainkey.city.example.jp" {
			t.Errorf("DKIM lookup of %q", name)
		}
		return []string{record}, nil
	}})
	if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "city.example.jp" {
		var verr error
		if len(vs) > 0 {
			verr = vs[0].Err
		}
		t.Errorf("DKIM: %d signatures, err %v, verification %v", len(vs), err, verr)
	}
}
