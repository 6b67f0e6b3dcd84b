package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"vigie/checks"
)

// Record stores one finished run and its steps in one transaction and
// returns the run's id. Over-long texts are cut (errors to 4 KiB, URLs to
// 2 KiB), values that are not finite numbers are left out: JSON has no NaN.
func (h *History) Record(ctx context.Context, r *checks.Result) (int64, error) {
	if r == nil {
		return 0, errors.New("check history: no result to record")
	}
	if r.Check == "" {
		return 0, errors.New("check history: a result without a check name cannot be recorded")
	}
	vals, err := encodeValues(r.Values)
	if err != nil {
		return 0, fmt.Errorf("check history: values of %s: %w", r.Check, err)
	}
	steps := r.Steps
	if len(steps) > maxSteps {
		steps = steps[:maxSteps]
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("check history: %w", err)
	}
	defer tx.Rollback()
	start := r.Start.UnixMicro()
	res, err := tx.ExecContext(ctx, `INSERT INTO runs(check_name, type, start, duration_us, success, slow, error, failed_step, attempts, vals)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		cut(r.Check, maxNameBytes), cut(r.Type, maxNameBytes), start, r.Duration.Microseconds(),
		r.Success, r.Slow, cut(r.Error, maxErrorBytes), r.FailedStep, r.Attempts, vals)
	if err != nil {
		return 0, fmt.Errorf("check history: store run of %s: %w", r.Check, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("check history: %w", err)
	}
	if len(steps) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO steps(run_id, idx, name, url, success, error, code, bytes, speed,
			dns_us, connect_us, tls_us, ttfb_us, transfer_us, total_us) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return 0, fmt.Errorf("check history: %w", err)
		}
		defer stmt.Close()
		for i, s := range steps {
			p := s.Phases
			speed := s.Speed
			if math.IsNaN(speed) || math.IsInf(speed, 0) {
				speed = 0
			}
			if _, err := stmt.ExecContext(ctx, id, i, cut(s.Name, maxNameBytes), cut(s.URL, maxURLBytes), s.Success,
				cut(s.Error, maxErrorBytes), s.Code, s.Bytes, speed,
				p.DNS.Microseconds(), p.Connect.Microseconds(), p.TLS.Microseconds(),
				p.TTFB.Microseconds(), p.Transfer.Microseconds(), p.Total.Microseconds()); err != nil {
				return 0, fmt.Errorf("check history: store step %d of %s: %w", i+1, r.Check, err)
			}
		}
	}
	// A run recorded late (older than the latest) must not replace it.
	if _, err := tx.ExecContext(ctx, `INSERT INTO last_run(check_name, run_id, start) VALUES(?, ?, ?)
		ON CONFLICT(check_name) DO UPDATE SET run_id = excluded.run_id, start = excluded.start
		WHERE excluded.start >= last_run.start`, cut(r.Check, maxNameBytes), id, start); err != nil {
		return 0, fmt.Errorf("check history: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("check history: store run of %s: %w", r.Check, err)
	}
	return id, nil
}

// encodeValues is the JSON of a run's values, nil when there are none.
func encodeValues(v map[string]float64) (any, error) {
	if len(v) == 0 {
		return nil, nil
	}
	keep := make(map[string]float64, min(len(v), maxValues))
	for k, x := range v {
		if len(keep) == maxValues {
			break
		}
		if math.IsNaN(x) || math.IsInf(x, 0) || len(k) > maxNameBytes {
			continue
		}
		keep[k] = x
	}
	if len(keep) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(keep)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	// ToValidUTF8 drops the rune the cut went through (and any other
	// invalid bytes, which JSON would mangle anyway).
	return strings.ToValidUTF8(s[:n-len(mark)], "") + mark
}
