// Package web is kawaraban's HTTP side: the public subscription pages and
// archive, the admin UI, the JSON API, and the people behind them — users,
// roles, sessions, CSRF, API tokens, login throttling and the audit log.
//
// It owns the tables of migration 0008 (users, user_lists, sessions,
// api_tokens, audit_log, login_attempts). Everything about lists,
// subscribers, issues, delivery, bounces, schedules and the plan's progress
// is reached through the handler groups' interfaces in deps.go, which
// Domain.Fill (domain.go) connects to the application layer (package
// newsletter) and the domain packages. web maps their errors to HTTP
// statuses and user-facing text in one place (status.go); it never writes
// their SQL.
package web

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"kawaraban/newsletter"
	"kawaraban/token"
)

// Options configures the server. Only DB is required.
type Options struct {
	DB     *sql.DB
	Logger *slog.Logger
	// BaseURL is the public address (https://…); cookies are Secure when
	// it is https or SecureCookies is set.
	BaseURL       string
	SecureCookies bool
	// LocalMode shows a banner on every admin page: mail is captured, not
	// delivered.
	LocalMode bool
	// LocalInbox, in local mode, lets an admin play a citizen's mail
	// (admin_local.go); nil hides that page.
	LocalInbox LocalInbox
	// Privacy is the notice at /privacy (citizen.go); zero = built in.
	Privacy Privacy
	// Registry receives the HTTP metrics plus Go and process collectors;
	// nil makes a fresh one.
	Registry *prometheus.Registry
	Now      func() time.Time
	// Location is the time zone pages show times in and datetime fields
	// are read in (nil = time.Local); cmd passes the configured timezone.
	Location *time.Location
	// Signer signs the public form tokens; nil uses a random key (tokens
	// then do not survive a restart, which only costs a form reload).
	Signer *token.Signer
	// Users is the users store; nil makes one on DB.
	Users *Users

	Subscribers     Subscribers
	SubscriberAdmin SubscriberAdmin
	// Issues reads issues; nil turns the issue pages and the archive
	// into "not available". The other issue groups (deps.go) are set
	// with it: Drafts writes, Sending sends, Checks test-sends and
	// counts recipients, Approvals approves; an action whose group is
	// nil answers "not available".
	Issues    IssueReader
	Drafts    IssueDrafts
	Sending   IssueSending
	Checks    IssueChecks
	Approvals IssueApprovals

	Renderer   Renderer
	Deliveries Deliveries
	Bounces    Bounces
	Schedules  Schedules
	Plan       Plan

	// SubscriberDetail serves one subscriber's page and its actions
	// (subscriber_page.go).
	SubscriberDetail SubscriberDetail
	// Reports serves the bureaus' reports and the public progress pages
	// (progress_reports.go).
	Reports Reports
	// ListAdmin creates, edits and closes lists (admin_lists.go).
	ListAdmin ListAdmin
	// Settings returns the running configuration with secrets already
	// masked (config.Config.Settings); the page shows values as they come.
	Settings func() map[string]any
	// Health, when set, is the database's health (/healthz, admin banner).
	Health Health
	// Imports, when set, lists CSV imports with their progress.
	Imports Imports
	// Stats, when set, gives issue statistics and the click redirect
	// (stats.go).
	Stats Stats
	// ImportStagingDir keeps a dry run's CSV until "import these"
	// (import_staged.go); empty = a folder in the system's temp dir.
	ImportStagingDir string

	// MaxBodyBytes caps request bodies (default 1 MiB; imports 10 MiB).
	MaxBodyBytes int64
	// SubscribePerMinute limits POST /subscribe per client IP (default 10,
	// burst 5).
	SubscribePerMinute float64
	SubscribeBurst     int
	// SessionIdle and SessionMax end sessions (defaults 2h and 12h).
	SessionIdle time.Duration
	SessionMax  time.Duration
	// TrustForwardedFor takes the client IP from X-Forwarded-For (behind a
	// reverse proxy).
	TrustForwardedFor bool
	// MetricsToken is the bearer token /metrics asks for; empty leaves
	// /metrics to loopback clients only (see metricsAllowed).
	MetricsToken string
	// TestRecipients are the addresses besides a user's own that test
	// sends may go to; TestSendsPerHour limits each user (burst 5;
	// default newsletter.DefaultTestSendsPerHour).
	TestRecipients   []string
	TestSendsPerHour int
}

// Server is the http.Handler for everything kawaraban serves.
type Server struct {
	opt     Options
	log     *slog.Logger
	now     func() time.Time
	users   *Users
	signer  *token.Signer
	mux     *http.ServeMux
	handler http.Handler
	pages   *pages
	secure  bool

	reqs *prometheus.CounterVec
	dur  *prometheus.HistogramVec

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// New builds the server and its routes.
func New(opt Options) (*Server, error) {
	if opt.DB == nil {
		return nil, errors.New("web: Options.DB is required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	if opt.MaxBodyBytes == 0 {
		opt.MaxBodyBytes = 1 << 20
	}
	if opt.SubscribePerMinute == 0 {
		opt.SubscribePerMinute = 10
	}
	if opt.SubscribeBurst == 0 {
		opt.SubscribeBurst = 5
	}
	if opt.TestSendsPerHour == 0 {
		opt.TestSendsPerHour = newsletter.DefaultTestSendsPerHour
	}
	if opt.SessionIdle == 0 {
		opt.SessionIdle = 2 * time.Hour
	}
	if opt.SessionMax == 0 {
		opt.SessionMax = 12 * time.Hour
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	if opt.Users == nil {
		opt.Users = NewUsers(opt.DB, UsersOptions{Now: opt.Now})
	}
	if opt.Signer == nil {
		s, err := token.NewSigner([]byte(randomString(32)))
		if err != nil {
			return nil, err
		}
		opt.Signer = s
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opt: opt, log: opt.Logger, now: opt.Now, users: opt.Users, signer: opt.Signer,
		mux: http.NewServeMux(), pages: p, limiters: map[string]*rate.Limiter{},
		secure: opt.SecureCookies || strings.HasPrefix(opt.BaseURL, "https://"),
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	s.routes()
	s.handler = s.instrument(s.recoverPanics(s.securityHeaders(s.mux)))
	if opt.LocalMode {
		s.log.Warn("local mode: mail is captured, not delivered")
	}
	return s, nil
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) registerMetrics() error {
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kawaraban_http_requests_total", Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	s.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kawaraban_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	// Every series carries the kawaraban_ prefix (DESIGN.md contract),
	// the Go runtime and process ones too: kawaraban_go_goroutines.
	runtime := prometheus.WrapRegistererWithPrefix("kawaraban_", s.opt.Registry)
	for _, c := range []prometheus.Collector{s.reqs, s.dur,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		reg := prometheus.Registerer(s.opt.Registry)
		if c != s.reqs && c != s.dur {
			reg = runtime
		}
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue // cmd may have registered the Go collector already
			}
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	return nil
}

func (s *Server) metricsHandler() http.Handler {
	return s.guardMetrics(promhttp.HandlerFor(s.opt.Registry, promhttp.HandlerOpts{}))
}

// statusWriter remembers the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	code    int
	written bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.written {
		w.code, w.written = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.code, w.written = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument logs each request and counts it by route pattern.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.reqs.WithLabelValues(route, fmt.Sprint(sw.code)).Inc()
		s.dur.WithLabelValues(route).Observe(d.Seconds())
		level := slog.LevelInfo
		if route == "GET /healthz" || route == "GET /metrics" || strings.HasPrefix(route, "GET /static/") {
			level = slog.LevelDebug // probes and assets would drown the log
		}
		s.log.Log(r.Context(), level, "http request", "method", r.Method, "route", route, "code", sw.code,
			"duration_ms", d.Milliseconds())
	})
}

// recoverPanics turns a handler panic into a 500 page and a log line.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "route", r.Pattern, "panic", fmt.Sprint(v))
				s.errorPage(w, r, http.StatusInternalServerError, "err.internal")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every response carries and caps the
// request body.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		limit := s.opt.MaxBodyBytes
		if strings.HasPrefix(r.URL.Path, "/admin/subscribers/import") {
			limit = 10 << 20
		}
		if r.ContentLength > limit {
			s.errorPage(w, r, http.StatusRequestEntityTooLarge, "err.toolarge")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// clientIP is the address a request came from.
func (s *Server) clientIP(r *http.Request) string {
	if s.opt.TrustForwardedFor {
		if xf := r.Header.Get("X-Forwarded-For"); xf != "" {
			parts := strings.Split(xf, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allowSubscribe applies the per-IP rate limit on POST /subscribe.
func (s *Server) allowSubscribe(ip string) bool {
	return s.allow(ip, rate.Limit(s.opt.SubscribePerMinute/60), s.opt.SubscribeBurst)
}

// allow takes one token from the limiter named key, which it makes with
// limit and burst the first time it meets key. The subscribe form, the
// click redirect and test sends keep their limiters in one bounded map.
func (s *Server) allow(key string, limit rate.Limit, burst int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[key]
	if !ok {
		if len(s.limiters) > 10000 {
			clear(s.limiters) // bounded memory; a reset only forgives
		}
		l = rate.NewLimiter(limit, burst)
		s.limiters[key] = l
	}
	return l.AllowN(s.now(), 1)
}
