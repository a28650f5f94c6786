package progress

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestStatusAndCSV(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	f.run(t, at(-7))
	f.clk.Set(at(2)) // submitted two days late
	if err := f.s.MarkSubmitted(context.Background(), "fy2026-status", "somu", "admin", "coordinator"); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(at(5))
	st, err := f.s.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].DaysLeft != -5 || st[0].SubmittedCount() != 1 {
		t.Fatalf("status %+v", st)
	}
	kikaku, somu := st[0].Bureaus[0], st[0].Bureaus[1]
	if kikaku.Submitted || kikaku.DaysLate != 5 || kikaku.RemindersSent != 1 {
		t.Fatalf("sogo-kikaku %+v", kikaku)
	}
	if !somu.Submitted || somu.DaysLate != 2 || somu.How != "admin" || somu.Actor != "coordinator" {
		t.Fatalf("somu %+v", somu)
	}

	var buf bytes.Buffer
	if err := f.s.ExportCSV(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
		t.Fatal("CSV lacks the UTF-8 BOM")
	}
	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "deadline_id" || rows[1][5] != "overdue" || rows[2][5] != "submitted" || rows[2][8] != "2" {
		t.Fatalf("CSV rows %q", rows)
	}
}

func TestMarkSubmittedUnknown(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	ctx := context.Background()
	for _, c := range [][2]string{{"nope", "somu"}, {"fy2026-status", "centers"}, {"fy2026-status", "nobody"}} {
		if err := f.s.MarkSubmitted(ctx, c[0], c[1], "admin", "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("%v: %v", c, err)
		}
	}
	if err := f.s.MarkSubmitted(ctx, "fy2026-status", "somu", "mail", "x"); err == nil {
		t.Error("how=mail accepted")
	}
	if _, err := f.s.ReportByToken(ctx, "forged"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("forged token: %v", err)
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	f.clk.Set(at(-1))
	in := []ReportInput{{Project: "35-1", Status: StatusDone, Note: "発行しました。"}}
	if _, err := f.s.SaveReport(context.Background(), "fy2026-status", "sogo-kikaku", in, Evidence{Actor: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SendDigest(context.Background(), at(3)); err != nil {
		t.Fatal(err)
	}
	ms := f.rec.take()
	if len(ms) != 1 || ms[0].To != "coordinator@city.example.jp" || !ms[0].AutoSubmitted {
		t.Fatalf("digest mails %+v", ms)
	}
	for _, want := range []string{"2027年5月3日(月)現在", "提出済み 1 / 2 局", "総合企画局: 2027年4月29日(木) 提出", "総務局: 未提出（3日超過）",
		"未公開の報告 1 件（確認・公開: https://mail.city.example.jp/admin/progress/reports）"} {
		if !strings.Contains(ms[0].Subject+ms[0].Text, want) {
			t.Errorf("digest lacks %q:\n%s", want, ms[0].Text)
		}
	}
}

// TestDeps keeps the arrows of DESIGN.md true: progress is a domain
// package and imports neither HTTP nor the packages above or beside it.
func TestDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	banned := map[string]string{
		"net/http":              "HTTP belongs to web; progress returns data and errors",
		"kawaraban/web":         "web is above progress",
		"kawaraban/cmd":         "cmd wires progress, not the reverse",
		"kawaraban/issues":      "same level: declare a small interface instead",
		"kawaraban/subscribers": "same level: declare a small interface instead",
		"kawaraban/bounces":     "same level: declare a small interface instead",
	}
	for _, dep := range strings.Fields(string(out)) {
		for b, why := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				t.Errorf("progress depends on %s: %s", dep, why)
			}
		}
	}
}

func TestUnmarkSubmittedResumesReminders(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	ctx := context.Background()
	if err := f.s.MarkSubmitted(ctx, "fy2026-status", "somu", "admin", "a"); err != nil {
		t.Fatal(err)
	}
	if ms := f.run(t, at(-7)); len(ms) != 1 {
		t.Fatalf("with somu submitted: %v", recipients(ms))
	}
	if err := f.s.UnmarkSubmitted(ctx, "fy2026-status", "somu"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.UnmarkSubmitted(ctx, "fy2026-status", "somu"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second unmark: %v", err)
	}
	if ms := f.run(t, at(-6)); len(ms) != 1 || ms[0].To != "somu@city.example.jp" {
		t.Fatalf("after unmark: %v", recipients(ms))
	}
}
