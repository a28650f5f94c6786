package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// planYAML is a plan file in the contract's "Progress file" format, not the
// one in the repository. Line numbers matter to the bad-file cases below.
const planYAML = `contacts:
  - {bureau: sogo-kikaku, name_ja: 総合企画局, email: kikaku@city.example.jp}
  - {bureau: somu, name_ja: 総務局, email: somu@city.example.jp}
measures:
  - number: 35
    title_ja: 計画の進捗管理
    projects: [{title_ja: 「市民参加推進レポート」の発行, bureau: sogo-kikaku}]
deadlines:
  - id: fy2026-status
    title_ja: 令和8年度 実施状況の報告
    due: 2027-04-30
    bureaus: [sogo-kikaku, somu]
reminders:
  before_days: [14, 7, 1]
  overdue_every_days: 3
  escalate_after_days: 7
  coordinator: coordinator@city.example.jp
`

const (
	bureauKikaku = "kikaku@city.example.jp"
	bureauSomu   = "somu@city.example.jp"
	coordinator  = "coordinator@city.example.jp"
)

// planDue is the deadline above, in the plan's time zone (Asia/Tokyo).
var planDue = time.Date(2027, 4, 30, 0, 0, 0, 0, time.FixedZone("JST", 9*3600))

func writePlan(t *testing.T, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// runReminders runs the reminder job as if at due+days (09:00 JST) and
// returns how many captured mails each address has in total afterwards.
func runReminders(t *testing.T, dir string, days int) map[string]int {
	t.Helper()
	now := planDue.AddDate(0, 0, days).Add(9 * time.Hour)
	mustCLI(t, "reminders", "run", "--data", dir, "--now", now.Format(time.RFC3339))
	counts := map[string]int{}
	for _, m := range readCaptured(t, dir) {
		counts[strings.ToLower(m.DeliveredTo)]++
		checkRawHeaders(t, m.File)
		if !strings.HasPrefix(m.Header.Get("Auto-Submitted"), "auto-") {
			t.Errorf("%s to %s: Auto-Submitted %q, want auto-generated", m.File, m.DeliveredTo, m.Header.Get("Auto-Submitted"))
		}
	}
	return counts
}

// Issue 8: reminders before and after a deadline, each sent once.
func TestAcceptanceReminders(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	res := mustCLI(t, "progress", "import", "--data", d.Data, writePlan(t, planYAML))
	t.Logf("progress import: %s", strings.TrimSpace(res.Stdout))
	// Importing the same file again updates; it never duplicates a deadline
	// (which would double every reminder below).
	mustCLI(t, "progress", "import", "--data", d.Data, writePlan(t, planYAML))

	if c := runReminders(t, d.Data, -18); len(c) != 0 {
		t.Fatalf("18 days before the deadline (rules 14/7/1): mails %v, want none", c)
	}
	// --dry-run says what it would send and sends nothing.
	at7 := planDue.AddDate(0, 0, -7).Add(9 * time.Hour).Format(time.RFC3339)
	dry := mustCLI(t, "reminders", "run", "--data", d.Data, "--now", at7, "--dry-run")
	if !strings.Contains(dry.Stdout, bureauKikaku) || !strings.Contains(dry.Stdout, bureauSomu) {
		t.Errorf("reminders run --dry-run does not name the reminders it would send:\n%s", dry.Stdout)
	}
	if n := countEML(t, d.Data); n != 0 {
		t.Fatalf("--dry-run sent %d mails", n)
	}
	c := runReminders(t, d.Data, -7)
	if c[bureauKikaku] != 1 || c[bureauSomu] != 1 || len(c) != 2 {
		t.Fatalf("7 days before: mails %v, want one to each bureau", c)
	}
	if again := runReminders(t, d.Data, -7); !equalCounts(again, c) {
		t.Fatalf("the job run again at the same instant sent more: %v, before %v", again, c)
	}
	late := runReminders(t, d.Data, 8)
	if late[bureauKikaku] < 2 || late[bureauSomu] < 2 {
		t.Errorf("8 days overdue: mails %v, want the reminders to both bureaus to continue", late)
	}
	if late[coordinator] < 1 {
		t.Errorf("8 days overdue (escalate after 7): mails %v, want the coordinator told", late)
	}
	for addr := range late {
		if addr != bureauKikaku && addr != bureauSomu && addr != coordinator {
			t.Errorf("a reminder went to %s, who is in no bureau", addr)
		}
	}
	if again := runReminders(t, d.Data, 8); !equalCounts(again, late) {
		t.Errorf("the overdue run repeated sent more: %v, before %v", again, late)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Issue 8: a bad plan file is refused with its line and nothing is imported.
func TestAcceptanceProgressBadFile(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	extra := "  - id: fy2026-plan\n    title_ja: 計画の見直し\n    due: 2027-06-30\n" // lines 13-15
	cases := []struct {
		name, text, line string
	}{
		{"unknown bureau", strings.Replace(planYAML, "bureaus: [sogo-kikaku, somu]", "bureaus: [sogo-kikaku, no-such-kyoku]", 1), "line 12"},
		{"bad date", strings.Replace(planYAML, "due: 2027-04-30", "due: 2027-04-31", 1), "line 11"},
		{"duplicate id", strings.Replace(planYAML, "reminders:\n", extra+"  - id: fy2026-status\n    title_ja: 重複\n    due: 2027-07-31\nreminders:\n", 1), "line 16"},
	}
	for _, tc := range cases {
		res := runCLI(t, "", "progress", "import", "--data", d.Data, writePlan(t, tc.text))
		if res.Exit != 2 {
			t.Errorf("%s: exit %d, want 2\n%s%s", tc.name, res.Exit, res.Stdout, res.Stderr)
		}
		if !strings.Contains(res.Stdout+res.Stderr, tc.line) {
			t.Errorf("%s: output does not name %s:\n%s%s", tc.name, tc.line, res.Stdout, res.Stderr)
		}
	}
	// Nothing of those files is there: no deadline, so no reminder at all
	// on a day the good file's rules would remind both bureaus.
	if c := runReminders(t, d.Data, -7); len(c) != 0 {
		t.Errorf("after refused files: reminders %v, want none (something was imported)", c)
	}
}

var (
	submittedLinkRe = regexp.MustCompile(`https?://\S+/progress/submitted/\S+`)
	icsLinkRe       = regexp.MustCompile(`https?://\S+\.ics`)
)

// Issue 8: a bureau marks its report submitted from the reminder's signed
// link (GET shows a button, POST records) and gets no more reminders; the
// .ics link in the reminder serves the bureau's calendar.
func TestAcceptanceReminderSubmittedLinkAndICS(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	mustCLI(t, "progress", "import", "--data", d.Data, writePlan(t, planYAML))
	runReminders(t, d.Data, -7)
	ms := mailsTo(readCaptured(t, d.Data), bureauKikaku, "")
	if len(ms) != 1 {
		t.Fatalf("%d reminders to %s, want 1", len(ms), bureauKikaku)
	}
	text := ms[0].Parts["text/plain"]
	submitted, ics := submittedLinkRe.FindString(text), icsLinkRe.FindString(text)
	if submitted == "" || ics == "" {
		t.Fatalf("the reminder lacks the submitted or the .ics link:\n%s", text)
	}
	if !strings.HasPrefix(submitted, d.BaseURL+"/") {
		t.Errorf("submitted link %s does not point at the running daemon %s", submitted, d.BaseURL)
	}
	code, page := get(t, submitted)
	if code != 200 || !strings.Contains(page, `method="post"`) {
		t.Fatalf("GET %s: %d, want a page with a button:\n%s", submitted, code, page)
	}
	// A GET (a link scanner) records nothing: the next reminder still comes.
	c := runReminders(t, d.Data, -1)
	if c[bureauKikaku] != 2 || c[bureauSomu] != 2 {
		t.Fatalf("1 day before: mails %v, want a second reminder to each bureau", c)
	}
	// Since issue 23 the page is the report form: a status per project.
	form := url.Values{"status_35-1": {"ongoing"}}
	if m := formTokenRe.FindStringSubmatch(page); m != nil {
		form.Set("form_token", m[1])
	}
	if code, page := postForm(t, submitted, form, ""); code != 200 {
		t.Fatalf("POST %s: %d\n%s", submitted, code, page)
	}
	c = runReminders(t, d.Data, 3)
	if c[bureauKikaku] != 2 {
		t.Errorf("after kikaku submitted: %d mails to it in all, want still 2", c[bureauKikaku])
	}
	if c[bureauSomu] != 3 {
		t.Errorf("somu has not submitted: %d mails in all, want 3 (the overdue reminder)", c[bureauSomu])
	}

	resp, err := http.Get(ics)
	if err != nil {
		t.Fatal(err)
	}
	cal := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("GET %s: %d %q", ics, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"BEGIN:VCALENDAR", "BEGIN:VEVENT", "20270430", "END:VCALENDAR"} {
		if !strings.Contains(cal, want) {
			t.Errorf("the .ics feed lacks %q:\n%s", want, cal)
		}
	}
}

// Issue 8 / the contract: a deadline without bureaus is for every bureau
// with a project in the plan — here only sogo-kikaku, not somu.
func TestAcceptanceRemindersDefaultBureaus(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	plan := strings.Replace(planYAML, "    bureaus: [sogo-kikaku, somu]\n", "", 1)
	if plan == planYAML {
		t.Fatal("could not drop the bureaus line")
	}
	mustCLI(t, "progress", "import", "--data", d.Data, writePlan(t, plan))
	c := runReminders(t, d.Data, -7)
	if c[bureauKikaku] != 1 || len(c) != 1 {
		t.Errorf("7 days before, bureaus omitted: mails %v, want one to %s only", c, bureauKikaku)
	}
}

// Importing the file again with a moved due date updates the deadline:
// the reminders follow the new date.
func TestAcceptanceRemindersFollowAMovedDeadline(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	mustCLI(t, "progress", "import", "--data", d.Data, writePlan(t, planYAML))
	moved := strings.Replace(planYAML, "due: 2027-04-30", "due: 2027-05-31", 1)
	mustCLI(t, "progress", "import", "--data", d.Data, writePlan(t, moved))
	if c := runReminders(t, d.Data, -7); len(c) != 0 {
		t.Errorf("7 days before the old date: mails %v, want none", c)
	}
	if c := runReminders(t, d.Data, 24); c[bureauKikaku] != 1 || c[bureauSomu] != 1 || c[coordinator] != 0 {
		t.Errorf("7 days before the new date (2027-05-24): mails %v, want one to each bureau, none to the coordinator", c)
	}
}
