package mailer

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// errLogEvery is how often one repeated error is logged: the first time at
// once, then at most once per interval with the number of repeats.
const errLogEvery = time.Minute

// errLog logs repeated identical errors once per interval with a count, so
// that a loop that keeps failing (a full disk, a locked database) writes a
// few lines a minute instead of one per attempt.
type errLog struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]*errSeen
}

type errSeen struct {
	at      time.Time // when it was last written
	repeats int       // how often it came since, unwritten
}

func newErrLog(log *slog.Logger, every time.Duration, now func() time.Time) *errLog {
	return &errLog{log: log, every: every, now: now, seen: map[string]*errSeen{}}
}

// error logs msg with err at level Error unless the same msg and error text
// were logged less than an interval ago; then it only counts.
func (l *errLog) error(msg string, err error, attrs ...any) {
	key := msg + "\x00" + err.Error()
	now := l.now()
	l.mu.Lock()
	s, ok := l.seen[key]
	if ok && now.Sub(s.at) < l.every {
		s.repeats++
		l.mu.Unlock()
		return
	}
	repeats := 0
	if ok {
		repeats = s.repeats
	}
	if len(l.seen) > 100 { // forget old keys; errors that vary (ids) must not grow it
		for k, v := range l.seen {
			if now.Sub(v.at) >= l.every {
				delete(l.seen, k)
			}
		}
	}
	l.seen[key] = &errSeen{at: now}
	l.mu.Unlock()
	attrs = append(attrs, "err", err)
	if repeats > 0 {
		attrs = append(attrs, "repeated", repeats, "interval", l.every)
	}
	l.log.Log(context.Background(), slog.LevelError, msg, attrs...)
}
