package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"vigie/checks"
	"vigie/cmd/config"
)

// checkParallel is how many checks `vigie check` runs at once by default.
const checkParallel = 4

// checkCmd is `vigie check --config FILE [NAME...]`: it runs the named
// checks (every enabled one when none is named) once and prints each with
// its steps' timings. Exit status: 0 all passed, 1 one failed, 2 a usage or
// configuration mistake.
func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file with a checks: list (required)")
	parallel := fs.Int("parallel", checkParallel, "checks run at once")
	verbose := fs.Bool("v", false, "log each failed attempt on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vigie check --config FILE [--parallel N] [-v] [NAME...]\nRuns the named checks (all enabled ones when none is named) once and prints their timings.\nExit status: 0 all passed, 1 a check failed, 2 a configuration mistake.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "vigie check: --config FILE is required")
		return 2
	}
	if *parallel < 1 {
		fmt.Fprintln(stderr, "vigie check: --parallel must be 1 or more")
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "vigie check:", err)
		return 2
	}
	todo, err := selectChecks(cfg, fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "vigie check:", err)
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// Run concurrently, print in the configuration's order as soon as a
	// check and all those before it are done.
	results := make([]chan *checks.Result, len(todo))
	sem := make(chan struct{}, *parallel)
	for i, c := range todo {
		results[i] = make(chan *checks.Result, 1)
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] <- checks.Run(ctx, c, logger)
		}()
	}
	code := 0
	for i, c := range todo {
		res := <-results[i]
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printResult(stdout, c, res)
		if !res.Success {
			code = 1
		}
	}
	return code
}

// checkExit turns checkCmd's status into run's error. checkCmd has said
// everything already: wrapping flag.ErrHelp keeps main from adding a line.
func checkExit(code int) error {
	if code == 0 {
		return nil
	}
	return exitError{code, fmt.Errorf("vigie check: exit status %d: %w", code, flag.ErrHelp)}
}

// selectChecks are the named checks, or every enabled one.
func selectChecks(cfg *config.Server, names []string) ([]*config.Check, error) {
	byName := map[string]*config.Check{}
	for i := range cfg.Checks {
		byName[cfg.Checks[i].Name] = &cfg.Checks[i]
	}
	var out []*config.Check
	if len(names) == 0 {
		for i := range cfg.Checks {
			if cfg.Checks[i].IsEnabled() {
				out = append(out, &cfg.Checks[i])
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s has no enabled check", cfg.File)
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, n := range names {
		c, ok := byName[n]
		if !ok {
			known := slices.Sorted(maps.Keys(byName))
			return nil, fmt.Errorf("no check named %q in %s (it has: %s)", n, cfg.File, strings.Join(known, ", "))
		}
		if !seen[n] { // a disabled check runs when named
			out = append(out, c)
			seen[n] = true
		}
	}
	return out, nil
}

// verdict is UP, SLOW (passed over sla.response_time) or DOWN.
func verdict(r *checks.Result) string {
	switch {
	case !r.Success:
		return "DOWN"
	case r.Slow:
		return "SLOW"
	}
	return "UP"
}

func msCell(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

// printResult writes a check's header line, then its steps as a table (a
// scenario) or its measured values (other types).
func printResult(w io.Writer, c *config.Check, r *checks.Result) {
	attempts := "1 attempt"
	if r.Attempts != 1 {
		attempts = fmt.Sprintf("%d attempts", r.Attempts)
	}
	fmt.Fprintf(w, "%s  %s  %s  %s ms  %s", c.Name, c.Type, verdict(r), msCell(r.Duration), attempts)
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s", r.Error)
	}
	fmt.Fprintln(w)
	if c.Type == "scenario" {
		printSteps(w, c, r)
		return
	}
	if len(r.Values) > 0 {
		keys := slices.Sorted(maps.Keys(r.Values))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + formatValue(k, r.Values[k])
		}
		fmt.Fprintf(w, "  %s\n", strings.Join(parts, "  "))
	}
}

func printSteps(w io.Writer, c *config.Check, r *checks.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tCODE\tDNS\tCONNECT\tTLS\tTTFB\tTRANSFER\tTOTAL ms\tBYTES\tVERDICT")
	for i, st := range c.Steps {
		if i >= len(r.Steps) {
			fmt.Fprintf(tw, "  %s\t-\t-\t-\t-\t-\t-\t-\t-\tnot run\n", st.Name)
			continue
		}
		s := r.Steps[i]
		code, result := "-", "ok"
		if s.Code != 0 {
			code = strconv.Itoa(s.Code)
		}
		if !s.Success {
			result = "FAIL"
		}
		p := s.Phases
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.Name, code,
			msCell(p.DNS), msCell(p.Connect), msCell(p.TLS), msCell(p.TTFB), msCell(p.Transfer), msCell(p.Total), s.Bytes, result)
	}
	tw.Flush()
}

// formatValue writes milliseconds to the microsecond, times as dates,
// counts and ratios as they are.
func formatValue(key string, v float64) string {
	switch {
	case strings.HasSuffix(key, "_ms"):
		return strconv.FormatFloat(v, 'f', 3, 64)
	case strings.HasSuffix(key, "_unix"):
		return time.Unix(int64(v), 0).UTC().Format(time.RFC3339)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
