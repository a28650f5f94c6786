package subscribers

import (
	"errors"
	"testing"
	"time"
)

// countEvents counts the subscriber's consent events of kind on slug.
func (f fixture) countEvents(t testing.TB, subID int64, slug, kind string) int {
	t.Helper()
	h, err := f.s.History(f.ctx, subID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range h {
		if e.ListSlug == slug && e.Event == kind {
			n++
		}
	}
	return n
}

// status returns the subscription's stored status.
func (f fixture) status(t testing.TB, subID int64, slug string) string {
	t.Helper()
	st, _, err := subStatus(f.ctx, f.db, f.list(t, slug).ID, subID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestIssue15ConfirmReplayAfterUnsubscribe: subscribe, confirm,
// unsubscribe, then follow the old confirmation link again. The opt-out
// stands, no opt-in is logged, and the error says the citizen must ask
// again; a fresh request after the opt-out confirms as usual.
func TestIssue15ConfirmReplayAfterUnsubscribe(t *testing.T) {
	t.Parallel()
	for _, sameSecond := range []bool{false, true} {
		f := newFixture(t)
		f.subscribe(t, "replay@example.jp", "kodomo")
		old := confirmToken(t, f.rec.last(t))
		res, err := f.s.Confirm(f.ctx, old, Evidence{IP: "192.0.2.2"})
		if err != nil {
			t.Fatal(err)
		}
		id := res.SubscriberID
		if !sameSecond {
			f.clk.Add(time.Hour)
		}
		utok := f.s.UnsubscribeToken(id, f.list(t, "kodomo").ID)
		if _, err := f.s.UnsubscribeByToken(f.ctx, utok, SourceOneClick, Evidence{}); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		res, err = f.s.Confirm(f.ctx, old, Evidence{IP: "203.0.113.66"})
		if !errors.Is(err, ErrSupersededToken) || len(res.Superseded) != 1 || res.Superseded[0].Slug != "kodomo" {
			t.Fatalf("replayed Confirm = %+v, %v; want ErrSupersededToken naming kodomo", res, err)
		}
		if st := f.status(t, id, "kodomo"); st != StatusUnsubscribed {
			t.Errorf("status after replay %q, want unsubscribed", st)
		}
		if n := f.countEvents(t, id, "kodomo", EventOptIn); n != 1 {
			t.Errorf("%d opt-ins in the consent log, want only the first", n)
		}
		if got := f.recipients(t, "kodomo"); len(got) != 0 {
			t.Errorf("recipients after replay: %v", got)
		}

		f.clk.Add(time.Minute)
		f.subscribe(t, "replay@example.jp", "kodomo")
		if _, err := f.s.Confirm(f.ctx, confirmToken(t, f.rec.last(t)), Evidence{}); err != nil {
			t.Fatalf("a new link after the opt-out: %v", err)
		}
		if st := f.status(t, id, "kodomo"); st != StatusConfirmed {
			t.Errorf("status after a new request %q, want confirmed", st)
		}
	}
}

// A link for two lists, one of which the citizen left afterwards, confirms
// the other and leaves the opt-out alone.
func TestIssue15ConfirmPartlySuperseded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.subscribe(t, "two@example.jp", "kodomo", "kankyo")
	c := f.rec.last(t)
	id, tok := c.SubscriberID, confirmToken(t, c)
	f.clk.Add(time.Hour)
	if _, err := f.s.UnsubscribeByToken(f.ctx, f.s.UnsubscribeToken(id, f.list(t, "kankyo").ID), SourceWeb, Evidence{}); err != nil {
		t.Fatal(err)
	}
	res, err := f.s.Confirm(f.ctx, tok, Evidence{})
	if err != nil || len(res.Superseded) != 1 || res.Superseded[0].Slug != "kankyo" {
		t.Fatalf("Confirm = %+v, %v", res, err)
	}
	if a, b := f.status(t, id, "kodomo"), f.status(t, id, "kankyo"); a != StatusConfirmed || b != StatusUnsubscribed {
		t.Errorf("kodomo %s, kankyo %s; want confirmed, unsubscribed", a, b)
	}
}

// TestIssue15PreferencesJoinNeedsConfirmation: a preferences link (which
// travels in every issue and may be forwarded) removes lists at once, but
// adding one only sends a confirmation mail: the subscription and the
// consent log's opt-ins stay as they were until the link is confirmed.
// Opt-out links keep working years later.
func TestIssue15PreferencesJoinNeedsConfirmation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "prefs@example.jp", "kodomo")
	f.clk.Add(24 * time.Hour)
	ptok := f.s.PreferencesToken(id)
	sent := f.rec.count()
	if err := f.s.SavePreferences(f.ctx, ptok, []string{"kankyo"}, Evidence{IP: "203.0.113.5"}); err != nil {
		t.Fatal(err)
	}
	if st := f.status(t, id, "kodomo"); st != StatusUnsubscribed {
		t.Errorf("kodomo after leaving it on the preferences page: %q", st)
	}
	if st := f.status(t, id, "kankyo"); st != "" {
		t.Errorf("kankyo before confirmation: %q, want no subscription", st)
	}
	if n := f.countEvents(t, id, "kankyo", EventOptIn); n != 0 {
		t.Errorf("%d opt-ins for kankyo before confirmation", n)
	}
	if f.rec.count() != sent+1 {
		t.Fatalf("%d confirmation mails, want 1", f.rec.count()-sent)
	}
	c := f.rec.last(t)
	if len(c.Lists) != 1 || c.Lists[0].Slug != "kankyo" || c.To != "prefs@example.jp" {
		t.Fatalf("confirmation %+v", c)
	}
	f.clk.Add(time.Minute)
	if _, err := f.s.Confirm(f.ctx, confirmToken(t, c), Evidence{}); err != nil {
		t.Fatal(err)
	}
	if st := f.status(t, id, "kankyo"); st != StatusConfirmed {
		t.Errorf("kankyo after confirmation: %q", st)
	}

	// An opt-out link never expires (特定電子メール法: opting out must
	// always be possible).
	f.clk.Add(10 * 365 * 24 * time.Hour)
	if _, err := f.s.UnsubscribeByToken(f.ctx, f.s.UnsubscribeToken(id, f.list(t, "kankyo").ID), SourceOneClick, Evidence{}); err != nil {
		t.Fatalf("unsubscribe link ten years on: %v", err)
	}
	if err := f.s.SavePreferences(f.ctx, ptok, nil, Evidence{}); err != nil {
		t.Fatalf("preferences link ten years on, leaving all: %v", err)
	}
	if st := f.status(t, id, "kankyo"); st != StatusUnsubscribed {
		t.Errorf("kankyo after the old unsubscribe link: %q", st)
	}
}
