package subscribers

import (
	"strings"
	"testing"
)

func TestImportReportText(t *testing.T) {
	t.Parallel()
	rejected := []RejectedRow{
		{Line: 3, Reason: "not an e-mail address", ReasonJA: "メールアドレスの形式ではありません"},
		{Line: 7, Reason: "duplicate of line 2"}, // kept by an import before 0026: no Japanese
	}
	cases := []struct {
		name string
		rep  ImportReport
		want string
	}{
		{"imported", ImportReport{Rows: 10, Added: 6, Updated: 1, Unchanged: 1, Rejected: rejected},
			"in/a.csv (imported): 10 rows, 6 added, 1 updated, 1 unchanged, 2 rejected\n" +
				"line 3: not an e-mail address (メールアドレスの形式ではありません)\n" +
				"line 7: duplicate of line 2\n"},
		{"dry run", ImportReport{Rows: 2, Added: 2, DryRun: true},
			"in/a.csv (dry run, nothing changed): 2 rows, 2 added, 0 updated, 0 unchanged, 0 rejected\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			c.rep.WriteText(&b, "in/a.csv")
			if b.String() != c.want {
				t.Errorf("got:\n%q\nwant:\n%q", b.String(), c.want)
			}
		})
	}
}

func TestImportProgressText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p        ImportProgress
		text     string
		finished bool
	}{
		{ImportProgress{Phase: "checking", Done: 4096, Total: 4096}, "checking rows", false},
		{ImportProgress{Phase: "writing", Done: 500, Total: 1000}, "writing 500/1000 rows", false},
		{ImportProgress{Phase: "writing", Done: 1000, Total: 1000}, "writing 1000/1000 rows", true},
	}
	for _, c := range cases {
		if got := c.p.Text(); got != c.text || c.p.Finished() != c.finished {
			t.Errorf("%+v: Text %q Finished %v, want %q %v", c.p, got, c.p.Finished(), c.text, c.finished)
		}
	}
}

func TestListDriftText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		d    ListDrift
		want string
	}{
		{"only in the database", ListDrift{Slug: "ui-made", NotInConfig: true},
			"list ui-made: only in the database (created in the admin UI, or removed from this file); kept as it is"},
		{"not yet created", ListDrift{Slug: "kankyo", Missing: true},
			"lists[1] (kankyo): not in the database yet; the next start creates it"},
		{"edited in the UI", ListDrift{Slug: "kodomo", Field: "from_name", Config: "設定の差出人", Database: "UIで直した差出人", EditedInUI: true},
			`lists[1].from_name (kodomo): differs from the database, where it was edited in the admin UI and keeps "UIで直した差出人" (this file says "設定の差出人")`},
		{"applied at the next start", ListDrift{Slug: "kodomo", Field: "contact", Config: "075-111-1111", Database: "075-000-0000"},
			`lists[1].contact (kodomo): differs from the database ("075-000-0000"); the next start applies "075-111-1111"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := c.d.Text("lists[1]"); got != c.want {
				t.Errorf("Text:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}
