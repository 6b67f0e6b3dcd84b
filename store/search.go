package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigie/record"
	"vigie/store/query"
)

// Request selects records: a query in the query language and a time range.
type Request struct {
	Query string
	// From and To bound the records' time, inclusive; zero means unbounded.
	From, To time.Time
	// Limit caps the records returned (default 100, at most MaxLimit).
	Limit int
	// Before is the cursor of a previous answer: only older records.
	Before string
}

// MaxLimit is the most records one search returns.
const MaxLimit = 10_000

// Result is one page of records, newest first.
type Result struct {
	Records []record.Record `json:"records"`
	// Next is the cursor for the following (older) page, "" at the end.
	Next string `json:"next"`
}

// ErrBadRequest wraps errors in what the caller asked, as opposed to the
// store failing; query syntax errors are *query.Error and wrap it too.
var ErrBadRequest = errors.New("bad request")

type plan struct {
	c      query.Compiled
	lo, hi int64
}

func (s *Store) plan(req Request) (plan, error) {
	q, err := query.Parse(req.Query)
	if err != nil {
		return plan{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	p := plan{c: q.Compile(), lo: 0, hi: math.MaxInt64}
	if !req.From.IsZero() {
		p.lo = idFloor(req.From)
	}
	if !req.To.IsZero() {
		p.hi = idCeil(req.To)
	}
	if req.Before != "" {
		b, err := strconv.ParseInt(req.Before, 10, 64)
		if err != nil || b <= 0 {
			return plan{}, fmt.Errorf("%w: before: not a cursor from a previous answer", ErrBadRequest)
		}
		p.hi = min(p.hi, b-1)
	}
	if p.lo < 0 {
		p.lo = 0
	}
	return p, nil
}

// from returns the FROM/WHERE part shared by searches, facets and histograms,
// with its arguments. The id range is the rowid range, so SQLite and FTS5 both
// seek to it instead of filtering.
func (pl plan) from() (string, []any) {
	var b strings.Builder
	var args []any
	if pl.c.Match != "" {
		// CROSS JOIN keeps the full-text index as the outer loop: it yields
		// rowids newest first and the LIMIT stops it early.
		b.WriteString(" FROM fts CROSS JOIN logs l ON l.id = fts.rowid WHERE fts MATCH ? AND fts.rowid BETWEEN ? AND ?")
		args = append(args, pl.c.Match, pl.lo, pl.hi)
	} else {
		b.WriteString(" FROM logs l WHERE l.id BETWEEN ? AND ?")
		args = append(args, pl.lo, pl.hi)
	}
	if pl.c.Where != "" {
		b.WriteString(" AND (")
		b.WriteString(pl.c.Where)
		b.WriteString(")")
		args = append(args, pl.c.Args...)
	}
	return b.String(), args
}

func (pl plan) orderDesc() string {
	if pl.c.Match != "" {
		return " ORDER BY fts.rowid DESC"
	}
	return " ORDER BY l.id DESC"
}

const recordColumns = "SELECT l.id, l.ts, l.received, l.host, l.app, l.procid, l.msgid, l.facility, l.severity, l.source, l.message, l.fields"

// Search returns the newest records matching req.
func (s *Store) Search(ctx context.Context, req Request) (Result, error) {
	pl, err := s.plan(req)
	if err != nil {
		return Result{}, err
	}
	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxLimit)
	from, args := pl.from()
	stmt := recordColumns + from + pl.orderDesc() + " LIMIT ?"
	res := Result{Records: []record.Record{}}
	err = s.eachDay(ctx, pl, func(dbs []*sql.DB) (bool, error) {
		// Each shard of the day yields its newest; merged by id they are the
		// day's newest.
		want := limit - len(res.Records)
		var day []record.Record
		for _, db := range dbs {
			recs, err := queryRecords(ctx, db, stmt, append(slices.Clip(args), want))
			if err != nil {
				return false, err
			}
			day = append(day, recs...)
		}
		if len(dbs) > 1 {
			slices.SortFunc(day, func(a, b record.Record) int { return cmp.Compare(b.ID, a.ID) })
		}
		res.Records = append(res.Records, day[:min(len(day), want)]...)
		return len(res.Records) < limit, nil
	})
	if err != nil {
		return Result{}, err
	}
	if len(res.Records) == limit {
		res.Next = strconv.FormatInt(res.Records[len(res.Records)-1].ID, 10)
	}
	return res, nil
}

func queryRecords(ctx context.Context, db *sql.DB, stmt string, args []any) ([]record.Record, error) {
	var out []record.Record
	err := eachRowOf(ctx, db, stmt, args, func(rows *sql.Rows) error {
		r, err := scanRecord(rows)
		out = append(out, r)
		return err
	})
	return out, err
}

// eachDay calls fn with the read pools of every day overlapping the plan
// (one per writer shard that wrote that day), newest day first, until fn
// says it has had enough.
func (s *Store) eachDay(ctx context.Context, pl plan, fn func([]*sql.DB) (more bool, err error)) error {
	for _, day := range s.daysNewestFirst(pl.lo, pl.hi) {
		if err := ctx.Err(); err != nil {
			return err
		}
		more, err := s.withDay(day, fn)
		if err != nil {
			return fmt.Errorf("%s: %w", partitionName(day[0].day, day[0].shard), err)
		}
		if !more {
			return nil
		}
	}
	return nil
}

// withDay holds the day's partitions against deletion while fn reads them.
func (s *Store) withDay(day []*partition, fn func([]*sql.DB) (bool, error)) (bool, error) {
	var dbs []*sql.DB
	for _, p := range day {
		p.mu.RLock()
		defer p.mu.RUnlock()
		if p.deleted {
			continue
		}
		db, err := p.reader()
		if errors.Is(err, os.ErrNotExist) {
			continue // created but not yet written
		}
		if err != nil {
			return false, err
		}
		if !p.hasSchema(db) {
			continue // the writer is creating it right now
		}
		dbs = append(dbs, db)
	}
	if len(dbs) == 0 {
		return true, nil
	}
	return fn(dbs)
}

func scanRecord(rows *sql.Rows) (record.Record, error) {
	var r record.Record
	var ts, received int64
	var fields sql.NullString
	if err := rows.Scan(&r.ID, &ts, &received, &r.Host, &r.App, &r.ProcID, &r.MsgID,
		&r.Facility, &r.Severity, &r.Source, &r.Message, &fields); err != nil {
		return r, err
	}
	r.Time = time.UnixMicro(ts).UTC()
	r.Received = time.UnixMicro(received).UTC()
	f, err := decodeFields(fields.String)
	if err != nil {
		return r, fmt.Errorf("record %d: fields: %w", r.ID, err)
	}
	r.Fields = f
	return r, nil
}
