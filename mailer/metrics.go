package mailer

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	sent    *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// newMetrics makes the mailer's collectors and registers them with reg when
// it is not nil. Registering twice (two Mailers on one registry) reuses the
// existing collectors.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kawaraban_mailer_sent_total",
			Help: "Messages handed to a relay, by relay and result (sent, temporary, permanent, error).",
		}, []string{"relay", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kawaraban_mailer_send_seconds",
			Help:    "Time from MAIL FROM to the reply to DATA, by relay and result.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"relay", "result"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.sent, err = register(reg, m.sent); err != nil {
		return nil, err
	}
	if m.latency, err = register(reg, m.latency); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old, nil
			}
		}
		return c, fmt.Errorf("registering mailer metrics: %w", err)
	}
	return c, nil
}

// resultLabel names an outcome for the metrics.
func resultLabel(e *Error) string {
	switch {
	case e == nil:
		return "sent"
	case e.Code == 0:
		return "error"
	case e.Temporary:
		return "temporary"
	default:
		return "permanent"
	}
}
