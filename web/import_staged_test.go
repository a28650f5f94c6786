package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

// sjisMembers is a member list as Excel saves it on a Japanese Windows:
// Shift_JIS, CRLF, with a bad row, an empty address and a repeat.
func sjisMembers(t testing.TB) []byte {
	t.Helper()
	csv := "メールアドレス,氏名\r\nyamada@example.jp,山田 太郎\r\nnot-an-address,鈴木 花子\r\n,空欄\r\nsato@example.jp,佐藤 次郎\r\nyamada@example.jp,山田 重複\r\n"
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadCSV posts a file to the import form as the page does.
func uploadCSV(t testing.TB, e *env, c *http.Client, csrf, list string, data []byte, dry bool) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf)
	mw.WriteField("list", list)
	mw.WriteField("consent_source", "2026年度 窓口申込書")
	if dry {
		mw.WriteField("dry_run", "1")
	}
	fw, _ := mw.CreateFormFile("file", "会員名簿.csv")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.http.URL+"/admin/subscribers/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

var importTheseRE = regexp.MustCompile(`action="(/admin/subscribers/import/[0-9a-f]{32}/run)" id="import-these"`)

// TestIssue17ImportThese: a dry run of a Shift_JIS file from Excel lists
// the rejected rows with their line numbers and Japanese reasons and
// imports nothing; "import these" then imports that same file without
// choosing it again, once; the kept file is the uploader's only and is
// gone afterwards.
func TestIssue17ImportThese(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	ctx := t.Context()
	c, csrf := e.login("editor")
	resp, body := uploadCSV(t, e.env, c, csrf, "shimin-katsudo", sjisMembers(t), true)
	if resp.StatusCode != 200 {
		t.Fatalf("dry run: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`<td class="num">3</td><td>`, `<td class="num">4</td><td>メールアドレスの欄が空です`, `<td class="num">6</td><td>2行目と同じアドレスです`,
		`id="rep-added">2<`, `id="rep-rejected">3<`, "この内容で取り込む",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dry run page lacks %s", want)
		}
	}
	if st, _ := e.subs.Stats(ctx, e.listID(t, "shimin-katsudo")); st.Confirmed != 0 {
		t.Fatalf("the dry run imported %d", st.Confirmed)
	}
	m := importTheseRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no import-these form")
	}
	// Someone else may not use it, nor the uploader for another list.
	adm, acsrf := e.login("admin")
	if resp, _ := e.post(adm, m[1], url.Values{"csrf": {acsrf}, "list": {"shimin-katsudo"}}); resp.StatusCode != 422 {
		t.Errorf("another user's import-these: %d, want 422", resp.StatusCode)
	}
	if resp, _ := e.post(c, m[1], url.Values{"csrf": {csrf}, "list": {"kankyo-hozen"}}); resp.StatusCode != 403 {
		t.Errorf("import-these into another list: %d, want 403", resp.StatusCode)
	}
	resp, body = e.post(c, m[1], url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "取り込みました") || !strings.Contains(body, `id="rep-added">2<`) {
		t.Fatalf("import these: %d\n%s", resp.StatusCode, body)
	}
	if st, _ := e.subs.Stats(ctx, e.listID(t, "shimin-katsudo")); st.Confirmed != 2 {
		t.Fatalf("imported %d, want 2", st.Confirmed)
	}
	if strings.Contains(body, `id="import-these"`) {
		t.Error("the real import offers to import again")
	}
	if resp, body := e.post(c, m[1], url.Values{"csrf": {csrf}, "list": {"shimin-katsudo"}}); resp.StatusCode != 422 || !strings.Contains(body, "もう一度ファイルを選んでください") {
		t.Errorf("second import-these: %d, want 422 with a message", resp.StatusCode)
	}
	if ents, _ := os.ReadDir(e.srv.opt.ImportStagingDir); len(ents) != 0 {
		t.Errorf("%d staged files left after the import", len(ents))
	}
}

// TestStagedImportsAreBounded: old staged files are swept and at most
// stagedMaxFiles are kept.
func TestStagedImportsAreBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var ids []string
	for range stagedMaxFiles + 5 {
		e.clock.Add(time.Second)
		id, err := e.srv.stageImport(bytes.NewReader([]byte("email\na@example.jp\n")), stagedImport{List: "shimin-katsudo", Login: "editor", Created: e.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	ents, _ := os.ReadDir(e.srv.opt.ImportStagingDir)
	if len(ents) != 2*stagedMaxFiles {
		t.Errorf("%d files kept, want %d (a CSV and its description each)", len(ents), 2*stagedMaxFiles)
	}
	if _, f, err := e.srv.openStaged(ids[len(ids)-1], "editor"); err != nil {
		t.Errorf("newest: %v", err)
	} else {
		f.Close()
	}
	e.clock.Add(stagedMaxAge + time.Minute)
	if _, _, err := e.srv.openStaged(ids[len(ids)-1], "editor"); err == nil {
		t.Error("a staged file older than an hour was still there")
	}
	for _, bad := range []string{"../../etc/passwd", "", strings.Repeat("g", 32)} {
		if _, _, err := e.srv.openStaged(bad, "editor"); err == nil {
			t.Errorf("id %q accepted", bad)
		}
	}
}

// TestIssue17ImportFileProblemsInJapanese: a file refused as a whole says
// why in Japanese, with no English word.
func TestIssue17ImportFileProblemsInJapanese(t *testing.T) {
	t.Parallel()
	e := newRealEnv(t)
	c, csrf := e.login("editor")
	for name, c2 := range map[string]struct {
		data []byte
		want string
	}{
		"no email column": {[]byte("name\n山田\n"), "メールアドレスの列がありません"},
		"empty":           {[]byte(""), "ファイルが空です"},
	} {
		resp, body := uploadCSV(t, e.env, c, csrf, "shimin-katsudo", c2.data, true)
		if resp.StatusCode != 422 || !strings.Contains(body, c2.want) {
			t.Errorf("%s: %d, want 422 saying %s", name, resp.StatusCode, c2.want)
		}
		if m := regexp.MustCompile(`class="error"[^>]*>([^<]*)<`).FindStringSubmatch(body); m != nil && regexp.MustCompile(`[a-z]{3,}`).MatchString(m[1]) {
			t.Errorf("%s: English in the Japanese message %q", name, m[1])
		}
	}
}
