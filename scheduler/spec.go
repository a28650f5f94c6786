package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ErrInvalidSpec reports a cron spec that does not parse or never fires.
var ErrInvalidSpec = errors.New("invalid schedule spec")

// ErrUnknownTimezone reports a timezone name the system does not know.
var ErrUnknownTimezone = errors.New("unknown timezone")

// specParser reads the standard five fields and the descriptors.
var specParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// timing computes a schedule's instants.
type timing struct {
	spec  cron.Schedule // nil for a one-off
	every bool          // @every: elapsed time, not wall-clock
	once  time.Time     // the one-off instant
	loc   *time.Location
}

// parseTiming validates a spec (or a one-off instant) and its timezone.
func parseTiming(spec string, once time.Time, tz string, def *time.Location) (timing, error) {
	loc := def
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return timing{}, fmt.Errorf("%w %q: not an IANA timezone name such as Asia/Tokyo", ErrUnknownTimezone, tz)
		}
		loc = l
	}
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "" && once.IsZero():
		return timing{}, fmt.Errorf("%w: neither a spec nor a one-off time is given", ErrInvalidSpec)
	case spec != "" && !once.IsZero():
		return timing{}, fmt.Errorf("%w %q: a schedule has a spec or a one-off time, not both", ErrInvalidSpec, spec)
	case spec == "":
		return timing{once: once.Truncate(time.Second), loc: loc}, nil
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return timing{}, fmt.Errorf("%w %q: give the timezone in the tz field, not in the spec", ErrInvalidSpec, spec)
	}
	s, err := specParser.Parse(spec)
	if err != nil {
		return timing{}, fmt.Errorf("%w %q: %v", ErrInvalidSpec, spec, err)
	}
	if ss, ok := s.(*cron.SpecSchedule); ok && ss.Dom&starBit == 0 && ss.Dow&starBit == 0 {
		s = bothDays{ss}
	}
	_, every := s.(cron.ConstantDelaySchedule)
	t := timing{spec: s, every: every, loc: loc}
	if every && s.(cron.ConstantDelaySchedule).Delay < time.Second {
		return timing{}, fmt.Errorf("%w %q: interval below one second", ErrInvalidSpec, spec)
	}
	if t.next(time.Date(2026, 1, 1, 0, 0, 0, 0, loc)).IsZero() {
		return timing{}, fmt.Errorf("%w %q: it never fires", ErrInvalidSpec, spec)
	}
	return t, nil
}

// starBit marks a cron field given as "*" (robfig/cron's convention).
const starBit = 1 << 63

// bothDays is a spec that restricts both the day of the month and the day
// of the week. Unlike Vixie cron, which fires when either matches, it
// fires only when both do, so "0 10 1-7 * 1" is 10:00 on the first Monday
// of the month, the rhythm magazines go out on.
type bothDays struct{ s *cron.SpecSchedule }

// Next skips the instants where only one of the two day fields matches.
func (b bothDays) Next(t time.Time) time.Time {
	for range 20000 { // either-day instants come at least weekly
		t = b.s.Next(t)
		if t.IsZero() || (b.s.Dom&(1<<uint(t.Day())) != 0 && b.s.Dow&(1<<uint(t.Weekday())) != 0) {
			return t
		}
	}
	return time.Time{}
}

// next returns the first instant strictly after t, or the zero time if
// there is none.
func (tm timing) next(t time.Time) time.Time {
	switch {
	case tm.spec == nil:
		if tm.once.After(t) {
			return tm.once.In(tm.loc)
		}
		return time.Time{}
	case tm.every:
		return tm.spec.Next(t.In(tm.loc))
	}
	return tm.wallNext(t)
}

// wallNext runs the cron spec on "floating" wall-clock time (UTC, which has
// no DST) and maps each match back into the location, so that a wall time
// the clocks skip still fires and a repeated one fires once.
func (tm timing) wallNext(t time.Time) time.Time {
	a := t.In(tm.loc)
	w := time.Date(a.Year(), a.Month(), a.Day(), a.Hour(), a.Minute(), a.Second(), 0, time.UTC)
	for range 2000 { // a repeated hour of minutely matches takes 60
		w = tm.spec.Next(w)
		if w.IsZero() {
			return time.Time{}
		}
		if r := firstInstant(w, tm.loc); r.After(t) {
			return r
		}
	}
	return time.Time{}
}

// firstInstant returns the earliest instant whose wall clock in loc reads
// w (w's fields, in UTC). A wall time the clocks skip is read with the
// offset before the jump, so 02:30 on a spring-forward day is 03:30 after
// it. (time.Date leaves the choice in such cases unspecified.) It assumes
// at most one offset change within a day either side, as in every zone.
func firstInstant(w time.Time, loc *time.Location) time.Time {
	base := w.Unix()
	var offsets [3]int
	for i, probe := range []int64{base - 86400, base, base + 86400} {
		_, offsets[i] = time.Unix(probe, 0).In(loc).Zone()
	}
	var best time.Time
	for _, off := range offsets {
		c := time.Unix(base-int64(off), 0).In(loc)
		if sameWall(c, w) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if best.IsZero() {
		best = time.Unix(base-int64(offsets[0]), 0).In(loc)
	}
	return best
}

func sameWall(a, w time.Time) bool {
	return a.Year() == w.Year() && a.YearDay() == w.YearDay() && a.Hour() == w.Hour() &&
		a.Minute() == w.Minute() && a.Second() == w.Second()
}

// due returns how many instants lie in (after, upTo] and the latest one.
// A wall-clock spec stops after a million instants (two years of minutely
// fires); the schedule then catches up over several ticks.
func (tm timing) due(after, upTo time.Time) (n int, last time.Time) {
	if tm.every {
		d := tm.spec.(cron.ConstantDelaySchedule).Delay
		first := tm.next(after)
		if first.IsZero() || first.After(upTo) {
			return 0, time.Time{}
		}
		k := int(upTo.Sub(first) / d)
		return k + 1, first.Add(time.Duration(k) * d)
	}
	for t := tm.next(after); !t.IsZero() && !t.After(upTo); t = tm.next(t) {
		n, last = n+1, t
		if n == 1_000_000 {
			break
		}
	}
	return n, last
}
