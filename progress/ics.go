package progress

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// alarmDaysBefore is when each event's VALARM fires.
const alarmDaysBefore = 7

// FeedURL returns the secret address of bureau's iCalendar feed:
// BaseURL + "/progress/ics/" + token + ".ics" (token purpose "ics", no
// expiry). It is empty without a Signer. The web handler passes the last
// path segment, with or without ".ics", to ICS.
func (s *Store) FeedURL(bureau string) string {
	if s.opt.Signer == nil {
		return ""
	}
	return s.opt.BaseURL + "/progress/ics/" + s.opt.Signer.Sign(PurposeICS, []byte(bureau), time.Time{}) + ".ics"
}

// ICS returns the iCalendar feed (RFC 5545) that feedToken stands for: one
// all-day VEVENT per deadline the bureau must report for, with the bureau's
// projects in its description and a display alarm a week before.
func (s *Store) ICS(ctx context.Context, feedToken string) ([]byte, error) {
	if s.opt.Signer == nil {
		return nil, ErrNoSigner
	}
	p, err := s.opt.Signer.Verify(PurposeICS, strings.TrimSuffix(feedToken, ".ics"), s.opt.Now())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	bureau := string(p)
	c, err := contactByBureau(ctx, s.db, bureau)
	if err != nil {
		return nil, err
	}
	events, err := s.feedEvents(ctx, bureau)
	if err != nil {
		return nil, err
	}
	ps, err := projectsOf(ctx, s.db, bureau)
	if err != nil {
		return nil, err
	}
	var w icsWriter
	w.line("BEGIN:VCALENDAR")
	w.line("VERSION:2.0")
	w.line("PRODID:-//kawaraban//progress//JA")
	w.line("CALSCALE:GREGORIAN")
	w.line("METHOD:PUBLISH")
	w.line("REFRESH-INTERVAL;VALUE=DURATION:PT12H") // RFC 7986 section 5.7
	w.line("X-WR-CALNAME:" + icsText("計画の進捗管理 提出期限（"+c.nameJa+"）"))
	for _, e := range events {
		s.writeEvent(&w, e, c, ps)
	}
	w.line("END:VCALENDAR")
	return w.buf.Bytes(), nil
}

type feedEvent struct {
	d         deadlineRow
	updated   int64
	submitted bool
}

func (s *Store) feedEvents(ctx context.Context, bureau string) ([]feedEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, d.key, d.title_ja, d.due, d.updated_at, s.deadline IS NOT NULL
		FROM deadlines d JOIN deadline_bureaus db ON db.deadline = d.id AND db.bureau = ?
		LEFT JOIN submissions s ON s.deadline = d.id AND s.bureau = db.bureau ORDER BY d.due, d.key`, bureau)
	if err != nil {
		return nil, fmt.Errorf("loading deadlines of %s: %w", bureau, err)
	}
	defer rows.Close()
	var out []feedEvent
	for rows.Next() {
		var e feedEvent
		var due string
		if err := rows.Scan(&e.d.id, &e.d.key, &e.d.titleJa, &due, &e.updated, &e.submitted); err != nil {
			return nil, fmt.Errorf("loading deadlines of %s: %w", bureau, err)
		}
		if e.d.due, err = ParseDate(due); err != nil {
			return nil, fmt.Errorf("deadline %s: %w", e.d.key, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Store) writeEvent(w *icsWriter, e feedEvent, c contactRow, ps []projectLine) {
	summary := "【提出期限】" + e.d.titleJa
	if e.submitted {
		summary += "（提出済み）"
	}
	var desc strings.Builder
	fmt.Fprintf(&desc, "%s の提出期限（%s）\n", e.d.titleJa, c.nameJa)
	if len(ps) > 0 {
		desc.WriteString("対象の事業:\n")
		for _, p := range ps {
			fmt.Fprintf(&desc, "・施策%d %s: %s\n", p.Measure, p.MeasureTitle, p.Title)
		}
	}
	if u := s.submittedURL(e.d, c.bureau); u != "" && !e.submitted {
		fmt.Fprintf(&desc, "提出済みにする: %s\n", u)
	}
	w.line("BEGIN:VEVENT")
	w.line("UID:" + icsText(e.d.key+"."+c.bureau+"@"+s.uidDomain()))
	// DTSTAMP: the deadline's last change, so an unchanged feed stays
	// byte-identical between fetches (RFC 5545 section 3.8.7.2).
	w.line("DTSTAMP:" + time.Unix(e.updated, 0).UTC().Format("20060102T150405Z"))
	w.line("DTSTART;VALUE=DATE:" + e.d.due.t.Format("20060102"))
	w.line("DTEND;VALUE=DATE:" + e.d.due.AddDays(1).t.Format("20060102"))
	w.line("SUMMARY:" + icsText(summary))
	w.line("DESCRIPTION:" + icsText(strings.TrimRight(desc.String(), "\n")))
	w.line("TRANSP:TRANSPARENT")
	if !e.submitted {
		w.line("BEGIN:VALARM")
		w.line("ACTION:DISPLAY")
		w.line("DESCRIPTION:" + icsText(fmt.Sprintf("%sの提出期限まで%d日", e.d.titleJa, alarmDaysBefore)))
		w.line(fmt.Sprintf("TRIGGER:-P%dD", alarmDaysBefore))
		w.line("END:VALARM")
	}
	w.line("END:VEVENT")
}

func (s *Store) uidDomain() string {
	if u, err := url.Parse(s.opt.BaseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "kawaraban"
}

// icsText escapes a TEXT value (RFC 5545 section 3.3.11).
func icsText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// icsWriter writes content lines with CRLF, folded at 75 octets without
// splitting a UTF-8 sequence (RFC 5545 section 3.1).
type icsWriter struct{ buf bytes.Buffer }

func (w *icsWriter) line(s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.buf.WriteString(s[:cut])
		w.buf.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	w.buf.WriteString(s)
	w.buf.WriteString("\r\n")
}
