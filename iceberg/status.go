package iceberg

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// The compactor's metrics, one series per table; register the Compactor
// itself (it is a prometheus.Collector).
var (
	descWatermark = prometheus.NewDesc("strand_iceberg_watermark_lsn", "LSN up to which the table is in Iceberg.", []string{"table"}, nil)
	descLag       = prometheus.NewDesc("strand_iceberg_lag_seconds", "Age of the table's oldest event not yet in Iceberg.", []string{"table"}, nil)
	descFiles     = prometheus.NewDesc("strand_iceberg_files", "Data files in the table's current Iceberg snapshots.", []string{"table"}, nil)
	descBytes     = prometheus.NewDesc("strand_iceberg_bytes", "Bytes of data files in the table's current Iceberg snapshots.", []string{"table"}, nil)
	descFailing   = prometheus.NewDesc("strand_iceberg_failing", "1 when the table's last compaction failed.", []string{"table"}, nil)
	descLagRows   = prometheus.NewDesc("strand_iceberg_lag_rows", "Events of the table not yet in Iceberg.", []string{"table"}, nil)
	descRows      = prometheus.NewDesc("strand_iceberg_rows", "Rows in the table's current Iceberg snapshot (a keyed table: its current state).", []string{"table"}, nil)
	descFloor     = prometheus.NewDesc("strand_iceberg_tier_floor_lsn", "LSN up to which the table's events may have left the local log (tiering; 0: none).", []string{"table"}, nil)
	descCommitted = prometheus.NewDesc("strand_iceberg_last_commit_timestamp_seconds", "Time of the table's last Iceberg commit.", []string{"table"}, nil)
)

// Describe implements prometheus.Collector.
func (c *Compactor) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWatermark, descLag, descFiles, descBytes, descFailing, descLagRows, descRows, descFloor, descCommitted} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Compactor) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.Status() {
		name := st.Schema + "." + st.Name
		failing := 0.0
		if st.LastError != "" {
			failing = 1
		}
		ch <- prometheus.MustNewConstMetric(descWatermark, prometheus.GaugeValue, float64(st.Watermark), name)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, st.Lag.Seconds(), name)
		ch <- prometheus.MustNewConstMetric(descFiles, prometheus.GaugeValue, float64(st.Files), name)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(st.Bytes), name)
		ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, failing, name)
		ch <- prometheus.MustNewConstMetric(descLagRows, prometheus.GaugeValue, float64(st.LagRows), name)
		ch <- prometheus.MustNewConstMetric(descRows, prometheus.GaugeValue, float64(st.Rows), name)
		ch <- prometheus.MustNewConstMetric(descFloor, prometheus.GaugeValue, float64(st.TierFloor), name)
		if !st.LastCommit.IsZero() {
			ch <- prometheus.MustNewConstMetric(descCommitted, prometheus.GaugeValue, float64(st.LastCommit.UnixMilli())/1e3, name)
		}
	}
}

// StatusHandler serves Status as JSON.
func (c *Compactor) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(c.Status())
	})
}
