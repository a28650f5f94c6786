package mailer

import (
	"sync"
	"time"
)

// meterSpan is how far back the sending rate looks.
const meterSpan = 60

// meter counts the messages this process sent per issue in one-second
// buckets over the last minute, for the rate and ETA of Progress. It
// replaced a query that read every sent row of the issue on each call
// (about 7 ms per progress view at 100,000 recipients). It also keeps each
// issue's last failure, so an editor sees why mail waits.
type meter struct {
	mu     sync.Mutex
	issues map[int64]*meterRing
	errs   map[int64]issueError
}

// issueError is the last failure seen for an issue.
type issueError struct {
	text string
	at   time.Time
}

// errorShown is how long Progress reports an issue's last failure.
const errorShown = 15 * time.Minute

// fail records the last failure of issue.
func (m *meter) fail(issue int64, at time.Time, text string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, e := range m.errs {
		if at.Sub(e.at) > errorShown {
			delete(m.errs, id)
		}
	}
	m.errs[issue] = issueError{text, at}
}

// lastError is issue's last failure in the last errorShown, if any.
func (m *meter) lastError(issue int64, now time.Time) (string, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.errs[issue]
	if !ok || now.Sub(e.at) > errorShown {
		return "", time.Time{}
	}
	return e.text, e.at
}

type meterRing struct {
	sec [meterSpan]int64 // the unix second each bucket counts
	n   [meterSpan]int
}

func newMeter() *meter {
	return &meter{issues: map[int64]*meterRing{}, errs: map[int64]issueError{}}
}

// add counts n messages of issue sent at now.
func (m *meter) add(issue int64, now time.Time, n int) {
	if n <= 0 {
		return
	}
	s := now.Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.issues[issue]
	if r == nil {
		m.sweep(s)
		r = &meterRing{}
		m.issues[issue] = r
	}
	i := s % meterSpan
	if r.sec[i] != s {
		r.sec[i], r.n[i] = s, 0
	}
	r.n[i] += n
}

// rate is messages per second over the last minute: the count divided by
// the time since the oldest bucket in it (at least one second), so a run
// that began 5 s ago is not averaged over 60. Zero when nothing was sent
// in the last minute.
func (m *meter) rate(issue int64, now time.Time) float64 {
	s := now.Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.issues[issue]
	if r == nil {
		return 0
	}
	total, oldest := 0, s
	for i := range r.sec {
		if r.n[i] > 0 && r.sec[i] > s-meterSpan && r.sec[i] <= s {
			total += r.n[i]
			oldest = min(oldest, r.sec[i])
		}
	}
	if total == 0 {
		return 0
	}
	span := now.Sub(time.Unix(oldest, 0))
	return float64(total) / max(span.Seconds(), 1)
}

// sweep forgets issues with nothing in the last minute. Called with mu
// held when an issue is added, so the map holds only recent issues.
func (m *meter) sweep(s int64) {
	for id, r := range m.issues {
		live := false
		for i := range r.sec {
			if r.n[i] > 0 && r.sec[i] > s-meterSpan {
				live = true
				break
			}
		}
		if !live {
			delete(m.issues, id)
		}
	}
}
