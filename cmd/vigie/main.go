// Command vigie is the central server (`vigie serve`) and its admin CLI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"vigie/cmd/internal/buildinfo"
)

const usage = `usage: vigie COMMAND [flags]

commands:
  serve          run the central server (syslog, agent ingest, store, checks, rules, dashboard and API)
  search QUERY   search the store from the command line
  check          run checks once and print their timings (--config FILE [NAME...])
  hash-password  read a password on stdin, print its bcrypt hash for auth.users
  notify-test    send a test notification through a notifier (--config FILE NAME)
  import-zabbix  print the web scenarios of a Zabbix export FILE as vigie checks
  version        print the version

Run 'vigie COMMAND -h' for a command's flags.
`

// exitError carries the process exit status of a failed command.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		code := 1
		var ee exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "vigie:", err)
		}
		os.Exit(code)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{2, errors.New("no command")}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "search":
		return search(ctx, args[1:], stdout, stderr)
	case "check":
		return checkExit(checkCmd(ctx, args[1:], stdout, stderr))
	case "hash-password":
		return hashPassword(stdin, stdout)
	case "notify-test":
		return notifyTest(ctx, args[1:], stdout, stderr)
	case "import-zabbix":
		return exitCode(importZabbixCmd(args[1:], stdout, stderr))
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "vigie", buildinfo.Version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return exitError{2, fmt.Errorf("unknown command %q", args[0])}
}
