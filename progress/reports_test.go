package progress

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// linkToken returns bureau's "submitted" token for the test deadline.
func (f *fixture) linkToken(t *testing.T, bureau string) string {
	t.Helper()
	u, err := f.s.SubmittedURL(context.Background(), "fy2026-status", bureau)
	if err != nil {
		t.Fatal(err)
	}
	_, tok, _ := strings.Cut(u, "/progress/submitted/")
	return tok
}

// report saves bureau's report through its link, as the form does.
func (f *fixture) report(t *testing.T, bureau string, in []ReportInput) {
	t.Helper()
	if _, err := f.s.SaveReportByToken(context.Background(), f.linkToken(t, bureau), in, linkEv); err != nil {
		t.Fatal(err)
	}
}

// publish publishes bureau's reports for the test deadline ("": every
// bureau's).
func (f *fixture) publish(t *testing.T, bureau string) {
	t.Helper()
	if _, err := f.s.Publish(context.Background(), "fy2026-status", bureau, "coord"); err != nil {
		t.Fatal(err)
	}
}

var somuReport = []ReportInput{
	{Project: "32-1", Status: StatusOngoing, Note: "研修を年3回開きました。\r\n次年度は*オンライン*でも開きます。  ", Link: "https://www.city.kyoto.lg.jp/somu/kenshu.html"},
	{Project: "32-2", Status: StatusPreparing, Note: "会場を調整しています。"},
}

var linkEv = Evidence{IP: "203.0.113.5", UserAgent: "test-agent"}

func TestSaveReportByToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPlanFixture(t)
	tok := f.linkToken(t, "somu")
	rep, err := f.s.ReportByToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bureau != "somu" || rep.BureauName != "総務局" || rep.Submitted || !rep.Open || len(rep.Projects) != 2 ||
		rep.Projects[0].Key != "32-1" || rep.Projects[1].Key != "32-2" || rep.Projects[0].Latest != nil {
		t.Fatalf("report before: %+v", rep)
	}
	n, err := f.s.SaveReportByToken(ctx, tok, somuReport, linkEv)
	if err != nil || n != 2 {
		t.Fatalf("save: %d %v", n, err)
	}
	rep, _ = f.s.ReportByToken(ctx, tok)
	if !rep.Submitted || rep.Projects[0].Latest == nil || rep.Projects[0].Latest.Note != "研修を年3回開きました。\n次年度は*オンライン*でも開きます。" ||
		rep.Projects[0].Latest.Source != "link" || rep.Projects[0].Unpublished() != true {
		t.Fatalf("report after: %+v %+v", rep, rep.Projects[0].Latest)
	}
	var ip, ua string
	if err := f.s.db.QueryRow(`SELECT ip, user_agent FROM report_revisions WHERE project_key = '32-1'`).Scan(&ip, &ua); err != nil || ip != "203.0.113.5" || ua != "test-agent" {
		t.Fatalf("evidence %q %q %v", ip, ua, err)
	}
	// Sending the same again adds no revision; a change adds one.
	if n, err := f.s.SaveReportByToken(ctx, tok, somuReport, linkEv); err != nil || n != 0 {
		t.Fatalf("unchanged: %d %v", n, err)
	}
	changed := append([]ReportInput(nil), somuReport...)
	changed[1].Status = StatusOngoing
	if n, err := f.s.SaveReportByToken(ctx, tok, changed, linkEv); err != nil || n != 1 {
		t.Fatalf("changed: %d %v", n, err)
	}
	if got := f.count(t, `SELECT count(*) FROM report_revisions`); got != 3 {
		t.Fatalf("%d revisions kept", got)
	}
	h, err := f.s.History(ctx, "fy2026-status", "somu")
	if err != nil || len(h) != 3 || h[0].Project != "32-2" || h[0].Status != StatusOngoing || h[0].IP != "203.0.113.5" ||
		h[0].UserAgent != "test-agent" || h[0].Source != "link" || !h[0].PublishedAt.IsZero() {
		t.Fatalf("history %+v %v", h, err)
	}
	// Submitting stopped the reminders: none to somu from now on.
	for _, d := range []int{-14, -7, -1, 0, 8} {
		for _, m := range f.run(t, at(d)) {
			if m.To == "somu@city.example.jp" || strings.Contains(m.Subject, "総務局") {
				t.Fatalf("day %d: mail about somu after it reported: %s", d, m.Subject)
			}
		}
	}
}

func TestReportRefused(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("あ", MaxNoteRunes+1)
	for _, tc := range []struct {
		name string
		in   []ReportInput
		want []string // field_project: code
	}{
		{"missing project", somuReport[:1], []string{"status_32-2: missing"}},
		{"no status", []ReportInput{{Project: "32-1", Note: "x"}, somuReport[1]}, []string{"status_32-1: missing"}},
		{"unknown status", []ReportInput{{Project: "32-1", Status: "finished"}, somuReport[1]}, []string{"status_32-1: unknown"}},
		{"note too long", []ReportInput{{Project: "32-1", Status: StatusDone, Note: long}, somuReport[1]}, []string{"note_32-1: too-long"}},
		{"control characters", []ReportInput{{Project: "32-1", Status: StatusDone, Note: "a\x00b\u202e"}, somuReport[1]}, []string{"note_32-1: control-chars"}},
		{"javascript link", []ReportInput{{Project: "32-1", Status: StatusDone, Link: "javascript:alert(1)"}, somuReport[1]}, []string{"link_32-1: not-http"}},
		{"relative link", []ReportInput{{Project: "32-1", Status: StatusDone, Link: "/kenshu"}, somuReport[1]}, []string{"link_32-1: not-http"}},
		{"link breaking out", []ReportInput{{Project: "32-1", Status: StatusDone, Link: "https://a.example/\"><script>"}, somuReport[1]}, []string{"link_32-1: not-http"}},
		{"another bureau's project", append([]ReportInput{{Project: "35-1", Status: StatusDone}}, somuReport...), []string{"project_35-1: unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newPlanFixture(t)
			_, err := f.s.SaveReportByToken(context.Background(), f.linkToken(t, "somu"), tc.in, linkEv)
			var re *ReportError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalidReport) {
				t.Fatalf("want *ReportError, got %v", err)
			}
			var got []string
			for _, p := range re.Problems {
				got = append(got, p.Field+"_"+p.Project+": "+p.Code)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("problems %v, want %v", got, tc.want)
			}
			if n := f.count(t, `SELECT count(*) FROM report_revisions`) + f.count(t, `SELECT count(*) FROM submissions`); n != 0 {
				t.Fatalf("a refused report saved %d rows", n)
			}
		})
	}
	t.Run("forged link", func(t *testing.T) {
		t.Parallel()
		f := newPlanFixture(t)
		if _, err := f.s.SaveReportByToken(context.Background(), f.linkToken(t, "somu")+"x", somuReport, linkEv); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("forged: %v", err)
		}
	})
}

// The bureau corrects its report until the due date; after it, a bureau
// that never reported may still report (late), and the coordinator may
// always correct by hand.
func TestReportOpenUntilDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPlanFixture(t)
	somu, kikaku := f.linkToken(t, "somu"), f.linkToken(t, "sogo-kikaku")
	f.clk.Set(at(0).Add(14 * 60 * 60 * 1e9)) // 23:00 on the due day
	if _, err := f.s.SaveReportByToken(ctx, somu, somuReport, linkEv); err != nil {
		t.Fatalf("on the due day: %v", err)
	}
	f.clk.Set(at(1))
	changed := append([]ReportInput(nil), somuReport...)
	changed[0].Status = StatusDone
	if _, err := f.s.SaveReportByToken(ctx, somu, changed, linkEv); !errors.Is(err, ErrReportClosed) {
		t.Fatalf("a day late, a correction: %v", err)
	}
	if rep, _ := f.s.Report(ctx, "fy2026-status", "somu"); rep.Open {
		t.Fatal("report still open after the due date")
	}
	late := []ReportInput{{Project: "35-1", Status: StatusDelayed, Note: "発行が遅れています。"}}
	if _, err := f.s.SaveReportByToken(ctx, kikaku, late, linkEv); err != nil {
		t.Fatalf("a first, late report: %v", err)
	}
	n, err := f.s.SaveReport(ctx, "fy2026-status", "somu", changed[:1], Evidence{Actor: "coord"})
	if err != nil || n != 1 {
		t.Fatalf("coordinator's correction of one project: %d %v", n, err)
	}
	var src, actor string
	if err := f.s.db.QueryRow(`SELECT source, actor FROM report_revisions ORDER BY id DESC LIMIT 1`).Scan(&src, &actor); err != nil || src != "admin" || actor != "coord" {
		t.Fatalf("admin revision %q %q %v", src, actor, err)
	}
	if _, err := f.s.SaveReport(ctx, "fy2026-status", "centers", changed, Evidence{Actor: "coord"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a bureau not in the deadline: %v", err)
	}
}

func TestPublishReviewStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPlanFixture(t)
	f.report(t, "somu", somuReport)
	public := func() string {
		ms, err := f.s.PublicMeasures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pubs, err := f.s.Publications(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%+v %+v", ms, pubs)
	}
	if p := public(); strings.Contains(p, "研修を年3回") {
		t.Fatalf("unpublished report is public: %s", p)
	}
	if n, err := f.s.Publish(ctx, "fy2026-status", "somu", "coord"); err != nil || n != 2 {
		t.Fatalf("publish: %d %v", n, err)
	}
	if n, _ := f.s.Publish(ctx, "fy2026-status", "", "coord"); n != 0 {
		t.Fatalf("publishing again published %d", n)
	}
	m, err := f.s.PublicMeasure(ctx, 32)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Projects[0].Report
	if r == nil || r.Status != StatusOngoing || !strings.HasPrefix(r.Note, "研修を年3回") || r.BureauName != "総務局" || r.ReportedAt.IsZero() {
		t.Fatalf("public report %+v", r)
	}
	if c := m.Counts(); c[StatusOngoing] != 1 || c[StatusPreparing] != 1 {
		t.Fatalf("counts %v", c)
	}
	// A correction replaces the public text only once published.
	changed := append([]ReportInput(nil), somuReport...)
	changed[0].Note = "研修を年4回に増やしました。"
	f.report(t, "somu", changed)
	if p := public(); strings.Contains(p, "年4回") || !strings.Contains(p, "年3回") {
		t.Fatalf("correction public before publishing: %s", p)
	}
	if n, _ := f.s.Publish(ctx, "fy2026-status", "", "coord"); n != 1 {
		t.Fatalf("publishing the correction published %d", n)
	}
	p := public()
	if !strings.Contains(p, "年4回") {
		t.Fatalf("published correction not public: %s", p)
	}
	for _, private := range []string{"somu@city.example.jp", "人事課 山田", "203.0.113.5", "test-agent", "coord"} {
		if strings.Contains(p, private) {
			t.Errorf("public data holds %q", private)
		}
	}
	if pubs, _ := f.s.Publications(ctx, 0); len(pubs) != 3 || pubs[0].ProjectKey != "32-1" || !strings.Contains(pubs[0].Note, "年4回") {
		t.Fatalf("feed entries %+v", pubs)
	}
	if _, err := f.s.PublicMeasure(ctx, 99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("measure 99: %v", err)
	}
	if _, err := f.s.Publish(ctx, "fy2026-status", "centers", "coord"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("publish for a bureau not in the deadline: %v", err)
	}
}

func TestComposeIssue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPlanFixture(t)
	f.report(t, "somu", somuReport)
	kikaku := []ReportInput{{Project: "35-1", Status: StatusDone, Note: "# 見出しではありません | 表も崩れません\n\n2段落目"}}
	f.report(t, "sogo-kikaku", kikaku)
	f.publish(t, "somu")
	d, err := f.s.ComposeIssue(ctx, "fy2026-status")
	if err != nil {
		t.Fatal(err)
	}
	if d.Reports != 2 || !strings.Contains(d.Subject, "令和8年度 実施状況の報告") {
		t.Fatalf("draft %q with %d reports", d.Subject, d.Reports)
	}
	for _, want := range []string{
		"| 施策 | 実施済み | 実施中 | 準備中 | 遅れ・見直し | 未報告 |",
		"| 施策32 市民参加を進めるための庁内の仕組みづくり | 0 | 1 | 1 | 0 | 0 |",
		"| 施策35 計画の進捗管理 | 0 | 0 | 0 | 0 | 1 |",
		"### 総務局",
		"#### 施策32 市民参加を促進する職員研修の充実 ― 実施中",
		"研修を年3回開きました。\\\n次年度は\\*オンライン\\*でも開きます。",
		"関連ページ: <https://www.city.kyoto.lg.jp/somu/kenshu.html>",
		"会場を調整しています。",
	} {
		if !strings.Contains(d.Markdown, want) {
			t.Errorf("draft lacks %q:\n%s", want, d.Markdown)
		}
	}
	if strings.Contains(d.Markdown, "見出しでは") {
		t.Error("an unpublished report is in the draft")
	}
	f.publish(t, "")
	d, _ = f.s.ComposeIssue(ctx, "")
	if d.Reports != 3 || !strings.Contains(d.Markdown, "\\# 見出しではありません \\| 表も崩れません\n\n2段落目") {
		t.Fatalf("escaped note missing (%d reports):\n%s", d.Reports, d.Markdown)
	}
	if _, err := f.s.ComposeIssue(ctx, "no-such"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown deadline: %v", err)
	}
}

func TestExportReportsCSV(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newPlanFixture(t)
	in := []ReportInput{{Project: "32-1", Status: StatusDone, Note: "=HYPERLINK(\"x\")"}, somuReport[1]}
	f.report(t, "somu", in)
	f.publish(t, "")
	for _, bom := range []bool{false, true} {
		var buf bytes.Buffer
		if err := f.s.ExportReportsCSV(ctx, &buf, CSVOptions{BOM: bom}); err != nil {
			t.Fatal(err)
		}
		if got := strings.HasPrefix(buf.String(), "\ufeff"); got != bom {
			t.Fatalf("BOM %v, want %v", got, bom)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(ReportsCSVHeader, ",") {
			t.Fatalf("rows %q", rows)
		}
		want := map[string]string{"project_key": "32-1", "status": "done", "status_ja": "実施済み", "note": "'=HYPERLINK(\"x\")",
			"published": "yes", "deadline_id": "fy2026-status", "due": "2027-04-30", "bureau_name_ja": "総務局"}
		row := map[string]string{}
		for i, h := range rows[0] {
			row[h] = rows[1][i]
		}
		for k, v := range want {
			if row[k] != v {
				t.Errorf("%s = %q, want %q", k, row[k], v)
			}
		}
		if row["submitted_at"] == "" || row["reported_at"] == "" || row["published_at"] == "" {
			t.Errorf("times missing: %v", row)
		}
		if last := rows[3]; last[4] != "35-1" || last[9] != "" || last[15] != "no" {
			t.Errorf("unreported project row %q", last)
		}
	}
	if err := f.s.ExportReportsCSV(ctx, &bytes.Buffer{}, CSVOptions{Deadline: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown deadline: %v", err)
	}
}

// FuzzCheckReport: the form's checks never panic, and what they accept is
// normalised for good and within the limits.
func FuzzCheckReport(f *testing.F) {
	f.Add("ongoing", "研修を年3回開きました。\r\n次年度も", "https://www.city.kyoto.lg.jp/")
	f.Add("done", "a\x00b", "javascript:alert(1)")
	f.Add("", "\u202e", "http://[::1")
	projects := []ProjectReport{{Key: "32-1"}}
	f.Fuzz(func(t *testing.T, status, note, link string) {
		lines, err := checkReport(projects, []ReportInput{{Project: "32-1", Status: ReportStatus(status), Note: note, Link: link}}, false)
		if err != nil {
			return
		}
		l := lines["32-1"]
		if !l.Status.Valid() || utf8.RuneCountInString(l.Note) > MaxNoteRunes || NormaliseNote(l.Note) != l.Note ||
			(l.Link != "" && !goodLink(l.Link)) || strings.ContainsRune(l.Note, '\r') {
			t.Fatalf("accepted %+v", l)
		}
	})
}

// Reports follow a project's place in its measure: an import that puts
// another project there says so.
func TestImportWarnsWhenReportedProjectsMove(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	f.report(t, "somu", somuReport)
	same := f.importFile(t, plan1471)
	if len(same.Warnings) != 0 {
		t.Fatalf("importing the same file warns: %q", same.Warnings)
	}
	b, err := os.ReadFile(plan1471)
	if err != nil {
		t.Fatal(err)
	}
	swapped := strings.Replace(string(b), `      - {title_ja: 市民参加を促進する職員研修の充実, bureau: somu, new: null, enhanced: true}
      - {title_ja: "「公民交流セミナー」の実施[再掲]", bureau: somu, new: true, enhanced: null}`, `      - {title_ja: "「公民交流セミナー」の実施[再掲]", bureau: somu, new: true, enhanced: null}`, 1)
	if swapped == string(b) {
		t.Fatal("could not edit the plan")
	}
	rep := f.importString(t, swapped)
	if len(rep.Warnings) != 2 || !strings.Contains(rep.Warnings[0], "project 32-1 is now") || !strings.Contains(rep.Warnings[1], "project 32-2 is gone") {
		t.Fatalf("warnings %q", rep.Warnings)
	}
}
