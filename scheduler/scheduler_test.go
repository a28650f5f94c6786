package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kawaraban/internal/testclock"
	"kawaraban/store"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no tzdata for %s: %v", name, err)
	}
	return loc
}

// ran is one job run: the fire and the clock when the job ran.
type ran struct {
	Fire
	now time.Time
}

// harness is a Scheduler on an injected clock whose "job" kind records
// every run.
type harness struct {
	t   *testing.T
	db  *sql.DB
	clk *testclock.Clock
	reg *prometheus.Registry
	s   *Scheduler

	mu   sync.Mutex
	runs []ran
}

func newHarness(t *testing.T, db *sql.DB, start time.Time, defaults KindDefaults) *harness {
	t.Helper()
	h := &harness{t: t, db: db, clk: testclock.New(start), reg: prometheus.NewRegistry()}
	s, err := New(db, Options{Now: h.clk.Now, Registerer: h.reg})
	if err != nil {
		t.Fatal(err)
	}
	s.Register("job", h.job, defaults)
	h.s = s
	return h
}

func (h *harness) job(_ context.Context, f Fire) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.runs = append(h.runs, ran{Fire: f, now: h.clk.Now()})
	return nil
}

func (h *harness) ran() []ran {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ran(nil), h.runs...)
}

func (h *harness) upsert(sc Schedule) Schedule {
	h.t.Helper()
	if sc.Kind == "" {
		sc.Kind = "job"
	}
	got, err := h.s.Upsert(context.Background(), sc)
	if err != nil {
		h.t.Fatal(err)
	}
	return got
}

func (h *harness) tickAt(t time.Time) {
	h.t.Helper()
	h.clk.Set(t)
	if err := h.s.Tick(context.Background(), t); err != nil {
		h.t.Fatal(err)
	}
}

// walk ticks every step from from (exclusive) to to (inclusive).
func (h *harness) walk(from, to time.Time, step time.Duration) {
	h.t.Helper()
	for t := from.Add(step); !t.After(to); t = t.Add(step) {
		h.tickAt(t)
	}
}

// firedAt returns the UTC instants for which name's job ran; with onTime
// it checks that each ran at the tick of its instant.
func (h *harness) firedAt(name string, onTime bool) []string {
	h.t.Helper()
	var out []string
	for _, r := range h.ran() {
		if r.Name != name {
			continue
		}
		if onTime && !r.now.Equal(r.At) {
			h.t.Errorf("%s: fire for %v ran at %v", name, r.At, r.now)
		}
		out = append(out, r.At.UTC().Format("01-02T15:04Z"))
	}
	return out
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func TestTokyoInstants(t *testing.T) {
	t.Parallel()
	jst := mustLoad(t, "Asia/Tokyo")
	start := time.Date(2027, 4, 1, 0, 0, 0, 0, jst) // a Thursday
	h := newHarness(t, openDB(t), start, KindDefaults{})
	h.upsert(Schedule{Name: "monday", Spec: "0 10 * * 1"})
	h.upsert(Schedule{Name: "daily", Spec: "@daily"})
	h.walk(start, start.AddDate(0, 0, 14), 30*time.Minute)
	sameList(t, "Mondays 10:00 JST", h.firedAt("monday", true), []string{"04-05T01:00Z", "04-12T01:00Z"})
	var daily []string
	for d := 2; d <= 15; d++ {
		daily = append(daily, time.Date(2027, 4, d, 0, 0, 0, 0, jst).UTC().Format("01-02T15:04Z"))
	}
	sameList(t, "@daily JST", h.firedAt("daily", true), daily)
	if r := h.ran(); len(r) > 0 && r[0].At.Location().String() != "Asia/Tokyo" {
		t.Errorf("Fire.At in %v, want Asia/Tokyo", r[0].At.Location())
	}
}

func TestNewYorkAcrossDST(t *testing.T) {
	t.Parallel()
	ny := mustLoad(t, "America/New_York")
	for _, tc := range []struct {
		name, spec string
		from       time.Time
		days       int
		want       []string
	}{
		// 2027-03-14 02:00 EST jumps to 03:00 EDT: 02:30 does not exist that
		// day and fires once, at 03:30 EDT (07:30Z).
		{"spring 02:30", "30 2 * * *", time.Date(2027, 3, 12, 0, 0, 0, 0, ny), 5,
			[]string{"03-12T07:30Z", "03-13T07:30Z", "03-14T07:30Z", "03-15T06:30Z", "03-16T06:30Z"}},
		{"spring 09:00", "0 9 * * *", time.Date(2027, 3, 12, 0, 0, 0, 0, ny), 5,
			[]string{"03-12T14:00Z", "03-13T14:00Z", "03-14T13:00Z", "03-15T13:00Z", "03-16T13:00Z"}},
		// 2027-11-07 02:00 EDT falls back to 01:00 EST: 01:30 happens twice
		// and fires once, at the first (EDT).
		{"fall 01:30", "30 1 * * *", time.Date(2027, 11, 6, 0, 0, 0, 0, ny), 3,
			[]string{"11-06T05:30Z", "11-07T05:30Z", "11-08T06:30Z"}},
		{"fall 09:00", "0 9 * * *", time.Date(2027, 11, 6, 0, 0, 0, 0, ny), 3,
			[]string{"11-06T13:00Z", "11-07T14:00Z", "11-08T14:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, openDB(t), tc.from, KindDefaults{})
			h.upsert(Schedule{Name: tc.name, Spec: tc.spec, TZ: "America/New_York"})
			h.walk(tc.from, tc.from.AddDate(0, 0, tc.days), 15*time.Minute)
			sameList(t, tc.spec, h.firedAt(tc.name, true), tc.want)
		})
	}
}

func TestMissedThreePeriods(t *testing.T) {
	t.Parallel()
	jst := mustLoad(t, "Asia/Tokyo")
	day := func(d, h int) time.Time { return time.Date(2027, 4, d, h, 0, 0, 0, jst) }
	for _, tc := range []struct {
		name        string
		policy      Policy
		maxLateness time.Duration
		wantCatchUp []string // fires at the late start
		wantLast    string
	}{
		{"run-once fires once for the latest", RunOnce, 0, []string{"04-04T00:00Z"}, ResultOK},
		{"skip fires none", Skip, 0, nil, ResultSkipped},
		{"run-once beyond max lateness", RunOnce, time.Hour, nil, ResultSkipped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, openDB(t), day(1, 8), KindDefaults{})
			sc := h.upsert(Schedule{Name: "daily9", Spec: "0 9 * * *", Policy: tc.policy, MaxLateness: tc.maxLateness})
			h.tickAt(day(1, 9))
			// Down from 04-01 09:30 to 04-04 12:00: 04-02, 04-03 and 04-04 09:00 missed.
			h.tickAt(day(4, 12))
			got := h.firedAt("daily9", false)
			sameList(t, "fires", got[1:], tc.wantCatchUp)
			st, err := h.s.ByID(context.Background(), sc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.Last == nil || st.Last.Result != tc.wantLast || !st.Last.At.Equal(day(4, 9)) {
				t.Errorf("last fire %+v, want %s at 04-04 09:00", st.Last, tc.wantLast)
			}
			if !st.Next.Equal(day(5, 9)) {
				t.Errorf("next %v", st.Next)
			}
			h.tickAt(day(4, 13))
			h.tickAt(day(5, 9)) // back on time
			if n := len(h.firedAt("daily9", false)); n != len(got)+1 {
				t.Errorf("%d fires after the on-time one, want %d", n, len(got)+1)
			}
		})
	}
}

func TestOnTimeSkipPolicyFires(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
	h := newHarness(t, openDB(t), start, KindDefaults{Policy: Skip})
	h.upsert(Schedule{Name: "poll", Spec: "@every 1m"})
	h.walk(start, start.Add(5*time.Minute), time.Minute)
	h.tickAt(start.Add(10*time.Minute + 5*time.Second))  // 5 missed, the latest 5s late: on time
	h.tickAt(start.Add(50*time.Minute + 90*time.Second)) // the latest 90s late: skipped
	got := h.firedAt("poll", false)
	sameList(t, "polls", got, []string{"04-01T00:01Z", "04-01T00:02Z", "04-01T00:03Z", "04-01T00:04Z", "04-01T00:05Z", "04-01T00:10Z", "04-01T00:51Z"})
}

func TestRestartNeverRepeatsAFire(t *testing.T) {
	t.Parallel()
	jst := mustLoad(t, "Asia/Tokyo")
	db := openDB(t)
	at := time.Date(2027, 4, 1, 9, 0, 0, 0, jst)
	h1 := newHarness(t, db, at.Add(-time.Hour), KindDefaults{})
	h1.upsert(Schedule{Name: "daily9", Spec: "0 9 * * *"})
	h1.tickAt(at)
	if n := len(h1.ran()); n != 1 {
		t.Fatalf("first scheduler: %d runs", n)
	}
	// A new process on the same database, declaring the same schedule.
	h2 := newHarness(t, db, at, KindDefaults{})
	h2.upsert(Schedule{Name: "daily9", Spec: "0 9 * * *"})
	for _, tm := range []time.Time{at, at.Add(time.Minute), at.Add(12 * time.Hour)} {
		h2.tickAt(tm)
	}
	if n := len(h2.ran()); n != 0 {
		t.Fatalf("restarted scheduler repeated %d fires", n)
	}
	h2.tickAt(at.AddDate(0, 0, 1))
	if n := len(h2.ran()); n != 1 {
		t.Fatalf("next day: %d runs", n)
	}
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM fires`).Scan(&rows); err != nil || rows != 2 {
		t.Errorf("fires rows %d %v", rows, err)
	}
}

func TestCrashedFireIsResumedOnce(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	at := time.Date(2027, 4, 1, 10, 0, 0, 0, time.UTC)
	h1 := newHarness(t, db, at.Add(-time.Hour), KindDefaults{})
	ctx, stop := context.WithCancel(context.Background())
	var first Fire
	h1.s.Register("send", func(ctx context.Context, f Fire) error {
		first = f
		stop() // the daemon stops mid-job
		<-ctx.Done()
		return ctx.Err()
	}, KindDefaults{})
	sc, err := h1.s.AddOnce(context.Background(), "send", "issue-7", at)
	if err != nil {
		t.Fatal(err)
	}
	h1.clk.Set(at)
	if err := h1.s.Tick(ctx, at); err != nil {
		t.Fatal(err)
	}
	if first.Resumed || first.Attempt != 1 {
		t.Fatalf("first run %+v", first)
	}
	var resumed []Fire
	for i := range 2 { // two restarts
		h := newHarness(t, db, at.Add(time.Duration(i+1)*time.Hour), KindDefaults{})
		h.s.Register("send", func(_ context.Context, f Fire) error {
			resumed = append(resumed, f)
			return nil
		}, KindDefaults{})
		h.tickAt(at.Add(time.Duration(i+1) * time.Hour))
	}
	if len(resumed) != 1 {
		t.Fatalf("resumed %d times, want 1", len(resumed))
	}
	r := resumed[0]
	if !r.Resumed || r.Attempt != 2 || r.ID != first.ID || !r.At.Equal(at) || r.Target != "issue-7" {
		t.Errorf("resumed fire %+v", r)
	}
	st, err := newHarness(t, db, at, KindDefaults{}).s.ByID(context.Background(), sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Last == nil || st.Last.Result != ResultOK || st.Last.Attempts != 2 || !st.Next.IsZero() {
		t.Errorf("status %+v last %+v", st, st.Last)
	}
}

func TestOneOffInThePastFiresOnce(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 4, 1, 12, 0, 0, 0, time.UTC)
	// MaxLateness counts from when the schedule was made, so a send_at
	// already past is sent now rather than never.
	h := newHarness(t, openDB(t), now, KindDefaults{MaxLateness: 10 * time.Minute})
	if _, err := h.s.AddOnce(context.Background(), "job", "issue-1", now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	h.tickAt(now)
	h.tickAt(now.Add(time.Minute))
	runs := h.ran()
	if len(runs) != 1 || !runs[0].At.Equal(now.Add(-2*time.Hour)) || runs[0].Target != "issue-1" {
		t.Fatalf("runs %+v", runs)
	}
	// Moving the instant of the same target reschedules it.
	if _, err := h.s.AddOnce(context.Background(), "job", "issue-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	h.tickAt(now.Add(59 * time.Minute))
	h.tickAt(now.Add(time.Hour))
	if n := len(h.ran()); n != 2 {
		t.Fatalf("%d runs after reschedule", n)
	}
	list, err := h.s.List(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("list %v %v", list, err)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, openDB(t), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), KindDefaults{})
	for _, tc := range []struct {
		sc      Schedule
		want    error
		mention string
	}{
		{Schedule{Kind: "job", Name: "a", Spec: "61 * * * *"}, ErrInvalidSpec, `"61 * * * *"`},
		{Schedule{Kind: "job", Name: "a", Spec: "0 9 * *"}, ErrInvalidSpec, "expected exactly 5 fields"},
		{Schedule{Kind: "job", Name: "a", Spec: "@fortnightly"}, ErrInvalidSpec, "unrecognized descriptor"},
		{Schedule{Kind: "job", Name: "a", Spec: "0 0 30 2 *"}, ErrInvalidSpec, "never fires"},
		{Schedule{Kind: "job", Name: "a", Spec: "CRON_TZ=UTC 0 9 * * *"}, ErrInvalidSpec, "tz field"},
		{Schedule{Kind: "job", Name: "a"}, ErrInvalidSpec, "neither"},
		{Schedule{Kind: "job", Name: "a", Spec: "@daily", At: time.Now()}, ErrInvalidSpec, "not both"},
		{Schedule{Kind: "job", Name: "a", Spec: "@daily", TZ: "Asia/Kyoto"}, ErrUnknownTimezone, `"Asia/Kyoto"`},
		{Schedule{Kind: "nope", Name: "a", Spec: "@daily"}, ErrUnknownKind, `"nope"`},
		{Schedule{Kind: "job", Name: "a", Spec: "@daily", Policy: "sometimes"}, nil, "must be run-once or skip"},
		{Schedule{Kind: "job", Spec: "@daily"}, nil, "name is empty"},
	} {
		_, err := h.s.Upsert(context.Background(), tc.sc)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%+v: %v, want %v mentioning %s", tc.sc, err, tc.want, tc.mention)
		}
	}
	if list, _ := h.s.List(context.Background()); len(list) != 0 {
		t.Errorf("refused schedules stored: %v", list)
	}
}

func TestUpsertIsIdempotentAndKeepsPause(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
	h := newHarness(t, openDB(t), start, KindDefaults{})
	a := h.upsert(Schedule{Name: "sys", Spec: "@hourly", Target: "x"})
	ctx := context.Background()
	if err := h.s.Pause(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	b := h.upsert(Schedule{Name: "sys", Spec: "@hourly", Target: "y"}) // cmd declares it again at start
	if b.ID != a.ID || !b.Paused || b.Target != "y" {
		t.Fatalf("upsert again: %+v", b)
	}
	h.walk(start, start.Add(3*time.Hour), 30*time.Minute)
	if n := len(h.ran()); n != 0 {
		t.Fatalf("paused schedule fired %d times", n)
	}
	st, _ := h.s.ByID(ctx, a.ID)
	if !st.Next.IsZero() {
		t.Errorf("paused schedule has next %v", st.Next)
	}
	if err := h.s.Resume(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	st, _ = h.s.ByID(ctx, a.ID)
	if !st.Next.Equal(start.Add(4 * time.Hour)) {
		t.Errorf("next after resume %v", st.Next)
	}
	h.walk(start.Add(3*time.Hour), start.Add(5*time.Hour), 30*time.Minute)
	if runs := h.ran(); len(runs) != 2 || runs[0].Target != "y" {
		t.Errorf("after resume: %+v (the paused hours are not made up)", runs)
	}
	for _, f := range []func(context.Context, int64) error{h.s.Pause, h.s.Resume, h.s.Remove} {
		if err := f(ctx, 999); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
	}
	if err := h.s.Remove(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.ByID(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Remove: %v", err)
	}
}

func TestPanicAndTimeoutAreFailures(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
	h := newHarness(t, openDB(t), start, KindDefaults{})
	h.s.Register("boom", func(context.Context, Fire) error { panic("nil map") }, KindDefaults{})
	h.s.Register("slow", func(ctx context.Context, _ Fire) error {
		<-ctx.Done() // only the per-run timeout ends it
		return ctx.Err()
	}, KindDefaults{Timeout: 20 * time.Millisecond})
	ctx := context.Background()
	boom, _ := h.s.AddOnce(ctx, "boom", "t", start)
	slow, _ := h.s.AddOnce(ctx, "slow", "t", start)
	h.tickAt(start)
	for _, tc := range []struct {
		id   int64
		kind string
		want string
	}{{boom.ID, "boom", "job panicked: nil map"}, {slow.ID, "slow", "deadline exceeded"}} {
		st, err := h.s.ByID(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Last == nil || st.Last.Result != ResultFailed || !strings.Contains(st.Last.Error, tc.want) {
			t.Errorf("%s: last %+v", tc.kind, st.Last)
		}
		if got := metricValue(t, h.reg, "kawaraban_scheduler_fires_total", tc.kind, "failed"); got != 1 {
			t.Errorf("%s: fires_total{result=failed} = %v", tc.kind, got)
		}
	}
}

// metricValue reads a counter from reg by its label values.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i, lp := range m.GetLabel() {
				if i >= len(labels) || lp.GetValue() != labels[i] {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestRunFiresAndStops(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	s, err := New(db, Options{ShutdownGrace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	fired := make(chan Fire, 1)
	s.Register("once", func(_ context.Context, f Fire) error {
		fired <- f
		return nil
	}, KindDefaults{})
	hanging := make(chan struct{})
	s.Register("hang", func(ctx context.Context, _ Fire) error {
		close(hanging)
		<-ctx.Done()
		return ctx.Err()
	}, KindDefaults{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if _, err := s.AddOnce(ctx, "once", "x", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-fired:
		if f.Target != "x" {
			t.Errorf("fire %+v", f)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not fire a past one-off")
	}
	hung, _ := s.AddOnce(ctx, "hang", "y", time.Now().Add(-time.Second))
	<-hanging
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	st, _ := s.ByID(context.Background(), hung.ID)
	if st.Last.Result != ResultRunning || !st.Last.Finished.IsZero() {
		t.Errorf("interrupted fire %+v, want left running for resume", st.Last)
	}
}

// TestStateOfAOneOff: a one-off is active until its fire has run, then
// done; a paused one says so (issue 17: a finished send no longer looked
// active).
func TestStateOfAOneOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2027, 4, 1, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, openDB(t), now, KindDefaults{MaxLateness: time.Hour})
	once, err := h.s.AddOnce(ctx, "job", "issue-1", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	every := h.upsert(Schedule{Name: "hourly", Spec: "@hourly"})
	state := func(id int64) string {
		t.Helper()
		st, err := h.s.ByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return st.State()
	}
	if got := state(once.ID); got != StateActive {
		t.Errorf("before its instant: %s, want %s", got, StateActive)
	}
	if err := h.s.Pause(ctx, once.ID); err != nil {
		t.Fatal(err)
	}
	if got := state(once.ID); got != StatePaused {
		t.Errorf("paused: %s, want %s", got, StatePaused)
	}
	if err := h.s.Resume(ctx, once.ID); err != nil {
		t.Fatal(err)
	}
	h.tickAt(now.Add(time.Hour))
	if got := state(once.ID); got != StateDone {
		t.Errorf("after its fire: %s, want %s", got, StateDone)
	}
	if got := state(every.ID); got != StateActive {
		t.Errorf("a recurring schedule after a fire: %s, want %s", got, StateActive)
	}
}
