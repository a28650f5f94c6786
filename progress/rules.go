package progress

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date. Its zero value is no date.
type Date struct{ t time.Time } // midnight UTC of the date

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return Date{t}, nil
}

// DateOf returns the calendar date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return d.t.Format(time.DateOnly) }

// IsZero reports whether d is no date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// DaysUntil returns the number of calendar days from d to e (negative when
// e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e.t.Sub(d.t).Hours() / 24) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// In returns midnight of the date in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.t.Year(), d.t.Month(), d.t.Day(), 0, 0, 0, 0, loc)
}

var weekdaysJa = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// Japanese formats the date as 2027年4月30日(金).
func (d Date) Japanese() string {
	return fmt.Sprintf("%d年%d月%d日(%s)", d.t.Year(), int(d.t.Month()), d.t.Day(), weekdaysJa[d.t.Weekday()])
}

// Rules are the reminder rules of the progress file's reminders section.
type Rules struct {
	// BeforeDays are the offsets before the due date that get a reminder;
	// the due day itself (0) always gets one.
	BeforeDays []int
	// OverdueEveryDays is the interval of reminders after the due date
	// (0 = none).
	OverdueEveryDays int
	// EscalateAfterDays is how many days after the due date the coordinator
	// is told too, and again every OverdueEveryDays after that (0 = never).
	EscalateAfterDays int
	// Coordinator is the address escalations and the digest go to.
	Coordinator string
}

// DefaultRules are used until a file with a reminders section is imported.
var DefaultRules = Rules{BeforeDays: []int{30, 14, 7, 1, 0}, OverdueEveryDays: 3, EscalateAfterDays: 7}

func (r Rules) beforeText() string {
	s := make([]string, len(r.BeforeDays))
	for i, d := range r.BeforeDays {
		s[i] = strconv.Itoa(d)
	}
	return strings.Join(s, ",")
}

func parseBeforeText(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("reminder rule before_days %q: %w", s, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// occurrence is one date on which a rule asks for a mail.
type occurrence struct {
	date  Date
	label string // before-7, due, overdue-3, escalate-7
}

// latestReminder returns the latest reminder occurrence on or before today
// for a deadline due on due, and whether there is one. Taking only the
// latest is how missed days are caught up with one reminder, not several.
func (r Rules) latestReminder(due, today Date) (occurrence, bool) {
	late := due.DaysUntil(today) // > 0 when overdue
	if late >= 0 {
		if r.OverdueEveryDays > 0 && late >= r.OverdueEveryDays {
			n := late / r.OverdueEveryDays * r.OverdueEveryDays
			return occurrence{due.AddDays(n), fmt.Sprintf("overdue-%d", n)}, true
		}
		return occurrence{due, "due"}, true
	}
	offsets := append([]int(nil), r.BeforeDays...)
	sort.Sort(sort.Reverse(sort.IntSlice(offsets)))
	best, found := 0, false
	for _, k := range offsets {
		if k > 0 && k >= -late { // due-k is on or before today
			best, found = k, true
		}
	}
	if !found {
		return occurrence{}, false
	}
	return occurrence{due.AddDays(-best), fmt.Sprintf("before-%d", best)}, true
}

// latestEscalation returns the latest escalation occurrence on or before
// today: EscalateAfterDays after the due date, then every OverdueEveryDays.
func (r Rules) latestEscalation(due, today Date) (occurrence, bool) {
	if r.EscalateAfterDays <= 0 || r.Coordinator == "" {
		return occurrence{}, false
	}
	late := due.DaysUntil(today)
	if late < r.EscalateAfterDays {
		return occurrence{}, false
	}
	n := r.EscalateAfterDays
	if r.OverdueEveryDays > 0 {
		n += (late - r.EscalateAfterDays) / r.OverdueEveryDays * r.OverdueEveryDays
	}
	return occurrence{due.AddDays(n), fmt.Sprintf("escalate-%d", n)}, true
}
