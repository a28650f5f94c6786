package mailer

import (
	"maps"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultDomainLimits are conservative starting points for the Japanese
// mobile carriers, which throttle bulk senders hard (421/450 replies, then
// blocks) and ask for few messages per connection (docomo: at most 100).
// They are not published figures; operators override them through
// Options.DomainLimits.
func DefaultDomainLimits() map[string]DomainLimit {
	carrier := DomainLimit{PerMinute: 600, Concurrency: 2, MaxRcptPerConn: 100}
	return map[string]DomainLimit{
		"docomo.ne.jp":   carrier,
		"ezweb.ne.jp":    carrier,
		"au.com":         carrier,
		"softbank.ne.jp": carrier,
		"i.softbank.jp":  carrier,
		"ymobile.ne.jp":  {PerMinute: 300, Concurrency: 2, MaxRcptPerConn: 100},
	}
}

func mergeLimits(over map[string]DomainLimit) map[string]DomainLimit {
	out := DefaultDomainLimits()
	for d, l := range over {
		out[strings.ToLower(d)] = l
	}
	return out
}

// limiter applies the global rate, per-domain rates and concurrency, and
// throttling holds after 421/454 replies. Times come from the caller so that
// tests drive it with an injected clock.
type limiter struct {
	mu      sync.Mutex
	global  *rate.Limiter
	limits  map[string]DomainLimit
	domains map[string]*domainState
	hold    time.Duration // first throttling hold
}

type domainState struct {
	lim       *rate.Limiter // nil: no per-minute cap
	inflight  int
	holdUntil time.Time
	penalty   int
}

func newLimiter(perSecond float64, limits map[string]DomainLimit) *limiter {
	l := &limiter{limits: maps.Clone(limits), domains: map[string]*domainState{}, hold: 30 * time.Second}
	if perSecond > 0 {
		l.global = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/10)))
	}
	return l
}

func (l *limiter) limit(domain string) DomainLimit { return l.limits[domain] }

func (l *limiter) state(domain string) *domainState {
	s := l.domains[domain]
	if s == nil {
		s = &domainState{}
		if lim := l.limits[domain]; lim.PerMinute > 0 {
			s.lim = rate.NewLimiter(rate.Limit(float64(lim.PerMinute)/60), max(1, lim.PerMinute/60))
		}
		l.domains[domain] = s
	}
	return s
}

// acquire asks to start one send to domain at now. It returns 0 and true
// when the send may start (the caller must call release after it), or the
// time to wait before asking again.
func (l *limiter) acquire(domain string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(domain)
	if now.Before(s.holdUntil) {
		return s.holdUntil.Sub(now), false
	}
	if c := l.limits[domain].Concurrency; c > 0 && s.inflight >= c {
		return 20 * time.Millisecond, false
	}
	var dr, gr *rate.Reservation
	if s.lim != nil {
		dr = s.lim.ReserveN(now, 1)
		if d := dr.DelayFrom(now); d > 0 {
			dr.CancelAt(now)
			return d, false
		}
	}
	if l.global != nil {
		gr = l.global.ReserveN(now, 1)
		if d := gr.DelayFrom(now); d > 0 {
			gr.CancelAt(now)
			if dr != nil {
				dr.CancelAt(now)
			}
			return d, false
		}
	}
	s.inflight++
	return 0, true
}

// release ends a send started by acquire.
func (l *limiter) release(domain string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.domains[domain]; s != nil && s.inflight > 0 {
		s.inflight--
	}
}

// throttle holds domain after a 421/454 reply: l.hold (30 s), doubling
// with each further throttle up to 10 minutes. It returns when sending may
// resume.
func (l *limiter) throttle(domain string, now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(domain)
	d := min(l.hold<<min(s.penalty, 5), 10*time.Minute)
	s.penalty++
	if until := now.Add(d); until.After(s.holdUntil) {
		s.holdUntil = until
	}
	return s.holdUntil
}

// ok clears the throttling penalty of domain after a success.
func (l *limiter) ok(domain string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.domains[domain]; s != nil {
		s.penalty = 0
	}
}

// Window is a sending window: outbox mail waits until it is open.
type Window struct {
	// Weekdays on which mail goes out; empty means every day.
	Weekdays []time.Weekday
	// From and To are times of day (offsets from midnight in Location);
	// mail goes out in [From, To). From == To means all day.
	From, To time.Duration
	// Location for the times of day (default time.Local).
	Location *time.Location
	// AvoidFirstMinutes holds mail to a domain during the first minutes of
	// each hour (docomo asks senders to avoid the top of the hour).
	AvoidFirstMinutes map[string]int
}

// Next returns t when mail to domain may go out at t, or else the next time
// the window opens.
func (w *Window) Next(t time.Time, domain string) time.Time {
	if w == nil {
		return t
	}
	loc := w.Location
	if loc == nil {
		loc = time.Local
	}
	t = t.In(loc)
	for range 64 {
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		nextDay := day.AddDate(0, 0, 1)
		switch {
		case !w.dayOK(t.Weekday()):
			t = nextDay.Add(w.From)
		case w.From != w.To && t.Before(day.Add(w.From)):
			t = day.Add(w.From)
		case w.From != w.To && !t.Before(day.Add(w.To)):
			t = nextDay.Add(w.From)
		case t.Minute() < w.AvoidFirstMinutes[domain]:
			t = t.Truncate(time.Minute).Add(time.Duration(w.AvoidFirstMinutes[domain]-t.Minute()) * time.Minute)
		default:
			return t
		}
	}
	return t
}

func (w *Window) dayOK(d time.Weekday) bool {
	if len(w.Weekdays) == 0 {
		return true
	}
	for _, x := range w.Weekdays {
		if x == d {
			return true
		}
	}
	return false
}
