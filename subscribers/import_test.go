package subscribers

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func countRows(t testing.TB, f fixture, table string) int {
	t.Helper()
	var n int
	if err := f.s.db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportShiftJIS is issue 3's acceptance case: a Shift_JIS file with
// one bad row; a dry run names the line; importing twice leaves exactly the
// good rows, with names decoded.
func TestImportShiftJIS(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	data, err := os.ReadFile("testdata/members-sjis.csv")
	if err != nil {
		t.Fatal(err)
	}
	opt := ImportOptions{ListSlug: "kodomo", ConsentSource: "2025年度 窓口申込書", DryRun: true, Actor: "admin"}
	rep, err := f.s.Import(f.ctx, bytes.NewReader(data), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Encoding != "shift_jis" || rep.Rows != 5 || rep.Added != 4 || len(rep.Rejected) != 1 || rep.Rejected[0].Line != 4 {
		t.Fatalf("dry run report %+v", rep)
	}
	if !strings.Contains(rep.Rejected[0].Reason, "no @") || rep.Rejected[0].ReasonJA == "" || strings.ContainsAny(rep.Rejected[0].ReasonJA, "abcdefghijklmnopqrstuvwxyz") {
		t.Fatalf("reason %q / %q", rep.Rejected[0].Reason, rep.Rejected[0].ReasonJA)
	}
	if n := countRows(t, f, "subscribers") + countRows(t, f, "consent_events"); n != 0 {
		t.Fatalf("dry run wrote %d rows", n)
	}

	opt.DryRun = false
	for i, want := range []ImportReport{{Added: 4}, {Unchanged: 4}} {
		rep, err := f.s.Import(f.ctx, bytes.NewReader(data), opt)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Added != want.Added || rep.Unchanged != want.Unchanged || len(rep.Rejected) != 1 {
			t.Fatalf("import %d: %+v", i+1, rep)
		}
	}
	got := map[string]Recipient{}
	err = f.s.EachRecipient(f.ctx, nil, f.list(t, "kodomo").ID, func(r Recipient) error {
		got[r.Email] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"yamada@example.jp":        "山田 太郎",
		"user..name.@docomo.ne.jp": "鈴木 花子",
		"Tanaka@example.jp":        "髙橋 ①子",
		"kyoto@example.jp":         "京都, 市民",
	}
	if len(got) != len(want) {
		t.Fatalf("recipients %v", got)
	}
	for email, name := range want {
		if got[email].Name != name {
			t.Errorf("%s: name %q, want %q", email, got[email].Name, name)
		}
	}
	if got["yamada@example.jp"].Attributes["所属"] != "左京区" {
		t.Fatalf("attributes %v", got["yamada@example.jp"].Attributes)
	}
	if n := countRows(t, f, "consent_events"); n != 4 {
		t.Fatalf("%d consent events after two imports, want 4", n)
	}
	hist, _ := f.s.History(f.ctx, 1)
	if hist[0].Source != SourceImport || hist[0].Detail != opt.ConsentSource || hist[0].Evidence.Actor != "admin" {
		t.Fatalf("import consent %+v", hist[0])
	}
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	csv := "\ufeffEmail,Name,Ward\na@example.jp,A,Kita\n"
	if _, err := f.s.Import(f.ctx, strings.NewReader(csv), ImportOptions{ListSlug: "kodomo"}); !errors.Is(err, ErrConsentSourceRequired) {
		t.Fatalf("public list without consent source: %v", err)
	}
	if _, err := f.s.Import(f.ctx, strings.NewReader("name\nx\n"), ImportOptions{ListSlug: "chonai"}); !errors.Is(err, ErrBadCSV) {
		t.Fatalf("no email column: %v", err)
	}
	if _, err := f.s.Import(f.ctx, strings.NewReader(csv), ImportOptions{ListSlug: "nope", ConsentSource: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown list: %v", err)
	}

	// Someone who left is never subscribed again by an import; a suppressed
	// address is reported; duplicates name the first line.
	f.subscribeConfirmed(t, "left@example.jp", "kodomo")
	if err := f.s.UnsubscribeAddress(f.ctx, "left@example.jp", "kodomo", SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Suppress(f.ctx, "bounced@example.jp", ReasonHardBounce, ""); err != nil {
		t.Fatal(err)
	}
	in := "email,name\nleft@example.jp,L\nbounced@example.jp,B\nnew@example.jp,N\nNEW@example.jp,dup-case-differs\nnew@EXAMPLE.jp,dup\n,empty\n"
	rep, err := f.s.Import(f.ctx, strings.NewReader(in), ImportOptions{ListSlug: "kodomo", ConsentSource: "paper"})
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, r := range rep.Rejected {
		lines = append(lines, r.Line)
	}
	// NEW@example.jp is a different address (local parts keep their case).
	if rep.Added != 2 || !slices.Equal(lines, []int{2, 3, 6, 7}) {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(rep.Rejected[2].Reason, "line 4") || !strings.Contains(rep.Rejected[0].Reason, "does not subscribe it again") {
		t.Fatalf("reasons %+v", rep.Rejected)
	}
	// Issue 17: the admin UI words each reason in Japanese.
	for i, want := range []string{"配信を停止した", "配信停止リスト", "4行目と同じ", "メールアドレスの欄が空"} {
		if !strings.Contains(rep.Rejected[i].ReasonJA, want) {
			t.Errorf("line %d: Japanese reason %q lacks %q", rep.Rejected[i].Line, rep.Rejected[i].ReasonJA, want)
		}
	}

	// Internal lists need no consent source but keep to their domains.
	rep, err = f.s.Import(f.ctx, strings.NewReader("メールアドレス,名前\nkikaku@city.kyoto.lg.jp,企画\nx@gmail.example,外部\n"), ImportOptions{ListSlug: "chonai"})
	if err != nil || rep.Added != 1 || len(rep.Rejected) != 1 || !strings.Contains(rep.Rejected[0].Reason, "city.kyoto.lg.jp") {
		t.Fatalf("internal import %+v %v", rep, err)
	}
}

// Issue 16: an import writes in batches, so a database failure part-way
// keeps the batches written before it; the import record says where it
// stopped, and importing the same file again resumes there and ends as
// one whole import would.
func TestIssue16ImportStopsAndResumes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.s.importPause = time.Millisecond
	_, err := f.s.db.Exec(`CREATE TRIGGER test_boom BEFORE INSERT ON subscribers
WHEN NEW.email = 'boom@example.jp' BEGIN SELECT RAISE(ABORT, 'boom'); END`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("email\n")
	for i := range 1200 {
		b.WriteString("u" + strconv.Itoa(i) + "@example.jp\n")
	}
	b.WriteString("boom@example.jp\nbad-address\nlast@example.jp\n")
	csv := b.String()
	opt := ImportOptions{ListSlug: "kodomo", ConsentSource: "x"}
	rep, err := f.s.Import(f.ctx, strings.NewReader(csv), opt)
	if err == nil || !strings.Contains(err.Error(), "import the same file again to resume") {
		t.Fatalf("import over a failing row: %v, want an error that says how to resume", err)
	}
	rec, err := f.s.ImportByID(f.ctx, rep.ImportID)
	if err != nil {
		t.Fatal(err)
	}
	written := countRows(t, f, "subscriptions")
	if rec.Status != "failed" || rec.Written != int64(written) || written == 0 || written >= 1200 || rec.Valid != 1202 {
		t.Fatalf("record %+v with %d subscriptions in the table, want failed, written = the table's count", rec, written)
	}
	if n := countRows(t, f, "consent_events"); n != written {
		t.Fatalf("%d consent events for %d subscriptions", n, written)
	}
	if _, err := f.s.db.Exec(`DROP TRIGGER test_boom`); err != nil {
		t.Fatal(err)
	}
	rep, err = f.s.Import(f.ctx, strings.NewReader(csv), opt)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Resumed || rep.ImportID != rec.ID || rep.Added != 1202 || rep.Rows != 1203 || len(rep.Rejected) != 1 || rep.Rejected[0].Line != 1203 {
		t.Fatalf("resumed report %+v", rep)
	}
	if n := countRows(t, f, "consent_events"); n != 1202 {
		t.Fatalf("%d consent events after the resume, want one per subscriber (1202)", n)
	}
	if rec, _ := f.s.ImportByID(f.ctx, rep.ImportID); rec.Status != "done" || rec.Percent() != 100 || rec.Written != 1202 {
		t.Fatalf("record after resume %+v", rec)
	}
	// The same file again is a new import that changes nothing.
	rep, err = f.s.Import(f.ctx, strings.NewReader(csv), opt)
	if err != nil || rep.Resumed || rep.Added != 0 || rep.Unchanged != 1202 {
		t.Fatalf("third import %+v %v", rep, err)
	}
}

// Bad input changes nothing: not even an import record is written.
func TestImportBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"no email column": "name\n山田\n",
		"empty":           "",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			_, err := f.s.Import(f.ctx, strings.NewReader(in), ImportOptions{ListSlug: "kodomo", ConsentSource: "x"})
			if !errors.Is(err, ErrBadCSV) {
				t.Fatalf("err = %v, want ErrBadCSV", err)
			}
			for _, table := range []string{"subscribers", "subscriptions", "consent_events", "subscriber_imports"} {
				if n := countRows(t, f, table); n != 0 {
					t.Errorf("%d rows in %s", n, table)
				}
			}
		})
	}
}

// A dry run reports what an import would do, from reads alone: it works
// while another connection holds the write lock.
func TestImportDryRunTakesNoWriteLock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.s.Import(f.ctx, strings.NewReader("email,name\nold@example.jp,旧\n"), ImportOptions{ListSlug: "kodomo", ConsentSource: "x"}); err != nil {
		t.Fatal(err)
	}
	tx, err := f.s.db.BeginTx(f.ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	var seen []ImportProgress
	rep, err := f.s.Import(ctx, strings.NewReader("email,name\nold@example.jp,新\nnew@example.jp,\nold@example.jp,\n"),
		ImportOptions{ListSlug: "kodomo", ConsentSource: "x", DryRun: true, Progress: func(p ImportProgress) { seen = append(seen, p) }})
	if err != nil {
		t.Fatalf("dry run beside a writer: %v", err)
	}
	if rep.Added != 1 || rep.Updated != 1 || len(rep.Rejected) != 1 || rep.ImportID != 0 {
		t.Fatalf("dry run report %+v", rep)
	}
	if len(seen) == 0 || seen[len(seen)-1].Phase != "checking" || seen[len(seen)-1].Done != seen[len(seen)-1].Total {
		t.Errorf("progress %+v", seen)
	}
}

func TestExportSubscribersRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := "email,name,ward\nyamada@example.jp,=HYPERLINK(\"x\"),Kita\nuser..name.@docomo.ne.jp,鈴木,\n"
	if _, err := f.s.Import(f.ctx, strings.NewReader(in), ImportOptions{ListSlug: "kodomo", ConsentSource: "paper"}); err != nil {
		t.Fatal(err)
	}
	f.subscribe(t, "pending@example.jp", "kodomo")
	f.subscribeConfirmed(t, "gone@example.jp", "kodomo")
	if err := f.s.UnsubscribeAddress(f.ctx, "gone@example.jp", "kodomo", SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Suppress(f.ctx, "user..name.@docomo.ne.jp", ReasonHardBounce, ""); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.s.ExportSubscribers(f.ctx, &buf, "kodomo", true); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\ufeffemail,name,status,subscribed_at,confirmed_at,unsubscribed_at,source,suppression,ward\n") {
		t.Fatalf("header:\n%s", out)
	}
	for _, want := range []string{
		`yamada@example.jp,"'=HYPERLINK(""x"")",confirmed,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,,import,,Kita`,
		"user..name.@docomo.ne.jp,鈴木,suppressed,",
		"pending@example.jp,,unconfirmed,",
		"gone@example.jp,,unsubscribed,",
	} {
		if !strings.Contains(out, want+"") {
			t.Errorf("export lacks %q:\n%s", want, out)
		}
	}
	// Importing the export changes nothing and keeps the formula text.
	rep, err := f.s.Import(f.ctx, strings.NewReader(out), ImportOptions{ListSlug: "kodomo", ConsentSource: "paper"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 1 || rep.Unchanged != 1 || len(rep.Rejected) != 2 {
		// pending@ is added (it was unconfirmed), gone@ left, the docomo
		// address is suppressed.
		t.Fatalf("re-import %+v", rep)
	}
	rows, _, _ := f.s.Search(f.ctx, SearchQuery{Text: "yamada"})
	if len(rows) != 1 || rows[0].Name != `=HYPERLINK("x")` {
		t.Fatalf("name after round trip %+v", rows)
	}
}

func FuzzImport(f *testing.F) {
	fx := newFixture(f)
	seed, err := os.ReadFile("testdata/members-sjis.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("email,name\na@example.jp,A\n"))
	f.Add([]byte("\ufeffメールアドレス,氏名\n\"a\"\"b@x.jp,\"x\n"))
	f.Add([]byte("email\n\"unterminated\n"))
	f.Add([]byte{0x82, 0xa0, 0xff, '\n'})
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := fx.s.Import(fx.ctx, bytes.NewReader(data), ImportOptions{ListSlug: "kodomo", ConsentSource: "fuzz", DryRun: true})
		if err == nil && rep.Added+rep.Updated+rep.Unchanged+len(rep.Rejected) < rep.Rows {
			t.Fatalf("report does not add up: %+v", rep)
		}
		if n := countRows(t, fx, "subscribers") + countRows(t, fx, "consent_events"); n != 0 {
			t.Fatalf("dry run wrote %d rows", n)
		}
	})
}

func TestImportUTF8WithBOMAndEligibleChunks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("\ufeffE-Mail,氏名\r\n")
	for i := range 1200 {
		b.WriteString("m" + strconv.Itoa(i) + "@city.kyoto.lg.jp,職員" + strconv.Itoa(i) + "\r\n")
	}
	rep, err := f.s.Import(f.ctx, strings.NewReader(b.String()), ImportOptions{ListSlug: "chonai"})
	if err != nil || rep.Encoding != "utf-8" || rep.Added != 1200 || len(rep.Rejected) != 0 {
		t.Fatalf("import %+v %v", rep, err)
	}
	l := f.list(t, "chonai")
	ids := []int64{999999}
	for id := int64(1); id <= 1200; id++ {
		ids = append(ids, id)
	}
	if err := f.s.UnsubscribeAddress(f.ctx, "m7@city.kyoto.lg.jp", "chonai", SourceAdmin, Evidence{Actor: "a"}); err != nil {
		t.Fatal(err)
	}
	ok, err := f.s.Eligible(f.ctx, l.ID, ids)
	if err != nil || len(ok) != 1199 || ok[999999] || ok[8] {
		t.Fatalf("Eligible: %d eligible, %v", len(ok), err)
	}
	var buf bytes.Buffer
	if err := f.s.ExportConsent(f.ctx, &buf, "", false); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1+1200+1 {
		t.Fatalf("consent export has %d lines", n)
	}
}
