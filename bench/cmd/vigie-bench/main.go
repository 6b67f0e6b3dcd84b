// Command vigie-bench measures a built vigie server end to end over loopback:
// syslog TCP ingest until stored and searchable, UDP ingest and loss, search
// latency on a large store; scenario checks run by the scheduler; and drives
// rsyslog with exactly the same loads for a side-by-side figure. See
// docs/benchmarks.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	vigie     string
	agent     string
	agentN    int
	skipAgent bool
	// skipSyslog leaves out the TCP and UDP runs (to time the agent alone).
	skipSyslog bool
	rsyslogd   string
	runs       int
	n          int
	conns      int
	udpN       int
	udpRate    int
	searchN    int
	searchQ    string
	full       bool
	skipPeer   bool
	keep       bool
	out        string
	jsonFile   string
	// The checks scenario.
	checksN     int
	checksSteps int
	checksFor   time.Duration
	checksRuns  int
	checksDelay time.Duration
	skipChecks  bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("vigie-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.vigie, "vigie", "./bin/vigie", "the vigie binary to measure (make build)")
	fs.StringVar(&o.agent, "agent", "./bin/vigie-agent", "the vigie-agent binary of the agent scenario (make build)")
	fs.IntVar(&o.agentN, "agent-n", 1_000_000, "agent scenario: lines of the Odoo log file shipped")
	fs.BoolVar(&o.skipAgent, "skip-agent", false, "do not run the agent scenario")
	fs.BoolVar(&o.skipSyslog, "skip-syslog", false, "do not run the TCP and UDP scenarios (with -search-n 0: the agent scenario alone)")
	fs.StringVar(&o.rsyslogd, "rsyslogd", defaultRsyslogd, "the rsyslogd binary of the peer")
	fs.IntVar(&o.runs, "runs", 3, "repetitions of each scenario; figures are the median")
	fs.IntVar(&o.n, "n", 1_000_000, "TCP scenario: messages to send")
	fs.IntVar(&o.conns, "conns", 4, "TCP: connections")
	fs.IntVar(&o.udpN, "udp-n", 500_000, "UDP scenario: datagrams to send")
	fs.IntVar(&o.udpRate, "udp-rate", 100_000, "UDP: datagrams per second")
	fs.IntVar(&o.searchN, "search-n", 1_000_000, "search scenario: messages stored before querying (10,000,000 with -full)")
	fs.StringVar(&o.searchQ, "search-q", rareWord, "search scenario: the rare query (the default word is in 1% of the messages)")
	fs.BoolVar(&o.full, "full", false, "full-size run: -search-n 10000000 unless given")
	fs.BoolVar(&o.skipPeer, "skip-peer", false, "do not run rsyslog")
	fs.BoolVar(&o.keep, "keep", false, "keep the data directories and rsyslog output files")
	fs.StringVar(&o.out, "out", "bench/out", "directory for the run's logs, data and results")
	fs.StringVar(&o.jsonFile, "json", "", "also write the figures as JSON to this file")
	fs.IntVar(&o.checksN, "checks-n", 500, "checks scenario: scenario checks run every minute (0: no checks scenario)")
	fs.IntVar(&o.checksSteps, "checks-steps", 4, "checks scenario: HTTP steps of each check (3 to 20)")
	fs.DurationVar(&o.checksFor, "checks-for", 3*time.Minute, "checks scenario: how long the server runs the checks (at least 2m; the first minute is warm-up)")
	fs.IntVar(&o.checksRuns, "checks-runs", 1, "checks scenario: repetitions, each -checks-for long (-runs does not apply: one run takes 3 minutes)")
	fs.DurationVar(&o.checksDelay, "checks-app-delay", 2*time.Millisecond, "checks scenario: how long the ERP app takes to answer each page")
	fs.BoolVar(&o.skipChecks, "skip-checks", false, "do not run the checks scenario")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.full && !set["search-n"] {
		o.searchN = 10_000_000
	}
	switch {
	case o.runs < 1:
		return o, errors.New("-runs: at least 1")
	case o.n < 1 || o.udpN < 0 || o.searchN < 0:
		return o, errors.New("-n at least 1, -udp-n and -search-n at least 0")
	case o.agentN < 1:
		return o, errors.New("-agent-n: at least 1")
	case o.conns < 1 || o.conns > 256:
		return o, errors.New("-conns: 1 to 256")
	case o.udpRate < 1:
		return o, errors.New("-udp-rate: at least 1")
	case o.checksN < 0 || o.checksN > 10_000:
		return o, errors.New("-checks-n: 0 to 10000")
	case o.checksSteps < 3 || o.checksSteps > 20:
		return o, errors.New("-checks-steps: 3 to 20 (login page, log in, web client pages, log out)")
	case o.checksFor < 2*time.Minute:
		return o, errors.New("-checks-for: at least 2m (one minute of warm-up, then at least one interval)")
	case o.checksRuns < 1:
		return o, errors.New("-checks-runs: at least 1")
	case o.checksDelay < 0 || o.checksDelay > time.Second:
		return o, errors.New("-checks-app-delay: 0 to 1s")
	}
	return o, nil
}

func main() {
	if spec := os.Getenv(receiverEnv); spec != "" {
		fmt.Fprintln(os.Stderr, "vigie-bench receiver:", receiverMain(spec))
		os.Exit(1)
	}
	opt, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "vigie-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, opt, os.Stdout))
}

// logf reports progress on stderr; stdout gets only the table.
var logf = log.New(os.Stderr, "vigie-bench: ", log.Ltime).Printf

// tcpTimeout bounds the wait for n messages to be stored: a minute plus
// 200 µs a message (a server slower than 5,000 msg/s fails the scenario).
func tcpTimeout(n int) time.Duration {
	return time.Minute + time.Duration(n)*200*time.Microsecond
}

func run(ctx context.Context, opt options, stdout io.Writer) int {
	if _, err := os.Stat(opt.vigie); err != nil {
		fmt.Fprintf(os.Stderr, "vigie-bench: %v (run make build)\n", err)
		return 2
	}
	if !opt.skipAgent {
		if _, err := os.Stat(opt.agent); err != nil {
			fmt.Fprintf(os.Stderr, "vigie-bench: %v (run make build, or -skip-agent)\n", err)
			return 2
		}
	}
	res := &results{Started: time.Now().UTC(), Options: opt.figures(), Host: hostInfo(opt)}
	p0 := int64(-1)
	if v, ok := cpuPressureTotal(); ok {
		p0 = v
	}
	peer := !opt.skipPeer
	if peer {
		if _, err := os.Stat(opt.rsyslogd); err != nil {
			if os.Getenv("CI") == "true" {
				fmt.Fprintf(os.Stderr, "vigie-bench: rsyslog peer missing (%v): apt-get install rsyslog (CI=true: a missing peer is a failure)\n", err)
				return 2
			}
			res.PeerSkipped = fmt.Sprintf("%s missing (Debian package rsyslog): peer skipped", opt.rsyslogd)
			logf("%s", res.PeerSkipped)
			peer = false
		}
	} else {
		res.PeerSkipped = "skipped (-skip-peer)"
	}

	runDir, err := filepath.Abs(filepath.Join(opt.out, res.Started.Format("20060102-150405")))
	if err == nil {
		err = os.MkdirAll(runDir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigie-bench:", err)
		return 2
	}
	res.Dir = runDir
	logf("vigie %s, runs %d, TCP %d msgs over %d conns, UDP %d at %d/s, search over %d; output in %s",
		opt.vigie, opt.runs, opt.n, opt.conns, opt.udpN, opt.udpRate, opt.searchN, runDir)
	if opt.runChecks() {
		logf("checks scenario: %d checks x %d steps every minute for %s, %d run(s)", opt.checksN, opt.checksSteps, opt.checksFor, opt.checksRuns)
	}

	for r := 1; r <= opt.runs && ctx.Err() == nil && !opt.skipSyslog; r++ {
		rf := runFigures{Run: r, Token: "bench" + randomWord(10)}
		now := time.Now()
		tg := newGenerator(rf.Token, uint64(now.UnixNano()), now.Add(-time.Duration(opt.n)*time.Microsecond))
		t0 := time.Now()
		tl := buildTCPLoad(tg, opt.n, opt.conns)
		ug := newGenerator(rf.Token+"u", uint64(now.UnixNano())+1, now)
		ul := buildUDPLoad(ug, opt.udpN)
		logf("run %d: token %s; generated %d TCP messages (%.0f MiB) and %d datagrams in %.1fs",
			r, rf.Token, opt.n, float64(tl.bytes)/(1<<20), opt.udpN, time.Since(t0).Seconds())

		dir := filepath.Join(runDir, fmt.Sprintf("vigie-run%d", r))
		rf.Vigie = runVigie(ctx, opt, dir, rf.Token, tl, ul)
		cleanup(opt, filepath.Join(dir, "data"))
		logRun("vigie", r, rf.Vigie)
		if peer && ctx.Err() == nil {
			dir := filepath.Join(runDir, fmt.Sprintf("rsyslog-run%d", r))
			p := runRsyslog(ctx, opt, dir, tl, ul)
			rf.Rsyslog = &p
			cleanup(opt, filepath.Join(dir, "messages.log"), filepath.Join(dir, "work"))
			logRun("rsyslog", r, p)
		}
		res.Runs = append(res.Runs, rf)
		tl, ul = nil, nil
		runtime.GC()
	}
	if !opt.skipAgent && ctx.Err() == nil {
		res.Agent = runAgentScenario(ctx, opt, runDir, peer)
	}
	if opt.searchN > 0 && ctx.Err() == nil {
		dir := filepath.Join(runDir, "vigie-search")
		res.Search = runSearch(ctx, opt, dir)
		cleanup(opt, filepath.Join(dir, "data"))
	}
	if opt.runChecks() && ctx.Err() == nil {
		res.Checks = runChecksScenario(ctx, opt, runDir)
	}
	if ctx.Err() != nil {
		res.Errors = append(res.Errors, "interrupted: "+ctx.Err().Error())
	}
	res.Finished = time.Now().UTC()
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.Host["loadavg_at_end"] = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if p1, ok := cpuPressureTotal(); ok && p0 >= 0 {
		pct := 100 * float64(p1-p0) / float64(res.Finished.Sub(res.Started).Microseconds())
		res.Host["cpu_pressure_pct"] = fmt.Sprintf("%.0f", pct)
	}

	table := res.table()
	fmt.Fprint(stdout, table)
	os.WriteFile(filepath.Join(runDir, "results.txt"), []byte(table), 0o644)
	if err := res.writeJSON(filepath.Join(runDir, "results.json")); err != nil {
		fmt.Fprintln(os.Stderr, "vigie-bench:", err)
	}
	if opt.jsonFile != "" {
		if err := res.writeJSON(opt.jsonFile); err != nil {
			fmt.Fprintln(os.Stderr, "vigie-bench:", err)
			return 2
		}
	}
	if res.failed() {
		return 1
	}
	return 0
}

// runChecks tells whether the checks scenario runs.
func (o options) runChecks() bool { return !o.skipChecks && o.checksN > 0 }

// cleanup removes the bulky files of a finished server unless -keep.
func cleanup(opt options, paths ...string) {
	if opt.keep {
		return
	}
	for _, p := range paths {
		os.RemoveAll(p)
	}
}

func logRun(who string, r int, p peerRun) {
	logf("run %d %s: TCP %.0f msg/s (%d stored in %.2fs, RSS %.0f MiB, CPU %.1fs); UDP %d/%d stored at %.0f/s, loss %.3f%%%s",
		r, who, p.TCP.MsgsPerSec, p.TCP.Stored, p.TCP.Seconds, mib(p.TCP.PeakRSS), p.TCP.CPUSeconds,
		p.UDP.Stored, p.UDP.Sent, p.UDP.SendRate, p.UDP.LossPct, errSuffix(p))
}

func errSuffix(p peerRun) string {
	var e []string
	for _, s := range []string{p.Error, p.TCP.Error, p.UDP.Error} {
		if s != "" {
			e = append(e, s)
		}
	}
	if len(e) == 0 {
		return ""
	}
	return "; ERROR: " + strings.Join(e, "; ")
}

// runVigie runs the TCP then the UDP scenario against one fresh vigie.
func runVigie(ctx context.Context, opt options, dir, token string, tl *tcpLoad, ul *udpLoad) peerRun {
	var p peerRun
	s, err := startVigie(ctx, opt.vigie, dir)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	defer s.kill()
	logf("vigie started: %s", s.started)
	p.TCP = vigieTCP(ctx, s, tl, token)
	if s.alive() && ctx.Err() == nil && ul.len() > 0 {
		p.UDP = vigieUDP(ctx, opt, s, ul)
	}
	if err := s.stop(); err != nil {
		p.Error = err.Error()
	}
	return p
}

func vigieTCP(ctx context.Context, s *vigieServer, tl *tcpLoad, token string) (f tcpFigures) {
	f.Sent = tl.n
	fail := func(err error) tcpFigures { f.Error = err.Error(); return f }
	base, _, err := s.stored(ctx)
	if err != nil {
		return fail(err)
	}
	u0, err := readProcUsage(s.pid())
	if err != nil {
		return fail(err)
	}
	timeout := tcpTimeout(tl.n)
	send, err := sendTCP(ctx, s.tcpAddr, tl.sources(), time.Now().Add(timeout))
	f.SendSeconds = send.end.Sub(send.start).Seconds()
	if err != nil {
		return fail(fmt.Errorf("tcp send (%d of %d bytes written): %w", send.bytes, tl.bytes, err))
	}
	stored, at, err := s.waitStored(ctx, base+int64(tl.n), timeout-time.Since(send.start))
	f.Stored = stored - base
	f.Seconds = at.Sub(send.start).Seconds()
	if err != nil {
		return fail(err)
	}
	if u, err := readProcUsage(s.pid()); err == nil {
		f.PeakRSS, f.CPUSeconds = u.PeakRSS, u.CPUSeconds-u0.CPUSeconds
	}
	if m, err := s.metrics(ctx); err == nil {
		f.Metrics = vigieMetrics(m)
	}
	if f.Stored != int64(tl.n) {
		return fail(fmt.Errorf("%s went from %d to %d: %d stored for %d sent", storedMetric, base, stored, f.Stored, tl.n))
	}
	f.MsgsPerSec = float64(tl.n) / f.Seconds
	sum, values, err := s.facetSum(ctx, token, "app")
	f.Searchable = sum
	if err != nil {
		return fail(fmt.Errorf("searchable check: %w", err))
	}
	if sum != int64(tl.n) {
		return fail(fmt.Errorf("searchable check: facets q=%s field=app: counts sum to %d over %d values, want %d", token, sum, values, tl.n))
	}
	return f
}

func vigieUDP(ctx context.Context, opt options, s *vigieServer, ul *udpLoad) (f udpFigures) {
	fail := func(err error) udpFigures { f.Error = err.Error(); return f }
	f.Rate = opt.udpRate
	base, m0, err := s.stored(ctx)
	if err != nil {
		return fail(err)
	}
	snmp0, err := readUDPSNMP()
	if err != nil {
		return fail(err)
	}
	u0, err := readProcUsage(s.pid())
	if err != nil {
		return fail(err)
	}
	send, err := sendUDP(ctx, s.udpAddr, ul, opt.udpRate, udpDeadline(ul.len(), opt.udpRate))
	f.setSend(send)
	if err != nil {
		return fail(err)
	}
	qr, err := s.waitQuiet(ctx, base+int64(send.sent), 2*time.Second, 2*time.Minute+time.Duration(ul.len())*200*time.Microsecond)
	stored, m1 := qr.stored, qr.metrics
	f.Stored = stored - base
	f.DrainSeconds = max(0, qr.lastMove.Sub(send.end).Seconds())
	if qr.maxQueue >= 0 {
		f.MaxQueueDepth = &qr.maxQueue
	}
	if snmp1, err2 := readUDPSNMP(); err2 == nil {
		f.RcvbufErrors = snmp1["RcvbufErrors"] - snmp0["RcvbufErrors"]
	}
	if u, err2 := readProcUsage(s.pid()); err2 == nil {
		f.PeakRSS, f.CPUSeconds = u.PeakRSS, u.CPUSeconds-u0.CPUSeconds
	}
	delta := func(name string) *float64 {
		if v, ok := m1[name]; ok {
			d := v - m0[name]
			return &d
		}
		return nil
	}
	f.Metrics = vigieMetrics(m1)
	f.Dropped = delta("vigie_records_dropped_total")
	f.Received = delta("vigie_syslog_received_total")
	if q, ok := m1["vigie_store_queue_depth"]; ok {
		f.QueueDepth = &q
	}
	f.setLoss()
	if err != nil {
		return fail(err)
	}
	return f
}

// udpDeadline bounds a UDP send: three times the planned duration plus 30 s.
func udpDeadline(n, rate int) time.Time {
	planned := time.Duration(float64(n) / float64(rate) * float64(time.Second))
	return time.Now().Add(3*planned + 30*time.Second)
}

func (f *udpFigures) setSend(s udpSend) {
	f.Sent, f.SendErrors, f.SendRate = s.sent, s.errors, s.achieved
	f.SendSeconds = s.end.Sub(s.start).Seconds()
}

func (f *udpFigures) setLoss() {
	if f.Sent > 0 {
		f.StoredPct = 100 * float64(f.Stored) / float64(f.Sent)
		f.LossPct = 100 - f.StoredPct
	}
}

// runRsyslog drives a fresh rsyslogd with the same TCP and UDP loads.
func runRsyslog(ctx context.Context, opt options, dir string, tl *tcpLoad, ul *udpLoad) peerRun {
	var p peerRun
	s, err := startRsyslog(ctx, opt.rsyslogd, dir)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	defer s.kill()
	p.TCP = rsyslogTCP(ctx, s, tl)
	if s.alive() && ctx.Err() == nil && ul.len() > 0 {
		p.UDP = rsyslogUDP(ctx, opt, s, ul)
	}
	if err := s.stop(); err != nil {
		p.Error = err.Error()
	}
	return p
}

func rsyslogTCP(ctx context.Context, s *rsyslogServer, tl *tcpLoad) (f tcpFigures) {
	f.Sent = tl.n
	f.Searchable = -1
	fail := func(err error) tcpFigures { f.Error = err.Error(); return f }
	base, err := s.lines.count()
	if err != nil {
		return fail(err)
	}
	u0, err := readProcUsage(s.pid())
	if err != nil {
		return fail(err)
	}
	timeout := tcpTimeout(tl.n)
	send, err := sendTCP(ctx, s.tcpAddr, tl.sources(), time.Now().Add(timeout))
	f.SendSeconds = send.end.Sub(send.start).Seconds()
	if err != nil {
		return fail(fmt.Errorf("tcp send (%d of %d bytes written): %w", send.bytes, tl.bytes, err))
	}
	n, at, err := s.waitLines(ctx, base+int64(tl.n), 3*time.Second, timeout-time.Since(send.start))
	f.Stored = n - base
	f.Seconds = at.Sub(send.start).Seconds()
	if u, err2 := readProcUsage(s.pid()); err2 == nil {
		f.PeakRSS, f.CPUSeconds = u.PeakRSS, u.CPUSeconds-u0.CPUSeconds
	}
	if err != nil {
		return fail(err)
	}
	if f.Stored != int64(tl.n) {
		return fail(fmt.Errorf("%d lines written for %d sent", f.Stored, tl.n))
	}
	f.MsgsPerSec = float64(tl.n) / f.Seconds
	return f
}

func rsyslogUDP(ctx context.Context, opt options, s *rsyslogServer, ul *udpLoad) (f udpFigures) {
	fail := func(err error) udpFigures { f.Error = err.Error(); return f }
	f.Rate = opt.udpRate
	base, err := s.lines.count()
	if err != nil {
		return fail(err)
	}
	snmp0, err := readUDPSNMP()
	if err != nil {
		return fail(err)
	}
	u0, err := readProcUsage(s.pid())
	if err != nil {
		return fail(err)
	}
	send, err := sendUDP(ctx, s.udpAddr, ul, opt.udpRate, udpDeadline(ul.len(), opt.udpRate))
	f.setSend(send)
	if err != nil {
		return fail(err)
	}
	n, _, err := s.waitLines(ctx, base+int64(send.sent), 3*time.Second, 2*time.Minute+time.Duration(ul.len())*200*time.Microsecond)
	f.Stored = n - base
	f.DrainSeconds = max(0, s.lastMove.Sub(send.end).Seconds())
	if snmp1, err2 := readUDPSNMP(); err2 == nil {
		f.RcvbufErrors = snmp1["RcvbufErrors"] - snmp0["RcvbufErrors"]
	}
	if u, err2 := readProcUsage(s.pid()); err2 == nil {
		f.PeakRSS, f.CPUSeconds = u.PeakRSS, u.CPUSeconds-u0.CPUSeconds
	}
	f.setLoss()
	// A stall below the count sent is UDP loss, the figure measured, not a failure.
	if err != nil && !strings.Contains(err.Error(), "stalled") {
		return fail(err)
	}
	return f
}

// runSearch stores opt.searchN messages in a fresh vigie, then times the
// three queries, 21 times each, opt.runs times over.
func runSearch(ctx context.Context, opt options, dir string) *searchFigures {
	const repeats = 21
	sf := &searchFigures{N: opt.searchN}
	token := "bench" + randomWord(10)
	now := time.Now()
	g := newGenerator(token, uint64(now.UnixNano()), now.Add(-time.Duration(opt.searchN)*time.Microsecond))
	s, err := startVigie(ctx, opt.vigie, dir)
	if err != nil {
		sf.Error = err.Error()
		return sf
	}
	defer s.kill()
	logf("search: storing %d messages (token %s)", opt.searchN, token)
	u0, err := readProcUsage(s.pid())
	if err != nil {
		sf.Error = err.Error()
		return sf
	}
	timeout := tcpTimeout(opt.searchN)
	send, err := sendTCP(ctx, s.tcpAddr, streamSources(g, opt.searchN, opt.conns), time.Now().Add(timeout))
	if err != nil {
		sf.Error = fmt.Sprintf("tcp send: %v", err)
		return sf
	}
	stored, at, err := s.waitStored(ctx, int64(opt.searchN), timeout-time.Since(send.start))
	sf.Stored = stored
	if err != nil {
		sf.Error = err.Error()
		return sf
	}
	sf.IngestSeconds = at.Sub(send.start).Seconds()
	sf.IngestMsgsPerSec = float64(opt.searchN) / sf.IngestSeconds
	logf("search: %d stored in %.1fs (%.0f msg/s, generated while sending)", stored, sf.IngestSeconds, sf.IngestMsgsPerSec)

	host := hosts[0]
	expect := map[string]int64{token: int64(opt.searchN)}
	var rare, onHost int64
	for i := range opt.searchN {
		if isRare(i) {
			rare++
		}
		if g.hostOf(i) == host {
			onHost++
		}
	}
	if opt.searchQ == rareWord {
		expect[rareWord] = rare
	}
	expect["host:"+host] = onHost
	sf.Queries = []queryFigures{
		{Label: "rare word (1%)", Query: opt.searchQ},
		{Label: "word in every message", Query: token},
		{Label: "field host:" + host, Query: "host:" + host},
	}
	for k := range sf.Queries {
		q := &sf.Queries[k]
		q.Matching = -1
		if e, ok := expect[q.Query]; ok {
			q.Matching = e
		}
	}
	for r := 0; r < opt.runs && ctx.Err() == nil; r++ {
		for k := range sf.Queries {
			q := &sf.Queries[k]
			var ms []float64
			for range repeats {
				d, recs, err := s.search(ctx, q.Query, 100)
				if err != nil {
					q.Error = err.Error()
					break
				}
				ms = append(ms, d.Seconds()*1000)
				got := len(recs)
				q.Records = got
				if err := checkAnswer(q.Query, recs); err != nil {
					q.Error = err.Error()
				}
				if q.Matching >= 0 && int64(got) != min(100, q.Matching) {
					q.Error = fmt.Sprintf("answered %d records, want %d", got, min(100, q.Matching))
				}
			}
			if len(ms) > 0 {
				q.Samples = append(q.Samples, ms...)
				q.RunMedianMs = append(q.RunMedianMs, percentile(ms, 50))
				q.RunP90Ms = append(q.RunP90Ms, percentile(ms, 90))
			}
		}
	}
	for k := range sf.Queries {
		q := &sf.Queries[k]
		q.MedianMs, q.P90Ms = percentile(q.RunMedianMs, 50), percentile(q.RunP90Ms, 50)
		logf("search %q: median %.1f ms, p90 %.1f ms, %d records%s", q.Query, q.MedianMs, q.P90Ms, q.Records, map[bool]string{true: "; ERROR: " + q.Error}[q.Error != ""])
	}
	if u, err := readProcUsage(s.pid()); err == nil {
		sf.PeakRSS, sf.CPUSeconds = u.PeakRSS, u.CPUSeconds-u0.CPUSeconds
	}
	sf.DiskBytes = dirSize(filepath.Join(dir, "data"))
	if err := s.stop(); err != nil {
		sf.Error = err.Error()
	}
	return sf
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// hostInfo describes the machine and the binaries measured.
func hostInfo(opt options) map[string]string {
	h := map[string]string{"cpus": fmt.Sprint(runtime.NumCPU()), "go": runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h["kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		h["loadavg_at_start"] = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				h["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, opt.vigie, "version").Output(); err == nil {
		h["vigie"] = strings.TrimSpace(string(b))
	}
	if !opt.skipAgent {
		if b, err := exec.CommandContext(ctx, opt.agent, "version").Output(); err == nil {
			h["vigie-agent"] = strings.TrimSpace(string(b))
		}
	}
	if !opt.skipPeer {
		if b, err := exec.CommandContext(ctx, opt.rsyslogd, "-v").Output(); err == nil {
			h["rsyslogd"] = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
		}
	}
	return h
}

// cpuPressureTotal is the "some" total of /proc/pressure/cpu: microseconds
// during which at least one task waited for a CPU.
func cpuPressureTotal() (int64, bool) {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "some ") {
			continue
		}
		for _, f := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(f, "total="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				return n, err == nil
			}
		}
	}
	return 0, false
}
