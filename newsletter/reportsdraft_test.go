package newsletter

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kawaraban/issues"
	"kawaraban/progress"
	"kawaraban/subscribers"
)

// TestReportsDraft: the draft from the published reports is an ordinary
// draft of the list, needing approval exactly when the list asks for it;
// an unknown list or deadline creates nothing.
func TestReportsDraft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	var defs []subscribers.List
	for _, l := range testLists {
		l.FromName, l.FromAddress = l.NameJA, l.Slug+"@city.example.jp"
		l.PostalAddress, l.Contact = "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488", "075-000-0000"
		l.RequireApproval = l.Slug == "kankyo-hozen"
		defs = append(defs, l)
	}
	if err := s.subs.SyncLists(ctx, defs); err != nil {
		t.Fatal(err)
	}
	rd := ReportsDraft{Subscribers: s.subs, Issues: s.issues, Progress: progress.New(s.db, progress.Options{Now: s.clock.Now})}
	cli := issues.Actor{Login: "cli", Source: "cli"}
	for _, c := range []struct {
		list     string
		approval bool
	}{{"chonai", false}, {"kankyo-hozen", true}} {
		is, err := rd.Create(ctx, c.list, "", cli)
		if err != nil {
			t.Fatal(err)
		}
		if is.Status != issues.StatusDraft || is.Author != "cli" || is.RequireApproval != c.approval ||
			!strings.HasPrefix(is.Subject, "市民参加推進計画の進捗") || !strings.Contains(is.BodyMarkdown, "## 施策ごとの状況") {
			t.Errorf("%s: draft %+v", c.list, is)
		}
	}
	if _, err := rd.Create(ctx, "nolist", "", cli); !errors.Is(err, subscribers.ErrNotFound) {
		t.Errorf("unknown list: %v", err)
	}
	if _, err := rd.Create(ctx, "chonai", "no-deadline", cli); !errors.Is(err, progress.ErrNotFound) {
		t.Errorf("unknown deadline: %v", err)
	}
}
