package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"vigie/cmd/config"
	"vigie/record"
	"vigie/rules/notify"
)

// notifyTest runs notifyTestCmd for run's switch; its output is already
// printed, the error only carries the exit status.
func notifyTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch code := notifyTestCmd(ctx, args, stdout, stderr); code {
	case 0:
		return nil
	case 1:
		return exitError{1, errors.New("notify-test: the receiver did not accept the test notification")}
	default:
		return exitError{code, errors.New("notify-test: nothing sent")}
	}
}

// notifyTestCmd is `vigie notify-test --config FILE NAME`: one test
// notification through the named notifier, once, without the queue, and
// the receiver's answer. Exit 0 on a 2xx answer, 1 otherwise, 2 on usage
// or configuration errors.
func notifyTestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie notify-test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "", "configuration file with the `notifiers:` list (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vigie notify-test --config FILE NAME\n\nSends a test notification through the notifier NAME and prints the answer.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// Flags may also come after the name.
	rest := fs.Args()
	if len(rest) > 1 {
		if err := fs.Parse(rest[1:]); err != nil {
			return 2
		}
		rest = append(rest[:1], fs.Args()...)
	}
	if *cfgFile == "" || len(rest) != 1 {
		fs.Usage()
		return 2
	}
	name := rest[0]
	cfg, err := config.Load(*cfgFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var names []string
	var n *config.Notifier
	for i := range cfg.Notifiers {
		names = append(names, cfg.Notifiers[i].Name)
		if cfg.Notifiers[i].Name == name {
			n = &cfg.Notifiers[i]
		}
	}
	if n == nil {
		known := "it has none"
		if len(names) > 0 {
			known = "it has " + strings.Join(names, ", ")
		}
		fmt.Fprintf(stderr, "%s: no notifier named %q (%s)\n", cfg.File, name, known)
		return 2
	}
	c, err := notify.NewClient(*n)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	now := time.Now().UTC()
	m := &notify.Message{
		Rule: "notify-test", State: notify.Firing, Key: "notify-test", StartedAt: now, Severity: "info",
		Summary: fmt.Sprintf("test notification from vigie through notifier %s", name),
		Labels:  map[string]string{}, Samples: []record.Record{}, Test: true,
	}
	body, err := c.Body(m)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	id := "test-" + rand.Text()
	fmt.Fprintf(stdout, "POST %s (%s, X-Vigie-Delivery: %s, %d bytes)\n", c.Endpoint(), n.Type, id, len(body))
	res := c.Send(ctx, id, body, now)
	if res.Status == 0 {
		fmt.Fprintf(stdout, "no answer: %s\n", res.Error(c.Timeout()))
		return 1
	}
	fmt.Fprintf(stdout, "HTTP %d %s\n", res.Status, http.StatusText(res.Status))
	if len(res.Body) > 0 {
		b := res.Body
		if !utf8.Valid(b) {
			b = []byte(fmt.Sprintf("(%d bytes, not text)", len(b)))
		}
		fmt.Fprintf(stdout, "%s\n", strings.TrimRight(string(b), "\n"))
		if len(res.Body) == notify.MaxResponseBody {
			fmt.Fprintf(stdout, "(answer cut at %d bytes)\n", notify.MaxResponseBody)
		}
	}
	if !res.OK() {
		fmt.Fprintln(stdout, res.Error(c.Timeout()))
		return 1
	}
	return 0
}
