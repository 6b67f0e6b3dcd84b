package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"vigie/record"
	"vigie/store"
)

func search(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigie search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "./data", "data directory of the server")
	from := fs.String("from", "", "oldest time: RFC 3339, a date, now, or relative (-15m, -24h, -7d)")
	to := fs.String("to", "", "newest time (same forms)")
	limit := fs.Int("limit", 100, "most records printed")
	asJSON := fs.Bool("json", false, "one JSON record per line instead of text")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vigie search [--data DIR] [--from T] [--to T] [--limit N] [--json] QUERY\nPrints matching records newest first, one per line.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	req := store.Request{Query: strings.Join(fs.Args(), " "), Limit: *limit}
	now := time.Now()
	var err error
	if *from != "" {
		if req.From, err = store.ParseTime(*from, now); err != nil {
			return exitError{2, fmt.Errorf("--from: %w", err)}
		}
	}
	if *to != "" {
		if req.To, err = store.ParseTime(*to, now); err != nil {
			return exitError{2, fmt.Errorf("--to: %w", err)}
		}
	}
	if *limit < 1 || *limit > store.MaxLimit {
		return exitError{2, fmt.Errorf("--limit: from 1 to %d", store.MaxLimit)}
	}
	st, err := store.OpenReadOnly(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := st.Search(ctx, req)
	if err != nil {
		return exitError{2, err}
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	for _, r := range res.Records {
		if *asJSON {
			enc.Encode(r)
			continue
		}
		w.WriteString(formatLine(r))
		w.WriteByte('\n')
	}
	return nil
}

// formatLine renders a record for a terminal. Log text is attacker-controlled:
// control characters (escape sequences could rewrite the terminal) are shown
// escaped, never written raw.
func formatLine(r record.Record) string {
	var b strings.Builder
	b.WriteString(r.Time.Format("2006-01-02T15:04:05.000Z07:00"))
	b.WriteByte(' ')
	b.WriteString(safe(r.Host))
	b.WriteByte(' ')
	b.WriteString(safe(r.App))
	if r.ProcID != "" {
		b.WriteString("[" + safe(r.ProcID) + "]")
	}
	b.WriteString(" " + record.SeverityName(r.Severity) + ": ")
	b.WriteString(safe(r.Message))
	for _, k := range slices.Sorted(maps.Keys(r.Fields)) {
		b.WriteString(" " + safe(k) + "=" + safe(r.Fields[k]))
	}
	return b.String()
}

func safe(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if unicode.IsControl(c) {
			fmt.Fprintf(&b, "\\x%02x", c)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
