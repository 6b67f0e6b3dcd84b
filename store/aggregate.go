package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"vigie/store/query"
)

// FacetCount is how many matching records have one value of a field.
type FacetCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// MaxFacetValues is the most distinct values one facet answer lists.
const MaxFacetValues = 1000

// columns that facets read straight from the table; any other name is a key
// of the fields object.
var facetColumns = map[string]bool{
	"host": true, "app": true, "procid": true, "msgid": true, "source": true,
	"severity": true, "facility": true,
}

// fieldExpr is the SQL for a field's value, with its argument: never the
// name itself spliced into SQL unless it is one of our own column names.
func fieldExpr(field string) (string, []any, error) {
	if facetColumns[field] {
		return "l." + field, nil, nil
	}
	if field == "" || len(field) > 128 || strings.ContainsAny(field, "\x00") {
		return "", nil, fmt.Errorf("%w: field: must be a column or a field name of at most 128 bytes", ErrBadRequest)
	}
	return "json_extract(l.fields, ?)", []any{query.JSONPath(field)}, nil
}

// Facets counts the matching records by the values of field, most frequent
// first, at most limit values (default 20).
func (s *Store) Facets(ctx context.Context, req Request, field string, limit int) ([]FacetCount, error) {
	pl, err := s.plan(req)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, MaxFacetValues)
	expr, exprArgs, err := fieldExpr(field)
	if err != nil {
		return nil, err
	}
	from, args := pl.from()
	stmt := "SELECT CAST(" + expr + " AS TEXT) AS v, count(*)" + from + " GROUP BY v"
	all := append(slices.Clip(exprArgs), args...)
	counts := map[string]int64{}
	err = s.eachRow(ctx, pl, stmt, all, func(rows *sql.Rows) error {
		var v sql.NullString
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return err
		}
		if v.Valid { // records without the field are not a value of it
			counts[v.String] += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]FacetCount, 0, len(counts))
	for v, n := range counts {
		out = append(out, FacetCount{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b FacetCount) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Value, b.Value)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Bucket is the count of matching records in [Time, Time+step).
type Bucket struct {
	Time  time.Time `json:"time"`
	Count int64     `json:"count"`
}

// MaxBuckets bounds a histogram's length.
const MaxBuckets = 5000

// Histogram counts matching records per step over [req.From, req.To]; both
// bounds are required. Empty buckets are included so the series is regular.
func (s *Store) Histogram(ctx context.Context, req Request, step time.Duration) ([]Bucket, error) {
	if req.From.IsZero() || req.To.IsZero() || !req.To.After(req.From) {
		return nil, fmt.Errorf("%w: histogram needs from before to", ErrBadRequest)
	}
	if step <= 0 {
		step = AutoStep(req.To.Sub(req.From))
	}
	if step < time.Millisecond {
		return nil, fmt.Errorf("%w: step: at least 1ms", ErrBadRequest)
	}
	stepMs := step.Milliseconds()
	first := req.From.UnixMilli() / stepMs
	last := req.To.UnixMilli() / stepMs
	if last-first+1 > MaxBuckets {
		return nil, fmt.Errorf("%w: step: %s over this range makes more than %d buckets", ErrBadRequest, step, MaxBuckets)
	}
	req.Before = ""
	pl, err := s.plan(req)
	if err != nil {
		return nil, err
	}
	from, args := pl.from()
	stmt := "SELECT (l.id >> ?) / ? AS b, count(*)" + from + " GROUP BY b"
	all := append([]any{seqBits, stepMs}, args...)
	counts := make([]int64, last-first+1)
	err = s.eachRow(ctx, pl, stmt, all, func(rows *sql.Rows) error {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			return err
		}
		if b >= first && b <= last {
			counts[b-first] += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, len(counts))
	for i, n := range counts {
		out[i] = Bucket{Time: time.UnixMilli((first + int64(i)) * stepMs).UTC(), Count: n}
	}
	return out, nil
}

// AutoStep picks a round step giving about a hundred buckets over span.
func AutoStep(span time.Duration) time.Duration {
	steps := []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
		time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
		3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}
	for _, st := range steps {
		if span/st <= 120 {
			return st
		}
	}
	return steps[len(steps)-1] * time.Duration(span/(steps[len(steps)-1]*120)+1)
}

// eachRow runs stmt on every partition overlapping the plan and calls fn
// with each row, for answers that add up over all of them.
func (s *Store) eachRow(ctx context.Context, pl plan, stmt string, args []any, fn func(*sql.Rows) error) error {
	return s.eachDay(ctx, pl, func(dbs []*sql.DB) (bool, error) {
		for _, db := range dbs {
			if err := eachRowOf(ctx, db, stmt, args, fn); err != nil {
				return false, err
			}
		}
		return true, nil
	})
}

func eachRowOf(ctx context.Context, db *sql.DB, stmt string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
