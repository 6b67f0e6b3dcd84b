package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/crypto/bcrypt"

	"vigie/cmd/config"
	"vigie/cmd/internal/buildinfo"
	"vigie/collector"
	"vigie/store"
	"vigie/store/hub"
	"vigie/ui"
)

// fallbackSyslogPort is used when the default :514 may not be bound (not root).
const fallbackSyslogAddr = ":5514"

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigie serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "", "configuration file (default: the embedded default)")
	dataDir := fs.String("data", "", "data directory (overrides data_dir)")
	httpAddr := fs.String("http", "", "HTTP listen address (overrides http.addr)")
	udpAddr := fs.String("syslog-udp", "", "syslog UDP address (overrides syslog.udp; \"off\" disables)")
	tcpAddr := fs.String("syslog-tcp", "", "syslog TCP address (overrides syslog.tcp; \"off\" disables)")
	checkOnly := fs.Bool("check-config", false, "validate the configuration and exit")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	if fs.NArg() > 0 {
		return exitError{2, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))}
	}
	var cfg *config.Server
	var err error
	if *cfgFile != "" {
		cfg, err = config.Load(*cfgFile)
	} else {
		cfg, err = config.Default()
	}
	if err != nil {
		return exitError{2, err}
	}
	udpSet, tcpSet := cfg.IsSet("syslog.udp"), cfg.IsSet("syslog.tcp")
	override := func(dst *string, v string, set *bool) {
		if v != "" {
			if v == "off" {
				v = ""
			}
			*dst = v
			if set != nil {
				*set = true
			}
		}
	}
	override(&cfg.DataDir, *dataDir, nil)
	override(&cfg.HTTP.Addr, *httpAddr, nil)
	override(&cfg.Syslog.UDP, *udpAddr, &udpSet)
	override(&cfg.Syslog.TCP, *tcpAddr, &tcpSet)
	if *checkOnly {
		fmt.Fprintf(stdout, "%s: configuration ok\n", cfg.File)
		return nil
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return exitError{2, fmt.Errorf("serve: --log-level: %w", err)}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return runServer(ctx, cfg, udpSet, tcpSet, log, stdout)
}

func runServer(ctx context.Context, cfg *config.Server, udpSet, tcpSet bool, log *slog.Logger, stdout io.Writer) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	loc, err := cfg.Location()
	if err != nil {
		return exitError{2, err}
	}
	// Every committed batch goes to the live tail and the rules.
	fanout := hub.New(reg)
	st, err := store.Open(ctx, cfg.DataDir, store.Options{
		RetentionDays: cfg.Retention.Days,
		MaxSize:       int64(cfg.Retention.MaxSize),
		OnCommit:      fanout.Publish,
		Logger:        log,
		Registerer:    reg,
	})
	if err != nil {
		return err
	}
	storeClosed := false
	defer func() {
		if !storeClosed {
			st.Close()
		}
	}()
	if err := bootstrapAdmin(ctx, cfg, st, stdout); err != nil {
		return err
	}

	// Syslog: the default port 514 needs root or CAP_NET_BIND_SERVICE; when
	// the address is the default and may not be bound, use 5514 and say so.
	ccfg := collector.Config{
		UDPAddr:        cfg.Syslog.UDP,
		TCPAddr:        cfg.Syslog.TCP,
		MaxMessageSize: int(cfg.Syslog.MaxMessageSize),
		Location:       loc,
		SnareDelimiter: cfg.Syslog.SnareDelimiter,
		UDPReadBuffer:  int(cfg.Syslog.UDPReadBuffer),
	}
	if !udpSet && !tcpSet && (!canBind("udp", ccfg.UDPAddr) || !canBind("tcp", ccfg.TCPAddr)) {
		fmt.Fprintf(stdout, "syslog: may not bind port 514 (needs root or CAP_NET_BIND_SERVICE): listening on %s (UDP and TCP) instead\n", fallbackSyslogAddr)
		ccfg.UDPAddr, ccfg.TCPAddr = fallbackSyslogAddr, fallbackSyslogAddr
	}
	if t := cfg.Syslog.TLS; t != nil && t.Addr != "" {
		tc, err := serverTLS(t.CertFile, t.KeyFile, t.ClientCAFile)
		if err != nil {
			return exitError{2, fmt.Errorf("syslog.tls: %w", err)}
		}
		ccfg.TLSAddr, ccfg.TLS = t.Addr, tc
	}
	col, err := collector.New(ccfg, st, log, reg)
	if err != nil {
		return exitError{2, err}
	}
	if err := col.Start(ctx); err != nil {
		return err
	}

	mon, err := startMonitoring(ctx, cfg, st, fanout, reg, log)
	if err != nil {
		return err
	}
	defer mon.stop()

	api, err := ui.New(ui.Options{
		Store:         st,
		APITokens:     uiTokens(cfg.Auth.APITokens),
		AgentTokens:   uiTokens(cfg.Auth.AgentTokens),
		Users:         uiUsers(cfg.Auth.Users),
		SecureCookies: cfg.HTTP.TLS.CertFile != "",
		Hub:           fanout,
		Checks:        mon.checks,
		Rules:         mon.rules,
		Ingest:        collector.IngestConfig{MaxMessageSize: int(cfg.Syslog.MaxMessageSize)},
		Gatherer:      reg,
		Registerer:    reg,
		Logger:        log,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Shutdown does not track upgraded connections: live tails end here.
	srv.RegisterOnShutdown(api.Close)
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	scheme := "http"
	if cfg.HTTP.TLS.CertFile != "" {
		tc, err := serverTLS(cfg.HTTP.TLS.CertFile, cfg.HTTP.TLS.KeyFile, "")
		if err != nil {
			return exitError{2, fmt.Errorf("http.tls: %w", err)}
		}
		ln, scheme = tls.NewListener(ln, tc), "https"
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()

	udp, tcp, tlsAddr := col.Addrs()
	fmt.Fprintf(stdout, "vigie %s: data in %s, syslog udp %s tcp %s tls %s, %s on %s\n",
		buildinfo.Version(), cfg.DataDir, addrString(udp), addrString(tcp), addrString(tlsAddr), scheme, ln.Addr())
	log.Info("vigie started", "config", cfg.File, "data_dir", cfg.DataDir)

	select {
	case <-ctx.Done():
	case err := <-httpErr:
		log.Error("http server stopped", "err", err)
	}
	log.Info("shutting down: committing accepted records")
	// Order matters: stop reading syslog and hand over what was read, then let
	// the store commit it all, and only then stop answering.
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := col.Shutdown(shutCtx); err != nil {
		log.Error("collector shutdown", "err", err)
	}
	// Checks in progress are cancelled; their runs are not recorded.
	mon.stop()
	storeClosed = true
	if err := st.Close(); err != nil {
		log.Error("store close", "err", err)
	}
	srv.Shutdown(shutCtx)
	log.Info("stopped")
	return nil
}

func uiUsers(us []config.User) []ui.User {
	out := make([]ui.User, len(us))
	for i, u := range us {
		out[i] = ui.User{Name: u.Name, PasswordHash: u.PasswordHash}
	}
	return out
}

func uiTokens(ts []config.Token) []ui.Token {
	out := make([]ui.Token, len(ts))
	for i, t := range ts {
		out[i] = ui.Token{Name: t.Name, Secret: t.Token}
	}
	return out
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

// canBind tries an address, to tell "port 514 is privileged" apart from
// other failures, which are reported by the real listen.
func canBind(network, addr string) bool {
	if addr == "" {
		return true
	}
	var err error
	if network == "udp" {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp", addr); err == nil {
			c.Close()
		}
	} else {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			l.Close()
		}
	}
	return !errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EPERM)
}

func serverTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate found", clientCAFile)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// bootstrapAdmin creates an "admin" user with a random password on the
// first start without users, prints the password once, and keeps only its
// bcrypt hash (in data_dir/vigie.db).
func bootstrapAdmin(ctx context.Context, cfg *config.Server, st *store.Store, stdout io.Writer) error {
	if len(cfg.Auth.Users) > 0 {
		return nil
	}
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw := randomPassword()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	if err := st.CreateUser(ctx, "admin", string(h)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "first start: created user admin with password %s (shown once; only its bcrypt hash is kept in %s)\n",
		pw, filepath.Join(cfg.DataDir, "vigie.db"))
	return nil
}
