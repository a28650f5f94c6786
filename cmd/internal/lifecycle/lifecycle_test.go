package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// logBuffer is a log sink that the runners' goroutines may write to.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSuperviseRestartsAFailedRunner: a part that fails is started again
// until it runs; it stops for good when ctx ends.
func TestSuperviseRestartsAFailedRunner(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int32
	running := make(chan struct{})
	r := Runner{Name: "outbox", Run: func(ctx context.Context) error {
		if calls.Add(1) < 3 {
			return errors.New("database is locked")
		}
		close(running)
		<-ctx.Done()
		return ctx.Err()
	}}
	var log logBuffer
	done := make(chan struct{})
	go func() {
		supervise(ctx, Options{Logger: slog.New(slog.NewTextHandler(&log, nil)), Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}, r)
		close(done)
	}()
	<-running
	cancel()
	<-done
	if n := calls.Load(); n != 3 {
		t.Errorf("runner ran %d times, want 3 (two failures, then up)", n)
	}
	if got := strings.Count(log.String(), "runner stopped; restarting"); got != 2 {
		t.Errorf("%d restart lines, want 2:\n%s", got, log.String())
	}
}

// TestSuperviseStopsWhenCtxEndsDuringThePause: a runner that fails just
// before shutdown is not started again.
func TestSuperviseStopsWhenCtxEndsDuringThePause(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int32
	r := Runner{Name: "bounces", Run: func(context.Context) error {
		calls.Add(1)
		cancel() // ctx ends while the supervisor would pause
		return errors.New("imap: connection reset")
	}}
	supervise(ctx, Options{Logger: slog.New(slog.DiscardHandler), Backoff: time.Hour, MaxBackoff: time.Hour}, r)
	if n := calls.Load(); n != 1 {
		t.Errorf("runner ran %d times, want 1", n)
	}
}

// TestRunServesAndStopsEverything: HTTP answers while ctx lives; when it
// ends, the server stops taking connections and every runner's context
// ends before Run returns.
func TestRunServesAndStopsEverything(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var stopped atomic.Int32
	started := make(chan struct{}, 2)
	part := func(ctx context.Context) error {
		started <- struct{}{}
		<-ctx.Done()
		stopped.Add(1)
		return nil
	}
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{
			Handler:  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }),
			Listener: ln,
			Runners:  []Runner{{"a", part}, {"b", part}},
		})
	}()
	<-started
	<-started
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("body %q", body)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := stopped.Load(); n != 2 {
		t.Errorf("%d runners stopped before Run returned, want 2", n)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the listener still accepts after Run returned")
	}
}

// TestRunEndsAfterTheGracePeriod: a runner that does not return in time
// does not hold the daemon up; Run says so and returns.
func TestRunEndsAfterTheGracePeriod(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	var log logBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{
			Logger: slog.New(slog.NewTextHandler(&log, nil)), Handler: http.NotFoundHandler(), Listener: ln,
			Runners: []Runner{{"stuck", func(context.Context) error { close(started); <-release; return nil }}},
			Grace:   10 * time.Millisecond,
		})
	}()
	<-started
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(log.String(), "shutdown grace period over") {
		t.Errorf("no grace warning in the log:\n%s", log.String())
	}
}

// TestServeReportsAServerThatStops: a listener that fails ends serve with
// the server's error, ctx still alive.
func TestServeReportsAServerThatStops(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = serve(t.Context(), &http.Server{Handler: http.NotFoundHandler()}, ln, time.Second)
	if err == nil || !strings.HasPrefix(err.Error(), "http server: ") {
		t.Errorf("serve on a closed listener = %v", err)
	}
}

// TestTuneGC: the daemon's defaults apply unless the environment chose.
// Not parallel: it sets the environment and the process's collector.
func TestTuneGC(t *testing.T) {
	oldPercent, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	TuneGC()
	if p := debug.SetGCPercent(100); p != GCPercent {
		t.Errorf("GC percent %d, want %d", p, GCPercent)
	}
	if l := debug.SetMemoryLimit(-1); l != MemoryLimit {
		t.Errorf("memory limit %d, want %d", l, MemoryLimit)
	}

	t.Setenv("GOGC", "50")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(50)
	debug.SetMemoryLimit(1 << 30)
	TuneGC()
	if p := debug.SetGCPercent(100); p != 50 {
		t.Errorf("with GOGC set: GC percent %d, want 50", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 1<<30 {
		t.Errorf("with GOMEMLIMIT set: memory limit %d", l)
	}
}

func TestStartCPUProfile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := StartCPUProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("profile %v %v: want a written file", st, err)
	}
	if _, err := StartCPUProfile(filepath.Join(t.TempDir(), "no", "such", "dir")); err == nil ||
		!strings.HasPrefix(err.Error(), "KAWARABAN_CPUPROFILE: ") {
		t.Errorf("profile into a missing directory: %v", err)
	}
}
