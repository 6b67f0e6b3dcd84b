package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The figures, as written by -json.

type tcpFigures struct {
	Sent        int     `json:"sent"`
	Stored      int64   `json:"stored"`
	Searchable  int64   `json:"searchable"` // vigie: sum of the facet counts for the run token; -1: not applicable
	SendSeconds float64 `json:"send_seconds"`
	Seconds     float64 `json:"seconds"` // first byte sent → all stored
	MsgsPerSec  float64 `json:"msgs_per_sec"`
	PeakRSS     int64   `json:"peak_rss_bytes"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	// Metrics is vigie's own vigie_store_* and vigie_syslog_* counters when
	// the scenario ended (each summed over its labels), for diagnosis.
	Metrics map[string]float64 `json:"server_metrics,omitempty"`
	Error   string             `json:"error,omitempty"`
}

type udpFigures struct {
	Rate          int                `json:"requested_rate"`
	Sent          int                `json:"sent"`
	SendErrors    int                `json:"send_errors"`
	SendSeconds   float64            `json:"send_seconds"`
	SendRate      float64            `json:"send_rate"`
	Stored        int64              `json:"stored"`
	StoredPct     float64            `json:"stored_pct"`
	LossPct       float64            `json:"loss_pct"`
	RcvbufErrors  int64              `json:"kernel_rcvbuf_errors"` // delta of /proc/net/snmp Udp RcvbufErrors (whole host)
	Dropped       *float64           `json:"records_dropped,omitempty"`
	Received      *float64           `json:"server_received,omitempty"`    // vigie: vigie_syslog_received_total delta
	QueueDepth    *float64           `json:"queue_depth_at_end,omitempty"` // vigie: vigie_store_queue_depth when the wait ended
	MaxQueueDepth *float64           `json:"max_queue_depth,omitempty"`    // vigie: highest vigie_store_queue_depth seen after sending
	DrainSeconds  float64            `json:"drain_seconds"`                // end of sending → the stored count's last move
	PeakRSS       int64              `json:"peak_rss_bytes"`               // after TCP then UDP
	CPUSeconds    float64            `json:"cpu_seconds"`
	Metrics       map[string]float64 `json:"server_metrics,omitempty"`
	Error         string             `json:"error,omitempty"`
}

type peerRun struct {
	TCP   tcpFigures `json:"tcp"`
	UDP   udpFigures `json:"udp"`
	Error string     `json:"error,omitempty"`
}

func (p peerRun) ok() bool { return p.Error == "" && p.TCP.Error == "" && p.UDP.Error == "" }

type runFigures struct {
	Run     int      `json:"run"`
	Token   string   `json:"token"`
	Vigie   peerRun  `json:"vigie"`
	Rsyslog *peerRun `json:"rsyslog,omitempty"`
}

type queryFigures struct {
	Label       string    `json:"label"`
	Query       string    `json:"query"`
	Matching    int64     `json:"matching"` // records the query matches; -1: unknown
	Records     int       `json:"records"`  // records answered (limit 100)
	MedianMs    float64   `json:"median_ms"`
	P90Ms       float64   `json:"p90_ms"`
	RunMedianMs []float64 `json:"run_median_ms"`
	RunP90Ms    []float64 `json:"run_p90_ms"`
	Samples     []float64 `json:"samples_ms"`
	Error       string    `json:"error,omitempty"`
}

type searchFigures struct {
	N                int            `json:"n"`
	Stored           int64          `json:"stored"`
	IngestSeconds    float64        `json:"ingest_seconds"`
	IngestMsgsPerSec float64        `json:"ingest_msgs_per_sec"`
	PeakRSS          int64          `json:"peak_rss_bytes"`
	CPUSeconds       float64        `json:"cpu_seconds"`
	DiskBytes        int64          `json:"disk_bytes"`
	Queries          []queryFigures `json:"queries"`
	Error            string         `json:"error,omitempty"`
}

type results struct {
	Started     time.Time         `json:"started"`
	Finished    time.Time         `json:"finished"`
	Dir         string            `json:"dir"`
	Options     map[string]any    `json:"options"`
	Host        map[string]string `json:"host"`
	PeerSkipped string            `json:"peer_skipped,omitempty"`
	Runs        []runFigures      `json:"runs"`
	Agent       *agentResults     `json:"agent,omitempty"`
	Search      *searchFigures    `json:"search,omitempty"`
	Checks      *checksResults    `json:"checks,omitempty"`
	Errors      []string          `json:"errors,omitempty"`
}

func (o options) figures() map[string]any {
	return map[string]any{"runs": o.runs, "n": o.n, "conns": o.conns, "udp_n": o.udpN, "udp_rate": o.udpRate,
		"search_n": o.searchN, "search_q": o.searchQ, "full": o.full, "skip_peer": o.skipPeer, "msg_size": msgSize,
		"agent_n": o.agentN, "skip_agent": o.skipAgent,
		"checks_n": o.checksN, "checks_steps": o.checksSteps, "checks_for": o.checksFor.String(), "checks_runs": o.checksRuns,
		"checks_app_delay": o.checksDelay.String(), "skip_checks": o.skipChecks}
}

func (r *results) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// failed tells whether any scenario failed (the exit status is then 1).
func (r *results) failed() bool {
	if len(r.Errors) > 0 {
		return true
	}
	for _, run := range r.Runs {
		if !run.Vigie.ok() || (run.Rsyslog != nil && !run.Rsyslog.ok()) {
			return true
		}
	}
	if a := r.Agent; a != nil {
		if a.Error != "" {
			return true
		}
		for _, run := range a.Runs {
			if run.Agent.Error != "" || (run.Rsyslog != nil && run.Rsyslog.Error != "") ||
				(run.AgentAlone != nil && run.AgentAlone.Error != "") {
				return true
			}
		}
	}
	if s := r.Search; s != nil {
		if s.Error != "" {
			return true
		}
		for _, q := range s.Queries {
			if q.Error != "" {
				return true
			}
		}
	}
	return r.Checks != nil && r.Checks.failed()
}

// percentile is the nearest-rank percentile p (0-100) of xs; NaN when empty.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if p == 50 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// stat is one figure over the runs: the median of the runs where the
// scenario succeeded; NaN when none did.
type stat struct {
	v   float64
	n   int // runs with a value
	bad int // runs that failed
}

func medianOf(runs []runFigures, peer func(runFigures) *peerRun, tcp bool, get func(peerRun) (float64, bool)) stat {
	var xs []float64
	var st stat
	for _, r := range runs {
		p := peer(r)
		if p == nil {
			continue
		}
		ok := p.Error == "" && p.TCP.Error == ""
		if !tcp {
			ok = p.Error == "" && p.UDP.Error == ""
		}
		if !ok {
			st.bad++
			continue
		}
		if v, have := get(*p); have {
			xs = append(xs, v)
		}
	}
	st.n = len(xs)
	st.v = percentile(xs, 50)
	return st
}

func fmtNum(v float64, prec int) string {
	if math.IsNaN(v) {
		return "—"
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	// Thousands separators for the integer part of big numbers.
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	if len(intPart) > 4 {
		var b strings.Builder
		for i, c := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		intPart = b.String()
	}
	if neg {
		intPart = "-" + intPart
	}
	if frac != "" {
		return intPart + "." + frac
	}
	return intPart
}

func (s stat) fmt(prec int) string {
	switch {
	case s.n == 0 && s.bad > 0:
		return "FAIL"
	case s.n == 0:
		return "—"
	case s.bad > 0:
		return fmtNum(s.v, prec) + fmt.Sprintf(" (%d failed)", s.bad)
	}
	return fmtNum(s.v, prec)
}

func ratio(a, b stat) string {
	if a.n == 0 || b.n == 0 || b.v == 0 || math.IsNaN(a.v) || math.IsNaN(b.v) {
		return "—"
	}
	return strconv.FormatFloat(a.v/b.v, 'f', 2, 64)
}

// table renders the figures: one row per figure, vigie and rsyslog side by side.
func (r *results) table() string {
	var out strings.Builder
	vig := func(rf runFigures) *peerRun { return &rf.Vigie }
	rsy := func(rf runFigures) *peerRun { return rf.Rsyslog }
	fmt.Fprintf(&out, "vigie-bench %s, %d run(s), medians; %s CPUs, %s; load average at start %s\n",
		r.Started.Format(time.RFC3339), len(r.Runs), r.Host["cpus"], r.Host["cpu"], r.Host["loadavg_at_start"])
	if la, err := strconv.ParseFloat(strings.Fields(r.Host["loadavg_at_start"] + " 0")[0], 64); err == nil && la > 1.5 {
		fmt.Fprintf(&out, "WARNING: the machine was busy before the run (load average %s): figures are not representative\n", r.Host["loadavg_at_start"])
	}
	if p := r.Host["cpu_pressure_pct"]; p != "" {
		fmt.Fprintf(&out, "CPU pressure during the run (share of time some task waited for a CPU, harness included): %s%%; load average at end %s\n", p, r.Host["loadavg_at_end"])
	}
	if r.PeerSkipped != "" {
		fmt.Fprintf(&out, "rsyslog: %s\n", r.PeerSkipped)
	}
	out.WriteString("\n")
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', 0)
	row := func(label, v, p, ratio string) { fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", label, v, p, ratio) }
	tw.Write([]byte("scenario\tvigie\trsyslog\tvigie/rsyslog\t\n"))
	fig := func(label string, tcp bool, prec int, get func(peerRun) (float64, bool)) {
		a, b := medianOf(r.Runs, vig, tcp, get), medianOf(r.Runs, rsy, tcp, get)
		row(label, a.fmt(prec), b.fmt(prec), ratio(a, b))
	}
	// figNoRatio is for counts and small quantities whose ratio says nothing.
	figNoRatio := func(label string, tcp bool, prec int, get func(peerRun) (float64, bool)) {
		a, b := medianOf(r.Runs, vig, tcp, get), medianOf(r.Runs, rsy, tcp, get)
		row(label, a.fmt(prec), b.fmt(prec), "—")
	}
	always := func(f func(peerRun) float64) func(peerRun) (float64, bool) {
		return func(p peerRun) (float64, bool) { return f(p), true }
	}
	n, udpN, rate := r.Options["n"], r.Options["udp_n"], r.Options["udp_rate"]
	fig(fmt.Sprintf("TCP %v msgs, msg/s stored (vigie: and searchable)", n), true, 0, always(func(p peerRun) float64 { return p.TCP.MsgsPerSec }))
	fig("TCP seconds, first byte to all stored", true, 2, always(func(p peerRun) float64 { return p.TCP.Seconds }))
	fig("TCP send only, msg/s", true, 0, always(func(p peerRun) float64 { return float64(p.TCP.Sent) / p.TCP.SendSeconds }))
	fig("TCP server peak RSS, MiB", true, 1, always(func(p peerRun) float64 { return mib(p.TCP.PeakRSS) }))
	fig("TCP server CPU, s", true, 2, always(func(p peerRun) float64 { return p.TCP.CPUSeconds }))
	fig("TCP server CPU per message, µs", true, 2, always(func(p peerRun) float64 { return 1e6 * p.TCP.CPUSeconds / float64(p.TCP.Sent) }))
	fig(fmt.Sprintf("UDP %v msgs at %v/s, achieved send rate", udpN, rate), false, 0, always(func(p peerRun) float64 { return p.UDP.SendRate }))
	fig("UDP stored / sent, %", false, 3, always(func(p peerRun) float64 { return p.UDP.StoredPct }))
	figNoRatio("UDP loss, %", false, 3, always(func(p peerRun) float64 { return p.UDP.LossPct }))
	figNoRatio("UDP kernel RcvbufErrors (delta)", false, 0, always(func(p peerRun) float64 { return float64(p.UDP.RcvbufErrors) }))
	fig("UDP vigie_records_dropped_total (delta)", false, 0, func(p peerRun) (float64, bool) {
		if p.UDP.Dropped == nil {
			return 0, false
		}
		return *p.UDP.Dropped, true
	})
	fig("UDP received by vigie (vigie_syslog_received_total delta)", false, 0, func(p peerRun) (float64, bool) {
		if p.UDP.Received == nil {
			return 0, false
		}
		return *p.UDP.Received, true
	})
	fig("UDP vigie_store_queue_depth, highest after sending", false, 0, func(p peerRun) (float64, bool) {
		if p.UDP.MaxQueueDepth == nil {
			return 0, false
		}
		return *p.UDP.MaxQueueDepth, true
	})
	figNoRatio("UDP seconds from end of sending to last stored", false, 2, always(func(p peerRun) float64 { return p.UDP.DrainSeconds }))
	fig("UDP server CPU, s", false, 2, always(func(p peerRun) float64 { return p.UDP.CPUSeconds }))
	fig("server peak RSS after TCP+UDP, MiB", false, 1, always(func(p peerRun) float64 { return mib(p.UDP.PeakRSS) }))
	r.agentRows(row)
	if s := r.Search; s != nil {
		na := "n/a"
		if s.Error != "" && s.IngestSeconds == 0 {
			row(fmt.Sprintf("search: store %d msgs", s.N), "FAIL", na, "—")
		} else {
			row(fmt.Sprintf("search: %d msgs stored, msg/s (load generated live)", s.N), fmtNum(s.IngestMsgsPerSec, 0), na, "—")
			for _, q := range s.Queries {
				v := fmtNum(q.MedianMs, 1) + " / " + fmtNum(q.P90Ms, 1)
				if q.Error != "" {
					v += " (ERROR)"
				}
				row(fmt.Sprintf("search %s %q, limit 100, ms median / p90", q.Label, q.Query), v, na, "—")
			}
			row("search server peak RSS, MiB", fmtNum(mib(s.PeakRSS), 1), na, "—")
			row("search data on disk, MiB", fmtNum(mib(s.DiskBytes), 1), na, "—")
		}
	}
	r.checksRows(row)
	tw.Flush()
	r.targets(&out)
	r.errorList(&out)
	return out.String()
}

// targets compares the medians with the goals of the issue.
func (r *results) targets(out *strings.Builder) {
	vig := func(rf runFigures) *peerRun { return &rf.Vigie }
	tcp := medianOf(r.Runs, vig, true, func(p peerRun) (float64, bool) { return p.TCP.MsgsPerSec, true })
	loss := medianOf(r.Runs, vig, false, func(p peerRun) (float64, bool) { return p.UDP.LossPct, true })
	sendRate := medianOf(r.Runs, vig, false, func(p peerRun) (float64, bool) { return p.UDP.SendRate, true })
	rss := medianOf(r.Runs, vig, false, func(p peerRun) (float64, bool) { return mib(p.UDP.PeakRSS), true })
	verdict := func(ok bool, have bool) string {
		switch {
		case !have:
			return "no figure"
		case ok:
			return "met"
		}
		return "NOT met"
	}
	out.WriteString("\ntargets (vigie):\n")
	fmt.Fprintf(out, "  >= 100,000 RFC 5424 msg/s over TCP, stored and searchable: %s (%s)\n", verdict(tcp.v >= 100_000, tcp.n > 0), tcp.fmt(0))
	note := ""
	if sendRate.n > 0 && sendRate.v < 99_000 {
		note = fmt.Sprintf("; the sender reached only %s/s", fmtNum(sendRate.v, 0))
	}
	fmt.Fprintf(out, "  UDP 100,000 msg/s with < 0.1%% loss: %s (loss %s%%%s)\n", verdict(loss.v < 0.1 && sendRate.v >= 99_000, loss.n > 0), loss.fmt(3), note)
	fmt.Fprintf(out, "  collector RSS < 200 MiB: %s (%s MiB peak after TCP+UDP)\n", verdict(rss.v < 200, rss.n > 0), rss.fmt(1))
	if a := r.Agent; a != nil {
		// The agent's own rate: shipping to the receiver on the other core.
		// End to end into vigie the collector, indexing every record on the
		// same two cores, is what bounds the rate; that figure is shown too.
		lps := a.stat(agentAloneSide, func(f fileFigures) float64 { return f.LinesPerSec })
		rss := a.stat(agentAloneSide, func(f fileFigures) float64 { return mib(f.PeakRSS) })
		e2e := a.stat(agentSide, func(f fileFigures) float64 { return f.LinesPerSec })
		fmt.Fprintf(out, "  agent >= 100,000 lines/s shipped on one core, RSS < 50 MiB: %s (%s lines/s, %s MiB; end to end into vigie on this machine: %s lines/s)\n",
			verdict(lps.v >= 100_000 && rss.v < 50, lps.n > 0 && rss.n > 0), lps.fmt(0), rss.fmt(1), e2e.fmt(0))
	}
	if s := r.Search; s != nil && len(s.Queries) > 0 {
		q := s.Queries[0]
		v := verdict(q.MedianMs < 100 && q.Error == "", !math.IsNaN(q.MedianMs))
		if s.N < 10_000_000 && v != "no figure" {
			v = fmt.Sprintf("not measured at 10 million (%s over %d stored: run -full)", map[bool]string{true: "under 100 ms", false: "over 100 ms"}[q.MedianMs < 100], s.N)
		}
		fmt.Fprintf(out, "  term query over 10 million, newest 100 in < 100 ms median: %s (%s ms)\n", v, fmtNum(q.MedianMs, 1))
	}
	if r.Checks != nil {
		out.WriteString(r.Checks.target())
	}
}

func (r *results) errorList(out *strings.Builder) {
	var lines []string
	add := func(who string, run int, msg string) {
		if msg != "" {
			lines = append(lines, fmt.Sprintf("  run %d %s: %s", run, who, msg))
		}
	}
	for _, run := range r.Runs {
		for who, p := range map[string]*peerRun{"vigie": &run.Vigie, "rsyslog": run.Rsyslog} {
			if p == nil {
				continue
			}
			add(who, run.Run, p.Error)
			add(who+" TCP", run.Run, p.TCP.Error)
			add(who+" UDP", run.Run, p.UDP.Error)
		}
	}
	if a := r.Agent; a != nil {
		for _, run := range a.Runs {
			add("vigie-agent", run.Run, run.Agent.Error)
			if run.AgentAlone != nil {
				add("vigie-agent → receiver", run.Run, run.AgentAlone.Error)
			}
			if run.Rsyslog != nil {
				add("rsyslog imfile", run.Run, run.Rsyslog.Error)
			}
		}
	}
	slices.Sort(lines)
	if a := r.Agent; a != nil && a.Error != "" {
		lines = append(lines, "  agent: "+a.Error)
	}
	if s := r.Search; s != nil {
		if s.Error != "" {
			lines = append(lines, "  search: "+s.Error)
		}
		for _, q := range s.Queries {
			if q.Error != "" {
				lines = append(lines, fmt.Sprintf("  search %q: %s", q.Query, q.Error))
			}
		}
	}
	if r.Checks != nil {
		lines = append(lines, r.Checks.errors()...)
	}
	for _, e := range r.Errors {
		lines = append(lines, "  "+e)
	}
	if len(lines) > 0 {
		out.WriteString("\nfailures:\n")
		out.WriteString(strings.Join(lines, "\n"))
		out.WriteString("\n")
	}
	fmt.Fprintf(out, "\nfigures and logs: %s\n", r.Dir)
}

// vigieMetrics keeps the series of m worth keeping in the figures.
func vigieMetrics(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if (strings.HasPrefix(k, "vigie_store_") || strings.HasPrefix(k, "vigie_syslog_") || strings.HasPrefix(k, "vigie_records_") || strings.HasPrefix(k, "vigie_udp_")) && !strings.HasSuffix(k, "_bucket") {
			out[k] = v
		}
	}
	return out
}

// The agent scenario's figures.

func agentSide(r fileRun) *fileFigures      { return &r.Agent }
func agentAloneSide(r fileRun) *fileFigures { return r.AgentAlone }
func rsyslogSide(r fileRun) *fileFigures    { return r.Rsyslog }

// stat is the median of one figure over the runs where that reader succeeded.
func (a *agentResults) stat(side func(fileRun) *fileFigures, get func(fileFigures) float64) stat {
	var xs []float64
	var st stat
	for _, r := range a.Runs {
		f := side(r)
		if f == nil {
			continue
		}
		if f.Error != "" {
			st.bad++
			continue
		}
		xs = append(xs, get(*f))
	}
	st.n = len(xs)
	st.v = percentile(xs, 50)
	return st
}

// agentRows adds the agent scenario's rows: vigie-agent → vigie in the vigie
// column, rsyslog imfile → omfile in the rsyslog one.
func (r *results) agentRows(row func(label, v, p, ratio string)) {
	a := r.Agent
	if a == nil {
		return
	}
	lf := a.File
	if a.Error != "" && len(a.Runs) == 0 {
		row(fmt.Sprintf("file %s lines (Odoo): lines/s shipped", fmtNum(float64(lf.Lines), 0)), "FAIL", "—", "—")
		return
	}
	pin := "?"
	if len(a.Runs) > 0 {
		pin = a.Runs[0].Agent.Pinning
	}
	row(fmt.Sprintf("file: vigie-agent (%s) → vigie | rsyslog imfile → omfile", pin), "", "", "")
	fig := func(label string, prec int, get func(fileFigures) float64) {
		x, y := a.stat(agentSide, get), a.stat(rsyslogSide, get)
		row(label, x.fmt(prec), y.fmt(prec), ratio(x, y))
	}
	fig(fmt.Sprintf("file %s lines, %s records (%.0f MiB, Odoo): lines/s shipped, start → all stored",
		fmtNum(float64(lf.Lines), 0), fmtNum(float64(lf.Records), 0), mib(lf.Bytes)), 0, func(f fileFigures) float64 { return f.LinesPerSec })
	fig("file: records/s shipped", 0, func(f fileFigures) float64 { return f.RecordsPerSec })
	fig("file: seconds, reader start → all stored", 2, func(f fileFigures) float64 { return f.Seconds })
	fig("file: seconds to all but the last record (it waits the 2 s multiline timeout)", 2, func(f fileFigures) float64 { return f.SecondsButLast })
	fig("file: reader peak RSS, MiB", 1, func(f fileFigures) float64 { return mib(f.PeakRSS) })
	fig("file: reader CPU, s", 2, func(f fileFigures) float64 { return f.CPUSeconds })
	fig("file: reader CPU per line, µs", 2, func(f fileFigures) float64 { return 1e6 * f.CPUSeconds / float64(max(1, lf.Lines)) })
	col := a.stat(agentSide, func(f fileFigures) float64 {
		if f.CollectorCPUSeconds == nil {
			return math.NaN()
		}
		return *f.CollectorCPUSeconds
	})
	row("file: collector (vigie serve) CPU, s", col.fmt(2), "n/a", "—")
	if a.stat(agentAloneSide, func(fileFigures) float64 { return 0 }).n == 0 {
		return
	}
	row("file: vigie-agent → receiver on the other CPU (stores nothing) | rsyslog imfile → omfile", "", "", "")
	alone := func(label string, prec int, get func(fileFigures) float64) {
		x, y := a.stat(agentAloneSide, get), a.stat(rsyslogSide, get)
		row(label, x.fmt(prec), y.fmt(prec), ratio(x, y))
	}
	alone("file, agent alone: lines/s shipped, start → all received", 0, func(f fileFigures) float64 { return f.LinesPerSec })
	alone("file, agent alone: reader peak RSS, MiB", 1, func(f fileFigures) float64 { return mib(f.PeakRSS) })
	alone("file, agent alone: reader CPU per line, µs", 2, func(f fileFigures) float64 { return 1e6 * f.CPUSeconds / float64(max(1, lf.Lines)) })
	rcv := a.stat(agentAloneSide, func(f fileFigures) float64 {
		if f.CollectorCPUSeconds == nil {
			return math.NaN()
		}
		return *f.CollectorCPUSeconds
	})
	row("file, agent alone: receiver CPU, s", rcv.fmt(2), "n/a", "—")
}
