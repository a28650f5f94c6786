package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"
)

// Problem kinds a Health reports.
const (
	ProblemCorrupt  = "corrupt"   // quick_check failed or SQLite said "malformed"
	ProblemDiskFull = "disk-full" // SQLITE_FULL: writes fail until space returns
	ProblemReadOnly = "read-only" // the file or its directory cannot be written
	ProblemIO       = "io"        // SQLITE_IOERR: the disk or file system failed
)

// ErrUnhealthy wraps every error Health.Err returns.
var ErrUnhealthy = errors.New("database unhealthy")

// HealthOptions tunes a Health. The zero value is the production default.
type HealthOptions struct {
	// CheckEvery is how often PRAGMA quick_check runs (default 1h).
	CheckEvery time.Duration
	// ProbeEvery is how often, while writes fail, a one-row write tests
	// whether they work again (default 5s).
	ProbeEvery time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Health watches whether the database can be trusted and written: PRAGMA
// quick_check at start (Check) and on a schedule (Run), and every error
// its users pass to Observe. A corrupt database stays unhealthy until a
// quick_check passes; a write problem (full disk, read-only, I/O error)
// clears when a write succeeds again, which Run tests every few seconds.
// The daemon sends nothing while Err is not nil. It is safe for
// concurrent use.
type Health struct {
	db  *sql.DB
	opt HealthOptions
	log *slog.Logger

	mu      sync.Mutex
	corrupt string // quick_check's or SQLite's words; "" when fine
	write   string // kind of write problem; "" when fine
	writeAt time.Time
	reason  string // the write problem's error text
	since   time.Time
}

// HealthStatus is what /healthz shows.
type HealthStatus struct {
	OK bool
	// Problem is one of the Problem* kinds, Reason says what SQLite said.
	Problem, Reason string
	Since           time.Time
}

// NewHealth returns a Health for db, healthy until told otherwise.
func NewHealth(db *sql.DB, opt HealthOptions) (*Health, error) {
	if opt.CheckEvery <= 0 {
		opt.CheckEvery = time.Hour
	}
	if opt.ProbeEvery <= 0 {
		opt.ProbeEvery = 5 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &Health{db: db, opt: opt, log: opt.Logger}
	if opt.Registerer != nil {
		healthy := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kawaraban_db_healthy",
			Help: "1 when the database passed its last quick_check and takes writes; 0 when corrupt, full or not writable (see /healthz for why).",
		}, func() float64 {
			if h.Err() != nil {
				return 0
			}
			return 1
		})
		if err := opt.Registerer.Register(healthy); err != nil {
			return nil, fmt.Errorf("registering health metric: %w", err)
		}
	}
	return h, nil
}

// Status is the current health.
func (h *Health) Status() HealthStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.corrupt != "":
		return HealthStatus{Problem: ProblemCorrupt, Reason: h.corrupt, Since: h.since}
	case h.write != "":
		return HealthStatus{Problem: h.write, Reason: h.reason, Since: h.writeAt}
	}
	return HealthStatus{OK: true}
}

// Err is nil when the database is healthy, else an *UnhealthyError (it
// matches ErrUnhealthy) that says why.
func (h *Health) Err() error {
	st := h.Status()
	if st.OK {
		return nil
	}
	return &UnhealthyError{Problem: st.Problem, Reason: st.Reason}
}

// UnhealthyError is Health's answer while the database has a problem.
type UnhealthyError struct {
	Problem string // one of the Problem* kinds
	Reason  string
}

func (e *UnhealthyError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrUnhealthy, e.Problem, e.Reason)
}

// Is makes errors.Is(err, ErrUnhealthy) true.
func (e *UnhealthyError) Is(target error) bool { return target == ErrUnhealthy }

// Observe learns from the outcome of a database call: a "malformed" error
// marks the database corrupt (until a quick_check passes), a full disk,
// read-only file or I/O error marks writes failing; nil — a write that
// worked — clears a write problem.
func (h *Health) Observe(err error) {
	if err == nil {
		h.mu.Lock()
		cleared := h.write
		h.write, h.reason = "", ""
		h.mu.Unlock()
		if cleared != "" {
			h.log.Info("database takes writes again", "problem", cleared)
		}
		return
	}
	kind := Classify(err)
	if kind == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if kind == ProblemCorrupt {
		if h.corrupt == "" {
			h.since = time.Now()
			h.log.Error("database is corrupt; sending stops", "err", err)
		}
		h.corrupt = err.Error()
		return
	}
	if h.write == "" {
		h.writeAt = time.Now()
		h.log.Error("database does not take writes; sending waits", "problem", kind, "err", err)
	}
	h.write, h.reason = kind, err.Error()
}

// Classify names the health problem err shows (a Problem* kind), or ""
// when it shows none (a constraint, a busy database, a missing row).
func Classify(err error) string {
	var ue *UnhealthyError
	if errors.As(err, &ue) {
		return ue.Problem
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
			return ProblemCorrupt
		case sqlite3.ErrFull:
			return ProblemDiskFull
		case sqlite3.ErrReadonly:
			return ProblemReadOnly
		case sqlite3.ErrIoErr:
			return ProblemIO
		}
	}
	// By the words too: errors wrapped as text, and faults that tests
	// inject with RAISE, say the same as SQLite.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "database disk image is malformed"), strings.Contains(msg, "malformed database schema"),
		strings.Contains(msg, "file is not a database"):
		return ProblemCorrupt
	case strings.Contains(msg, "database or disk is full"), strings.Contains(msg, "no space left on device"):
		return ProblemDiskFull
	case strings.Contains(msg, "attempt to write a readonly database"), strings.Contains(msg, "read-only file system"):
		return ProblemReadOnly
	case strings.Contains(msg, "disk I/O error"):
		return ProblemIO
	}
	return ""
}

// Check runs PRAGMA quick_check (a few seconds on a large database; it
// reads every page but does not match indexes to tables) and marks the
// database corrupt or clears that mark.
func (h *Health) Check(ctx context.Context) error {
	problem, err := quickCheck(ctx, h.db)
	if err != nil && Classify(err) != ProblemCorrupt {
		return fmt.Errorf("quick_check: %w", err)
	}
	if err != nil {
		problem = err.Error()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case problem != "" && h.corrupt == "":
		h.since = time.Now()
		h.log.Error("database failed quick_check; sending stops", "reason", problem)
	case problem == "" && h.corrupt != "":
		h.log.Info("database passed quick_check again")
	}
	h.corrupt = problem
	return nil
}

// quickCheck returns "" when PRAGMA quick_check says ok, else its first
// lines.
func quickCheck(ctx context.Context, db *sql.DB) (string, error) {
	lines, err := pragmaLines(ctx, db, "PRAGMA quick_check(5)")
	if err != nil {
		return "", err
	}
	if len(lines) == 1 && lines[0] == "ok" {
		return "", nil
	}
	return "quick_check: " + strings.Join(lines, "; "), nil
}

// pragmaLines runs a checking pragma (quick_check, integrity_check) and
// returns the lines it answers: "ok" alone when all is well.
func pragmaLines(ctx context.Context, db *sql.DB, pragma string) ([]string, error) {
	rows, err := db.QueryContext(ctx, pragma)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		lines = append(lines, s)
	}
	return lines, rows.Err()
}

// Run checks the database every CheckEvery and, while writes fail, tests
// a one-row write every ProbeEvery, until ctx ends.
func (h *Health) Run(ctx context.Context) error {
	check := time.NewTicker(h.opt.CheckEvery)
	defer check.Stop()
	probe := time.NewTicker(h.opt.ProbeEvery)
	defer probe.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-check.C:
			if err := h.Check(ctx); err != nil && ctx.Err() == nil {
				h.log.Warn("checking database", "err", err)
			}
		case <-probe.C:
			h.mu.Lock()
			failing := h.write != ""
			h.mu.Unlock()
			if failing {
				h.Observe(h.probe(ctx))
			}
		}
	}
}

// probe writes one row.
func (h *Health) probe(ctx context.Context) error {
	_, err := h.db.ExecContext(ctx, `INSERT INTO store_probe (id, at_ms) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms`, time.Now().UnixMilli())
	return err
}
