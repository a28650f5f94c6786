package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"kawaraban/store"
)

// Health is the database's health (store.Health satisfies it): /healthz
// fails while Err is not nil, admin pages show a banner, and the errors
// of failed requests are passed to Observe so that a "malformed" or "disk
// full" answer from SQLite turns it to failing.
type Health interface {
	Err() error
	Observe(err error)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var one int
	if err := s.opt.DB.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		s.observe(err)
		s.log.Error("healthz: database does not answer", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	if err := s.dbProblem(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{
			"status": "failing", "problem": store.Classify(err), "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// observe passes a failed request's error to Health.
func (s *Server) observe(err error) {
	if s.opt.Health != nil && err != nil && !errors.Is(err, context.Canceled) {
		s.opt.Health.Observe(err)
	}
}

// dbProblem is Health's error, or nil.
func (s *Server) dbProblem() error {
	if s.opt.Health == nil {
		return nil
	}
	return s.opt.Health.Err()
}

// healthBanner is the catalogue key of the admin banner for the database's
// problem, "" when it is healthy.
func (s *Server) healthBanner() string {
	err := s.dbProblem()
	if err == nil {
		return ""
	}
	switch store.Classify(err) {
	case store.ProblemCorrupt:
		return "health.corrupt"
	case store.ProblemDiskFull:
		return "health.full"
	case store.ProblemReadOnly:
		return "health.readonly"
	}
	return "health.io"
}
