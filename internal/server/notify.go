package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openmitid/openmitid/internal/notify"
)

// newNotifier makes the outbox with the sender the configuration names.
func newNotifier(cfg Config, p *Platform) (*notify.Service, error) {
	var sender notify.Sender
	if cfg.SMTPAddr != "" {
		if err := notify.CheckSMTP(cfg.SMTPAddr, cfg.SMTPFrom); err != nil {
			return nil, err
		}
		sender = &notify.SMTP{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPAuth[0], Password: cfg.SMTPAuth[1], Now: cfg.Now}
	} else {
		cfg.Logger.Info("notifications are written to the log: no --smtp-addr is configured")
	}
	return notify.NewService(notify.Config{Store: p.DB, Keys: p.Keys, Log: p.DB, Sender: sender, Logger: cfg.Logger, Now: cfg.Now})
}

// registerOutboxMetrics publishes what became of this node's attempts to
// deliver notifications (internal/notify).
func registerOutboxMetrics(reg prometheus.Registerer, st *notify.Stats) {
	c := prometheus.NewDesc("openmitid_outbox_attempts_total", "Notification deliveries attempted by this node, by outcome.",
		[]string{"outcome"}, nil)
	reg.MustRegister(outboxCollector{c, st})
}

type outboxCollector struct {
	desc *prometheus.Desc
	st   *notify.Stats
}

func (o outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- o.desc }
func (o outboxCollector) Collect(ch chan<- prometheus.Metric) {
	for outcome, v := range map[string]uint64{"sent": o.st.Sent.Load(), "retry": o.st.Retried.Load(),
		"failed": o.st.Failed.Load(), "dropped": o.st.Dropped.Load()} {
		ch <- prometheus.MustNewConstMetric(o.desc, prometheus.CounterValue, float64(v), outcome)
	}
}
