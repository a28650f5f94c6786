package web

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kawaraban/issues"
	"kawaraban/mailer"
	"kawaraban/subscribers"
)

// deliver sends the issue now and runs the outbox until every delivery
// is done (the clock stands still meanwhile).
func (e *realEnv) deliver(t *testing.T, id int64) {
	t.Helper()
	ctx := t.Context()
	if err := e.dom.Sending.SendNow(ctx, id, issues.Actor{Login: "editor"}); err != nil {
		t.Fatal(err)
	}
	if err := e.dom.Sending.StartDue(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.dom.Mailer.Run(rctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := e.dom.Mailer.Progress(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Queued+p.Sending == 0 && p.Sent > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("issue %d not delivered after 30s: %+v", id, p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBrowserIssue17StatsAndImport looks at the privacy-first statistics
// and the import in Chromium, with screenshots: two issues with long
// Japanese subjects, opt-outs after each (one within 7 days of both, which
// counts under the later only), clicks on a list that counts them; the
// dashboard on a desktop and a phone (the subject stays on one line), the
// issue page's figures, then a Shift_JIS dry run that lists its rejected
// rows and "import these". axe-core checks each page.
func TestBrowserIssue17StatsAndImport(t *testing.T) {
	e := newRealEnv(t)
	ctx := t.Context()
	l := countClicks(t, e, "shimin-katsudo")
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range 8 {
		csv.WriteString("reader" + itoa(int64(i)) + "@example.jp,読者" + itoa(int64(i)) + "\n")
	}
	if _, err := e.subs.Import(ctx, strings.NewReader(csv.String()), subscribers.ImportOptions{ListSlug: l.Slug, ConsentSource: "窓口申込書"}); err != nil {
		t.Fatal(err)
	}
	unsub := func(i int) {
		if err := e.subs.UnsubscribeAddress(ctx, "reader"+itoa(int64(i))+"@example.jp", l.Slug, subscribers.SourceWeb, subscribers.Evidence{}); err != nil {
			t.Fatal(err)
		}
	}
	body := "講座の詳細は[市のページ](https://www.city.kyoto.lg.jp/koza)、申し込みは https://example.jp/moushikomi からどうぞ。"
	subjA := "【市民活動総合センター】令和8年12月号 ボランティア入門講座と地域の団体紹介、年末年始の開館日のお知らせ"
	a, err := e.iss.Create(ctx, issues.Draft{ListID: l.ID, Subject: subjA, BodyMarkdown: body, Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	e.deliver(t, a.ID)
	e.clock.Add(time.Hour)
	unsub(0)
	e.clock.Add(24 * time.Hour)
	unsub(1)
	e.clock.Add(2 * 24 * time.Hour)
	subjB := "【市民活動総合センター】令和9年1月号 新春の交流会のご案内と助成金の募集について(締切は2月末日)"
	b, err := e.iss.Create(ctx, issues.Draft{ListID: l.ID, Subject: subjB, BodyMarkdown: body, Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	e.deliver(t, b.ID)
	e.clock.Add(24 * time.Hour)
	unsub(2) // within 7 days of both: counts under B only
	// Three clicks on A's first link, one on its second.
	m, err := e.dom.Renderer.Render(ctx, mailer.Delivery{IssueID: a.ID, SubscriberID: 3, Email: "reader3@example.jp"})
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`http://kawaraban\.test(/r/[^"\s]+)`).FindAllStringSubmatch(m.HTML, -1)
	if len(links) != 2 {
		t.Fatalf("%d redirect links in A", len(links))
	}
	for _, p := range []string{links[0][1], links[0][1], links[0][1], links[1][1]} {
		if resp, _ := e.get(e.client(), p); resp.StatusCode != http.StatusFound {
			t.Fatalf("click %s: %d", p, resp.StatusCode)
		}
	}

	axe := axeOrE2E(t)
	bctx := browser(t)
	dir := artifacts(t)
	u := e.http.URL
	must := steps(t, bctx)
	must("login", loginAs(u, "editor"))
	// The dashboard: figures per issue, opt-outs counted once; a long
	// subject takes one line on a desktop, two at most on a phone.
	row := func(id int64) []string {
		cells, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelector('a[href="/admin/issues/`+itoa(id)+`"]').closest("tr").cells).map(c => c.textContent.trim())`))
		if err != nil {
			t.Fatalf("dashboard row of issue %d: %v", id, err)
		}
		return cells
	}
	for _, c := range []struct {
		id                   int64
		delivered, unsub, sj string
	}{{a.ID, "8", "2", subjA}, {b.ID, "6", "1", subjB}} {
		cells := row(c.id)
		if len(cells) != 5 || cells[0] != c.sj || cells[2] != c.delivered || cells[3] != "0" || cells[4] != c.unsub {
			t.Errorf("dashboard row of issue %d: %q, want delivered %s, bounced 0, unsubscribed %s", c.id, cells, c.delivered, c.unsub)
		}
	}
	lines := func(name string, most float64) {
		t.Helper()
		got, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`Array.from(document.querySelectorAll("table.recent td.subj a")).map(a => a.getBoundingClientRect().height / parseFloat(getComputedStyle(a).lineHeight || 24))`))
		if err != nil || len(got) < 2 {
			t.Fatalf("%s: subject heights %v %v", name, got, err)
		}
		for _, lines := range got {
			if lines > most+0.5 {
				t.Errorf("%s: a subject takes %.1f lines, want at most %.0f", name, lines, most)
			}
		}
		title, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("table.recent td.subj a").title`))
		if title != subjB {
			t.Errorf("%s: subject title %q, want the whole subject", name, title)
		}
	}
	lines("desktop", 1)
	shot(t, bctx, dir, "issue17-dashboard.png")
	checkAxe(t, bctx, axe, "dashboard")
	must("phone", chromedp.EmulateViewport(375, 740, chromedp.EmulateScale(2)), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".list-card")))
	lines("phone", 2)
	shot(t, bctx, dir, "issue17-dashboard-phone.png")
	must("desktop again", chromedp.EmulateViewport(1024, 900))

	// The issue page: delivered, bounced, opt-outs within 7 days, clicks.
	must("issue page", chromedp.Navigate(u+"/admin/issues/"+itoa(a.ID)), chromedp.WaitVisible(chromedp.ID("issue-stats")))
	stats, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("issue-stats")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"7日以内の配信停止", "開封は計測していません", "https://www.city.kyoto.lg.jp/koza", "https://example.jp/moushikomi"} {
		if !strings.Contains(stats, want) {
			t.Errorf("issue statistics lack %q:\n%s", want, stats)
		}
	}
	for id, want := range map[string]string{"st-delivered": "8", "st-bounced": "0", "st-unsub": "2"} {
		if got, _ := chromedp.Run(bctx, chromedp.Text(chromedp.ID(id))); strings.TrimSpace(got) != want {
			t.Errorf("%s = %q, want %s", id, got, want)
		}
	}
	clicks, _ := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".links-clicks td.num")).map(td => td.textContent)`))
	if strings.Join(clicks, ",") != "3,1" {
		t.Errorf("clicks per link %q, want 3,1", clicks)
	}
	shot(t, bctx, dir, "issue17-issue-stats.png")
	checkAxe(t, bctx, axe, "issue statistics")

	// The import: a Shift_JIS file from Excel, checked first.
	file := filepath.Join(t.TempDir(), "会員名簿.csv")
	if err := os.WriteFile(file, sjisMembers(t), 0o600); err != nil {
		t.Fatal(err)
	}
	must("dry run",
		chromedp.Navigate(u+"/admin/subscribers?list=shimin-katsudo"),
		chromedp.WaitVisible(chromedp.ID("import-form")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
		chromedp.SendKeys(chromedp.ID("consent_source"), "2026年度 窓口申込書"),
		chromedp.Submit(chromedp.ID("import-form")),
		chromedp.WaitVisible(chromedp.ID("rejects")),
	)
	rejects, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#rejects tbody tr")).map(tr => tr.cells[0].textContent + ":" + tr.cells[1].textContent)`))
	if err != nil || len(rejects) != 3 || !strings.HasPrefix(rejects[0], "3:") || !strings.HasPrefix(rejects[1], "4:メールアドレスの欄が空です") || !strings.HasPrefix(rejects[2], "6:2行目と同じアドレスです") {
		t.Errorf("rejected rows %q %v", rejects, err)
	}
	before := confirmedOn(t, e, l.ID)
	shot(t, bctx, dir, "issue17-import-dryrun.png")
	checkAxe(t, bctx, axe, "import dry run")
	must("import these", chromedp.Click(chromedp.ID("import-these-button")), chromedp.WaitVisible(chromedp.CSS(`#import-report[data-imported]`)))
	if head, _ := chromedp.Run(bctx, chromedp.Text(chromedp.ID("rep-h"))); head != "取り込みました" {
		t.Errorf("after import these: %q", head)
	}
	if after := confirmedOn(t, e, l.ID); after != before+2 {
		t.Errorf("import these added %d, want 2", after-before)
	}
	shot(t, bctx, dir, "issue17-import-done.png")
	t.Logf("screenshots in %s", dir)
}

func confirmedOn(t *testing.T, e *realEnv, listID int64) int {
	t.Helper()
	st, err := e.subs.Stats(t.Context(), listID)
	if err != nil {
		t.Fatal(err)
	}
	return st.Confirmed
}
