package progress

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"
)

// NextReminder is when the reminder job will next mail about a deadline:
// the first rule occurrence on or after today that has not been sent to
// every bureau still to submit.
type NextReminder struct {
	Deadline string // stable id
	Date     Date
	Label    string   // before-7, due, overdue-3 (as in Reminder.Label)
	Bureaus  []string // those it goes to: not submitted, not yet reminded for it
	// EscalateDate is when the coordinator will next be told (zero: not
	// by the rules, or no coordinator); EscalateLabel is its rule.
	EscalateDate  Date
	EscalateLabel string
}

// NextReminders returns, for each deadline with a bureau still to submit,
// the next reminder the job will send as of now, ordered by date.
func (s *Store) NextReminders(ctx context.Context, now time.Time) ([]NextReminder, error) {
	today := DateOf(now, s.loc)
	rules, err := loadRules(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("next reminders: %w", err)
	}
	pairs, err := pendingPairs(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("next reminders: %w", err)
	}
	byDeadline := map[int64][]pair{}
	var order []int64
	for _, p := range pairs {
		if _, ok := byDeadline[p.deadline.id]; !ok {
			order = append(order, p.deadline.id)
		}
		byDeadline[p.deadline.id] = append(byDeadline[p.deadline.id], p)
	}
	var out []NextReminder
	for _, id := range order {
		ps := byDeadline[id]
		due := ps[0].deadline.due
		nr := NextReminder{Deadline: ps[0].deadline.key}
		for from := today; ; {
			occ, ok := rules.nextReminder(due, from)
			if !ok {
				break
			}
			left, err := s.notYetSent(ctx, ps, "remind", occ.date)
			if err != nil {
				return nil, err
			}
			if len(left) > 0 {
				nr.Date, nr.Label, nr.Bureaus = occ.date, occ.label, left
				break
			}
			from = occ.date.AddDays(1)
		}
		for from := today; ; {
			occ, ok := rules.nextEscalation(due, from)
			if !ok {
				break
			}
			left, err := s.notYetSent(ctx, ps, "escalate", occ.date)
			if err != nil {
				return nil, err
			}
			if len(left) > 0 {
				nr.EscalateDate, nr.EscalateLabel = occ.date, occ.label
				break
			}
			from = occ.date.AddDays(1)
		}
		if !nr.Date.IsZero() || !nr.EscalateDate.IsZero() {
			out = append(out, nr)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out, nil
}

// notYetSent are the bureaus of ps with no sent (or given up) reminder of
// kind for the occurrence on date.
func (s *Store) notYetSent(ctx context.Context, ps []pair, kind string, date Date) ([]string, error) {
	var left []string
	for _, p := range ps {
		var n int
		err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM reminders_sent WHERE deadline = ? AND bureau = ?
			AND kind = ? AND occurrence >= ? AND status IN ('sent', 'failed')`, p.deadline.id, p.bureau, kind, date.String()).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("next reminders: %w", err)
		}
		if n == 0 {
			left = append(left, p.bureau)
		}
	}
	return left, nil
}

// nextReminder returns the first reminder occurrence on or after from for a
// deadline due on due: a before_days offset, the due day, then every
// OverdueEveryDays after it. The labels are latestReminder's.
func (r Rules) nextReminder(due, from Date) (occurrence, bool) {
	offsets := slices.Clone(r.BeforeDays)
	sort.Sort(sort.Reverse(sort.IntSlice(offsets)))
	for _, k := range offsets {
		if d := due.AddDays(-k); k > 0 && !d.Before(from) {
			return occurrence{d, fmt.Sprintf("before-%d", k)}, true
		}
	}
	if !due.Before(from) {
		return occurrence{due, "due"}, true
	}
	if r.OverdueEveryDays <= 0 {
		return occurrence{}, false
	}
	late := due.DaysUntil(from)
	n := (late + r.OverdueEveryDays - 1) / r.OverdueEveryDays * r.OverdueEveryDays
	return occurrence{due.AddDays(n), fmt.Sprintf("overdue-%d", n)}, true
}

// nextEscalation returns the first escalation occurrence on or after from
// (latestEscalation's rule, looking forward).
func (r Rules) nextEscalation(due, from Date) (occurrence, bool) {
	if r.EscalateAfterDays <= 0 || r.Coordinator == "" {
		return occurrence{}, false
	}
	n := r.EscalateAfterDays
	if late := due.DaysUntil(from); late > n {
		if r.OverdueEveryDays <= 0 {
			return occurrence{}, false
		}
		n += (late - n + r.OverdueEveryDays - 1) / r.OverdueEveryDays * r.OverdueEveryDays
	}
	return occurrence{due.AddDays(n), fmt.Sprintf("escalate-%d", n)}, true
}
