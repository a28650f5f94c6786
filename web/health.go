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
		problem := store.Classify(err)
		reason, ok := healthReasons[problem]
		if !ok {
			problem, reason = "unknown", healthReasons["unknown"]
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "failing", "problem": problem, "reason": reason})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// healthReasons are /healthz's messages, one per problem code: fixed
// words, never the error itself (it may name files and statements; the
// log has it).
var healthReasons = map[string]string{
	store.ProblemCorrupt:  "the database fails its integrity check; nothing is sent until it is restored from a backup",
	store.ProblemDiskFull: "the database's disk is full; writes fail until space is freed",
	store.ProblemReadOnly: "the database cannot be written (a read-only file or file system)",
	store.ProblemIO:       "the database's disk or file system fails (I/O errors)",
	"unknown":             "the database reports a problem; see the daemon's log",
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
