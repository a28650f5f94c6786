package newsletter

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kawaraban/mailer"
	"kawaraban/subscribers"
	"kawaraban/templates"
	"kawaraban/token"
)

// TestIssue17ClickRedirect: a list that counts clicks gets its links
// rewritten (HTML and text), a click counts one for its link and stores
// nothing else, a token for a link the issue does not have and a forged
// token are refused, and a list without the switch keeps its links.
func TestIssue17ClickRedirect(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	l := s.lists["shimin-katsudo"]
	l.CountClicks = true
	if err := s.subs.SyncLists(ctx, []subscribers.List{l}); err != nil {
		t.Fatal(err)
	}
	st := s.statistics(t)
	tpl, _ := templates.New(templates.Options{})
	signer, _ := token.NewSigner([]byte(strings.Repeat("k", 32)))
	r := NewRenderer(s.issues, s.subs, tpl, RendererOptions{BaseURL: "https://mail.city.example.jp", Signer: signer, Now: s.clock.Now})
	body := "講座は[こちら](https://www.city.kyoto.lg.jp/koza)、会場は https://example.jp/kaijo です。"
	on := s.draft(t, "shimin-katsudo", "案内", body)
	off := s.draft(t, "kankyo-hozen", "案内", body)
	d := mailer.Delivery{SubscriberID: 1, Email: "reader@example.jp", Name: "読者"}
	d.IssueID = on.ID
	mOn, err := r.Render(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	d.IssueID = off.ID
	mOff, err := r.Render(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(mOff.HTML+mOff.Text, "/r/") || !strings.Contains(mOff.HTML, `href="https://www.city.kyoto.lg.jp/koza"`) {
		t.Errorf("a list without count_clicks got rewritten links:\n%s", mOff.HTML)
	}
	re := regexp.MustCompile(`https://mail\.city\.example\.jp/r/([A-Za-z0-9_\-.~]+)`)
	html, text := re.FindAllStringSubmatch(mOn.HTML, -1), re.FindAllStringSubmatch(mOn.Text, -1)
	if len(html) != 2 || len(text) != 2 {
		t.Fatalf("redirect links: %d in HTML, %d in text, want 2 and 2:\n%s\n%s", len(html), len(text), mOn.HTML, mOn.Text)
	}
	for i, want := range []string{"https://www.city.kyoto.lg.jp/koza", "https://example.jp/kaijo"} {
		got, err := st.Follow(ctx, html[i][1])
		if err != nil || got != want {
			t.Errorf("Follow(link %d) = %q, %v; want %q", i, got, err, want)
		}
	}
	if _, err := st.Follow(ctx, text[0][1]); err != nil {
		t.Fatal(err)
	}
	stats, err := st.Issue(ctx, on.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stats.CountsClicks || len(stats.Links) != 2 || stats.Links[0].Clicks != 2 || stats.Links[1].Clicks != 1 {
		t.Errorf("stats %+v, want 2 clicks on link 0 and 1 on link 1", stats)
	}
	// The table holds sums only: no subscriber, address, IP or time.
	rows, err := s.db.Query(`SELECT * FROM link_clicks`)
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	rows.Close()
	if strings.Join(cols, ",") != "issue_id,link_index,n" {
		t.Errorf("link_clicks columns %v", cols)
	}
	var dump string
	if err := s.db.QueryRow(`SELECT group_concat(issue_id || ':' || link_index || ':' || n, ' ') FROM link_clicks`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, "reader@") || strings.Contains(dump, "127.0.0.1") || dump != strings.Join([]string{itoa(on.ID) + ":0:2", itoa(on.ID) + ":1:1"}, " ") {
		t.Errorf("link_clicks rows %q", dump)
	}
	// A validly signed token naming a link the issue does not have.
	if _, err := st.Follow(ctx, signer.Sign(clickPurpose, token.IDs(on.ID, 2), zeroTime)); !errors.Is(err, ErrNoSuchLink) {
		t.Errorf("link 2 of 2: %v, want ErrNoSuchLink", err)
	}
	// A forged one: another key, or the payload changed.
	other, _ := token.NewSigner([]byte(strings.Repeat("x", 32)))
	if _, err := st.Follow(ctx, other.Sign(clickPurpose, token.IDs(on.ID, 0), zeroTime)); !errors.Is(err, token.ErrForged) {
		t.Errorf("forged token: %v, want token.ErrForged", err)
	}
	if _, err := st.Follow(ctx, signer.Sign("unsubscribe", token.IDs(on.ID, 0), zeroTime)); err == nil {
		t.Error("a token of another purpose was accepted")
	}
}

var zeroTime time.Time

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
