package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Errors callers branch on.
var (
	// ErrNotFound reports a schedule id that does not exist.
	ErrNotFound = errors.New("schedule not found")
	// ErrUnknownKind reports a job kind nobody registered.
	ErrUnknownKind = errors.New("unknown job kind")
	// ErrPanic marks the recorded error of a job that panicked.
	ErrPanic = errors.New("job panicked")
)

// Policy says what happens to fires missed while nothing ran.
type Policy string

// The missed-fire policies.
const (
	// RunOnce fires once for the latest missed instant (default: a late
	// issue is still sent, once).
	RunOnce Policy = "run-once"
	// Skip fires only on time; missed instants are dropped (for polling).
	Skip Policy = "skip"
)

// JobFunc does one fire's work. ctx ends at the kind's timeout or when the
// scheduler stops; a job that returns because of that is resumed at the
// next start (Fire.Resumed).
type JobFunc func(ctx context.Context, f Fire) error

// Fire is what a job is told about the fire it runs.
type Fire struct {
	// ID is the fire's row id.
	ID int64
	// ScheduleID, Kind, Name and Target come from the schedule.
	ScheduleID int64
	Kind, Name string
	Target     string
	// At is the scheduled instant, in the schedule's timezone.
	At time.Time
	// Resumed is true when an earlier run of this fire started and never
	// finished; the job should resume, not start over.
	Resumed bool
	// Attempt counts runs of this fire, 1 for the first.
	Attempt int
}

// KindDefaults are a job kind's settings for schedules that leave them
// zero.
type KindDefaults struct {
	// Policy for missed fires (default RunOnce).
	Policy Policy
	// MaxLateness after which a RunOnce fire is skipped (0: no limit).
	MaxLateness time.Duration
	// Timeout of one run (default Options.JobTimeout).
	Timeout time.Duration
}

// Options configures a Scheduler. The zero value is the production default.
type Options struct {
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Logger receives fires, skips and failures (nil: discarded).
	Logger *slog.Logger
	// Location is the timezone of schedules that name none (default
	// Asia/Tokyo).
	Location *time.Location
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
	// JobTimeout bounds one run of a job (default 1h).
	JobTimeout time.Duration
	// Slack is how late a Skip fire may start and still count as on time
	// (default 1m).
	Slack time.Duration
	// ShutdownGrace is how long Run lets running jobs finish after its
	// context ends before it cancels them (default 30s).
	ShutdownGrace time.Duration
}

type kind struct {
	fn       JobFunc
	defaults KindDefaults
}

// Scheduler records and runs fires. It is safe for concurrent use; run
// one per database.
type Scheduler struct {
	db      *sql.DB
	opt     Options
	log     *slog.Logger
	metrics metrics
	wake    chan struct{}
	tickMu  sync.Mutex // one tick at a time
	wg      sync.WaitGroup

	mu      sync.Mutex
	kinds   map[string]kind
	running map[int64]int64 // schedule id → fire id in flight
	warned  map[string]bool // unknown kinds already logged
}

// New returns a Scheduler on db, whose tables store's migrations created.
func New(db *sql.DB, opt Options) (*Scheduler, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		loc, err := time.LoadLocation("Asia/Tokyo")
		if err != nil {
			return nil, fmt.Errorf("loading default timezone: %w", err)
		}
		opt.Location = loc
	}
	if opt.JobTimeout == 0 {
		opt.JobTimeout = time.Hour
	}
	if opt.Slack == 0 {
		opt.Slack = time.Minute
	}
	if opt.ShutdownGrace == 0 {
		opt.ShutdownGrace = 30 * time.Second
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opt.Registerer)
	if err != nil {
		return nil, err
	}
	return &Scheduler{db: db, opt: opt, log: log, metrics: m, wake: make(chan struct{}, 1),
		kinds: map[string]kind{}, running: map[int64]int64{}, warned: map[string]bool{}}, nil
}

// Register makes job the handler of kind. Register kinds before Run and
// before Upsert or AddOnce name them; registering a kind again replaces
// its job.
func (s *Scheduler) Register(kindName string, job JobFunc, defaults KindDefaults) {
	if defaults.Policy == "" {
		defaults.Policy = RunOnce
	}
	if defaults.Timeout == 0 {
		defaults.Timeout = s.opt.JobTimeout
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kinds[kindName] = kind{fn: job, defaults: defaults}
}

func (s *Scheduler) kind(name string) (kind, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.kinds[name]
	return k, ok
}

// poke wakes Run to look at the schedules again.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

type metrics struct {
	fires    *prometheus.CounterVec
	lateness *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (metrics, error) {
	m := metrics{
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kawaraban_scheduler_fires_total",
			Help: "Fires by job kind and result (ok, failed, skipped, interrupted).",
		}, []string{"kind", "result"}),
		lateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kawaraban_scheduler_lateness_seconds",
			Help:    "How long after its scheduled instant a fire started.",
			Buckets: []float64{0.1, 1, 5, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600},
		}, []string{"kind"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.fires, err = register(reg, m.fires); err != nil {
		return m, err
	}
	m.lateness, err = register(reg, m.lateness)
	return m, err
}

// register registers c, or returns the collector already registered under
// its name (a second Scheduler in one process, as after a restart in tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("registering scheduler metrics: %w", err)
	}
	return c, nil
}
