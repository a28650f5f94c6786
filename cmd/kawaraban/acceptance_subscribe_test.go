package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// Issue 3: subscribe → confirm → confirmed, with the consent evidence kept.
func TestAcceptanceSubscribeConfirm(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	const (
		addr = "taro@example.jp"
		list = "shimin-katsudo"
		ua   = "KawarabanAcceptance/1.0 (subscribe)"
	)
	// A plain POST without Origin (a script, an old browser) is accepted.
	code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {addr}, "name": {"京 太郎"}, "list": {list, "kankyo-hozen"}}, ua)
	if code != 200 {
		t.Fatalf("POST /subscribe: %d\n%s", code, body)
	}
	var confirm capturedMail
	waitUntil(t, "a confirmation mail to "+addr, func() bool {
		ms := mailsTo(readCaptured(t, d.Data), addr, "")
		if len(ms) > 0 {
			confirm = ms[0]
		}
		return len(ms) > 0
	})
	checkRawHeaders(t, confirm.File)
	text := confirm.Parts["text/plain"]
	link := confirmLinkRe.FindString(text)
	if link == "" {
		t.Fatalf("no /confirm/ link in the confirmation mail %s:\n%s", confirm.File, text)
	}
	if !strings.HasPrefix(link, d.BaseURL+"/confirm/") {
		t.Errorf("confirm link %q does not start with the daemon's base URL %s", link, d.BaseURL)
	}
	if rows := exportSubscribers(t, d.Data, list); rows[addr]["status"] != "unconfirmed" {
		t.Errorf("before confirming: status %q, want unconfirmed", rows[addr]["status"])
	}

	const confirmUA = "KawarabanAcceptance/1.0 (confirm)"
	// Issue 15: the link shows a button and changes nothing (a mail
	// scanner prefetching it must not subscribe anyone); its POST confirms.
	if code, body := getUA(t, link, confirmUA); code != 200 || !strings.Contains(body, `id="confirm"`) {
		t.Fatalf("GET %s: %d\n%s", link, code, body)
	}
	if rows := exportSubscribers(t, d.Data, list); rows[addr]["status"] != "unconfirmed" {
		t.Errorf("after GET of the confirm link: status %q, want unconfirmed", rows[addr]["status"])
	}
	if code, body := postForm(t, link, url.Values{}, confirmUA); code != 200 {
		t.Fatalf("POST %s: %d\n%s", link, code, body)
	}
	for _, l := range []string{list, "kankyo-hozen"} {
		rows := exportSubscribers(t, d.Data, l)
		if rows[addr]["status"] != "confirmed" {
			t.Errorf("list %s after confirming: status %q, want confirmed (rows %v)", l, rows[addr]["status"], rows)
		}
		if rows[addr]["name"] != "京 太郎" {
			t.Errorf("list %s: name %q, want the one given on the form", l, rows[addr]["name"])
		}
	}

	// Following the link again (a mail client's preview, a second click)
	// changes nothing and records no second opt-in.
	if code, body := postForm(t, link, url.Values{}, confirmUA); code >= 500 {
		t.Errorf("second POST %s: %d\n%s", link, code, body)
	}
	consent := csvList(t, mustCLI(t, "export", "consent", "--data", d.Data, "--list", list).Stdout)
	var optIn subscriberRow
	optIns := 0
	for _, row := range consent {
		if row["email"] == addr && row["event"] == "opt-in" {
			optIn = row
			optIns++
		}
	}
	if optIns > 1 {
		t.Errorf("%d opt-in events for one confirmation: %v", optIns, consent)
	}
	if optIn == nil {
		t.Fatalf("export consent has no opt-in for %s: %v", addr, consent)
	}
	if optIn["list"] != list || optIn["ip"] != "127.0.0.1" || !strings.Contains(optIn["user_agent"], "KawarabanAcceptance") || optIn["at"] == "" {
		t.Errorf("opt-in lacks its evidence (list, time, IP, user agent): %v", optIn)
	}
}

// Issue 3: odd but real addresses are accepted; broken ones are refused
// and nothing is mailed for them.
func TestAcceptanceSubscribeAddresses(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	const list = "kankyo-hozen"
	for _, bad := range []string{
		"not-an-address",
		"a@b@c.jp",
		"evil@example.jp\r\nBcc: victim@example.jp",
		"evil@example.jp\nBcc: victim@example.jp",
	} {
		code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {bad}, "list": {list}}, "")
		if !refused(code) {
			t.Errorf("POST /subscribe email=%q: status %d, want 4xx (422)\n%s", bad, code, body)
		}
	}
	// docomo's old addresses: dots in a row and before @ (RFC-violating, in use).
	const docomo = "user..name.@docomo.ne.jp"
	if code, body := postForm(t, d.BaseURL+"/subscribe", url.Values{"email": {docomo}, "list": {list}}, ""); code != 200 {
		t.Fatalf("POST /subscribe %s: %d\n%s", docomo, code, body)
	}
	var all []capturedMail
	waitUntil(t, "the confirmation mail to "+docomo, func() bool {
		all = readCaptured(t, d.Data)
		return len(mailsTo(all, docomo, "")) > 0
	})
	if len(all) != 1 {
		var to []string
		for _, m := range all {
			to = append(to, m.DeliveredTo)
		}
		t.Fatalf("%d mails captured (to %q), want only the one to %s: refused addresses must get none", len(all), to, docomo)
	}
	m := all[0]
	raw, err := os.ReadFile(m.File)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"user..name."@docomo.ne.jp`) {
		t.Errorf("the To header does not quote the local part of %s:\n%s", docomo, raw)
	}
	if to, err := m.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != docomo {
		t.Errorf("To parses to %v (%v), want %s", to, err, docomo)
	}
	if confirmLinkRe.FindString(m.Parts["text/plain"]) == "" {
		t.Errorf("no confirm link in %s", m.File)
	}
	if rows := exportSubscribers(t, d.Data, list); len(rows) != 1 || rows[docomo]["status"] != "unconfirmed" {
		t.Errorf("export after the refused addresses: %v, want only %s unconfirmed", rows, docomo)
	}
}

// Issue 3: a Shift_JIS CSV from a spreadsheet, with one bad row.
func TestAcceptanceImportShiftJIS(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, t.TempDir())
	const list = "choju-sukoyaka"
	csvText := "email,name\r\n" +
		"ichiro@example.jp,鈴木一郎\r\n" +
		"not-an-address,佐藤花子\r\n" + // line 3
		"jiro@example.jp,髙橋次郎\r\n" // 髙: a Windows-31J (IBM) extension Excel writes
	sjis, err := japanese.ShiftJIS.NewEncoder().String(csvText)
	if err != nil {
		t.Fatal(err)
	}
	if sjis == csvText {
		t.Fatal("the CSV did not change when encoded: not Shift_JIS")
	}
	file := filepath.Join(t.TempDir(), "名簿.csv")
	if err := os.WriteFile(file, []byte(sjis), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"import", "subscribers", "--data", d.Data, "--list", list, "--consent-source", "窓口の紙の申込書"}

	dry := runCLI(t, "", append(append([]string{}, args...), "--dry-run", file)...)
	if dry.Exit != 0 {
		t.Fatalf("--dry-run exit %d\n%s%s", dry.Exit, dry.Stdout, dry.Stderr)
	}
	if !strings.Contains(dry.Stdout+dry.Stderr, "line 3") {
		t.Errorf("--dry-run does not name line 3 (the bad row):\n%s%s", dry.Stdout, dry.Stderr)
	}
	if rows := exportSubscribers(t, d.Data, list); len(rows) != 0 {
		t.Fatalf("--dry-run imported %v", rows)
	}

	for i := range 2 {
		res := runCLI(t, "", append(append([]string{}, args...), file)...)
		if res.Exit != 0 {
			t.Fatalf("import #%d: exit %d\n%s%s", i+1, res.Exit, res.Stdout, res.Stderr)
		}
		if !strings.Contains(res.Stdout+res.Stderr, "line 3") {
			t.Errorf("import #%d does not name line 3:\n%s%s", i+1, res.Stdout, res.Stderr)
		}
	}
	rows := exportSubscribers(t, d.Data, list)
	want := map[string]string{"ichiro@example.jp": "鈴木一郎", "jiro@example.jp": "髙橋次郎"}
	for addr, name := range want {
		if rows[addr]["name"] != name {
			t.Errorf("%s: name %q, want %q (decoded from Shift_JIS)", addr, rows[addr]["name"], name)
		}
		if rows[addr]["status"] != "confirmed" {
			t.Errorf("%s: status %q, want confirmed", addr, rows[addr]["status"])
		}
	}
	if len(rows) != len(want) {
		t.Errorf("after importing twice: %d rows, want exactly the %d good ones: %v", len(rows), len(want), rows)
	}
	// The consent log keeps how these people consented, once each.
	optIns := map[string]int{}
	for _, row := range csvList(t, mustCLI(t, "export", "consent", "--data", d.Data, "--list", list).Stdout) {
		if row["event"] != "opt-in" {
			continue
		}
		optIns[row["email"]]++
		if row["source"] != "import" || !strings.Contains(row["detail"], "窓口の紙の申込書") {
			t.Errorf("imported opt-in lacks its source: %v", row)
		}
	}
	for addr := range want {
		if optIns[addr] != 1 {
			t.Errorf("%s: %d opt-in events after importing twice, want 1", addr, optIns[addr])
		}
	}

	// Excel's "CSV UTF-8": a BOM before the header, CRLF, quoted fields.
	bom := filepath.Join(t.TempDir(), "utf8bom.csv")
	if err := os.WriteFile(bom, []byte("\ufeffname,email\r\n\"伊藤, 三郎\",saburo@example.jp\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, "", "import", "subscribers", "--data", d.Data, "--list", "kodomo-mirai", "--consent-source", "申込書", bom)
	if res.Exit != 0 {
		t.Fatalf("UTF-8 with BOM: exit %d\n%s%s", res.Exit, res.Stdout, res.Stderr)
	}
	if row := exportSubscribers(t, d.Data, "kodomo-mirai")["saburo@example.jp"]; row["name"] != "伊藤, 三郎" {
		t.Errorf("UTF-8 with BOM, columns in another order: row %v, want name 伊藤, 三郎", row)
	}
}
