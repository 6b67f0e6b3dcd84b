package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"vigie/checks"
)

// Run is one stored run. Its JSON is the runs API's: checks.Result's own
// (durations in milliseconds) with "id" first.
type Run struct {
	ID int64
	checks.Result
}

// MarshalJSON adds the id to the result's JSON; without it the embedded
// Result's MarshalJSON would be used alone and the id lost.
func (r Run) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(r.Result)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("check history: run %d: result is not a JSON object", r.ID)
	}
	out := make([]byte, 0, len(b)+24)
	out = append(out, `{"id":`...)
	out = strconv.AppendInt(out, r.ID, 10)
	if len(b) > 2 {
		out = append(out, ',')
	}
	return append(out, b[1:]...), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Run) UnmarshalJSON(b []byte) error {
	var id struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &id); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &r.Result); err != nil {
		return err
	}
	r.ID = id.ID
	return nil
}

// Limits of Runs: DefaultLimit when none is asked, MaxLimit at most.
const (
	DefaultLimit = 100
	MaxLimit     = 10_000
)

// runColumns and stepColumns are read by scanRuns, in this order, from a
// query whose rows are ordered by run then step index.
const runColumns = `r.id, r.check_name, r.type, r.start, r.duration_us, r.success, r.slow, r.error, r.failed_step, r.attempts, r.vals`
const stepColumns = `s.idx, s.name, s.url, s.success, s.error, s.code, s.bytes, s.speed,
	s.dns_us, s.connect_us, s.tls_us, s.ttfb_us, s.transfer_us, s.total_us`

// Runs returns a check's runs that started in [from, to), newest first, each
// with its steps. A zero from or to leaves that end open; limit <= 0 means
// DefaultLimit, and it is capped at MaxLimit.
func (h *History) Runs(ctx context.Context, check string, from, to time.Time, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	lo, hi := bounds(from, to)
	rows, err := h.db.QueryContext(ctx, `SELECT `+runColumns+`, `+stepColumns+`
		FROM (SELECT * FROM runs WHERE check_name = ? AND start >= ? AND start < ?
		      ORDER BY start DESC, id DESC LIMIT ?) r
		LEFT JOIN steps s ON s.run_id = r.id
		ORDER BY r.start DESC, r.id DESC, s.idx`, check, lo, hi, limit)
	if err != nil {
		return nil, fmt.Errorf("check history: runs of %s: %w", check, err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("check history: runs of %s: %w", check, err)
	}
	out := make([]Run, len(runs))
	for i, r := range runs {
		out[i] = *r
	}
	return out, nil
}

// Last is a check's latest run with its steps, or nil when it never ran (or
// its runs are past retention).
func (h *History) Last(ctx context.Context, check string) (*Run, error) {
	runs, err := h.Runs(ctx, check, time.Time{}, time.Time{}, 1)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// Checks returns the latest run of every check that has one, with its
// steps, in one query.
func (h *History) Checks(ctx context.Context) (map[string]*Run, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT `+runColumns+`, `+stepColumns+`
		FROM last_run l JOIN runs r ON r.id = l.run_id
		LEFT JOIN steps s ON s.run_id = r.id
		ORDER BY r.id, s.idx`)
	if err != nil {
		return nil, fmt.Errorf("check history: latest runs: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("check history: latest runs: %w", err)
	}
	out := make(map[string]*Run, len(runs))
	for _, r := range runs {
		out[r.Check] = r
	}
	return out, nil
}

// bounds turns a time range into stored microseconds; zero times are open.
func bounds(from, to time.Time) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if !from.IsZero() {
		lo = from.UnixMicro()
	}
	if !to.IsZero() {
		hi = to.UnixMicro()
	}
	return lo, hi
}

// scanRuns reads rows of runColumns then stepColumns (NULL step columns for
// a run without steps), grouping consecutive rows of one run.
func scanRuns(rows *sql.Rows) ([]*Run, error) {
	defer rows.Close()
	var out []*Run
	for rows.Next() {
		var (
			r                    Run
			start, dur           int64
			vals                 sql.NullString
			idx, code, bytes     sql.NullInt64
			name, url, serr      sql.NullString
			ok                   sql.NullBool
			speed                sql.NullFloat64
			dns, conn, tls, ttfb sql.NullInt64
			transfer, total      sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Check, &r.Type, &start, &dur, &r.Success, &r.Slow, &r.Error,
			&r.FailedStep, &r.Attempts, &vals,
			&idx, &name, &url, &ok, &serr, &code, &bytes, &speed,
			&dns, &conn, &tls, &ttfb, &transfer, &total); err != nil {
			return nil, err
		}
		cur := (*Run)(nil)
		if n := len(out); n > 0 && out[n-1].ID == r.ID {
			cur = out[n-1]
		} else {
			r.Start = time.UnixMicro(start).UTC()
			r.Duration = time.Duration(dur) * time.Microsecond
			if vals.Valid {
				if err := json.Unmarshal([]byte(vals.String), &r.Values); err != nil {
					return nil, fmt.Errorf("run %d: values: %w", r.ID, err)
				}
			}
			cur = &r
			out = append(out, cur)
		}
		if !idx.Valid {
			continue
		}
		us := func(v sql.NullInt64) time.Duration { return time.Duration(v.Int64) * time.Microsecond }
		cur.Steps = append(cur.Steps, checks.StepResult{
			Name: name.String, URL: url.String, Success: ok.Bool, Error: serr.String,
			Code: int(code.Int64), Bytes: bytes.Int64, Speed: speed.Float64,
			Phases: checks.Phases{DNS: us(dns), Connect: us(conn), TLS: us(tls), TTFB: us(ttfb),
				Transfer: us(transfer), Total: us(total)},
		})
	}
	return out, rows.Err()
}
