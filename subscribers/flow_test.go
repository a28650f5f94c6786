package subscribers

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSubscribeConfirmUnsubscribePreferences(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ev := Evidence{IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (iPhone)"}
	err := f.s.Subscribe(f.ctx, SubscribeRequest{Email: "user..name.@DOCOMO.ne.jp", Name: "京都 花子",
		Lists: []string{"kodomo", "kankyo", "kodomo"}, Evidence: ev, Lang: "ja"})
	if err != nil {
		t.Fatal(err)
	}
	c := f.rec.last(t)
	if c.To != "user..name.@docomo.ne.jp" || c.Name != "京都 花子" || len(c.Lists) != 2 || c.Lang != "ja" {
		t.Fatalf("confirmation %+v", c)
	}
	if got := f.recipients(t, "kodomo"); len(got) != 0 {
		t.Fatalf("unconfirmed address is a recipient: %v", got)
	}

	res, err := f.s.Confirm(f.ctx, confirmToken(t, c), Evidence{IP: "198.51.100.8", UserAgent: "UA2"})
	if err != nil || res.AlreadyConfirmed || len(res.Lists) != 2 || res.SubscriberID != c.SubscriberID {
		t.Fatalf("Confirm = %+v, %v", res, err)
	}
	for _, slug := range []string{"kodomo", "kankyo"} {
		if got := f.recipients(t, slug); !slices.Equal(got, []string{"user..name.@docomo.ne.jp"}) {
			t.Fatalf("%s recipients %v", slug, got)
		}
	}
	if res, err := f.s.Confirm(f.ctx, confirmToken(t, c), ev); err != nil || !res.AlreadyConfirmed {
		t.Fatalf("second Confirm = %+v, %v", res, err)
	}

	kodomo := f.list(t, "kodomo")
	utok := f.s.UnsubscribeToken(c.SubscriberID, kodomo.ID)
	if u := f.s.UnsubscribeURL(c.SubscriberID, kodomo.ID); u != testBase+"/unsubscribe/"+utok {
		t.Fatalf("UnsubscribeURL %q", u)
	}
	info, err := f.s.UnsubscribeInfo(f.ctx, utok)
	if err != nil || !info.Subscribed || info.List.Slug != "kodomo" || info.Email != c.To || info.MaskedEmail != "u**********@docomo.ne.jp" {
		t.Fatalf("UnsubscribeInfo = %+v, %v", info, err)
	}
	if got := f.recipients(t, "kodomo"); len(got) != 1 {
		t.Fatal("UnsubscribeInfo changed something")
	}
	ur, err := f.s.UnsubscribeByToken(f.ctx, utok, SourceOneClick, Evidence{IP: "203.0.113.9"})
	if err != nil || ur.AlreadyUnsubscribed {
		t.Fatalf("UnsubscribeByToken = %+v, %v", ur, err)
	}
	if got := f.recipients(t, "kodomo"); len(got) != 0 {
		t.Fatalf("still a recipient after unsubscribe: %v", got)
	}
	if ok, _ := f.s.Eligible(f.ctx, kodomo.ID, []int64{c.SubscriberID}); ok[c.SubscriberID] {
		t.Fatal("Eligible after unsubscribe")
	}
	if ur, err := f.s.UnsubscribeByToken(f.ctx, utok, SourceOneClick, Evidence{}); err != nil || !ur.AlreadyUnsubscribed {
		t.Fatalf("second unsubscribe = %+v, %v", ur, err)
	}

	ptok, _ := strings.CutPrefix(f.s.PreferencesURL(c.SubscriberID), testBase+"/preferences/")
	p, err := f.s.Preferences(f.ctx, ptok)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]bool{}
	for _, pl := range p.Lists {
		state[pl.List.Slug] = pl.Subscribed
	}
	if len(state) != 3 || state["kodomo"] || !state["kankyo"] || state["quick"] {
		t.Fatalf("preferences %v (internal list must not show)", state)
	}
	// Issue 15: leaving applies at once; joining sends a confirmation mail
	// and changes nothing until its link is confirmed.
	sent := f.rec.count()
	if err := f.s.SavePreferences(f.ctx, ptok, []string{"kodomo", "quick"}, ev); err != nil {
		t.Fatal(err)
	}
	if len(f.recipients(t, "kodomo")) != 0 || len(f.recipients(t, "quick")) != 0 || len(f.recipients(t, "kankyo")) != 0 {
		t.Fatal("preferences joined lists before confirmation, or did not leave kankyo")
	}
	if f.rec.count() != sent+1 || len(f.rec.last(t).Lists) != 2 {
		t.Fatalf("joining from preferences: %d mails, last %+v; want one confirmation for kodomo and quick", f.rec.count()-sent, f.rec.last(t))
	}
	if _, err := f.s.Confirm(f.ctx, confirmToken(t, f.rec.last(t)), ev); err != nil {
		t.Fatal(err)
	}
	if len(f.recipients(t, "kodomo")) != 1 || len(f.recipients(t, "quick")) != 1 || len(f.recipients(t, "kankyo")) != 0 {
		t.Fatal("preferences not applied after confirmation")
	}
	if err := f.s.SavePreferences(f.ctx, ptok, []string{"chonai"}, ev); !errors.Is(err, ErrUnknownList) {
		t.Fatalf("joining an internal list from preferences: %v", err)
	}
	if err := f.s.SavePreferences(f.ctx, ptok, nil, ev); err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"kodomo", "kankyo", "quick"} {
		if len(f.recipients(t, slug)) != 0 {
			t.Fatalf("leaving all left %s", slug)
		}
	}

	hist, err := f.s.History(f.ctx, c.SubscriberID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range hist {
		got = append(got, e.ListSlug+" "+e.Event+" "+e.Source)
	}
	want := []string{
		"kodomo confirm-request web", "kankyo confirm-request web",
		"kodomo opt-in web", "kankyo opt-in web",
		"kodomo opt-out one-click",
		"kankyo opt-out prefs", "kodomo confirm-request prefs", "quick confirm-request prefs",
		"kodomo opt-in prefs", "quick opt-in prefs",
		"kodomo opt-out prefs", "quick opt-out prefs",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("history\n got %q\nwant %q", got, want)
	}
	if hist[2].Evidence.IP != "198.51.100.8" || hist[2].Evidence.UserAgent != "UA2" {
		t.Fatalf("opt-in evidence %+v", hist[2].Evidence)
	}

	var buf bytes.Buffer
	if err := f.s.ExportConsent(f.ctx, &buf, "kodomo", false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if lines[0] != strings.Join(consentColumns, ",") || len(lines) != 1+6 {
		t.Fatalf("consent export:\n%s", buf.String())
	}
	if !strings.Contains(lines[2], "opt-in,web,198.51.100.8,UA2") {
		t.Fatalf("opt-in row %q", lines[2])
	}
}

func TestSubscribeErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name string
		req  SubscribeRequest
		want error
	}{
		{"unknown list", SubscribeRequest{Email: "a@example.jp", Lists: []string{"nope"}}, ErrUnknownList},
		{"internal list", SubscribeRequest{Email: "a@city.kyoto.lg.jp", Lists: []string{"chonai"}}, ErrUnknownList},
		{"no list", SubscribeRequest{Email: "a@example.jp"}, ErrNoList},
		{"bad source", SubscribeRequest{Email: "a@example.jp", Lists: []string{"kodomo"}, Source: "carrier-pigeon"}, ErrBadSource},
	}
	for _, c := range cases {
		if err := f.s.Subscribe(f.ctx, c.req); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	for _, bad := range []string{"not-an-address", "a@b@c.jp", "a@example.jp\r\nBcc: b@example.jp"} {
		var ae *AddressError
		if err := f.s.Subscribe(f.ctx, SubscribeRequest{Email: bad, Lists: []string{"kodomo"}}); !errors.As(err, &ae) {
			t.Errorf("%q: %v, want *AddressError", bad, err)
		}
	}
	if f.rec.count() != 0 {
		t.Fatalf("%d mails sent for bad requests", f.rec.count())
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribe(t, "a@example.jp", "kodomo")
	tok := confirmToken(t, f.rec.last(t))
	if _, err := f.s.Confirm(f.ctx, tok[:len(tok)-2]+"xx", Evidence{}); !errors.Is(err, ErrBadToken) {
		t.Fatalf("forged: %v", err)
	}
	if _, err := f.s.Confirm(f.ctx, "!!", Evidence{}); !errors.Is(err, ErrBadToken) {
		t.Fatalf("malformed: %v", err)
	}
	if _, err := f.s.UnsubscribeByToken(f.ctx, tok, SourceWeb, Evidence{}); !errors.Is(err, ErrBadToken) {
		t.Fatalf("confirm token used to unsubscribe: %v", err)
	}
	if _, err := f.s.Preferences(f.ctx, tok); !errors.Is(err, ErrBadToken) {
		t.Fatalf("confirm token used for preferences: %v", err)
	}
	f.clk.Add(ConfirmTTL + time.Minute)
	if _, err := f.s.Confirm(f.ctx, tok, Evidence{}); !errors.Is(err, ErrExpiredToken) {
		t.Fatalf("expired: %v", err)
	}
	// Unsubscribe and preference links never expire.
	f.clk.Add(10 * 365 * 24 * time.Hour)
	l := f.list(t, "kodomo")
	if _, err := f.s.UnsubscribeByToken(f.ctx, f.s.UnsubscribeToken(1, l.ID), SourceWeb, Evidence{}); err != nil {
		t.Fatalf("old unsubscribe link: %v", err)
	}
	if _, err := f.s.Preferences(f.ctx, f.s.PreferencesToken(1)); err != nil {
		t.Fatalf("old preferences link: %v", err)
	}
}

// TestNoEnumeration checks that Subscribe answers the same for every kind
// of address, and which of them get a mail.
func TestNoEnumeration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribe(t, "pending@example.jp", "kodomo")
	f.subscribeConfirmed(t, "known@example.jp", "kodomo")
	f.subscribeConfirmed(t, "bounced@example.jp", "kodomo")
	if err := f.s.Suppress(f.ctx, "bounced@example.jp", ReasonHardBounce, "550 5.1.1"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Suppress(f.ctx, "blocked@example.jp", ReasonManual, "asked by phone"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		email string
		mail  bool
	}{
		{"new@example.jp", true},
		{"pending@example.jp", true},
		{"known@example.jp", false},  // nothing to confirm
		{"bounced@example.jp", true}, // confirming is the way back
		{"blocked@example.jp", false},
	}
	for _, c := range cases {
		n := f.rec.count()
		if err := f.s.Subscribe(f.ctx, SubscribeRequest{Email: c.email, Lists: []string{"kodomo"}}); err != nil {
			t.Fatalf("%s: %v", c.email, err)
		}
		if sent := f.rec.count() > n; sent != c.mail {
			t.Errorf("%s: mail sent %v, want %v", c.email, sent, c.mail)
		}
	}
}

func TestConfirmationRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for range 5 {
		f.subscribe(t, "flood@example.jp", "kodomo")
		f.clk.Add(time.Minute)
	}
	if n := f.rec.count(); n != 3 {
		t.Fatalf("%d confirmation mails in a day, want 3", n)
	}
	f.clk.Add(24 * time.Hour)
	f.subscribe(t, "flood@example.jp", "kodomo")
	if n := f.rec.count(); n != 4 {
		t.Fatalf("%d confirmation mails after a day, want 4", n)
	}
}

// A suppression holds for every spelling of the address that differs only
// in case: a bounce for Taro@ stops mail to taro@ and TARO@ as well, and
// lifting it lifts all of them.
func TestSuppressionIgnoresCase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	lower := f.subscribeConfirmed(t, "taro@example.jp", "kodomo")
	upper := f.subscribeConfirmed(t, "TARO@example.jp", "kodomo")
	kodomo := f.list(t, "kodomo")
	if err := f.s.Suppress(f.ctx, "Taro@example.jp", ReasonHardBounce, "550 5.1.1 user unknown"); err != nil {
		t.Fatal(err)
	}
	if got := f.recipients(t, "kodomo"); len(got) != 0 {
		t.Errorf("recipients after suppressing Taro@: %v", got)
	}
	if ok, _ := f.s.Eligible(f.ctx, kodomo.ID, []int64{lower, upper}); ok[lower] || ok[upper] {
		t.Errorf("eligible after suppressing Taro@: %v", ok)
	}
	if r, _ := f.s.SuppressionReason(f.ctx, "TARO@example.jp"); r != ReasonHardBounce {
		t.Errorf("reason for TARO@: %q", r)
	}
	rep, err := f.s.Import(f.ctx, strings.NewReader("email\ntArO@example.jp\n"), ImportOptions{ListSlug: "kodomo", ConsentSource: "form"})
	if err != nil || rep.Added != 0 || len(rep.Rejected) != 1 {
		t.Errorf("importing tArO@ after the suppression: %v, %+v", err, rep)
	}
	if err := f.s.Unsuppress(f.ctx, "taro@example.jp", "admin"); err != nil {
		t.Fatal(err)
	}
	if got := f.recipients(t, "kodomo"); len(got) != 2 {
		t.Errorf("recipients after lifting it: %v", got)
	}
}

func TestSuppression(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "taro@example.jp", "kodomo", "kankyo")
	kodomo := f.list(t, "kodomo")

	if err := f.s.Suppress(f.ctx, "taro@EXAMPLE.jp", ReasonHardBounce, "550 5.1.1 user unknown"); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.s.SuppressionReason(f.ctx, "taro@example.jp"); r != ReasonHardBounce {
		t.Fatalf("reason %q", r)
	}
	if len(f.recipients(t, "kodomo"))+len(f.recipients(t, "kankyo")) != 0 {
		t.Fatal("suppressed address is still a recipient")
	}
	if ok, _ := f.s.Eligible(f.ctx, kodomo.ID, []int64{id}); ok[id] {
		t.Fatal("suppressed address eligible")
	}
	st, _ := f.s.Stats(f.ctx, kodomo.ID)
	if st != (ListStats{Suppressed: 1}) {
		t.Fatalf("stats %+v", st)
	}
	// Only a new confirmation lifts a bounce suppression.
	f.subscribe(t, "taro@example.jp", "kodomo")
	if len(f.recipients(t, "kodomo")) != 0 {
		t.Fatal("subscribing alone lifted the suppression")
	}
	if _, err := f.s.Confirm(f.ctx, confirmToken(t, f.rec.last(t)), Evidence{IP: "192.0.2.9"}); err != nil {
		t.Fatal(err)
	}
	if len(f.recipients(t, "kodomo")) != 1 || len(f.recipients(t, "kankyo")) != 1 {
		t.Fatal("confirmation did not lift the suppression")
	}

	// A complaint: unsubscribed everywhere and suppressed.
	if err := f.s.UnsubscribeAll(f.ctx, "taro@example.jp", SourceComplaint, Evidence{MessageID: "<arf@example.jp>"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Suppress(f.ctx, "taro@example.jp", ReasonComplaint, "ARF"); err != nil {
		t.Fatal(err)
	}
	if len(f.recipients(t, "kodomo"))+len(f.recipients(t, "kankyo")) != 0 {
		t.Fatal("complained address is a recipient")
	}

	// A manual suppression survives a confirmation and needs Unsuppress.
	if err := f.s.Suppress(f.ctx, "taro@example.jp", ReasonManual, "by request"); err != nil {
		t.Fatal(err)
	}
	n := f.rec.count()
	f.subscribe(t, "taro@example.jp", "kodomo")
	if f.rec.count() != n {
		t.Fatal("manually suppressed address got a confirmation mail")
	}
	if err := f.s.AddMember(f.ctx, "kodomo", "taro@example.jp", "", SourceAdmin, Evidence{Actor: "admin"}); err != nil {
		t.Fatal(err)
	}
	if len(f.recipients(t, "kodomo")) != 0 {
		t.Fatal("manual suppression ignored")
	}
	if err := f.s.Unsuppress(f.ctx, "taro@example.jp", "admin"); err != nil {
		t.Fatal(err)
	}
	if len(f.recipients(t, "kodomo")) != 1 {
		t.Fatal("Unsuppress did not lift")
	}
	if ok, _ := f.s.IsSuppressed(f.ctx, "taro@example.jp"); ok {
		t.Fatal("still suppressed")
	}
}

func TestUnsubscribeAddressMailto(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "hanako@example.jp", "kodomo", "kankyo")
	ev := Evidence{MessageID: "<abc@phone.example.jp>"}
	if err := f.s.UnsubscribeAddress(f.ctx, "hanako@example.jp", "kodomo", SourceMailto, ev); err != nil {
		t.Fatal(err)
	}
	if err := f.s.UnsubscribeAddress(f.ctx, "nobody@example.jp", "kodomo", SourceMailto, ev); err != nil {
		t.Fatalf("unknown address: %v", err)
	}
	if len(f.recipients(t, "kodomo")) != 0 || len(f.recipients(t, "kankyo")) != 1 {
		t.Fatal("mailto unsubscribe applied to the wrong lists")
	}
	hist, _ := f.s.History(f.ctx, id)
	last := hist[len(hist)-1]
	if last.Event != EventOptOut || last.Source != SourceMailto || last.Evidence.MessageID != ev.MessageID {
		t.Fatalf("last event %+v", last)
	}
}

func TestAddMemberInternalList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, email := range []string{"kikaku@city.kyoto.lg.jp", "somu@ward.city.kyoto.lg.jp"} {
		if err := f.s.AddMember(f.ctx, "chonai", email, "", SourceAdmin, Evidence{Actor: "coordinator"}); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
	}
	err := f.s.AddMember(f.ctx, "chonai", "someone@gmail.example", "", SourceAdmin, Evidence{})
	if !errors.Is(err, ErrDomainNotAllowed) || !strings.Contains(err.Error(), "city.kyoto.lg.jp") {
		t.Fatalf("outside address: %v", err)
	}
	if err := f.s.AddMember(f.ctx, "chonai", "evilcity.kyoto.lg.jp@x.jp", "", SourceAdmin, Evidence{}); !errors.Is(err, ErrDomainNotAllowed) {
		t.Fatalf("look-alike: %v", err)
	}
	if got := f.recipients(t, "chonai"); len(got) != 2 || f.rec.count() != 0 {
		t.Fatalf("members %v, mails %d", got, f.rec.count())
	}
}

func TestSingleOptInList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribe(t, "a@example.jp", "quick", "kodomo")
	if got := f.recipients(t, "quick"); len(got) != 1 {
		t.Fatalf("single opt-in list: %v", got)
	}
	if c := f.rec.last(t); len(c.Lists) != 1 || c.Lists[0].Slug != "kodomo" {
		t.Fatalf("confirmation covers %+v", c.Lists)
	}
}

func TestConsentLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribe(t, "a@example.jp", "kodomo")
	if _, err := f.s.db.Exec(`UPDATE consent_events SET ip = 'x'`); err == nil {
		t.Fatal("consent event updated")
	}
}

func TestExpireAndPrune(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribe(t, "late@example.jp", "kodomo")
	f.subscribeConfirmed(t, "ok@example.jp", "kodomo")
	f.clk.Add(ConfirmTTL + time.Hour)
	n, err := f.s.ExpireUnconfirmed(f.ctx)
	if err != nil || n != 1 {
		t.Fatalf("ExpireUnconfirmed = %d, %v", n, err)
	}
	rows, total, err := f.s.Search(f.ctx, SearchQuery{})
	if err != nil || total != 1 || rows[0].Email != "ok@example.jp" {
		t.Fatalf("after expiry %+v %d %v", rows, total, err)
	}
	if n, _ := f.s.PruneConsent(f.ctx); n != 0 {
		t.Fatal("pruned with retention 0")
	}
	f.s.opt.ConsentRetention = 24 * time.Hour
	if n, err := f.s.PruneConsent(f.ctx); err != nil || n != 3 {
		t.Fatalf("PruneConsent = %d, %v", n, err)
	}
}

func TestSyncListsUpdatesAndKeepsSubscribers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribeConfirmed(t, "a@example.jp", "kodomo")
	changed := append([]List(nil), testLists...)
	changed[0].NameJA = "新しい名前"
	changed[0].Encoding = "ISO-2022-JP"
	if err := f.s.SyncLists(f.ctx, changed[:1]); err != nil {
		t.Fatal(err)
	}
	l := f.list(t, "kodomo")
	if l.NameJA != "新しい名前" || l.Encoding != EncodingISO2022JP || len(f.recipients(t, "kodomo")) != 1 {
		t.Fatalf("after sync %+v", l)
	}
	lists, _ := f.s.Lists(f.ctx)
	if len(lists) != len(testLists) {
		t.Fatalf("%d lists", len(lists))
	}
	for _, bad := range []List{{Slug: "Bad Slug"}, {Slug: "x", Kind: "secret"}, {Slug: "x", Encoding: "latin1"}} {
		if err := f.s.SyncLists(f.ctx, []List{bad}); !errors.Is(err, ErrBadList) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := f.s.ListByID(f.ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ListByID: %v", err)
	}
}

// Syncing the same definitions again writes nothing: every command syncs,
// and an export must not need the write lock.
func TestSyncListsUnchangedWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	updated := func() (n int64) {
		f.db.QueryRowContext(f.ctx, `SELECT max(updated) FROM lists`).Scan(&n)
		return n
	}
	before := updated()
	f.clk.Add(time.Hour)
	if err := f.s.SyncLists(f.ctx, testLists); err != nil {
		t.Fatal(err)
	}
	if got := updated(); got != before {
		t.Errorf("unchanged lists were written again: updated %d → %d", before, got)
	}
	changed := append([]List(nil), testLists...)
	changed[1].Contact = "075-111-1111"
	if err := f.s.SyncLists(f.ctx, changed); err != nil {
		t.Fatal(err)
	}
	if got := updated(); got == before {
		t.Error("a changed contact was not written")
	}
}

func TestStatsAndGrowth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribeConfirmed(t, "a@example.jp", "kodomo")
	f.clk.Add(24 * time.Hour)
	f.subscribeConfirmed(t, "b@example.jp", "kodomo")
	f.subscribe(t, "c@example.jp", "kodomo")
	l := f.list(t, "kodomo")
	if err := f.s.UnsubscribeAddress(f.ctx, "a@example.jp", "kodomo", SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	st, err := f.s.Stats(f.ctx, l.ID)
	if err != nil || st != (ListStats{Confirmed: 1, Unconfirmed: 1, Unsubscribed: 1}) {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
	g, err := f.s.Growth(f.ctx, l.ID, 3)
	if err != nil || len(g) != 3 {
		t.Fatal(g, err)
	}
	if g[1].OptIns != 1 || g[2].OptIns != 1 || g[2].OptOuts != 1 || g[0].OptIns != 0 ||
		g[0].Subscribed != 0 || g[1].Subscribed != 1 || g[2].Subscribed != 1 {
		t.Fatalf("growth %+v", g)
	}
	rows, total, err := f.s.Search(f.ctx, SearchQuery{ListSlug: "kodomo", Text: "b@"})
	if err != nil || total != 1 || rows[0].Status != StatusConfirmed {
		t.Fatalf("Search = %+v %d %v", rows, total, err)
	}
}

// TestEachRecipientInTransaction checks that a caller can snapshot the
// recipients into its own table inside the same transaction.
func TestEachRecipientInTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, e := range []string{"a@example.jp", "b@example.jp", "c@example.jp"} {
		f.subscribeConfirmed(t, e, "kodomo")
	}
	tx, err := f.s.db.BeginTx(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`CREATE TEMP TABLE snap (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	err = f.s.EachRecipient(f.ctx, tx, f.list(t, "kodomo").ID, func(r Recipient) error {
		_, err := tx.Exec(`INSERT INTO snap VALUES (?)`, r.SubscriberID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM snap`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("snapshot %d %v", n, err)
	}
	stop := errors.New("stop")
	if err := f.s.EachRecipient(f.ctx, nil, f.list(t, "kodomo").ID, func(Recipient) error { return stop }); err != stop {
		t.Fatalf("fn error not returned: %v", err)
	}
}

// TestConcurrentSubscribe: parallel requests for one new address create one
// subscriber and stay within the daily mail limit.
func TestConcurrentSubscribe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	errs := make(chan error, 20)
	for range 20 {
		go func() {
			errs <- f.s.Subscribe(f.ctx, SubscribeRequest{Email: "race@example.jp", Lists: []string{"kodomo"}})
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := f.rec.count(); n != 3 {
		t.Fatalf("%d mails, want 3", n)
	}
	var n int
	if err := f.s.db.QueryRow(`SELECT count(*) FROM subscribers`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d subscribers, %v", n, err)
	}
}

// The daily cap on confirmation mails counts every spelling of an address
// that differs only in case: varying the case does not flood a mailbox.
func TestConfirmationCapIgnoresCase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, a := range []string{"victim@example.jp", "Victim@example.jp", "VICTIM@example.jp", "vIctim@example.jp", "viCtim@example.jp"} {
		if err := f.s.Subscribe(f.ctx, SubscribeRequest{Email: a, Lists: []string{"kodomo"}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.rec.count(); n != 3 {
		t.Fatalf("%d confirmation mails to five spellings of one address, want the daily cap of 3", n)
	}
}

func TestSubscribeByMail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.s.SubscribeByMail(f.ctx, "Phone.User.@ezweb.ne.jp", "kodomo", "<join-1@ezweb.ne.jp>"); err != nil {
		t.Fatal(err)
	}
	c := f.rec.last(t)
	if a, err := ParseAddress(c.To); c.To != "Phone.User.@ezweb.ne.jp" || err != nil || a.SMTP() != `"Phone.User."@ezweb.ne.jp` {
		t.Fatalf("confirmation to %q", c.To)
	}
	hist, _ := f.s.History(f.ctx, c.SubscriberID)
	if len(hist) != 1 || hist[0].Source != SourceEmptyMail || hist[0].Evidence.MessageID != "<join-1@ezweb.ne.jp>" {
		t.Fatalf("history %+v", hist)
	}
	if err := f.s.SubscribeByMail(f.ctx, "x@example.jp", "chonai", "<m@x>"); !errors.Is(err, ErrUnknownList) {
		t.Fatalf("empty mail to an internal list: %v", err)
	}
}

// Review finding: a stranger posting the form with a confirmed reader's
// address and a name must not put words into that reader's magazines.
func TestSubscribeDoesNotNameAConfirmedReader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "reader@example.jp", "kodomo")
	err := f.s.Subscribe(f.ctx, SubscribeRequest{Email: "reader@example.jp", Name: "悪意ある名前",
		Lists: []string{"kankyo"}, Source: SourceWeb})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := f.s.Search(f.ctx, SearchQuery{Text: "reader@example.jp"})
	if err != nil || len(rows) != 1 || rows[0].SubscriberID != id || rows[0].Name != "" {
		t.Fatalf("search = %+v, %v; want the name left empty", rows, err)
	}
}

func TestSubscriberLists(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.s.Subscribe(f.ctx, SubscribeRequest{Email: "a@example.jp", Lists: []string{"quick", "kankyo"}}); err != nil {
		t.Fatal(err)
	}
	id := f.rec.last(t).SubscriberID
	// An unsubscribed list still counts: the subscriber "had" it.
	if err := f.s.UnsubscribeAddress(f.ctx, "a@example.jp", "quick", SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.SubscriberLists(f.ctx, id)
	if err != nil || !slices.Equal(got, []string{"kankyo", "quick"}) {
		t.Errorf("SubscriberLists = %v, %v", got, err)
	}
	if _, err := f.s.SubscriberLists(f.ctx, id+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown subscriber: %v, want ErrNotFound", err)
	}
}

func TestRecipientOf(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.s.Subscribe(f.ctx, SubscribeRequest{Email: "b@example.jp", Name: "京都 太郎", Lists: []string{"kodomo"}}); err != nil {
		t.Fatal(err)
	}
	id := f.rec.last(t).SubscriberID
	r, err := f.s.RecipientOf(f.ctx, f.list(t, "kodomo").ID, id)
	if err != nil || r.Email != "b@example.jp" || r.Name != "京都 太郎" || r.SubscriberID != id {
		t.Errorf("RecipientOf = %+v, %v", r, err)
	}
	if _, err := f.s.RecipientOf(f.ctx, f.list(t, "kankyo").ID, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("subscriber of another list: %v, want ErrNotFound", err)
	}
}

func TestOptOutsCountsTheWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribeConfirmed(t, "a@example.jp", "kodomo")
	f.subscribeConfirmed(t, "b@example.jp", "kodomo")
	from := f.clk.Now()
	f.clk.Add(time.Hour)
	if err := f.s.UnsubscribeAddress(f.ctx, "a@example.jp", "kodomo", SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(8 * 24 * time.Hour)
	if err := f.s.UnsubscribeAddress(f.ctx, "b@example.jp", "kodomo", SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	l := f.list(t, "kodomo")
	if os, err := f.s.OptOuts(f.ctx, l.ID, from, from.Add(7*24*time.Hour)); err != nil || len(os) != 1 || !os[0].At.Equal(from.Add(time.Hour)) {
		t.Fatalf("week after: %+v %v, want 1 at %v", os, err, from.Add(time.Hour))
	}
	if os, _ := f.s.OptOuts(f.ctx, l.ID, from, f.clk.Now().Add(time.Second)); len(os) != 2 {
		t.Fatalf("until now: %+v, want 2", os)
	}
}
