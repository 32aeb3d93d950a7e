package log

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func bloomPolicy() pebble.FilterPolicy { return bloom.FilterPolicy(10) }

type metrics struct {
	db           *pebble.DB
	appends      prometheus.Counter
	intents      prometheus.Counter
	batches      prometheus.Counter
	conflicts    prometheus.Counter
	batchIntents prometheus.Histogram
	durableLSN   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, db *pebble.DB) *metrics {
	m := &metrics{
		db: db,
		appends: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strand_log_appends_total", Help: "Events appended (durable)."}),
		intents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strand_log_intents_total", Help: "Intents sequenced, committed or failed."}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strand_log_batches_total", Help: "Pebble batches committed by the sequencer."}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strand_log_conflicts_total", Help: "Intents failed by an optimistic condition."}),
		batchIntents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "strand_log_batch_intents", Help: "Intents per committed batch (group commit factor).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13)}),
		durableLSN: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strand_log_durable_lsn", Help: "The last durable commit position."}),
	}
	if reg != nil {
		reg.MustRegister(m.appends, m.intents, m.batches, m.conflicts, m.batchIntents, m.durableLSN,
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "strand_log_wal_fsyncs_total", Help: "WAL fsyncs performed by Pebble."},
				func() float64 { return float64(m.fsyncs()) }))
	}
	return m
}

// fsyncs reads Pebble's WAL fsync latency histogram: its sample count is the
// number of fsyncs.
func (m *metrics) fsyncs() uint64 {
	h := m.db.Metrics().LogWriter.FsyncLatency
	if h == nil {
		return 0
	}
	var out dto.Metric
	if err := h.Write(&out); err != nil || out.Histogram == nil {
		return 0
	}
	return out.Histogram.GetSampleCount()
}

func counterValue(c prometheus.Counter) uint64 {
	var out dto.Metric
	if err := c.Write(&out); err != nil || out.Counter == nil {
		return 0
	}
	return uint64(out.Counter.GetValue())
}

func (m *metrics) stats() Stats {
	return Stats{
		Appends:   counterValue(m.appends),
		Intents:   counterValue(m.intents),
		Batches:   counterValue(m.batches),
		Conflicts: counterValue(m.conflicts),
		Fsyncs:    m.fsyncs(),
	}
}
