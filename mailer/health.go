package mailer

import "time"

// Health is the database's health as the mailer sees it (store.Health
// satisfies it). While Err is not nil the mailer sends nothing: a mail
// sent to a database that cannot record it risks going out twice. Observe
// is told the outcome of the mailer's writes, so that a full disk or a
// corrupt page turns the daemon's health to failing, and a write that
// succeeds again clears a full disk.
type Health interface {
	Err() error
	Observe(err error)
}

// pauseMin and pauseMax bound the pauses between tries to record results
// that could not be written: they double from pauseMin to pauseMax.
const (
	pauseMin = time.Second
	pauseMax = 30 * time.Second
)

// grow returns the next pause after p, between lo and hi.
func grow(p, lo, hi time.Duration) time.Duration {
	if p < lo {
		return lo
	}
	return min(2*p, hi)
}

// healthErr is the store's problem, or nil.
func (m *Mailer) healthErr() error {
	if m.opt.Health == nil {
		return nil
	}
	return m.opt.Health.Err()
}

// observe tells Health how a write went.
func (m *Mailer) observeWrite(err error) {
	if m.opt.Health != nil {
		m.opt.Health.Observe(err)
	}
}
