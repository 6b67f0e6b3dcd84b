package history

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvTime is a form spreadsheets read as a date and time.
const csvTime = "2006-01-02 15:04:05"

// WriteCSV writes the report for a spreadsheet: comma-separated, dot
// decimals, times as "2006-01-02 15:04:05" in the time zone of r.From,
// durations as H:MM:SS. Blocks are separated by an empty line:
//
//  1. summary: one "label,value" row each (check, type, range, time zone,
//     availability %, target %, target met, up/down/not monitored time,
//     runs, runs up/down/slow, response time target, share of runs within
//     it);
//  2. "Down periods", a header row, then start,end,duration,runs,first error;
//  3. "Not monitored", a header row, then start,end,duration;
//  4. "Step response times (ms)", a header row, then step number (1-based),
//     name, samples, failed, p50, p90, p95, p99, max.
//
// Texts that a spreadsheet would take for a formula are quoted with a
// leading apostrophe: error messages quote what servers answered.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	loc := r.From.Location()
	at := func(t time.Time) string { return t.In(loc).Format(csvTime) }
	a := r.Availability
	rows := [][]string{
		{"SLA report", cell(r.Check)},
		{"Type", cell(r.Type)},
		{"From", at(r.From)},
		{"To", at(r.To)},
		{"Time zone", loc.String()},
		{"Availability (%)", percent(a.Ratio, a.Known)},
		{"Target (%)", target(r.Target)},
		{"Target met", met(r.Met, r.Target)},
		{"Slow runs count as down", yesNo(r.SlowIsDown)},
		{"Up time", hms(a.Up)},
		{"Down time", hms(a.Down)},
		{"Not monitored", hms(a.Unknown)},
		{"Runs", strconv.Itoa(r.Runs)},
		{"Runs up", strconv.Itoa(r.RunsUp)},
		{"Runs down", strconv.Itoa(r.RunsDown)},
		{"Runs slow", strconv.Itoa(r.RunsSlow)},
		{"Response time target (ms)", responseTarget(r.ResponseTime)},
	}
	within := "unknown"
	if r.WithinResponseTime != nil {
		within = percent(*r.WithinResponseTime, true)
	} else if r.ResponseTime <= 0 {
		within = "none"
	}
	rows = append(rows, []string{"Successful runs within response time (%)", within},
		nil,
		[]string{"Down periods"},
		[]string{"Start", "End", "Duration", "Runs", "First error"})
	for _, p := range r.DownPeriods {
		rows = append(rows, []string{at(p.Start), at(p.End), hms(p.Duration()), strconv.Itoa(p.Runs), cell(p.Error)})
	}
	rows = append(rows, nil,
		[]string{"Not monitored"},
		[]string{"Start", "End", "Duration"})
	for _, p := range r.UnknownPeriods {
		rows = append(rows, []string{at(p.Start), at(p.End), hms(p.Duration())})
	}
	rows = append(rows, nil,
		[]string{"Step response times (ms)"},
		[]string{"Step", "Name", "Samples", "Failed", "p50", "p90", "p95", "p99", "max"})
	for _, s := range r.Steps {
		rows = append(rows, []string{strconv.Itoa(s.Index + 1), cell(s.Name), strconv.Itoa(s.Samples), strconv.Itoa(s.Failed),
			ms(s.P50), ms(s.P90), ms(s.P95), ms(s.P99), ms(s.Max)})
	}
	for _, row := range rows {
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a spreadsheet from running a text as a formula (CSV
// injection): a leading = + - @ tab or CR gets an apostrophe before it.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func percent(ratio float64, known bool) string {
	if !known {
		return "unknown"
	}
	return strconv.FormatFloat(ratio*100, 'f', 4, 64)
}

func target(t float64) string {
	if t <= 0 {
		return "none"
	}
	return strconv.FormatFloat(t, 'f', -1, 64)
}

func met(m *bool, target float64) string {
	if target <= 0 {
		return "none"
	}
	if m == nil {
		return "unknown"
	}
	return yesNo(*m)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func responseTarget(d time.Duration) string {
	if d <= 0 {
		return "none"
	}
	return ms(d)
}

// ms is milliseconds with at most three decimals.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', -1, 64)
}

// hms writes a duration as H:MM:SS, hours unbounded, rounded to the second.
func hms(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
