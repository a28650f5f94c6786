package newsletter

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"kawaraban/subscribers"
)

// Issue 17: a bulk erasure erases the selected subscribers the caller may
// erase, skips the others, and finishes on a second run.
func TestIssue17EraseSelection(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	s.readers(t, "kankyo-hozen", 4)
	// Reader 3 is on shimin-katsudo too: an editor of kankyo-hozen alone
	// may not erase it.
	if _, err := s.subs.Import(ctx, strings.NewReader("email\nkankyo-hozen-reader3@example.jp\n"),
		subscribers.ImportOptions{ListSlug: "shimin-katsudo", ConsentSource: "窓口申込書"}); err != nil {
		t.Fatal(err)
	}
	er := NewErasure(s.subs, s.mail, s.b)
	onlyKankyo := func(lists []string) bool {
		return !slices.ContainsFunc(lists, func(l string) bool { return l != "kankyo-hozen" })
	}
	sel := subscribers.Selection{ListSlug: "kankyo-hozen", Text: "kankyo-hozen-reader"}
	if _, err := er.EraseSelection(ctx, sel, "editor", " ", onlyKankyo); !errors.Is(err, subscribers.ErrReasonRequired) {
		t.Fatalf("no reason: %v", err)
	}
	tests := []struct {
		name string
		want EraseResult
	}{
		{"first run", EraseResult{Matched: 4, Erased: 3, Skipped: 1}},
		{"again: only the skipped one is left", EraseResult{Matched: 1, Skipped: 1}},
	}
	for _, tt := range tests {
		got, err := er.EraseSelection(ctx, sel, "editor", "本人からの削除依頼(窓口)", onlyKankyo)
		if err != nil || got != tt.want {
			t.Fatalf("%s: %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
	rows, _, err := s.subs.Search(ctx, subscribers.SearchQuery{ListSlug: "kankyo-hozen"})
	if err != nil || len(rows) != 1 || rows[0].Email != "kankyo-hozen-reader3@example.jp" {
		t.Errorf("left on the list: %+v, %v", rows, err)
	}
	got, err := er.EraseSelection(ctx, sel, "admin", "本人からの削除依頼", func([]string) bool { return true })
	if err != nil || got != (EraseResult{Matched: 1, Erased: 1}) {
		t.Errorf("an admin's run: %+v, %v", got, err)
	}
}
