package progress

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// icsProp is one parsed content line.
type icsProp struct{ name, params, value string }

// parseICS unfolds and splits an iCalendar stream (RFC 5545 section 3.1)
// into components: each VEVENT's properties, and the VALARMs inside it.
func parseICS(t *testing.T, b []byte) (cal []icsProp, events []map[string]icsProp, alarms []map[string]icsProp) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(b, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("lines must end in CRLF only")
	}
	for _, l := range strings.Split(string(b), "\r\n") {
		if len(l) > 75 {
			t.Fatalf("line of %d octets: %q", len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Fatalf("fold split a UTF-8 sequence: %q", l)
		}
	}
	unfolded := strings.ReplaceAll(string(b), "\r\n ", "")
	var stack []string
	for _, l := range strings.Split(strings.TrimSuffix(unfolded, "\r\n"), "\r\n") {
		nameParams, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("content line without colon: %q", l)
		}
		name, params, _ := strings.Cut(nameParams, ";")
		p := icsProp{name, params, unescapeICS(value)}
		switch {
		case name == "BEGIN":
			stack = append(stack, value)
			switch value {
			case "VEVENT":
				events = append(events, map[string]icsProp{})
			case "VALARM":
				alarms = append(alarms, map[string]icsProp{})
			}
		case name == "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				t.Fatalf("END:%s does not match %v", value, stack)
			}
			stack = stack[:len(stack)-1]
		case len(stack) > 0 && stack[len(stack)-1] == "VALARM":
			alarms[len(alarms)-1][name] = p
		case len(stack) > 0 && stack[len(stack)-1] == "VEVENT":
			events[len(events)-1][name] = p
		default:
			cal = append(cal, p)
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed %v", stack)
	}
	return cal, events, alarms
}

func unescapeICS(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\;`, ";", `\,`, ",", `\n`, "\n", `\N`, "\n").Replace(s)
}

func TestICSFeedParsesBack(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	// A second deadline with text that needs escaping and folding.
	f.importString(t, "deadlines: [{id: fy2027-plan, title_ja: \"令和9年度 実施計画; 事業一覧, 予算（見込み）を含む長い件名の提出\", due: 2027-03-19, bureaus: [somu]}]\n")
	feed := f.s.FeedURL("somu")
	tok := feed[strings.LastIndex(feed, "/")+1:]
	b, err := f.s.ICS(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	cal, events, alarms := parseICS(t, b)
	if cal[0].name != "VERSION" || cal[0].value != "2.0" {
		t.Fatalf("calendar properties %+v", cal)
	}
	if len(events) != 2 || len(alarms) != 2 {
		t.Fatalf("%d events, %d alarms", len(events), len(alarms))
	}
	e := events[1]
	if e["DTSTART"].params != "VALUE=DATE" || e["DTSTART"].value != "20270430" || e["DTEND"].value != "20270501" {
		t.Fatalf("DTSTART %+v DTEND %+v", e["DTSTART"], e["DTEND"])
	}
	if e["UID"].value != "fy2026-status.somu@mail.city.example.jp" || e["DTSTAMP"].value == "" {
		t.Fatalf("UID %+v DTSTAMP %+v", e["UID"], e["DTSTAMP"])
	}
	if !strings.Contains(e["DESCRIPTION"].value, "・施策32 市民参加を進めるための庁内の仕組みづくり: 市民参加を促進する職員研修の充実\n") {
		t.Fatalf("DESCRIPTION %q", e["DESCRIPTION"].value)
	}
	if got := events[0]["SUMMARY"].value; got != "【提出期限】令和9年度 実施計画; 事業一覧, 予算（見込み）を含む長い件名の提出" {
		t.Fatalf("SUMMARY round trip %q", got)
	}
	if alarms[0]["TRIGGER"].value != "-P7D" || alarms[0]["ACTION"].value != "DISPLAY" {
		t.Fatalf("VALARM %+v", alarms[0])
	}
	// Stable: the same bytes on the next fetch; the submitted report loses its alarm.
	again, _ := f.s.ICS(context.Background(), strings.TrimSuffix(tok, ".ics"))
	if !bytes.Equal(b, again) {
		t.Fatal("feed changed between fetches")
	}
	if err := f.s.MarkSubmitted(context.Background(), "fy2026-status", "somu", "admin", "coordinator"); err != nil {
		t.Fatal(err)
	}
	b, _ = f.s.ICS(context.Background(), tok)
	_, events, alarms = parseICS(t, b)
	if len(alarms) != 1 || !strings.Contains(events[1]["SUMMARY"].value, "提出済み") || events[1]["UID"].value != e["UID"].value {
		t.Fatalf("after submission: %+v %d alarms", events[1], len(alarms))
	}
}

func TestICSRefusesBadTokens(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t)
	submitted, _ := f.s.SubmittedURL(context.Background(), "fy2026-status", "somu")
	cases := map[string]string{
		"garbage":        "not-a-token",
		"other purpose":  submitted[strings.LastIndex(submitted, "/")+1:],
		"unknown bureau": f.sign.Sign(PurposeICS, []byte("nobody"), at(0).AddDate(1, 0, 0)),
		"empty":          "",
	}
	for name, tok := range cases {
		_, err := f.s.ICS(context.Background(), tok)
		if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestICSFolding(t *testing.T) {
	t.Parallel()
	var w icsWriter
	long := "DESCRIPTION:" + strings.Repeat("あ", 60) + strings.Repeat("a", 7)
	w.line(long)
	for _, l := range strings.Split(strings.TrimSuffix(w.buf.String(), "\r\n"), "\r\n") {
		if len(l) > 75 || !utf8.ValidString(l) {
			t.Fatalf("bad folded line %q", l)
		}
	}
	if got := strings.ReplaceAll(strings.TrimSuffix(w.buf.String(), "\r\n"), "\r\n ", ""); got != long {
		t.Fatalf("unfolds to %q", got)
	}
}
