package main

// Helpers for the black-box acceptance tests: they drive the real binary
// over HTTP and its CLI, and read what the local-mode relay captured.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

// acceptanceDeadline bounds every poll in the acceptance tests.
const acceptanceDeadline = 20 * time.Second

// cliResult is what one CLI invocation printed and how it exited.
type cliResult struct {
	Stdout, Stderr string
	Exit           int
}

// runCLI runs the kawaraban binary with args and optional stdin.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(kawarabanBinary(t), args...)
	cmd.Env = append(os.Environ(), "KAWARABAN_CONFIG=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cliResult{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Exit = ee.ExitCode()
	default:
		t.Fatalf("running kawaraban %v: %v", args, err)
	}
	return res
}

// getOK GETs url with client and returns the body, failing the test
// unless the answer is 200.
func getOK(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b)
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func mustCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	res := runCLI(t, "", args...)
	if res.Exit != 0 {
		t.Fatalf("kawaraban %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, res.Exit, res.Stdout, res.Stderr)
	}
	return res
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(acceptanceDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", acceptanceDeadline, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// capturedMail is one message from DIR/captured, parsed.
type capturedMail struct {
	File        string
	ReturnPath  string
	DeliveredTo string
	Header      mail.Header
	Subject     string            // decoded
	ContentType string            // of the top-level message
	Parts       map[string]string // media type → decoded body
}

// readCaptured parses every captured message in dir, ordered by number.
func readCaptured(t *testing.T, dir string) []capturedMail {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "captured", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	num := func(p string) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(p), ".eml"))
		return n
	}
	sort.Slice(names, func(i, j int) bool { return num(names[i]) < num(names[j]) })
	var out []capturedMail
	for _, name := range names {
		out = append(out, parseCaptured(t, name))
	}
	return out
}

func parseCaptured(t *testing.T, name string) capturedMail {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mr, err := mail.CreateReader(f)
	if err != nil {
		t.Fatalf("%s: not a parseable message: %v", name, err)
	}
	defer mr.Close()
	m := capturedMail{
		File:        name,
		ReturnPath:  mr.Header.Get("Return-Path"),
		DeliveredTo: mr.Header.Get("Delivered-To"),
		Header:      mr.Header,
		Parts:       map[string]string{},
	}
	if m.Subject, err = mr.Header.Subject(); err != nil {
		t.Fatalf("%s: subject does not decode: %v", name, err)
	}
	m.ContentType, _, _ = mr.Header.ContentType()
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: reading parts: %v", name, err)
		}
		if h, ok := p.Header.(*mail.InlineHeader); ok {
			ct, _, _ := h.ContentType()
			b, err := io.ReadAll(p.Body)
			if err != nil {
				t.Fatalf("%s: decoding %s part: %v", name, ct, err)
			}
			m.Parts[ct] += string(b)
		}
	}
	return m
}

// mailsTo returns the captured mails delivered to addr (optionally only
// those with the given decoded subject).
func mailsTo(all []capturedMail, addr, subject string) []capturedMail {
	var out []capturedMail
	for _, m := range all {
		if strings.EqualFold(m.DeliveredTo, addr) && (subject == "" || m.Subject == subject) {
			out = append(out, m)
		}
	}
	return out
}

var confirmLinkRe = regexp.MustCompile(`https?://[^\s<>"]+/confirm/[A-Za-z0-9_\-.~]+`)

// subscriberRow is one row of `export subscribers`, keyed by header name.
type subscriberRow map[string]string

// exportSubscribers runs `export subscribers` and returns rows by address.
func exportSubscribers(t *testing.T, dir, list string) map[string]subscriberRow {
	t.Helper()
	res := mustCLI(t, "export", "subscribers", "--data", dir, "--list", list)
	return csvRows(t, res.Stdout, "email")
}

// csvRows parses CSV with a header row into rows keyed by the key column.
func csvRows(t *testing.T, text, key string) map[string]subscriberRow {
	t.Helper()
	out := map[string]subscriberRow{}
	for _, row := range csvList(t, text) {
		out[row[key]] = row
	}
	return out
}

// csvList parses CSV with a header row into rows keyed by header name.
func csvList(t *testing.T, text string) []subscriberRow {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, text)
	}
	if len(recs) == 0 {
		t.Fatalf("export has no header row")
	}
	var out []subscriberRow
	for _, rec := range recs[1:] {
		row := subscriberRow{}
		for j, h := range recs[0] {
			if j < len(rec) {
				row[h] = rec[j]
			}
		}
		out = append(out, row)
	}
	return out
}

// adminToken creates an API token for the admin user created on first start.
func adminToken(t *testing.T, dir string) string {
	t.Helper()
	tok := strings.TrimSpace(mustCLI(t, "token", "create", "--data", dir, "--login", "admin").Stdout)
	if tok == "" || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token create printed %q", tok)
	}
	return tok
}

// apiIssue is the part of the API's issue view the tests read.
type apiIssue struct {
	ID      int64          `json:"id"`
	Status  string         `json:"status"`
	Counts  map[string]int `json:"counts"`
	Warning string         `json:"warning"`
	Error   string         `json:"error"`
}

// api calls the JSON API and returns the status and raw body; body is
// marshalled to JSON unless it is a []byte.
func api(t *testing.T, d *daemonProc, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte: // sent as is, even when it is not JSON
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, d.BaseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// issueResp decodes an issue view and fails on a status other than want.
func issueResp(t *testing.T, code int, body []byte, want int) apiIssue {
	t.Helper()
	if code != want {
		t.Fatalf("API status %d, want %d: %s", code, want, body)
	}
	var is apiIssue
	if err := json.Unmarshal(body, &is); err != nil {
		t.Fatalf("API answer is not JSON: %v: %s", err, body)
	}
	return is
}

// createIssue creates an issue through the API (201 expected).
func createIssue(t *testing.T, d *daemonProc, token string, req map[string]any) apiIssue {
	t.Helper()
	code, body := api(t, d, token, "POST", "/api/v1/issues", req)
	is := issueResp(t, code, body, http.StatusCreated)
	if is.ID == 0 {
		t.Fatalf("created issue has no id: %s", body)
	}
	return is
}

// sendIssue asks for a send (202 expected).
func sendIssue(t *testing.T, d *daemonProc, token string, id int64) apiIssue {
	t.Helper()
	code, body := api(t, d, token, "POST", "/api/v1/issues/"+strconv.FormatInt(id, 10)+"/send", nil)
	return issueResp(t, code, body, http.StatusAccepted)
}

// getIssue reads an issue through the API.
func getIssue(t *testing.T, d *daemonProc, token string, id int64) apiIssue {
	t.Helper()
	code, body := api(t, d, token, "GET", "/api/v1/issues/"+strconv.FormatInt(id, 10), nil)
	return issueResp(t, code, body, http.StatusOK)
}

// waitIssueSent polls the issue until it is "sent".
func waitIssueSent(t *testing.T, d *daemonProc, token string, id int64) apiIssue {
	t.Helper()
	var is apiIssue
	waitUntil(t, "issue "+strconv.FormatInt(id, 10)+" to be sent", func() bool {
		is = getIssue(t, d, token, id)
		if is.Status == "failed" || is.Status == "cancelled" || is.Status == "paused" {
			t.Fatalf("issue %d ended %q: %+v", id, is.Status, is)
		}
		return is.Status == "sent"
	})
	return is
}

// importCSV imports UTF-8 CSV text into list as consented subscribers.
func importCSV(t *testing.T, dir, list, text string) cliResult {
	t.Helper()
	file := filepath.Join(t.TempDir(), "subs.csv")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return mustCLI(t, "import", "subscribers", "--data", dir, "--list", list,
		"--consent-source", "受付窓口の紙の申込書 (acceptance test)", file)
}

// postForm posts a form the way a browser without JavaScript or a script
// would (no Origin header), with a recognisable user agent.
func postForm(t *testing.T, target string, form url.Values, userAgent string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// getUA is a GET with a given user agent.
func getUA(t *testing.T, target, userAgent string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkRawHeaders checks the header block of a captured file the way a
// strict MTA would: 7-bit only (Japanese travels RFC 2047-encoded) and
// lines within RFC 5322's 998 octets (78 recommended).
func checkRawHeaders(t *testing.T, file string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		head, _, ok = bytes.Cut(raw, []byte("\n\n"))
	}
	if !ok {
		t.Fatalf("%s: no blank line after the header", file)
	}
	for i, line := range strings.Split(string(head), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if len(line) > 998 {
			t.Errorf("%s: header line %d is %d octets long", file, i+1, len(line))
		}
		for _, b := range []byte(line) {
			if b >= 0x80 {
				t.Errorf("%s: header line %d carries 8-bit bytes: %q", file, i+1, line)
				break
			}
		}
	}
}
