package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kawaraban/store"
)

// runner is a long-running part of the daemon: it returns when ctx ends.
type runner struct {
	name string
	run  func(ctx context.Context) error
}

// daemon holds what serve started, in the order it must stop.
type daemon struct {
	e       *env
	out     io.Writer
	reg     *prometheus.Registry
	handler http.Handler
	runners []runner
	closers []func()
}

func newDaemon(ctx context.Context, e *env, out io.Writer) (*daemon, error) {
	d := &daemon{e: e, out: out, reg: prometheus.NewRegistry()}
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "kawaraban"}))
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "kawaraban_up", Help: "1 while the daemon runs."})
	up.Set(1)
	d.reg.MustRegister(up)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := store.Ping(r.Context(), e.db); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"status": "error", "error": "database does not answer"})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{}))
	d.handler = mux
	return d, nil
}

// run serves HTTP and the runners until ctx ends, then stops them in order.
func (d *daemon) run(ctx context.Context, ln net.Listener) error {
	log := d.e.log
	if d.e.local {
		log.Warn("LOCAL MODE: mail is captured in the data directory, not delivered", "dir", d.e.dataDir)
		fmt.Fprintf(d.out, "kawaraban (local mode) listening on %s — mail is captured in %s/captured, NOT delivered\n", d.e.cfg.BaseURL, d.e.dataDir)
	}
	log.Info("listening", "addr", ln.Addr().String(), "base_url", d.e.cfg.BaseURL)
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	var wg sync.WaitGroup
	for _, r := range d.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.run(workCtx); err != nil && workCtx.Err() == nil {
				log.Error("runner stopped", "runner", r.name, "err", err)
			}
		}()
	}
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	err := serveHTTP(ctx, srv, ln)
	log.Info("shutting down")
	// Intake has stopped; give in-flight sends and writes a bounded grace.
	stopWork()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(4 * time.Second):
		log.Warn("shutdown grace period over; exiting with work in flight (it resumes at next start)")
	}
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	return err
}
