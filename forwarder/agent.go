package forwarder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/cmd/config"
	"vigie/forwarder/eventlog"
	"vigie/forwarder/multiline"
	"vigie/forwarder/output"
	"vigie/forwarder/positions"
	"vigie/forwarder/spool"
	"vigie/forwarder/tail"
	"vigie/record"
)

// Agent reads the configured sources and ships their records.
//
// Delivery: a batch is written to the spool, with the positions it covers,
// before anything is acknowledged to the sources; only then do the file
// positions and event log bookmarks move. The sender sends spooled batches
// in order and deletes one only when the collector has committed it. A resend
// is byte for byte the same batch under the same number, which the collector
// recognises: nothing is lost when the collector or the network fails, and
// nothing is stored twice when an answer is lost.
type Agent struct {
	cfg  *config.Agent
	log  *slog.Logger
	reg  prometheus.Registerer
	host string
	m    agentMetrics
}

type agentMetrics struct {
	lines, records, truncated prometheus.Counter
	sources                   prometheus.Gauge
}

// New prepares an agent; Run starts it.
func New(cfg *config.Agent, logger *slog.Logger, reg prometheus.Registerer) (*Agent, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("agent: host name: %w", err)
	}
	a := &Agent{cfg: cfg, log: logger, reg: reg, host: host, m: agentMetrics{
		lines: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_agent_lines_read_total", Help: "Lines read from files (and events read from event logs)."}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_agent_records_total", Help: "Records made from them and spooled."}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_agent_records_truncated_total", Help: "Records cut to the line or multiline size limit."}),
		sources: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_agent_sources", Help: "Configured sources."}),
	}}
	if reg != nil {
		reg.MustRegister(a.m.lines, a.m.records, a.m.truncated, a.m.sources)
	}
	a.m.sources.Set(float64(len(cfg.Sources)))
	return a, nil
}

// fileSource is a file source with what it needs to make records.
type fileSource struct {
	cfg     config.AgentSource
	src     string // the tailer's source name, which its lines carry
	tailer  *tail.Tailer
	format  record.Format
	rule    multiline.Rule
	joiners map[string]*joinState // by file key
}

// Run reads and ships until ctx ends. What is spooled when it returns is
// sent at the next start.
func (a *Agent) Run(ctx context.Context) error {
	if err := os.MkdirAll(a.cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	spools, senders, err := a.openOutputs()
	if err != nil {
		return err
	}
	pos, err := positions.Open(filepath.Join(a.cfg.StateDir, "positions.json"))
	if err != nil {
		return err
	}
	marks, err := openBookmarks(filepath.Join(a.cfg.StateDir, "bookmarks.json"))
	if err != nil {
		return err
	}
	// The spool may hold batches whose positions were not saved before a
	// crash: take them back, so what is spooled is not read again.
	for _, sp := range spools {
		for _, cp := range sp.Checkpoints() {
			restoreCheckpoint(pos, marks, cp)
		}
	}
	if err := pos.Save(); err != nil {
		return err
	}

	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(a.cfg.Sources)+len(senders))
	for _, s := range senders {
		wg.Go(func() { errc <- s(runCtx) })
	}

	// Batches of lines (one per read, ~64 KiB): 16 of them bound what waits.
	lines := make(chan []tail.Line, 16)
	events := make(chan eventlog.Event, 1024)
	files := map[string]*fileSource{}
	var tailers []*tail.Tailer
	var channels []string
	for i, sc := range a.cfg.Sources {
		switch sc.Type {
		case "file":
			fs, err := a.newFileSource(sc, pos)
			if err != nil {
				return fmt.Errorf("sources[%d]: %w", i, err)
			}
			files[fs.src] = fs
			tailers = append(tailers, fs.tailer)
			wg.Go(func() { errc <- fs.tailer.Run(runCtx, lines) })
		case "eventlog":
			channels = append(channels, sc.Channels...)
			ec := eventlog.Config{Channels: sc.Channels, XPath: sc.XPath, Host: a.host}
			wg.Go(func() { errc <- eventlog.Run(runCtx, ec, marks.all(), events, a.log) })
		}
	}
	b := newBuilder(a, files, marks, spools)
	loopErr := b.loop(runCtx, lines, events, errc)
	// Every sealed batch spooled and acknowledged before the sources stop.
	if err := b.finish(); err != nil && !errors.Is(loopErr, err) {
		loopErr = errors.Join(loopErr, err)
	}
	cancel()
	wg.Wait()
	// What was read but not sealed is not lost: its positions did not move.
	var errs []error
	for _, t := range tailers {
		errs = append(errs, t.Flush())
	}
	errs = append(errs, marks.save())
	if loopErr != nil && !errors.Is(loopErr, context.Canceled) {
		errs = append(errs, loopErr)
	}
	return errors.Join(errs...)
}

func (a *Agent) newFileSource(sc config.AgentSource, pos *positions.File) (*fileSource, error) {
	opt := record.FormatOptions{LinePrefix: sc.LinePrefix, App: sc.App, Host: a.host}
	if opt.App == "" && (sc.Format == "" || sc.Format == "plain") {
		opt.App = appFromPaths(sc.Paths)
	}
	f, err := record.NewFormat(sc.Format, opt)
	if err != nil {
		return nil, err
	}
	rule := multiline.Rule{Format: f}
	if m := sc.Multiline; m != nil {
		if m.Start != "" {
			rule.Start = regexp.MustCompile(m.Start) // validated with the configuration
		}
		rule.Timeout, rule.MaxSize = time.Duration(m.Timeout), int(m.MaxSize)
	}
	t, err := tail.New(tail.Config{Paths: sc.Paths, Exclude: sc.Exclude, StartAt: sc.StartAt}, pos, a.log)
	if err != nil {
		return nil, err
	}
	return &fileSource{cfg: sc, src: strings.Join(sc.Paths, ","), tailer: t, format: f, rule: rule, joiners: map[string]*joinState{}}, nil
}

// appFromPaths names plain files' records after the file: backup.log → backup.
func appFromPaths(paths []string) string {
	base := filepath.Base(paths[0])
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	if strings.ContainsAny(base, "*?[") {
		return "file"
	}
	return base
}

func (a *Agent) openOutputs() ([]*spool.Spool, []func(context.Context) error, error) {
	type out struct {
		name string
		make func() (output.Output, error)
	}
	outs := []out{{"vigie", func() (output.Output, error) {
		return output.NewVigie(output.VigieConfig{URL: a.cfg.Server.URL, Token: a.cfg.Server.Token, Agent: a.cfg.AgentID, CAFile: a.cfg.Server.CAFile, Logger: a.log})
	}}}
	if s := a.cfg.Syslog; s != nil {
		outs = append(outs, out{"syslog", func() (output.Output, error) {
			return output.NewSyslog(output.SyslogConfig{Address: s.Address, TLS: s.TLS, CAFile: s.CAFile, Hostname: a.host})
		}})
	}
	var spools []*spool.Spool
	var senders []func(context.Context) error
	for _, o := range outs {
		dir := filepath.Join(a.cfg.StateDir, "spool")
		if o.name != "vigie" {
			dir += "-" + o.name
		}
		sp, err := spool.Open(dir, int64(a.cfg.Spool.MaxSize)/int64(len(outs)), a.log)
		if err != nil {
			return nil, nil, err
		}
		dst, err := o.make()
		if err != nil {
			return nil, nil, fmt.Errorf("%s output: %w", o.name, err)
		}
		var reg prometheus.Registerer
		if a.reg != nil {
			reg = prometheus.WrapRegistererWith(prometheus.Labels{"output": o.name}, a.reg)
		}
		m, err := output.NewMetrics(reg, sp)
		if err != nil {
			return nil, nil, err
		}
		spools = append(spools, sp)
		senders = append(senders, func(ctx context.Context) error {
			defer dst.Close()
			return output.Run(ctx, sp, dst, m, a.log.With("output", o.name))
		})
	}
	return spools, senders, nil
}

// Checkpoint keys: "file:KEY" → end offset, "eventlog:CHANNEL" → bookmark.
const (
	fileCheckpoint  = "file:"
	eventCheckpoint = "eventlog:"
)

func restoreCheckpoint(pos *positions.File, marks *bookmarks, cp map[string]string) {
	for k, v := range cp {
		switch {
		case strings.HasPrefix(k, fileCheckpoint):
			key := k[len(fileCheckpoint):]
			off, err := strconv.ParseInt(v, 10, 64)
			if e, ok := pos.Get(key); ok && err == nil && off > e.Offset {
				e.Offset = off
				pos.Set(key, e)
			}
		case strings.HasPrefix(k, eventCheckpoint):
			marks.set(k[len(eventCheckpoint):], v)
		}
	}
}
