package crmsync

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	runs     *prometheus.CounterVec
	duration prometheus.Histogram
	partners *prometheus.CounterVec
	pushes   *prometheus.CounterVec
	pending  prometheus.Gauge
	funcs    []prometheus.Collector
}

func newMetrics(s *Syncer) *metrics {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmsync_runs_total",
			Help: "CRM sync runs by result (ok, error)."}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "crmsync_run_duration_seconds",
			Help: "Duration of CRM sync runs.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 14)}),
		partners: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmsync_partners_total",
			Help: "CRM partners applied, by outcome (created, updated, deactivated, unchanged, rejected)."}, []string{"outcome"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmsync_pushes_total",
			Help: "Write-backs to the CRM by result (ok, conflict, failed)."}, []string{"result"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "crmsync_pending_pushes",
			Help: "Write-backs still owed to the CRM."}),
	}
	m.funcs = []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crmsync_lag_seconds",
			Help: "Age of the newest CRM change known to be applied."}, func() float64 { return s.Status().LagSeconds }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crmsync_axelor_requests_total",
			Help: "Logical requests sent to Axelor."}, func() float64 { return float64(s.client.Stats().Requests) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crmsync_axelor_attempts_total",
			Help: "HTTP attempts sent to Axelor, retries included."}, func() float64 { return float64(s.client.Stats().Attempts) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crmsync_axelor_retries_total",
			Help: "Retried HTTP attempts."}, func() float64 { return float64(s.client.Stats().Retries) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crmsync_axelor_logins_total",
			Help: "Axelor session logins."}, func() float64 { return float64(s.client.Stats().Logins) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crmsync_axelor_breaker_opens_total",
			Help: "Times the circuit breaker opened."}, func() float64 { return float64(s.client.Stats().BreakerOpens) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crmsync_axelor_breaker_state",
			Help: "Circuit breaker state: 0 closed, 1 open, 2 half-open."}, func() float64 { return float64(s.client.Stats().BreakerState) }),
	}
	return m
}

func (m *metrics) pulled(created, updated, deactivated, unchanged, rejected int) {
	m.partners.WithLabelValues("created").Add(float64(created))
	m.partners.WithLabelValues("updated").Add(float64(updated))
	m.partners.WithLabelValues("deactivated").Add(float64(deactivated))
	m.partners.WithLabelValues("unchanged").Add(float64(unchanged))
	m.partners.WithLabelValues("rejected").Add(float64(rejected))
}

func (m *metrics) run(rep Report, err error) {
	res := "ok"
	if err != nil {
		res = "error"
	}
	m.runs.WithLabelValues(res).Inc()
	m.duration.Observe(rep.Duration.Seconds())
}

// Register adds the sync's collectors to reg.
func (s *Syncer) Register(reg prometheus.Registerer) error {
	cs := append([]prometheus.Collector{s.metrics.runs, s.metrics.duration, s.metrics.partners,
		s.metrics.pushes, s.metrics.pending}, s.metrics.funcs...)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
