//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// progressReports is scenario 8 (issue 23): the reminder reaches the
// bureau through Postfix and Dovecot, the bureau reports in the browser
// through the reminder's link, the coordinator publishes from the CLI,
// and the public pages (phone and desktop, axe-core) show the report
// without any contact data; the newsletter draft is made from it.
func progressReports(t *testing.T) {
	// The harness's lists are public ones; the slug is what the draft needs.
	d := newDaemon(t, daemonOptions{Lists: []listConfig{{Slug: "chonai", NameJA: "市民参加 庁内情報誌", NameEN: "Internal newsletter on citizen participation"}}})
	d.start()
	d.login()
	n := nonce()
	plan := fmt.Sprintf(`contacts:
  - {bureau: somu, name_ja: 総務局, name: 人事課 e2e, email: somu@example.test}
measures:
  - number: 32
    title_ja: 市民参加を進めるための庁内の仕組みづくり
    projects:
      - {title_ja: 市民参加を促進する職員研修の充実, bureau: somu}
deadlines:
  - {id: e2e-%s, title_ja: 令和8年度 実施状況の報告 e2e %s, due: 2027-04-30, bureaus: [somu]}
reminders: {before_days: [7], overdue_every_days: 3, escalate_after_days: 7, coordinator: coordinator@example.test}
`, n, n)
	path := filepath.Join(d.dir, "plan-reports.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cli("", []string{"progress", "import"}, path)
	d.cli("", []string{"reminders", "run"}, "--now", "2027-04-23T09:00:00+09:00")
	m := waitMail(t, d, "somu", 1, 60*time.Second, "a reminder about e2e "+n,
		func(ms []delivered) []delivered { return matching(ms, n) })[0]
	form := link(m, d.base+"/progress/submitted/")
	if form == "" {
		d.fatalf("the reminder has no %s/progress/submitted/ link:\n%s", d.base, m.Text)
	}

	p := newPage(t, d)
	note := "職員研修を年3回開きました(e2e " + n + ")。"
	p.do("open the report form on a phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(form),
		chromedp.WaitVisible(chromedp.ID("send-report")))
	p.checkA11y("/progress/submitted/{token}")
	p.press("status-32-1-ongoing")
	p.do("write the note", chromedp.SendKeys(chromedp.ID("note-32-1"), note))
	p.snap("report-form-phone")
	p.press("send-report")
	p.do("wait for the saved report", chromedp.WaitVisible(chromedp.ID("submitted-at")))
	p.snap("report-saved-phone")

	if page := getPage(t, d.base+"/progress"); strings.Contains(page, note) {
		d.fatalf("the report is public before the coordinator published it")
	}
	d.cli("", []string{"progress", "publish"}, "--deadline", "e2e-"+n)
	for _, v := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		p.do("open /progress on a "+v.name, chromedp.EmulateViewport(v.w, v.h), chromedp.Navigate(d.base+"/progress"),
			chromedp.WaitVisible(chromedp.ID("project-32-1")))
		p.checkA11y("/progress (" + v.name + ")")
		p.snap("progress-public-" + v.name)
	}
	for _, u := range []string{"/progress", "/progress/32", "/progress/feed.atom"} {
		page := getPage(t, d.base+u)
		if !strings.Contains(page, note) || !strings.Contains(page, "実施中") {
			d.errorf("%s does not show the published report", u)
		}
		for _, private := range []string{"somu@example.test", "人事課 e2e", "HeadlessChrome"} {
			if strings.Contains(page, private) {
				d.errorf("%s shows %q", u, private)
			}
		}
	}
	id := strings.TrimSpace(d.cli("", []string{"progress", "draft-issue"}, "--list", "chonai", "--deadline", "e2e-"+n))
	if id == "" || strings.ContainsAny(id, " \n") {
		d.fatalf("progress draft-issue printed %q, want the issue id", id)
	}
}

func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b)
}
