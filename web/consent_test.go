package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestIssue15ConfirmReplayAfterUnsubscribe: subscribe, confirm by the
// button, unsubscribe, then post the old confirmation link again: 409 with
// a page that offers to subscribe again, the subscription stays
// unsubscribed and the consent log gets no new opt-in.
func TestIssue15ConfirmReplayAfterUnsubscribe(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	c := e.client()
	ctx := t.Context()
	if resp, _ := subscribeForm(t, e.env, c, "replay@example.jp", "kankyo-hozen"); resp.StatusCode != 200 {
		t.Fatalf("subscribe: %d", resp.StatusCode)
	}
	conf := e.mail.last(t)
	u, _ := url.Parse(conf.ConfirmURL)
	if resp, _ := e.post(c, u.Path, url.Values{}); resp.StatusCode != 200 {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	l, _ := e.subs.ListBySlug(ctx, "kankyo-hozen")
	if resp, _ := e.post(c, "/unsubscribe/"+e.subs.UnsubscribeToken(conf.SubscriberID, l.ID),
		url.Values{"List-Unsubscribe": {"One-Click"}}); resp.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %d", resp.StatusCode)
	}
	e.clock.Add(60e9)
	// A scanner's GET still shows only the button; the replayed POST is refused.
	if resp, _ := e.get(c, u.Path); resp.StatusCode != 200 {
		t.Fatalf("GET of the old link: %d", resp.StatusCode)
	}
	resp, body := e.post(c, u.Path, url.Values{})
	if resp.StatusCode != 409 || !strings.Contains(body, `id="superseded"`) || !strings.Contains(body, `href="/subscribe?list=kankyo-hozen"`) {
		t.Fatalf("replayed confirm: %d\n%s", resp.StatusCode, body)
	}
	if st, _ := e.subs.Stats(ctx, l.ID); st.Confirmed != 0 || st.Unsubscribed != 1 {
		t.Errorf("after the replay: %+v, want unsubscribed", st)
	}
	h, err := e.subs.History(ctx, conf.SubscriberID)
	if err != nil {
		t.Fatal(err)
	}
	optIns := 0
	for _, ev := range h {
		if ev.Event == "opt-in" {
			optIns++
		}
	}
	if optIns != 1 {
		t.Errorf("%d opt-ins in the consent log, want 1 (the replay adds none)", optIns)
	}
}

// TestIssue15PreferencesJoinSendsConfirmation: ticking a new list on the
// preferences page sends a confirmation mail and joins nothing until its
// link is confirmed; unticking leaves at once.
func TestIssue15PreferencesJoinSendsConfirmation(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	c := e.client()
	ctx := t.Context()
	subscribeForm(t, e.env, c, "prefs@example.jp", "kankyo-hozen")
	conf := e.mail.last(t)
	u, _ := url.Parse(conf.ConfirmURL)
	e.post(c, u.Path, url.Values{})
	e.clock.Add(60e9)
	tok := e.subs.PreferencesToken(conf.SubscriberID)
	_, page := e.get(c, "/preferences/"+tok)
	mails := len(e.mail.all)
	resp, page := e.post(c, "/preferences/"+tok, url.Values{"form_token": {hidden(t, page, "form_token")}, "list": {"shimin-katsudo"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "確認メールをお送りしました") {
		t.Fatalf("save: %d\n%s", resp.StatusCode, page)
	}
	kankyo, _ := e.subs.ListBySlug(ctx, "kankyo-hozen")
	shimin, _ := e.subs.ListBySlug(ctx, "shimin-katsudo")
	if st, _ := e.subs.Stats(ctx, kankyo.ID); st.Confirmed != 0 {
		t.Errorf("kankyo-hozen not left at once: %+v", st)
	}
	if st, _ := e.subs.Stats(ctx, shimin.ID); st.Confirmed != 0 {
		t.Errorf("shimin-katsudo joined before confirmation: %+v", st)
	}
	if len(e.mail.all) != mails+1 {
		t.Fatalf("%d confirmation mails, want 1", len(e.mail.all)-mails)
	}
	u, _ = url.Parse(e.mail.last(t).ConfirmURL)
	if resp, _ := e.post(c, u.Path, url.Values{}); resp.StatusCode != 200 {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if st, _ := e.subs.Stats(ctx, shimin.ID); st.Confirmed != 1 {
		t.Errorf("shimin-katsudo after confirmation: %+v", st)
	}
}
