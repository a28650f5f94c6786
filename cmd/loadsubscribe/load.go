package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadOptions says how hard and how long to drive POST /subscribe.
type LoadOptions struct {
	// Concurrency is the number of keep-alive clients (default 1).
	Concurrency int
	// Total stops the run after this many measured requests (0: no count
	// limit).
	Total int
	// Duration stops the measured phase after this long (0: maxDuration).
	Duration time.Duration
	// Warmup is a phase before measuring whose requests are not counted.
	Warmup time.Duration
	// List is the public list's slug.
	List string
	// Domain is the domain of the generated addresses.
	Domain string
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// Rate, when positive, sends at this fixed rate (requests/s, open
	// loop) instead of as fast as the clients can: each request has a
	// scheduled time, and its latency counts from then, so that a stalled
	// server is not hidden by clients that wait for it (coordinated
	// omission). Concurrency must cover Rate × latency.
	Rate float64
	// OnMeasure, when set, is called once as the measured phase starts
	// (after Warmup) and once as it ends, e.g. to read CPU counters.
	OnMeasure func(end bool)
}

// Result is what one run measured.
type Result struct {
	Concurrency int
	// Rate is the offered rate (0: closed loop).
	Rate    float64
	Elapsed time.Duration
	// Latencies of the measured requests, sorted.
	Latencies []time.Duration
	// Status counts the measured responses by HTTP status.
	Status map[int]int
	// Errors counts measured requests without a response, by message.
	Errors map[string]int
	// WarmupOK counts 200 answers during the warm-up.
	WarmupOK int
}

// Load posts distinct addresses to base/subscribe until the options stop it
// or ctx ends.
func Load(ctx context.Context, base string, o LoadOptions) (*Result, error) {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Duration <= 0 || o.Duration > maxDuration {
		o.Duration = maxDuration
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Domain == "" {
		o.Domain = "bench.example.jp"
	}
	tr := &http.Transport{
		MaxIdleConns: o.Concurrency, MaxIdleConnsPerHost: o.Concurrency, MaxConnsPerHost: o.Concurrency,
		DisableCompression: true, ForceAttemptHTTP2: false, IdleConnTimeout: time.Minute,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	d := &driver{client: client, endpoint: strings.TrimRight(base, "/") + "/subscribe", o: o, run: runID()}
	return d.drive(ctx)
}

// driver holds one run's shared state.
type driver struct {
	client   *http.Client
	endpoint string
	o        LoadOptions
	run      string
	seq      atomic.Int64 // addresses handed out
	measured atomic.Int64 // measured requests started
	ticket   atomic.Int64 // open loop: the next request's slot
	start    time.Time
}

// worker is one client's own tally, merged at the end.
type worker struct {
	lat      []time.Duration
	status   map[int]int
	errs     map[string]int
	warmupOK int
}

func (d *driver) drive(ctx context.Context) (*Result, error) {
	start := time.Now()
	d.start = start
	measureFrom := start.Add(d.o.Warmup)
	ctx, cancel := context.WithDeadline(ctx, measureFrom.Add(d.o.Duration))
	defer cancel()
	if d.o.OnMeasure != nil {
		t := time.AfterFunc(d.o.Warmup, func() { d.o.OnMeasure(false) })
		defer t.Stop()
	}
	ws := make([]*worker, d.o.Concurrency)
	var wg sync.WaitGroup
	for i := range ws {
		w := &worker{status: map[int]int{}, errs: map[string]int{}}
		ws[i] = w
		wg.Go(func() { d.loop(ctx, w, measureFrom) })
	}
	wg.Wait()
	end := time.Now()
	if d.o.OnMeasure != nil {
		d.o.OnMeasure(true)
	}
	res := &Result{Concurrency: d.o.Concurrency, Rate: d.o.Rate, Elapsed: end.Sub(measureFrom), Status: map[int]int{}, Errors: map[string]int{}}
	for _, w := range ws {
		res.Latencies = append(res.Latencies, w.lat...)
		for k, v := range w.status {
			res.Status[k] += v
		}
		for k, v := range w.errs {
			res.Errors[k] += v
		}
		res.WarmupOK += w.warmupOK
	}
	slices.Sort(res.Latencies)
	if len(res.Latencies) == 0 {
		return res, errors.New("no request was measured (server down, or -d too short?)")
	}
	return res, nil
}

// loop sends requests one after another on one keep-alive connection.
func (d *driver) loop(ctx context.Context, w *worker, measureFrom time.Time) {
	for ctx.Err() == nil {
		t0, ok := d.next(ctx)
		if !ok {
			return
		}
		warm := t0.Before(measureFrom)
		if !warm && d.o.Total > 0 && d.measured.Add(1) > int64(d.o.Total) {
			return
		}
		code, err := d.post(ctx)
		lat := time.Since(t0)
		if ctx.Err() != nil && err != nil {
			return // cut by the deadline: neither a result nor an error
		}
		if warm {
			if code == http.StatusOK {
				w.warmupOK++
			}
			continue
		}
		if err != nil {
			w.errs[errText(err)]++
			continue
		}
		w.lat = append(w.lat, lat)
		w.status[code]++
	}
}

// next returns when the next request is due and the time it counts from:
// now in a closed loop, its slot in an open loop (waiting for the slot).
func (d *driver) next(ctx context.Context) (time.Time, bool) {
	if d.o.Rate <= 0 {
		return time.Now(), true
	}
	n := d.ticket.Add(1) - 1
	at := d.start.Add(time.Duration(float64(n) / d.o.Rate * float64(time.Second)))
	if wait := time.Until(at); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return at, false
		}
	}
	return at, true
}

// post sends one subscription with a fresh address and reads the whole
// answer, so that the connection is reused.
func (d *driver) post(ctx context.Context) (int, error) {
	n := d.seq.Add(1)
	form := url.Values{"email": {"lt-" + d.run + "-" + strconv.FormatInt(n, 10) + "@" + d.o.Domain}, "list": {d.o.List}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "kawaraban-loadsubscribe")
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

// errText shortens an error to its kind, so that counts group.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// runID tells this run's addresses from earlier runs' against one daemon.
func runID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Requests is the number of measured requests that got a response.
func (r *Result) Requests() int { return len(r.Latencies) }

// Accepted is the number of 200 answers, warm-up included: each asked for
// one confirmation mail.
func (r *Result) Accepted() int { return r.Status[http.StatusOK] + r.WarmupOK }

// RequestsPerSecond is measured responses per second of the measured phase.
func (r *Result) RequestsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests()) / r.Elapsed.Seconds()
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100).
func (r *Result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(float64(n)*p/100+0.999999) - 1
	return r.Latencies[min(max(i, 0), n-1)]
}

// Print writes the figures in a stable, greppable form.
func (r *Result) Print(w io.Writer) {
	offered := "as fast as they get answers"
	if r.Rate > 0 {
		offered = fmt.Sprintf("offered %.0f req/s", r.Rate)
	}
	fmt.Fprintf(w, "requests: %d in %.2fs with %d clients (%s): %.1f req/s\n",
		r.Requests(), r.Elapsed.Seconds(), r.Concurrency, offered, r.RequestsPerSecond())
	fmt.Fprintf(w, "latency: p50 %s p90 %s p99 %s max %s\n",
		ms(r.Percentile(50)), ms(r.Percentile(90)), ms(r.Percentile(99)), ms(r.Percentile(100)))
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d=%d", c, r.Status[c]))
	}
	fmt.Fprintf(w, "status: %s\n", strings.Join(parts, " "))
	if len(r.Errors) > 0 {
		for e, n := range r.Errors {
			fmt.Fprintf(w, "error: %d × %s\n", n, e)
		}
	}
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}
