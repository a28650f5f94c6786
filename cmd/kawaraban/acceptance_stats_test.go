package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Issue 17, wired as production wires it: with `count_clicks: true` on a
// list in the config, the sent mail's links go through /r/, a click on
// one reaches the link and counts, and GET /api/v1/issues/{id} answers
// the statistics; a list without the switch keeps its links.
func TestAcceptanceClickCountingFromConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startConfigMode(t, dir, configEdit{"    count_clicks: false\n", "    count_clicks: true\n"}) // shimin-katsudo
	d := c.daemonProc
	cli := func(stdin string, args ...string) string {
		t.Helper()
		return c.mustCLI(t, stdin, args...).Stdout
	}
	// The internal list takes only the city's addresses.
	csvFile := filepath.Join(dir, "subs.csv")
	os.WriteFile(csvFile, []byte("email,name\nreader@city.example.jp,読者 一郎\n"), 0o600)
	for _, list := range []string{"shimin-katsudo", "chonai"} {
		args := []string{"import", "subscribers", "--list", list}
		if list == "shimin-katsudo" {
			args = append(args, "--consent-source", "窓口")
		}
		cli("", append(args, csvFile)...)
	}
	cli("admin-password-for-the-test-2026\n", "user", "add", "--login", "ops", "--role", "admin")
	token := strings.TrimSpace(cli("", "token", "create", "--login", "ops"))

	const dest = "https://www.city.kyoto.lg.jp/koza"
	body := "講座の詳細は[こちら](" + dest + ")をご覧ください。"
	on := createIssue(t, d, token, map[string]any{"list": "shimin-katsudo", "subject": "数える号", "body_markdown": body})
	off := createIssue(t, d, token, map[string]any{"list": "chonai", "subject": "数えない号", "body_markdown": body})
	for _, id := range []int64{on.ID, off.ID} {
		sendIssue(t, d, token, id)
		waitIssueSent(t, d, token, id)
	}
	all := readCaptured(t, dir)
	counted, plain := mailsTo(all, "reader@city.example.jp", "数える号"), mailsTo(all, "reader@city.example.jp", "数えない号")
	if len(counted) != 1 || len(plain) != 1 {
		t.Fatalf("%d and %d copies, want 1 each", len(counted), len(plain))
	}
	if p := plain[0].Parts["text/html"] + plain[0].Parts["text/plain"]; strings.Contains(p, "/r/") || !strings.Contains(p, dest) {
		t.Errorf("a list without count_clicks got rewritten links:\n%s", p)
	}
	re := regexp.MustCompile(`https://mail\.city\.example\.jp(/r/[A-Za-z0-9_\-.~]+)`)
	m := re.FindStringSubmatch(counted[0].Parts["text/html"])
	if m == nil || !strings.Contains(counted[0].Parts["text/plain"], m[0]) || strings.Contains(counted[0].Parts["text/html"], `href="`+dest) {
		t.Fatalf("the counted list's mail does not link through /r/ in both parts:\n%s\n%s", counted[0].Parts["text/html"], counted[0].Parts["text/plain"])
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(d.BaseURL + m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != dest {
		t.Fatalf("GET %s: %d to %q, want 302 to %s", m[1], resp.StatusCode, resp.Header.Get("Location"), dest)
	}
	code, raw := api(t, d, token, "GET", "/api/v1/issues/"+strconv.FormatInt(on.ID, 10), nil)
	var got struct {
		Stats struct {
			Delivered    int  `json:"delivered"`
			CountsClicks bool `json:"counts_clicks"`
			Links        []struct {
				URL    string `json:"url"`
				Clicks int    `json:"clicks"`
			} `json:"links"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || code != 200 || got.Stats.Delivered != 1 || !got.Stats.CountsClicks ||
		len(got.Stats.Links) != 1 || got.Stats.Links[0].URL != dest || got.Stats.Links[0].Clicks != 1 {
		t.Errorf("GET issue: %d %s", code, raw)
	}
}
