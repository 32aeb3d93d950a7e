package pgwire

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	connsOpen   prometheus.Gauge
	connsTotal  prometheus.Counter
	queries     *prometheus.CounterVec // by protocol: simple, extended
	errors      *prometheus.CounterVec // by SQLSTATE class
	authFailed  prometheus.Counter
	queriesSimp prometheus.Counter
	queriesExt  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "strand", Subsystem: "pgwire", Name: "connections_open",
			Help: "Client connections currently open.",
		}),
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "strand", Subsystem: "pgwire", Name: "connections_total",
			Help: "Client connections accepted.",
		}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "strand", Subsystem: "pgwire", Name: "queries_total",
			Help: "Query messages (simple) and Execute messages (extended) handled.",
		}, []string{"protocol"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "strand", Subsystem: "pgwire", Name: "errors_total",
			Help: "ErrorResponses sent, by SQLSTATE class (first two characters).",
		}, []string{"class"}),
		authFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "strand", Subsystem: "pgwire", Name: "auth_failures_total",
			Help: "Failed authentication attempts.",
		}),
	}
	m.queriesSimp = m.queries.WithLabelValues("simple")
	m.queriesExt = m.queries.WithLabelValues("extended")
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connsOpen, m.connsTotal, m.queries, m.errors, m.authFailed} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("pgwire: metrics already registered (one Server per registry): %w", err)
			}
			return nil, fmt.Errorf("pgwire: register metrics: %w", err)
		}
	}
	return m, nil
}
