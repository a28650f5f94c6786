package subscribers

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestProfileActions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "hanako@example.jp", "kodomo", "kankyo")
	if err := f.s.Suppress(f.ctx, "Hanako@example.jp", ReasonManual, "電話で停止希望"); err != nil {
		t.Fatal(err)
	}

	t.Run("edit", func(t *testing.T) {
		if err := f.s.UpdateProfile(f.ctx, id, " 京都 花子\x07 ", map[string]string{"区": "中京区"}); err != nil {
			t.Fatal(err)
		}
		p, err := f.s.Profile(f.ctx, id)
		if err != nil || p.Name != "京都 花子" || p.Attributes["区"] != "中京区" {
			t.Fatalf("profile after edit: %+v %v", p, err)
		}
		for name, attrs := range map[string]map[string]string{
			"empty key":  {"": "x"},
			"padded key": {" 区": "x"},
			"control":    {"区": "a\nb"},
			"long value": {"区": string(make([]rune, MaxAttributeValRunes+1))},
		} {
			if err := f.s.UpdateProfile(f.ctx, id, "x", attrs); !errors.Is(err, ErrBadAttributes) {
				t.Errorf("%s: %v, want ErrBadAttributes", name, err)
			}
		}
		if err := f.s.UpdateProfile(f.ctx, 999, "x", nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown subscriber: %v", err)
		}
	})

	t.Run("unsubscribe from one list", func(t *testing.T) {
		changed, err := f.s.UnsubscribeFromList(f.ctx, id, "kankyo", SourceAdmin, Evidence{Actor: "editor1"})
		if err != nil || !changed {
			t.Fatalf("unsubscribe: %v %v", changed, err)
		}
		if changed, _ := f.s.UnsubscribeFromList(f.ctx, id, "kankyo", SourceAdmin, Evidence{Actor: "editor1"}); changed {
			t.Error("unsubscribing twice changed something")
		}
		p, _ := f.s.Profile(f.ctx, id)
		got := map[string]string{}
		for _, s := range p.Subscriptions {
			got[s.ListSlug] = s.Status
		}
		if got["kodomo"] != StatusConfirmed || got["kankyo"] != StatusUnsubscribed {
			t.Errorf("subscriptions %v", got)
		}
	})

	t.Run("unsuppress needs a reason and is in the consent log", func(t *testing.T) {
		if err := f.s.LiftSuppression(f.ctx, id, 0, "  ", SourceAdmin, Evidence{Actor: "admin"}); !errors.Is(err, ErrReasonRequired) {
			t.Fatalf("no reason: %v", err)
		}
		if err := f.s.LiftSuppression(f.ctx, id, 0, "本人から再開の申し出", SourceAdmin, Evidence{Actor: "admin"}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.LiftSuppression(f.ctx, id, 0, "again", SourceAdmin, Evidence{Actor: "admin"}); !errors.Is(err, ErrNotSuppressed) {
			t.Errorf("lifting twice: %v", err)
		}
		if sup, _ := f.s.IsSuppressed(f.ctx, "hanako@example.jp"); sup {
			t.Error("still suppressed")
		}
		h, _ := f.s.History(f.ctx, id)
		i := slices.IndexFunc(h, func(e ConsentEvent) bool { return e.Event == EventUnsuppress })
		if i < 0 || h[i].Evidence.Actor != "admin" || h[i].Detail != "本人から再開の申し出" {
			t.Errorf("consent log: %+v", h)
		}
	})
}

// Issue 17: an erased address comes back only by confirming, even on a
// list without double opt-in; the consent log refuses any other update.
func TestIssue17ErasedComesBackByConfirmingOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "jiro@example.jp", "kodomo")
	f.subscribe(t, "jiro@example.jp", "quick")
	er, err := f.s.Erase(f.ctx, id, "admin", "削除依頼")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Compare(er.Lists, []string{"kodomo", "quick"}) != 0 {
		t.Errorf("erased lists %v", er.Lists)
	}
	if _, err := f.s.Profile(f.ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("profile after erasing: %v", err)
	}
	if _, err := f.db.Exec(`UPDATE consent_events SET ip = '' WHERE email = ?`, er.Key); err == nil {
		t.Error("an erased consent event could be changed")
	}
	if _, err := f.db.Exec(`UPDATE consent_events SET email = 'x@example.jp'`); err == nil {
		t.Error("the consent log could be rewritten")
	}

	n := f.rec.count()
	f.subscribe(t, "JIRO@example.jp", "quick")
	if f.rec.count() != n+1 {
		t.Fatal("no confirmation mail for an erased address on a single opt-in list")
	}
	if got := f.recipients(t, "quick"); slices.Contains(got, "JIRO@example.jp") {
		t.Error("joined a single opt-in list without confirming after erasure")
	}
	if _, err := f.s.Confirm(f.ctx, confirmToken(t, f.rec.last(t)), Evidence{IP: "192.0.2.9"}); err != nil {
		t.Fatal(err)
	}
	if got := f.recipients(t, "quick"); !slices.Contains(got, "JIRO@example.jp") {
		t.Errorf("recipients after confirming: %v", got)
	}
}

// Issue 17: the id of an erased subscriber is never given again, so the
// unsubscribe and preferences links mailed to it (they never expire)
// cannot reach a new subscriber.
func TestIssue17ErasedIDNotReused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "last@example.jp", "kodomo")
	unsub := f.s.UnsubscribeToken(id, f.list(t, "kodomo").ID)
	prefs := f.s.PreferencesToken(id)
	if _, err := f.s.Erase(f.ctx, id, "admin", "削除依頼"); err != nil {
		t.Fatal(err)
	}
	next := f.subscribeConfirmed(t, "next@example.jp", "kodomo")
	rep, err := f.s.Import(f.ctx, strings.NewReader("email\nimported@example.jp\n"), ImportOptions{ListSlug: "kodomo", ConsentSource: "窓口"})
	if err != nil || rep.Added != 1 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	var imported int64
	f.db.QueryRow(`SELECT id FROM subscribers WHERE email = 'imported@example.jp'`).Scan(&imported)
	if next <= id || imported <= next {
		t.Fatalf("ids after erasing %d: %d (subscribe), %d (import)", id, next, imported)
	}
	if res, err := f.s.UnsubscribeByToken(f.ctx, unsub, SourceWeb, Evidence{}); err != nil || !res.AlreadyUnsubscribed {
		t.Errorf("the erased reader's unsubscribe link unsubscribed someone: %+v %v", res, err)
	}
	if _, err := f.s.Preferences(f.ctx, prefs); err == nil {
		t.Error("the erased reader's preferences link still works")
	}
	if got := f.recipients(t, "kodomo"); len(got) != 2 {
		t.Errorf("recipients %v", got)
	}
}
