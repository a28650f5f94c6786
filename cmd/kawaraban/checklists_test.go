package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"kawaraban/config"
	"kawaraban/store"
	"kawaraban/subscribers"
)

// TestCheckConfigListDrift: check-config says where the config's lists
// differ from the database, and which differences the next start keeps
// because they were edited in the admin UI (issue 17).
func TestCheckConfigListDrift(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	list := func(slug string) config.ListConfig {
		yes := true
		return config.ListConfig{Slug: slug, NameJA: "センター通信", NameEN: "Center news", Kind: "public",
			FromAddress: slug + "@city.example.jp", FromName: "京都市センター", PostalAddress: "京都市中京区寺町通御池上る上本能寺前町488",
			Contact: "075-000-0000", DoubleOptIn: &yes, Encoding: "utf-8", NameFallback: "読者"}
	}
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	subs := subscribers.New(db, subscribers.Options{})
	if err := subs.SyncLists(ctx, (&config.Config{Lists: []config.ListConfig{list("kodomo")}}).SubscriberLists()); err != nil {
		t.Fatal(err)
	}
	l, _ := subs.ListBySlug(ctx, "kodomo")
	l.FromName = "UIで直した差出人"
	if _, _, err := subs.UpdateList(ctx, "kodomo", l); err != nil {
		t.Fatal(err)
	}
	if _, err := subs.CreateList(ctx, (&config.Config{Lists: []config.ListConfig{list("ui-made")}}).SubscriberLists()[0]); err != nil {
		t.Fatal(err)
	}
	db.Close()

	changed := list("kodomo")
	changed.FromName, changed.Contact = "設定の差出人", "075-111-1111"
	c := &config.Config{Database: config.DatabaseConfig{Path: path}, Lists: []config.ListConfig{changed, list("kankyo")}}
	var out strings.Builder
	checkListDrift(ctx, c, &out)
	got := out.String()
	for _, want := range []string{
		`lists[0].from_name (kodomo): differs from the database, where it was edited in the admin UI and keeps "UIで直した差出人" (this file says "設定の差出人")`,
		`lists[0].contact (kodomo): differs from the database ("075-000-0000"); the next start applies "075-111-1111"`,
		"lists[1] (kankyo): not in the database yet; the next start creates it",
		"list ui-made: only in the database",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("check-config lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n") != 4 {
		t.Errorf("want 4 lines:\n%s", got)
	}
}
