package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"vigie/checks/zabbix"
)

// importZabbixCmd is `vigie import-zabbix FILE`: the checks on stdout, what
// could not be carried over and the environment to set on stderr. Exit 0
// on success, 1 when the file cannot be read or is no Zabbix export, 2 for
// a usage mistake.
func importZabbixCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie import-zabbix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vigie import-zabbix FILE > checks.yml\n"+
			"Converts the web scenarios of a Zabbix 6.0–7.4 export (YAML, XML or JSON)\n"+
			"into vigie checks; warnings and the environment variables to set go to stderr.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	path := fs.Arg(0)
	data, err := readLimited(path, zabbix.MaxInput)
	if err != nil {
		fmt.Fprintln(stderr, "vigie import-zabbix:", err)
		return 1
	}
	im, err := zabbix.Convert(data)
	if err != nil {
		fmt.Fprintf(stderr, "vigie import-zabbix: %s: %v\n", path, err)
		return 1
	}
	im.Source = filepath.Base(path)
	out, err := im.YAML()
	if err != nil {
		fmt.Fprintln(stderr, "vigie import-zabbix:", err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintln(stderr, "vigie import-zabbix: writing the checks:", err)
		return 1
	}
	io.WriteString(stderr, im.Report())
	return 0
}

// readLimited reads a file, refusing one larger than limit bytes without
// reading all of it.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: export fewer templates at a time", path, zabbix.ErrTooLarge)
	}
	return data, nil
}

// errReported ends a command that already explained its failure on stderr:
// it wraps flag.ErrHelp, which main does not print again.
var errReported = fmt.Errorf("reported on stderr: %w", flag.ErrHelp)

// exitCode turns a command's exit status into run's error.
func exitCode(code int) error {
	if code == 0 {
		return nil
	}
	return exitError{code, errReported}
}
