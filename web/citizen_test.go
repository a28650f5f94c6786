package web

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestSubscribeShowsDescriptions fails when a list's description_ja is not
// on /subscribe (issue 21), and checks the English one under the switch.
func TestSubscribeShowsDescriptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	_, ja := e.get(c, "/subscribe")
	_, en := e.get(c, "/subscribe?lang=en")
	n := 0
	for _, l := range testLists {
		if l.Kind == "internal" || l.DescriptionJA == "" {
			continue
		}
		n++
		if !strings.Contains(ja, l.DescriptionJA) || !strings.Contains(ja, `aria-describedby="desc-`+l.Slug+`"`) {
			t.Errorf("/subscribe lacks the description of %s: %q", l.Slug, l.DescriptionJA)
		}
		if !strings.Contains(en, html.EscapeString(l.DescriptionEN)) {
			t.Errorf("/subscribe?lang=en lacks the description of %s: %q", l.Slug, l.DescriptionEN)
		}
	}
	if n == 0 {
		t.Fatal("no test list has a description")
	}
	for _, want := range []string{`href="/privacy"`, `href="/archive"`} {
		if !strings.Contains(ja, want) {
			t.Errorf("/subscribe lacks %s", want)
		}
	}
}

func TestArchiveIndexAndPrivacy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Privacy = Privacy{Contact: "総合企画局 075-000-0000"} })
	e.seedIssues()
	e.issues.SendNow(t.Context(), 1, actor("admin"))
	e.issues.set(1, []string{"sending", "scheduled"}, "sent")
	c := e.client()
	resp, body := e.get(c, "/archive")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/archive/shimin-katsudo/1"`) || !strings.Contains(body, "環境保全センター") ||
		strings.Contains(body, "庁内情報誌") {
		t.Errorf("/archive: %d, every public list and its back numbers, no internal list:\n%s", resp.StatusCode, body)
	}
	resp, body = e.get(c, "/privacy")
	if resp.StatusCode != 200 || !strings.Contains(body, "個人情報の取扱い") || !strings.Contains(body, "総合企画局 075-000-0000") {
		t.Errorf("/privacy: %d\n%s", resp.StatusCode, body)
	}
	e2 := newEnv(t, func(o *Options) {
		o.Privacy = Privacy{TextJA: "独自の方針です。\n\n本市は……", TextEN: "Our policy"}
	})
	if _, body := e2.get(e2.client(), "/privacy"); !strings.Contains(body, "<p>独自の方針です。</p>") || !strings.Contains(body, "<p>本市は……</p>") {
		t.Errorf("configured notice not shown:\n%s", body)
	}
}

// TestCitizenNextSteps: after confirming, leaving and subscribing the pages
// say what can be done next; the thanks page names the list's sender.
func TestCitizenNextSteps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client()
	_, form := e.get(c, "/subscribe")
	tok := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(form)[1]
	_, thanks := e.post(c, "/subscribe", url.Values{"form_token": {tok}, "email": {"a@example.jp"}, "list": {"shimin-katsudo", "kankyo-hozen"}})
	for _, want := range []string{"shimin-katsudo@city.example.jp", "kankyo@city.example.jp"} {
		if !strings.Contains(thanks, want) {
			t.Errorf("thanks page lacks the sender %s", want)
		}
	}
	if strings.Contains(thanks, "city.kyoto.lg.jp") {
		t.Error("thanks page names a hard-coded domain")
	}
	_, confirmed := e.post(c, "/confirm/"+e.subs.mails[0], url.Values{})
	if !strings.Contains(confirmed, `id="next-prefs"`) || !strings.Contains(confirmed, `href="/preferences/`) || !strings.Contains(confirmed, `href="/archive/shimin-katsudo"`) {
		t.Errorf("confirmed page offers no next step:\n%s", confirmed)
	}
	if resp, _ := e.get(c, "/"+strings.TrimPrefix(regexp.MustCompile(`href="/(preferences/[^"]+)"`).FindStringSubmatch(confirmed)[1], "/")); resp.StatusCode != 200 {
		t.Errorf("the preferences link: %d", resp.StatusCode)
	}
	_, left := e.post(c, "/unsubscribe/"+e.subs.unsubToken(0, 1), url.Values{})
	if !strings.Contains(left, `href="/subscribe?list=shimin-katsudo" id="next-again"`) {
		t.Errorf("unsubscribed page offers no way back:\n%s", left)
	}
}
