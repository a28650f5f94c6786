package web

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kawaraban/issues"
)

// TestPreviewNamesNonJIS: for a list sent as ISO-2022-JP the compose
// preview and the API's preview name each character outside JIS X 0208
// with its substitute (issue 21: a subject with ① sent the whole issue as
// UTF-8; a reader named 髙橋 got UTF-8).
func TestPreviewNamesNonJIS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c, csrf := e.login("admin")
	cases := []struct {
		list, subject, body string
		want                []string // message_ja of each character, in order
	}{
		{"kankyo-hozen", "講座①のご案内", "髙橋様\n\n㈱京都と㈱大阪", []string{
			"件名: ① (U+2460) → 「(1)」に置き換え",
			"本文 1行目: 髙 (U+9AD9) → 「高」に置き換え",
			"本文 3行目: ㈱ (U+3231) (2 か所) → 「(株)」に置き換え"}},
		{"kankyo-hozen", "ご案内", "🎍 新年", []string{"本文 1行目: 🎍 (U+1F38D) → 置き換える文字がありません。削除してください"}},
		{"kankyo-hozen", "ご案内〜", "ｶﾞｲﾄﾞ～", nil},
		{"shimin-katsudo", "講座①", "髙橋様", nil}, // UTF-8 list: nothing to say
	}
	for _, tc := range cases {
		resp, body := e.post(c, "/admin/preview", url.Values{"csrf": {csrf}, "list": {tc.list}, "subject": {tc.subject}, "body": {tc.body}})
		var p struct {
			NonJIS []struct {
				Char, Substitute string
				MessageJA        string `json:"message_ja"`
				Message          string
			} `json:"non_jis"`
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &p) != nil {
			t.Fatalf("preview %q: %d %s", tc.subject, resp.StatusCode, body)
		}
		var got []string
		for _, n := range p.NonJIS {
			got = append(got, n.MessageJA)
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s %q %q:\n got %q\nwant %q", tc.list, tc.subject, tc.body, got, tc.want)
		}
	}

	if _, err := e.issues.Create(t.Context(), issues.Draft{ListID: 2, Subject: "講座①", BodyMarkdown: "髙橋様", Author: "admin"}); err != nil {
		t.Fatal(err)
	}
	_, page := e.get(c, "/admin/issues/1")
	for _, want := range []string{`id="jis-box" class="warning"`, "件名: ① (U&#43;2460) → 「(1)」に置き換え", "本文 1行目: 髙 (U&#43;9AD9)"} {
		if !strings.Contains(page, want) {
			t.Errorf("compose page lacks %q:\n%s", want, page)
		}
	}
	resp, body := e.api("POST", "/api/v1/issues/1/preview", e.bearer("admin"), "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"substitute":"(1)"`) || !strings.Contains(body, `"message":"Subject: ① (U+2460) → use \"(1)\""`) {
		t.Errorf("API preview: %d %s", resp.StatusCode, body)
	}
}

// TestBrowserNonJISWarning types a machine-dependent character into the
// compose form of an ISO-2022-JP list and waits for the live warning.
func TestBrowserNonJISWarning(t *testing.T) {
	e := newEnv(t, nil)
	ctx := browser(t)
	u := e.http.URL
	if err := chromedp.Do(ctx,
		loginAs(u, "admin"),
		chromedp.Navigate(u+"/admin/issues/new?list=kankyo-hozen"),
		chromedp.WaitVisible(chromedp.ID("subject")),
		chromedp.SendKeys(chromedp.ID("subject"), "講座①のご案内"),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(!document.getElementById("jis-box").hidden && document.getElementById("jis-list").textContent)`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil || !strings.Contains(text, "「(1)」に置き換え") {
		t.Fatalf("warning %q: %v", text, err)
	}
	shot(t, ctx, artifacts(t), "admin-compose-nonjis.png")
}
