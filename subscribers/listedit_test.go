package subscribers

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"kawaraban/store"
)

// configList is a valid list as a config file gives it.
func configList(slug string) List {
	return List{Slug: slug, NameJA: "子ども・若者センター通信", NameEN: "Children and Youth Center News", Kind: KindPublic,
		FromAddress: slug + "@city.example.jp", FromName: "京都市子ども・若者センター",
		PostalAddress: "〒604-8571 京都市中京区寺町通御池上る上本能寺前町488", Contact: "075-000-0000",
		DoubleOptIn: true, Encoding: EncodingUTF8, NameFallback: "読者"}
}

// openAt opens (and migrates) the database file at path as a start of the
// daemon would, and syncs defs into it.
func openAt(t *testing.T, path string, defs []List) *Store {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := New(db, Options{})
	if err := s.SyncLists(context.Background(), defs); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestListPrecedence is the precedence rule of issue 17 over a real
// database: start with a config, edit in the UI, start again with a
// changed config, and check what each field holds.
func TestListPrecedence(t *testing.T) {
	t.Parallel()
	type change func(*List)
	cases := []struct {
		name   string
		first  []List          // the config at the first start
		ui     map[string]List // slug → edit made in the UI (applied on the stored list)
		create []List          // lists created in the UI
		edit   map[string]change
		// release hands fields back to the config after the edit.
		release map[string][]string
		second  []List // the config at the second start
		want    map[string]change
		// wantUI are the UI-owned fields of each list after the second start.
		wantUI map[string][]string
		drifts []string // ListDrifts after the second start: slug/field[/ui|/missing|/db-only]
	}{
		{
			name:   "config change to a field never edited is applied",
			first:  []List{configList("kodomo")},
			second: []List{with(configList("kodomo"), func(l *List) { l.NameJA = "新しい名前" })},
			want:   map[string]change{"kodomo": func(l *List) { l.NameJA = "新しい名前" }},
			wantUI: map[string][]string{"kodomo": nil},
		},
		{
			name:   "a field edited in the UI keeps its value against a changed config",
			first:  []List{configList("kodomo")},
			edit:   map[string]change{"kodomo": func(l *List) { l.FromName = "UIの差出人" }},
			second: []List{with(configList("kodomo"), func(l *List) { l.FromName = "設定の差出人"; l.Contact = "075-111-1111" })},
			want: map[string]change{"kodomo": func(l *List) {
				l.FromName = "UIの差出人"
				l.Contact = "075-111-1111" // not edited in the UI: the config's value
			}},
			wantUI: map[string][]string{"kodomo": {"from_name"}},
			drifts: []string{"kodomo/from_name/ui"},
		},
		{
			name:   "a field edited in the UI keeps its value when the config does not change",
			first:  []List{configList("kodomo")},
			edit:   map[string]change{"kodomo": func(l *List) { l.PostalAddress = "〒600-0000 京都市下京区" }},
			second: []List{configList("kodomo")},
			want:   map[string]change{"kodomo": func(l *List) { l.PostalAddress = "〒600-0000 京都市下京区" }},
			wantUI: map[string][]string{"kodomo": {"postal_address"}},
			drifts: []string{"kodomo/postal_address/ui"},
		},
		{
			name:   "an edit that changes nothing owns nothing",
			first:  []List{configList("kodomo")},
			edit:   map[string]change{"kodomo": func(l *List) {}},
			second: []List{with(configList("kodomo"), func(l *List) { l.FromName = "設定の差出人" })},
			want:   map[string]change{"kodomo": func(l *List) { l.FromName = "設定の差出人" }},
			wantUI: map[string][]string{"kodomo": nil},
		},
		{
			name:   "a new slug in the config is created; lists dropped from it stay",
			first:  []List{configList("kodomo")},
			second: []List{configList("kankyo")},
			want:   map[string]change{"kodomo": func(*List) {}, "kankyo": func(*List) {}},
			wantUI: map[string][]string{"kodomo": nil, "kankyo": nil},
			drifts: []string{"kodomo//db-only"},
		},
		{
			name:   "a list created in the UI is the UI's, even when the config names it later",
			create: []List{with(configList("ui-made"), func(l *List) { l.NameJA = "UIで作ったリスト" })},
			second: []List{with(configList("ui-made"), func(l *List) { l.NameJA = "設定の名前"; l.Encoding = EncodingISO2022JP })},
			want:   map[string]change{"ui-made": func(l *List) { l.NameJA = "UIで作ったリスト" }},
			wantUI: map[string][]string{"ui-made": ListFieldKeys()},
			drifts: []string{"ui-made/name_ja/ui", "ui-made/encoding/ui"},
		},
		{
			name:    "a field handed back to the config follows it again",
			first:   []List{configList("kodomo")},
			edit:    map[string]change{"kodomo": func(l *List) { l.FromName = "UIの差出人"; l.Contact = "075-999-9999" }},
			release: map[string][]string{"kodomo": {"from_name"}},
			second:  []List{with(configList("kodomo"), func(l *List) { l.FromName = "設定の差出人" })},
			want:    map[string]change{"kodomo": func(l *List) { l.FromName = "設定の差出人"; l.Contact = "075-999-9999" }},
			wantUI:  map[string][]string{"kodomo": {"contact"}},
			drifts:  []string{"kodomo/contact/ui"},
		},
		{
			name:   "archive off and closed are kept across starts",
			first:  []List{configList("kodomo")},
			edit:   map[string]change{"kodomo": func(l *List) { l.ArchiveOff = true }},
			second: []List{with(configList("kodomo"), func(l *List) { l.DescriptionJA = "説明" })},
			want:   map[string]change{"kodomo": func(l *List) { l.ArchiveOff = true; l.DescriptionJA = "説明" }},
			wantUI: map[string][]string{"kodomo": {"archive"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "k.db")
			s := openAt(t, path, tc.first)
			for _, l := range tc.create {
				if _, err := s.CreateList(ctx, l); err != nil {
					t.Fatal(err)
				}
			}
			for slug, ch := range tc.edit {
				l, err := s.ListBySlug(ctx, slug)
				if err != nil {
					t.Fatal(err)
				}
				ch(&l)
				if _, _, err := s.UpdateList(ctx, slug, l); err != nil {
					t.Fatal(err)
				}
			}
			for slug, fields := range tc.release {
				if _, released, err := s.ReleaseListFields(ctx, slug, fields); err != nil || len(released) != len(fields) {
					t.Fatalf("release %v: %v %v", fields, released, err)
				}
			}
			closeBefore := tc.name == "archive off and closed are kept across starts"
			if closeBefore {
				if _, _, err := s.CloseList(ctx, "kodomo"); err != nil {
					t.Fatal(err)
				}
			}
			s = openAt(t, path, tc.second) // the restart with the changed config
			for slug, ch := range tc.want {
				got, err := s.ListBySlug(ctx, slug)
				if err != nil {
					t.Fatal(err)
				}
				want := configList(slug)
				if tc.create != nil {
					want = with(configList(slug), func(l *List) { l.NameJA = "UIで作ったリスト" })
				}
				ch(&want)
				if diff := changedFields(want, got); len(diff) > 0 {
					t.Errorf("%s: fields %v differ: got %+v", slug, diff, got)
				}
				if !reflect.DeepEqual(got.UIFields, tc.wantUI[slug]) {
					t.Errorf("%s: UI fields %v, want %v", slug, got.UIFields, tc.wantUI[slug])
				}
				if closeBefore && !got.Closed() {
					t.Errorf("%s: closed state lost", slug)
				}
			}
			ds, err := s.ListDrifts(ctx, tc.second)
			if err != nil {
				t.Fatal(err)
			}
			var drifts []string
			for _, d := range ds {
				k := d.Slug + "/" + d.Field
				switch {
				case d.EditedInUI:
					k += "/ui"
				case d.Missing:
					k += "/missing"
				case d.NotInConfig:
					k += "/db-only"
				}
				drifts = append(drifts, k)
			}
			if strings.Join(drifts, " ") != strings.Join(tc.drifts, " ") {
				t.Errorf("drifts %v, want %v", drifts, tc.drifts)
			}
		})
	}
}

func with(l List, ch func(*List)) List {
	ch(&l)
	return l
}

// TestCheckList: the admin UI's and the API's checks, one problem per
// field, the law's footer fields required (特定電子メール法).
func TestCheckList(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*List)
		want []string // field:code
	}{
		{"valid", func(*List) {}, nil},
		{"postal address emptied", func(l *List) { l.PostalAddress = "  " }, []string{"postal_address:required"}},
		{"contact emptied", func(l *List) { l.Contact = "" }, []string{"contact:required"}},
		{"sender name emptied", func(l *List) { l.FromName = "" }, []string{"from_name:required"}},
		{"contact without a way to reach anyone", func(l *List) { l.Contact = "総合企画局" }, []string{"contact:reachable"}},
		{"contact as URL", func(l *List) { l.Contact = "https://www.city.kyoto.lg.jp/" }, nil},
		{"contact as mail", func(l *List) { l.Contact = "問い合わせ kikaku@city.example.jp" }, nil},
		{"bad sender address", func(l *List) { l.FromAddress = "not an address" }, []string{"from_address:address"}},
		{"header injection in the sender name", func(l *List) { l.FromName = "a\r\nBcc: x@example.com" }, []string{"from_name:one-line"}},
		{"every problem at once", func(l *List) {
			l.Slug, l.NameJA, l.Kind, l.Encoding = "Bad", "", "secret", "latin1"
			l.AllowedDomains = []string{"not a domain"}
		}, []string{"slug:slug", "name_ja:required", "kind:choice", "encoding:choice", "allowed_domains:domain"}},
		{"too long", func(l *List) { l.NameJA = strings.Repeat("長", 101) }, []string{"name_ja:too-long"}},
		{"multi-line postal address", func(l *List) { l.PostalAddress = "〒604-8571\n京都市中京区" }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := configList("kodomo")
			tc.edit(&l)
			_, err := checkList(l)
			var got []string
			var le *ListError
			if errors.As(err, &le) {
				for _, p := range le.Problems {
					got = append(got, p.Field+":"+p.Code)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("problems %v, want %v (%v)", got, tc.want, err)
			}
			if err != nil && !errors.Is(err, ErrBadList) {
				t.Errorf("%v is not ErrBadList", err)
			}
		})
	}
}

// TestUpdateListRefusesEmptyFooterAndChangesNothing: an edit that empties
// the law's footer fields is refused with their names, and the list stays.
func TestUpdateListRefusesEmptyFooterAndChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openAt(t, filepath.Join(t.TempDir(), "k.db"), []List{configList("kodomo")})
	l, _ := s.ListBySlug(ctx, "kodomo")
	l.PostalAddress, l.Contact, l.NameJA = "", "", "変えた名前"
	_, _, err := s.UpdateList(ctx, "kodomo", l)
	var le *ListError
	if !errors.As(err, &le) || !le.Has("postal_address") || !le.Has("contact") || le.Has("name_ja") {
		t.Fatalf("UpdateList: %v", err)
	}
	got, _ := s.ListBySlug(ctx, "kodomo")
	if got.NameJA != configList("kodomo").NameJA || got.PostalAddress == "" || len(got.UIFields) != 0 {
		t.Fatalf("a refused edit changed the list: %+v", got)
	}
	if _, _, err := s.UpdateList(ctx, "nosuch", l); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown slug: %v", err)
	}
	if _, err := s.CreateList(ctx, configList("kodomo")); !errors.As(err, &le) || !le.Has("slug") || le.Problems[0].Code != ProblemTaken {
		t.Fatalf("CreateList of a taken slug: %v", err)
	}
	if _, _, err := s.ReleaseListFields(ctx, "kodomo", []string{"archive", "slug"}); !errors.As(err, &le) || !le.Has("archive") || !le.Has("slug") {
		t.Fatalf("releasing fields the config does not set: %v", err)
	}
}

// TestClosedList: a closed list takes no new subscribers by any way in,
// keeps those it has (they still receive issues), hides from the
// preferences of those not on it, and opens again.
func TestClosedList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribeConfirmed(t, "stays@example.jp", "kodomo")
	f.subscribe(t, "pending@example.jp", "kodomo")
	pendingLink := confirmToken(t, f.rec.last(t))
	l, changed, err := f.s.CloseList(f.ctx, "kodomo")
	if err != nil || !changed || !l.Closed() {
		t.Fatalf("CloseList: %v %v %+v", err, changed, l)
	}
	if _, changed, _ := f.s.CloseList(f.ctx, "kodomo"); changed {
		t.Error("closing a closed list changed it")
	}
	err = f.s.Subscribe(f.ctx, SubscribeRequest{Email: "new@example.jp", Lists: []string{"kodomo"}})
	if !errors.Is(err, ErrListClosed) {
		t.Errorf("Subscribe: %v", err)
	}
	if err := f.s.NewIntake(nil).Submit(f.ctx, SubscribeRequest{Email: "new@example.jp", Lists: []string{"kodomo"}}); !errors.Is(err, ErrListClosed) {
		t.Errorf("Intake.Submit: %v", err)
	}
	if err := f.s.SubscribeByMail(f.ctx, "new@example.jp", "kodomo", "msg@example.jp"); !errors.Is(err, ErrListClosed) {
		t.Errorf("SubscribeByMail (空メール): %v", err)
	}
	if err := f.s.AddMember(f.ctx, "kodomo", "new@example.jp", "", SourceAPI, Evidence{}); !errors.Is(err, ErrListClosed) {
		t.Errorf("AddMember: %v", err)
	}
	_, err = f.s.Import(f.ctx, strings.NewReader("email\nnew@example.jp\n"), ImportOptions{ListSlug: "kodomo", ConsentSource: "paper form"})
	if !errors.Is(err, ErrListClosed) {
		t.Errorf("Import: %v", err)
	}
	if _, err := f.s.Confirm(f.ctx, pendingLink, Evidence{}); !errors.Is(err, ErrListClosed) {
		t.Errorf("Confirm of a link sent before closing: %v", err)
	}
	if got := f.recipients(t, "kodomo"); len(got) != 1 || got[0] != "stays@example.jp" {
		t.Errorf("recipients of the closed list: %v", got)
	}
	p, err := f.s.prefs(f.ctx, f.db, f.subscribeConfirmed(t, "other@example.jp", "kankyo"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range p.Lists {
		if pl.List.Slug == "kodomo" {
			t.Error("a closed list is offered on the preferences page of someone not on it")
		}
	}
	if _, changed, err := f.s.ReopenList(f.ctx, "kodomo"); err != nil || !changed {
		t.Fatalf("ReopenList: %v %v", err, changed)
	}
	f.subscribe(t, "new@example.jp", "kodomo")
}
