package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(f flags) error
	}{
		{name: "no mode", args: nil, wantErr: true},
		{name: "two modes", args: []string{"-spawn", "-inproc"}, wantErr: true},
		{name: "zero clients", args: []string{"-inproc", "-c", "0"}, wantErr: true},
		{name: "negative rate", args: []string{"-inproc", "-rate", "-1"}, wantErr: true},
		{name: "unknown flag", args: []string{"-inproc", "-x"}, wantErr: true},
		{name: "defaults", args: []string{"-url", "http://127.0.0.1:1"}, check: func(f flags) error {
			if f.load.Concurrency != 32 || f.load.Duration != 15*time.Second || f.load.List != "bench" {
				return fmt.Errorf("got %+v", f.load)
			}
			return nil
		}},
		// The run must stop by itself: no duration means the cap.
		{name: "duration capped", args: []string{"-spawn", "-d", "0"}, check: func(f flags) error {
			if f.load.Duration != maxDuration {
				return fmt.Errorf("duration %s, want %s", f.load.Duration, maxDuration)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := parseArgs(tt.args, io.Discard)
			if tt.wantErr {
				if !errors.Is(err, errUsage) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.check(f); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, ms(i))
	}
	r := &Result{Latencies: lat}
	tests := []struct {
		p    float64
		want time.Duration
	}{{50, ms(50)}, {90, ms(90)}, {99, ms(99)}, {100, ms(100)}, {0.1, ms(1)}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.p), func(t *testing.T) {
			t.Parallel()
			if got := r.Percentile(tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %s, want %s", tt.p, got, tt.want)
			}
		})
	}
	if got := (&Result{}).Percentile(99); got != 0 {
		t.Errorf("empty Percentile = %s", got)
	}
}

// TestRunAgainstURL drives a stand-in server and checks that every address
// is distinct, the form is the contract's plain POST, and the run stops at
// -n.
func TestRunAgainstURL(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	seen := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/subscribe" || r.Header.Get("Origin") != "" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		if r.PostFormValue("list") != "news" {
			http.Error(w, "no list", http.StatusUnprocessableEntity)
			return
		}
		seen <- r.PostFormValue("email")
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-url", srv.URL, "-n", "40", "-c", "4", "-d", "30s", "-warmup", "0", "-list", "news"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	close(seen)
	uniq := map[string]bool{}
	for e := range seen {
		uniq[e] = true
	}
	if len(uniq) != 40 {
		t.Errorf("%d distinct addresses, want 40", len(uniq))
	}
	for _, want := range []string{"requests: 40 ", "status: 200=36 429=4", "latency: p50 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestOpenLoop checks that a fixed rate is kept and latency counts from
// each request's slot.
func TestOpenLoop(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	res, err := Load(context.Background(), srv.URL, LoadOptions{Concurrency: 4, Rate: 200, Duration: 500 * time.Millisecond, List: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Requests(); got < 80 || got > 101 {
		t.Errorf("%d requests in 0.5s at 200/s, want about 100", got)
	}
}

// TestInProcess subscribes through the real handler chain and checks that
// every accepted request leads to one confirmation mail at the sink.
func TestInProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tg, err := startInProcess(ctx, inprocOptions{list: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Load(ctx, tg.baseURL, LoadOptions{Concurrency: 4, Total: 30, Duration: time.Minute, List: "bench"})
	if err != nil {
		tg.stop()
		t.Fatal(err)
	}
	if res.Status[http.StatusOK] != 30 {
		t.Errorf("statuses %v, want 30 × 200", res.Status)
	}
	if got := waitDrained(ctx, tg.sent, 30, 20*time.Second); got != 30 {
		t.Errorf("%d confirmation mails at the sink, want 30", got)
	}
	// A bad address is refused (422) and sends nothing.
	resp, err := http.PostForm(tg.baseURL+"/subscribe", url.Values{"email": {"a@b@c.jp"}, "list": {"bench"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad address: status %d, want 422", resp.StatusCode)
	}
	if err := tg.stop(); err != nil {
		t.Error(err)
	}
	if peakRSS(tg) == "" {
		t.Error("no peak RSS for this process")
	}
}

// TestInProcessStmtCache runs the statement-cache experiment end to end.
func TestInProcessStmtCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tg, err := startInProcess(ctx, inprocOptions{list: "bench", stmtCache: 16, dbConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.stop()
	res, err := Load(ctx, tg.baseURL, LoadOptions{Concurrency: 2, Total: 10, Duration: time.Minute, List: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status[http.StatusOK] != 10 {
		t.Errorf("statuses %v, want 10 × 200", res.Status)
	}
}

// BenchmarkSubscribe posts distinct addresses to the in-process server from
// GOMAXPROCS×4 keep-alive clients. ns/op is the inverse of throughput.
func BenchmarkSubscribe(b *testing.B) {
	ctx := context.Background()
	tg, err := startInProcess(ctx, inprocOptions{list: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	d := &driver{endpoint: tg.baseURL + "/subscribe", o: LoadOptions{List: "bench", Domain: "bench.example.jp"}, run: runID(),
		client: &http.Client{Transport: tr}}
	// Stopping is not measured: http.Server.Shutdown waits up to 5s for
	// connections the client dialled but never used.
	defer func() {
		b.StopTimer()
		tr.CloseIdleConnections()
		tg.stop()
	}()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			code, err := d.post(ctx)
			if err != nil || code != http.StatusOK {
				b.Errorf("status %d, err %v", code, err)
				return
			}
		}
	})
}

// TestSpawn builds and starts the real daemon with the generated config, so
// that the config cannot drift from cmd/kawaraban's validation.
func TestSpawn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/kawaraban")
	}
	t.Parallel()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-spawn", "-n", "20", "-c", "2", "-d", "60s", "-warmup", "0"}, &out, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"status: 200=20\n", "peak RSS (VmHWM) of server: ", "confirmation mails at the sink: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
