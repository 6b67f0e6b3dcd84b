package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The agent scenario: vigie-agent ships an Odoo log file to a fresh vigie,
// on one core; rsyslog's imfile reads the same file to omfile, pinned the
// same way. See docs/benchmarks.md.

// agentName is the agent's id and the name of its token on the server.
const agentName = "bench"

// agentStall fails a file scenario whose stored count has not moved for
// that long (the agent retries a refused batch forever, and says so in its
// log only).
const agentStall = 30 * time.Second

// oneCore returns the command prefix that pins a process to CPU 1 (taskset,
// when installed and the machine has two CPUs or more) and says what it did.
func oneCore() ([]string, string) {
	if runtime.NumCPU() < 2 {
		return nil, "not pinned (one CPU)"
	}
	p, err := exec.LookPath("taskset")
	if err != nil {
		return nil, "not pinned (no taskset)"
	}
	return []string{p, "-c", "1"}, "taskset -c 1"
}

// agentConfig is the vigie-agent configuration of one run.
func agentConfig(serverAddr, token, stateDir, metricsAddr, file string) string {
	return fmt.Sprintf(`# written by vigie-bench
agent_id: %s
server: {url: "http://%s", token: %q}
state_dir: %q
metrics: {addr: %q}
sources:
  - {type: file, paths: [%q], format: odoo}
`, agentName, serverAddr, token, stateDir, metricsAddr, file)
}

// rsyslogFileConfig is the imfile peer's configuration: the file read from its
// start (inotify mode, the default), records joined on odooStartRegex with
// their LFs escaped (#012, so one record is one output line), the last record
// flushed after 2 s without a next line (the agent's multiline timeout), and
// every message written by omfile (default template).
func rsyslogFileConfig(workDir, file, outFile string) string {
	return fmt.Sprintf(`# written by vigie-bench
global(workDirectory=%q maxMessageSize="64k")
module(load="imfile")
input(type="imfile" File=%q Tag="odoo" readMode="0" freshStartTail="off"
      startmsg.regex=%q readTimeout="2" escapeLF="on")
*.* action(type="omfile" file=%q)
`, workDir, file, odooStartRegex, outFile)
}

// proc is a child process the harness started, its output in a log file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// startProc starts argv with env added to the harness's environment.
func startProc(name, logPath string, env []string, argv ...string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, logPath: logPath, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = lf, lf
	if len(env) > 0 {
		p.cmd.Env = append(os.Environ(), env...)
	}
	if err := p.cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// exitError describes how the process ended; nil while it runs.
func (p *proc) exitError() error {
	if p.alive() {
		return nil
	}
	return fmt.Errorf("%s exited (%v); log %s: %s", p.name, p.waitErr, p.logPath, tail(p.logPath, 1500))
}

// stop sends SIGTERM and waits (60 s, then SIGKILL). A non-zero exit is an error.
func (p *proc) stop() error {
	if !p.alive() {
		return p.exitError()
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.kill()
		return fmt.Errorf("%s did not stop within 60 s of SIGTERM: killed", p.name)
	}
	if p.waitErr != nil {
		return fmt.Errorf("%s exit after SIGTERM: %v; log %s: %s", p.name, p.waitErr, p.logPath, tail(p.logPath, 1500))
	}
	return nil
}

func (p *proc) kill() {
	if p.alive() {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// countWait is what waitCount saw.
type countWait struct {
	n       int64
	butLast time.Time // when n first reached target-1
	at      time.Time // when n reached target (or the wait ended)
}

// waitCount polls count every `every` until it reaches target; it fails when
// the count has not moved for stall, after timeout, or when check (the
// reader still running) fails.
func waitCount(ctx context.Context, count func() (int64, error), check func() error, target int64, every, stall, timeout time.Duration) (countWait, error) {
	var w countWait
	deadline := time.Now().Add(timeout)
	last, moved := int64(-1), time.Now()
	for {
		n, err := count()
		now := time.Now()
		w.n, w.at = n, now
		if err != nil {
			return w, err
		}
		if n >= target-1 && w.butLast.IsZero() {
			w.butLast = now
		}
		if n >= target {
			return w, nil
		}
		if n != last {
			last, moved = n, now
		}
		if now.Sub(moved) >= stall {
			return w, fmt.Errorf("stored count stalled at %d for %s, want %d", n, stall, target)
		}
		if now.After(deadline) {
			return w, fmt.Errorf("stored count at %d after %s, want %d", n, timeout, target)
		}
		if err := check(); err != nil {
			return w, err
		}
		select {
		case <-ctx.Done():
			return w, ctx.Err()
		case <-time.After(every):
		}
	}
}

// fileFigures are one reader's figures for one run of the file scenario.
type fileFigures struct {
	Pinning        string  `json:"pinning"`
	Stored         int64   `json:"stored"`
	Seconds        float64 `json:"seconds"`          // reader started → every record stored
	SecondsButLast float64 `json:"seconds_but_last"` // reader started → all but the last record stored
	RecordsPerSec  float64 `json:"records_per_sec"`
	LinesPerSec    float64 `json:"lines_per_sec"`
	PeakRSS        int64   `json:"peak_rss_bytes"` // the reader's VmHWM
	CPUSeconds     float64 `json:"cpu_seconds"`    // the reader's utime+stime, from its start
	// CollectorCPUSeconds is vigie serve's CPU during the scenario (vigie only).
	CollectorCPUSeconds *float64 `json:"collector_cpu_seconds,omitempty"`
	// AgentMetrics is the agent's /metrics when every record was stored.
	AgentMetrics map[string]float64 `json:"agent_metrics,omitempty"`
	Error        string             `json:"error,omitempty"`
}

type fileRun struct {
	Run   int         `json:"run"`
	Agent fileFigures `json:"agent"`
	// AgentAlone is the agent shipping to the receiver, which stores nothing.
	AgentAlone *fileFigures `json:"agent_alone,omitempty"`
	Rsyslog    *fileFigures `json:"rsyslog,omitempty"`
}

type agentResults struct {
	File  odooFile  `json:"file"`
	Runs  []fileRun `json:"runs"`
	Error string    `json:"error,omitempty"`
}

func (f *fileFigures) setRates(lf odooFile, w countWait, started time.Time) {
	f.Stored = w.n
	f.Seconds = w.at.Sub(started).Seconds()
	if !w.butLast.IsZero() {
		f.SecondsButLast = w.butLast.Sub(started).Seconds()
	}
	if f.Seconds > 0 {
		f.RecordsPerSec = float64(lf.Records) / f.Seconds
		f.LinesPerSec = float64(lf.Lines) / f.Seconds
	}
}

// fileTimeout bounds a file scenario: a minute plus 200 µs a line.
func fileTimeout(lines int) time.Duration { return tcpTimeout(lines) }

// runAgentScenario writes the Odoo file, then runs the agent and the rsyslog
// imfile peer on it opt.runs times.
func runAgentScenario(ctx context.Context, opt options, runDir string, peer bool) *agentResults {
	ar := &agentResults{}
	t0 := time.Now()
	g := newOdooGenerator(uint64(t0.UnixNano()), t0.Add(-time.Duration(opt.agentN)*time.Millisecond))
	lf, err := createOdooLog(filepath.Join(runDir, "odoo-server.log"), g, opt.agentN)
	ar.File = lf
	if err != nil {
		ar.Error = "writing the Odoo log: " + err.Error()
		return ar
	}
	defer cleanup(opt, lf.Path)
	logf("agent: wrote %s: %d lines, %d records (%d tracebacks), %.0f MiB in %.1fs",
		lf.Path, lf.Lines, lf.Records, lf.Tracebacks, float64(lf.Bytes)/(1<<20), time.Since(t0).Seconds())
	for r := 1; r <= opt.runs && ctx.Err() == nil; r++ {
		fr := fileRun{Run: r}
		dir := filepath.Join(runDir, fmt.Sprintf("agent-run%d", r))
		fr.Agent = runAgentVigie(ctx, opt, dir, lf)
		cleanup(opt, filepath.Join(dir, "data"), filepath.Join(dir, "state"))
		logFileRun("vigie-agent", r, fr.Agent)
		if ctx.Err() == nil {
			dir := filepath.Join(runDir, fmt.Sprintf("agent-alone-run%d", r))
			f := runAgentReceiver(ctx, opt, dir, lf)
			fr.AgentAlone = &f
			cleanup(opt, filepath.Join(dir, "state"))
			logFileRun("vigie-agent → receiver", r, f)
		}
		if peer && ctx.Err() == nil {
			dir := filepath.Join(runDir, fmt.Sprintf("rsyslog-imfile-run%d", r))
			f := runImfile(ctx, opt, dir, lf)
			fr.Rsyslog = &f
			cleanup(opt, filepath.Join(dir, "messages.log"), filepath.Join(dir, "work"))
			logFileRun("rsyslog imfile", r, f)
		}
		ar.Runs = append(ar.Runs, fr)
	}
	return ar
}

func logFileRun(who string, r int, f fileFigures) {
	e := ""
	if f.Error != "" {
		e = "; ERROR: " + f.Error
	}
	logf("run %d %s (%s): %d stored in %.2fs (all but the last in %.2fs): %.0f lines/s, %.0f records/s; RSS %.1f MiB, CPU %.2fs%s",
		r, who, f.Pinning, f.Stored, f.Seconds, f.SecondsButLast, f.LinesPerSec, f.RecordsPerSec, mib(f.PeakRSS), f.CPUSeconds, e)
}

// writeAgentConfig writes the run's agent.yml, shipping lf to serverAddr,
// and returns its path and the agent's metrics address.
func writeAgentConfig(dir, serverAddr, token string, lf odooFile) (cfg, metricsAddr string, err error) {
	addrs, err := freeAddrs(1, 0)
	if err != nil {
		return "", "", err
	}
	cfg = filepath.Join(dir, "agent.yml")
	err = os.WriteFile(cfg, []byte(agentConfig(serverAddr, token, filepath.Join(dir, "state"), addrs[0], lf.Path)), 0o600)
	return cfg, addrs[0], err
}

// ship starts vigie-agent on cfg behind the pinning prefix, with
// GOMAXPROCS=1 and its output in dir/agent.log, and waits until count
// reaches the file's records; f gets the rates and the agent's RSS and CPU.
// The agent is returned (nil if it did not start) with the wait's error.
func (f *fileFigures) ship(ctx context.Context, prefix []string, bin, dir, cfg string, lf odooFile,
	count func() (int64, error), every time.Duration) (*proc, error) {
	argv := append(slices.Clone(prefix), bin, "--config", cfg)
	started := time.Now()
	a, err := startProc("vigie-agent", filepath.Join(dir, "agent.log"), []string{"GOMAXPROCS=1"}, argv...)
	if err != nil {
		return nil, err
	}
	w, err := waitCount(ctx, count, a.exitError, int64(lf.Records), every, agentStall, fileTimeout(lf.Lines))
	f.setRates(lf, w, started)
	if u, err2 := readProcUsage(a.pid()); err2 == nil {
		f.PeakRSS, f.CPUSeconds = u.PeakRSS, u.CPUSeconds
	}
	return a, err
}

// runAgentVigie starts a fresh vigie with an agent token, then the agent on
// one core, and waits until vigie has stored every record of the file.
func runAgentVigie(ctx context.Context, opt options, dir string, lf odooFile) (f fileFigures) {
	prefix, pin := oneCore()
	f.Pinning = pin + ", GOMAXPROCS=1"
	fail := func(err error) fileFigures { f.Error = err.Error(); return f }
	token := randomWord(32)
	s, err := startVigieWith(ctx, opt.vigie, dir, token)
	if err != nil {
		return fail(err)
	}
	defer s.kill()
	cfg, metricsAddr, err := writeAgentConfig(dir, s.httpAddr, token, lf)
	if err != nil {
		return fail(err)
	}
	base, _, err := s.stored(ctx)
	if err != nil {
		return fail(err)
	}
	c0, err := readProcUsage(s.pid())
	if err != nil {
		return fail(err)
	}
	count := func() (int64, error) {
		v, _, err := s.stored(ctx)
		return v - base, err
	}
	a, err := f.ship(ctx, prefix, opt.agent, dir, cfg, lf, count, 50*time.Millisecond)
	if a == nil {
		return fail(err)
	}
	defer a.kill()
	if u, err2 := readProcUsage(s.pid()); err2 == nil {
		c := u.CPUSeconds - c0.CPUSeconds
		f.CollectorCPUSeconds = &c
	}
	if err != nil {
		return fail(fmt.Errorf("%s: %w (agent log %s: %s)", storedMetric, err, a.logPath, tail(a.logPath, 600)))
	}
	if f.AgentMetrics, err = awaitShipped(ctx, metricsAddr, lf); err != nil {
		return fail(err)
	}
	// Nothing doubled: the collector holds each record once.
	if n, _, err := s.stored(ctx); err == nil && n-base != int64(lf.Records) {
		return fail(fmt.Errorf("%s = %d after the agent shipped, want %d", storedMetric, n-base, lf.Records))
	}
	if err := a.stop(); err != nil {
		return fail(err)
	}
	if err := s.stop(); err != nil {
		return fail(err)
	}
	return f
}

// awaitShipped waits until the agent's /metrics count every record shipped,
// then checks its counters against the file. The agent counts a batch
// shipped when the collector's answer arrives, just after the commit the
// collector's counter shows.
func awaitShipped(ctx context.Context, metricsAddr string, lf odooFile) (map[string]float64, error) {
	var m map[string]float64
	var err error
	for end := time.Now().Add(10 * time.Second); ; {
		m, err = agentMetrics(ctx, metricsAddr)
		if err == nil && m[shippedSeries] >= float64(lf.Records) || time.Now().After(end) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("agent /metrics: %w", err)
	}
	return m, checkAgentMetrics(m, lf)
}

// shippedSeries is the agent's count of records the collector acknowledged.
const shippedSeries = `vigie_agent_records_shipped_total{output="vigie"}`

// checkAgentMetrics compares the agent's counters with the file.
func checkAgentMetrics(m map[string]float64, lf odooFile) error {
	var bad []string
	for _, c := range []struct {
		name string
		want int
	}{
		{"vigie_agent_lines_read_total", lf.Lines},
		{"vigie_agent_records_total", lf.Records},
		{shippedSeries, lf.Records},
	} {
		v, ok := m[c.name]
		if !ok {
			bad = append(bad, c.name+" missing")
		} else if v != float64(c.want) {
			bad = append(bad, fmt.Sprintf("%s = %.0f, want %d", c.name, v, c.want))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("agent /metrics: %s", strings.Join(bad, "; "))
	}
	return nil
}

// agentMetrics scrapes the agent's /metrics: every sample under its full
// series name (name{labels}), and each name summed over its labels.
func agentMetrics(ctx context.Context, addr string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %.200s", resp.Status, body)
	}
	m, err := parseMetrics(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	series, err := parseSeries(bytes.NewReader(body), "vigie_agent_")
	if err != nil {
		return nil, err
	}
	for k, v := range series {
		if strings.HasPrefix(k, "vigie_agent_") {
			m[k] = v
		}
	}
	for k := range m {
		if !strings.HasPrefix(k, "vigie_agent_") || strings.HasSuffix(k, "_bucket") || strings.Contains(k, "_bucket{") {
			delete(m, k)
		}
	}
	return m, nil
}

// parseSeries returns the labelled samples of a Prometheus text exposition
// whose name starts with prefix, under their series name as written
// (`name{label="v"}`).
func parseSeries(r io.Reader, prefix string) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		j := strings.LastIndexByte(line, '}')
		if j < 0 || !strings.Contains(line[:j], "{") {
			continue
		}
		f := strings.Fields(line[j+1:])
		if len(f) < 1 {
			return nil, fmt.Errorf("metrics: no value: %q", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: bad value in %q", line)
		}
		out[line[:j+1]] = v
	}
	return out, sc.Err()
}

// runImfile starts rsyslogd with imfile on the Odoo file, pinned like the
// agent, and waits until its output file holds one line per record.
func runImfile(ctx context.Context, opt options, dir string, lf odooFile) (f fileFigures) {
	prefix, pin := oneCore()
	f.Pinning = pin
	fail := func(err error) fileFigures { f.Error = err.Error(); return f }
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fail(err)
	}
	out := filepath.Join(dir, "messages.log")
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, []byte(rsyslogFileConfig(work, lf.Path, out)), 0o644); err != nil {
		return fail(err)
	}
	argv := append(prefix, opt.rsyslogd, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	started := time.Now()
	p, err := startProc("rsyslogd", filepath.Join(dir, "rsyslogd.log"), nil, argv...)
	if err != nil {
		return fail(err)
	}
	defer p.kill()
	lc := &lineCounter{path: out}
	w, err := waitCount(ctx, lc.count, p.exitError, int64(lf.Records), 20*time.Millisecond, agentStall, fileTimeout(lf.Lines))
	f.setRates(lf, w, started)
	if u, err2 := readProcUsage(p.pid()); err2 == nil {
		f.PeakRSS, f.CPUSeconds = u.PeakRSS, u.CPUSeconds
	}
	if err != nil {
		return fail(fmt.Errorf("rsyslog output: %w", err))
	}
	// Records split in two would have reached the count early, with more
	// lines to come: the count must then stay put longer than readTimeout.
	n, quiet := w.n, time.Now()
	for end := time.Now().Add(time.Minute); time.Since(quiet) < 2500*time.Millisecond && time.Now().Before(end); {
		time.Sleep(100 * time.Millisecond)
		if v, err := lc.count(); err == nil && v != n {
			n, quiet = v, time.Now()
		}
	}
	if n != int64(lf.Records) {
		return fail(fmt.Errorf("rsyslog wrote %d lines for %d records", n, lf.Records))
	}
	if err := p.stop(); err != nil {
		return fail(err)
	}
	return f
}
