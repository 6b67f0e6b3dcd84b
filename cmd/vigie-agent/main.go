// Command vigie-agent reads a server's log files (and, on Windows, its event
// logs) and ships them to the vigie collector with nothing lost and nothing
// doubled. One per server; see docs/agent.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"vigie/cmd/config"
	"vigie/cmd/internal/buildinfo"
	"vigie/forwarder"
)

const usage = `usage: vigie-agent --config FILE [--check-config] [--log-level LEVEL]
       vigie-agent version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "version" || args[0] == "--version") {
		fmt.Fprintln(stdout, "vigie-agent", buildinfo.Version())
		return 0
	}
	fs := flag.NewFlagSet("vigie-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	cfgFile := fs.String("config", "", "agent configuration file (required)")
	check := fs.Bool("check-config", false, "validate the configuration and exit")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgFile == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg, err := config.LoadAgent(*cfgFile)
	if err != nil {
		fmt.Fprintln(stderr, "vigie-agent:", err)
		return 2
	}
	if *check {
		fmt.Fprintf(stdout, "%s: configuration ok\n", cfg.File)
		return 0
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(stderr, "vigie-agent: --log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("vigie-agent stopped", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, cfg *config.Agent, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	agent, err := forwarder.New(cfg, log, reg)
	if err != nil {
		return err
	}
	if cfg.Metrics.Addr != "" {
		ln, err := net.Listen("tcp", cfg.Metrics.Addr)
		if err != nil {
			return fmt.Errorf("metrics.addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("metrics listening", "addr", ln.Addr().String())
	}
	log.Info("vigie-agent started", "agent_id", cfg.AgentID, "server", cfg.Server.URL, "state_dir", cfg.StateDir, "sources", len(cfg.Sources))
	err = agent.Run(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("vigie-agent stopped: what is spooled is sent at the next start")
	return err
}
