package collect

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Request outcomes (label outcome of failcast_collect_requests_total).
const (
	outcomeAccepted  = "accepted"  // body stored, 200
	outcomeRejected  = "rejected"  // refused, see rejections by reason
	outcomeFailed    = "failed"    // could not be stored (5xx): Meta retries
	outcomeHandshake = "handshake" // verification GET answered with the challenge
)

// Rejection reasons (label reason of failcast_collect_rejections_total).
const (
	reasonMissingSignature = "missing_signature"
	reasonBadSignature     = "bad_signature"
	reasonTooLarge         = "too_large"
	reasonNotJSON          = "not_json"
	reasonBadVerifyToken   = "bad_verify_token"
	reasonBadHandshake     = "bad_handshake"
	reasonMethod           = "method_not_allowed"
	reasonReadError        = "read_error"
)

type metrics struct {
	reg             *prometheus.Registry
	requests        *prometheus.CounterVec
	rejections      *prometheus.CounterVec
	bytesWritten    prometheus.Counter
	linesWritten    prometheus.Counter
	writeErrors     prometheus.Counter
	requestSeconds  prometheus.Histogram // enqueue to durable, per request
	batchSeconds    prometheus.Histogram // one batch's write and fsync
	fsyncSeconds    prometheus.Histogram
	batchLines      prometheus.Histogram
	fileBytes       prometheus.Gauge
	filesOpened     prometheus.Counter
	filesCompressed prometheus.Counter
	compressErrors  prometheus.Counter
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	const ns, sub = "failcast", "collect"
	latency := prometheus.ExponentialBuckets(0.0001, 2, 16) // 0.1 ms to ~3.3 s
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "Webhook requests by outcome: accepted (stored, 200), rejected (4xx), failed (5xx, not stored), handshake."}, []string{"outcome"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "rejections_total",
			Help: "Rejected requests by reason; rejected bodies are never stored."}, []string{"reason"}),
		bytesWritten: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "written_bytes_total",
			Help: "Bytes appended to the NDJSON files (bodies and line breaks)."}),
		linesWritten: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "written_lines_total",
			Help: "Bodies appended to the NDJSON files."}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "write_errors_total",
			Help: "Failed file creations, writes or fsyncs (their requests got 500)."}),
		requestSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "write_latency_seconds",
			Help: "Per accepted body: time from queueing to durably written (what the 200 waited for).", Buckets: latency}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "batch_write_seconds",
			Help: "Per batch: write plus fsync.", Buckets: latency}),
		fsyncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "fsync_seconds",
			Help: "Per batch: the fsync alone (fsync policy group).", Buckets: latency}),
		batchLines: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "batch_lines",
			Help: "Bodies per batch (group commit).", Buckets: prometheus.ExponentialBuckets(1, 2, 13)}),
		fileBytes: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "current_file_bytes",
			Help: "Size of the file being written (0 when none is open)."}),
		filesOpened: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "files_opened_total",
			Help: "NDJSON files started (one per UTC hour with traffic, more when the size cap is passed)."}),
		filesCompressed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "files_compressed_total",
			Help: "Closed files gzipped to .ndjson.gz."}),
		compressErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "compress_errors_total",
			Help: "Failed gzips (the plain file is kept and retried on the next start)."}),
	}
	reg.MustRegister(m.requests, m.rejections, m.bytesWritten, m.linesWritten, m.writeErrors, m.requestSeconds,
		m.batchSeconds, m.fsyncSeconds, m.batchLines, m.fileBytes, m.filesOpened, m.filesCompressed, m.compressErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, o := range []string{outcomeAccepted, outcomeRejected, outcomeFailed, outcomeHandshake} {
		m.requests.WithLabelValues(o)
	}
	for _, r := range []string{reasonMissingSignature, reasonBadSignature, reasonTooLarge, reasonNotJSON,
		reasonBadVerifyToken, reasonBadHandshake, reasonMethod, reasonReadError} {
		m.rejections.WithLabelValues(r)
	}
	return m
}

func (m *metrics) reject(reason string) {
	m.requests.WithLabelValues(outcomeRejected).Inc()
	m.rejections.WithLabelValues(reason).Inc()
}
