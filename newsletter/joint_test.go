package newsletter

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"kawaraban/issues"
	"kawaraban/subscribers"
)

var unsubURL = regexp.MustCompile(`List-Unsubscribe: <(https://[^>]+)>`)

// TestJointIssueOneCopyPerReader: issue 17's acceptance. A joint issue to
// two lists with overlapping readers, sent over SMTP to the in-process
// go-smtp server: each reader gets exactly one copy (counted per RCPT),
// for the first of the issue's lists they are on, whose unsubscribe link
// and List-Id it carries; the footer names both lists and the lead signs
// it; each list numbers it in its own sequence; the per-list figures add
// up to the issue's.
func TestJointIssueOneCopyPerReader(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	a, b := s.lists["kankyo-hozen"], s.lists["shimin-katsudo"]
	s.importTo(t, "kankyo-hozen", "a1@example.jp", "a2@example.jp", "both@example.jp", "left-a@example.jp", "gone@example.jp")
	s.importTo(t, "shimin-katsudo", "b1@example.jp", "both@example.jp", "left-a@example.jp", "gone@example.jp")
	// left-a left list A: B's copy reaches them. gone is suppressed: none.
	if _, err := s.subs.UnsubscribeByToken(ctx, s.subs.UnsubscribeToken(s.subscriberID(t, "left-a@example.jp"), a.ID), "web", subscribers.Evidence{}); err != nil {
		t.Fatal(err)
	}
	if err := s.subs.Suppress(ctx, "gone@example.jp", "manual", "test"); err != nil {
		t.Fatal(err)
	}
	// B had an issue already: the joint one is B's 第2号 and A's 第1号.
	s.sendNow(t, s.draft(t, "shimin-katsudo", "B だけ", "本文").ID)
	s.deliver(t, 1)
	s.clock.Add(time.Hour) // the joint issue goes out later than B's own
	before := len(s.relay.Messages())

	is, err := s.send.Create(ctx, issues.Draft{ListID: a.ID, ListIDs: []int64{a.ID, b.ID}, Subject: "合同のお知らせ",
		BodyMarkdown: "{{ .Name }}様\n\n二つのセンターから。", Author: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.send.IssueRecipients(ctx, is); err != nil || n != 5 {
		t.Fatalf("IssueRecipients = %d, %v; want 5 distinct readers", n, err)
	}
	is = s.sendNow(t, is.ID)
	if is.Recipients == nil || *is.Recipients != 5 {
		t.Fatalf("snapshot recipients = %v, want 5", is.Recipients)
	}
	if is.NumberOn(a.ID) != 1 || is.NumberOn(b.ID) != 2 {
		t.Fatalf("numbers A %d B %d, want 1 and 2", is.NumberOn(a.ID), is.NumberOn(b.ID))
	}
	s.deliver(t, is.ID)

	perRcpt := map[string]int{}
	byRcpt := map[string]string{}
	for _, m := range s.relay.Messages()[before:] {
		for _, to := range m.To {
			perRcpt[to]++
			byRcpt[to] = strings.ReplaceAll(string(m.Data), "\r\n", "\n")
		}
	}
	want := map[string]int{"a1@example.jp": 1, "a2@example.jp": 1, "both@example.jp": 1, "left-a@example.jp": 1, "b1@example.jp": 1}
	if len(perRcpt) != len(want) {
		t.Errorf("recipients %v, want %v", perRcpt, want)
	}
	for rcpt, n := range want {
		if perRcpt[rcpt] != n {
			t.Errorf("%s got %d copies, want %d", rcpt, perRcpt[rcpt], n)
		}
	}
	for rcpt, list := range map[string]subscribers.List{"both@example.jp": a, "left-a@example.jp": b, "b1@example.jp": b} {
		msg := byRcpt[rcpt]
		head, _, _ := strings.Cut(msg, "\n\n")
		head = strings.ReplaceAll(head, "\n ", " ")
		if !strings.Contains(head, "<"+list.Slug+".city.example.jp>") || !strings.Contains(head, "From: ") ||
			!strings.Contains(head, "kankyo-hozen@city.example.jp") {
			t.Errorf("%s: List-Id or From wrong (want list %s, lead's From):\n%s", rcpt, list.Slug, head)
		}
		m := unsubURL.FindStringSubmatch(head)
		if m == nil {
			t.Fatalf("%s: no List-Unsubscribe:\n%s", rcpt, head)
		}
		info, err := s.subs.UnsubscribeInfo(ctx, m[1][strings.LastIndexByte(m[1], '/')+1:])
		if err != nil || info.List.ID != list.ID {
			t.Errorf("%s: unsubscribe link is for list %d (%v), want %s", rcpt, info.List.ID, err, list.Slug)
		}
	}
	// The body text is quoted-printable or base64: check the rendering.
	d, ok, err := s.mail.DeliveryByMessageID(ctx, messageID(byRcpt["b1@example.jp"]))
	if err != nil || !ok || d.ListID != b.ID {
		t.Fatalf("b1's delivery %+v %v %v", d, ok, err)
	}
	m, err := s.render.Render(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"市民活動センターだより　第2号", "環境保全センターだより・市民活動センターだより の共同発行",
		"配信の停止（市民活動センターだより）", "発行: 環境保全センターだより"} {
		if !strings.Contains(m.Text, w) {
			t.Errorf("b1's text lacks %q:\n%s", w, m.Text)
		}
	}

	pa, _ := s.mail.ProgressOn(ctx, is.ID, a.ID)
	pb, _ := s.mail.ProgressOn(ctx, is.ID, b.ID)
	all, _ := s.mail.Progress(ctx, is.ID)
	if pa.Sent != 3 || pb.Sent != 2 || all.Sent != pa.Sent+pb.Sent {
		t.Errorf("sent per list A %d + B %d, issue %d; want 3 + 2 = 5", pa.Sent, pb.Sent, all.Sent)
	}
	if _, err := s.attr.ListStats(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, l := range []subscribers.List{a, b} {
		arch, err := s.issues.Archive(ctx, l.ID, 10, 0)
		if err != nil || len(arch) == 0 || arch[0].ID != is.ID {
			t.Errorf("archive of %s lacks the joint issue: %v", l.Slug, err)
		}
	}
	pub, err := s.render.Public(ctx, issues.Issue{ID: is.ID, ListID: b.ID, Number: is.NumberOn(b.ID), Subject: is.Subject, BodyMarkdown: is.BodyMarkdown})
	if err != nil || !strings.Contains(pub.Text, "二つのセンターから") {
		t.Errorf("B's archive page: %v\n%s", err, pub.Text)
	}

	// Opt-outs count under the joint issue from each of its lists, each
	// against the list the reader got it for: b1 (got it for B) and a1
	// (for A) count; both@ got it for A, so leaving B counts under B's
	// own earlier issue, not this one.
	s.clock.Add(time.Hour)
	for _, o := range []struct{ addr, slug string }{{"b1@example.jp", b.Slug}, {"a1@example.jp", a.Slug}, {"both@example.jp", b.Slug}} {
		if err := s.subs.UnsubscribeAddress(ctx, o.addr, o.slug, subscribers.SourceWeb, subscribers.Evidence{}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.statistics(t).Issue(ctx, is.ID)
	if err != nil || st.Unsubscribed != 2 {
		t.Errorf("joint issue's opt-outs within 7 days = %d, %v; want 2 (b1 from B, a1 from A)", st.Unsubscribed, err)
	}
}

func messageID(msg string) string {
	for _, l := range strings.Split(msg, "\n") {
		if v, ok := strings.CutPrefix(l, "Message-ID: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (s *stack) subscriberID(t *testing.T, email string) int64 {
	t.Helper()
	var id int64
	if err := s.db.QueryRow(`SELECT id FROM subscribers WHERE email = ?`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDuplicateIssue: issue 17. A copy is a new draft with the same lists,
// subject and body; number, schedule and approval stay behind.
func TestDuplicateIssue(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	s.readers(t, "kankyo-hozen", 1)
	a, b := s.lists["kankyo-hozen"], s.lists["shimin-katsudo"]
	orig, err := s.send.Create(ctx, issues.Draft{ListID: a.ID, ListIDs: []int64{a.ID, b.ID}, Subject: "元の号", BodyMarkdown: "本文",
		Author: "editor", RequireApproval: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.issues.Approve(ctx, orig.ID, issues.Actor{Login: "boss"}, ""); err != nil {
		t.Fatal(err)
	}
	orig = s.sendNow(t, orig.ID)
	cp, err := s.send.Duplicate(ctx, orig.ID, issues.Actor{Login: "editor2", Source: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if cp.ID == orig.ID || cp.Status != issues.StatusDraft || cp.Number != 0 || cp.SendAt != nil || cp.ApprovedBy != "" ||
		cp.RequireApproval || cp.Author != "editor2" || cp.Subject != orig.Subject || cp.BodyMarkdown != orig.BodyMarkdown ||
		!cp.Joint() || cp.NumberOn(b.ID) != 0 {
		t.Fatalf("duplicate = %+v", cp)
	}
	if _, err := s.send.Duplicate(ctx, 999, editor, false); err == nil {
		t.Fatal("duplicating a missing issue worked")
	}
}
