package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/record"
	"vigie/store/query"
)

var base = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func openTest(t testing.TB, opt Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func rec(at time.Time, host, app string, sev int, msg string, fields ...string) record.Record {
	r := record.Record{Time: at, Received: at.Add(time.Millisecond), Host: host, App: app, Severity: sev, Facility: 16, Source: "syslog/tcp 127.0.0.1", Message: msg}
	for i := 0; i+1 < len(fields); i += 2 {
		r.SetField(fields[i], fields[i+1])
	}
	return r
}

func mustSync(t testing.TB, s *Store, recs ...record.Record) {
	t.Helper()
	if err := s.SubmitSync(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func messages(rs []record.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Message
	}
	return out
}

func TestSearchNewestFirstAcrossPartitions(t *testing.T) {
	s, _ := openTest(t, Options{})
	// Three days, written out of order: placement follows the event time.
	mustSync(t, s,
		rec(base, "erp1", "postgres", 3, "day2 connection refused"),
		rec(base.Add(-24*time.Hour), "erp1", "postgres", 6, "day1 checkpoint complete"),
		rec(base.Add(24*time.Hour), "www", "nginx", 4, "day3 upstream timed out", "status", "504"),
		rec(base.Add(time.Second), "erp1", "odoo", 3, "day2 traceback KeyError", "db", "Specibike", "duration_ms", "1234.5"),
	)
	res, err := s.Search(context.Background(), Request{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"day3 upstream timed out", "day2 traceback KeyError", "day2 connection refused", "day1 checkpoint complete"}
	if got := messages(res.Records); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("order:\n got %q\nwant %q", got, want)
	}
	if res.Next != "" {
		t.Errorf("next = %q with everything on one page", res.Next)
	}
	if n := len(s.daysNewestFirst(0, 1<<62)); n != 3 {
		t.Errorf("%d days, want 3", n)
	}
	r := res.Records[1]
	if r.Fields["db"] != "Specibike" || r.Host != "erp1" || r.App != "odoo" || !r.Time.Equal(base.Add(time.Second)) || r.ID == 0 {
		t.Errorf("record did not round-trip: %+v", r)
	}
}

func TestQueriesAndRanges(t *testing.T) {
	s, _ := openTest(t, Options{})
	mustSync(t, s,
		rec(base, "erp1", "postgres", 3, "FATAL password authentication failed for user openpg", "db", "Specibike"),
		rec(base.Add(1*time.Minute), "erp1", "postgres", 6, "duration: 12.5 ms statement: SELECT 1", "duration_ms", "12.5"),
		rec(base.Add(2*time.Minute), "erp1", "postgres", 6, "duration: 2345.0 ms statement: SELECT * FROM sale_order", "duration_ms", "2345.0"),
		rec(base.Add(3*time.Minute), "erp2", "odoo", 4, "transfert est terminé", "db", "Specibike"),
		rec(base.Add(4*time.Minute), "www", "sshd", 5, "Accepted publickey for root from 10.0.0.5"),
	)
	cases := []struct {
		q        string
		from, to time.Time
		want     []string
	}{
		{q: "app:postgres duration_ms>1000", want: []string{"duration: 2345.0 ms statement: SELECT * FROM sale_order"}},
		{q: "severity<=warning", want: []string{"transfert est terminé", "FATAL password authentication failed for user openpg"}},
		{q: `"authentication failed"`, want: []string{"FATAL password authentication failed for user openpg"}},
		{q: "host:erp* -app:postgres", want: []string{"transfert est terminé"}},
		{q: "db:Specibike terminé", want: []string{"transfert est terminé"}},
		{q: "statement", from: base.Add(90 * time.Second), want: []string{"duration: 2345.0 ms statement: SELECT * FROM sale_order"}},
		{q: "statement", to: base.Add(90 * time.Second), want: []string{"duration: 12.5 ms statement: SELECT 1"}},
		{q: "sshd OR publickey", want: []string{"Accepted publickey for root from 10.0.0.5"}},
		{q: "nothing-matches-this", want: []string{}},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			res, err := s.Search(context.Background(), Request{Query: c.q, From: c.from, To: c.to})
			if err != nil {
				t.Fatal(err)
			}
			if got := messages(res.Records); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestBadQueryIsBadRequest(t *testing.T) {
	s, _ := openTest(t, Options{})
	_, err := s.Search(context.Background(), Request{Query: "host:erp1 AND (app:x"})
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("err = %v, want ErrBadRequest", err)
	}
	var qe *query.Error
	if !errors.As(err, &qe) || qe.Col == 0 {
		t.Fatalf("err = %v, want a *query.Error with a column", err)
	}
	if _, err := s.Search(context.Background(), Request{Before: "abc"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestCursorPagesThroughEverythingOnce(t *testing.T) {
	for _, writers := range []int{1, 4} {
		t.Run(fmt.Sprintf("writers=%d", writers), func(t *testing.T) { testCursor(t, writers) })
	}
}

func testCursor(t *testing.T, writers int) {
	s, _ := openTest(t, Options{Writers: writers, MaxBatch: 7})
	var recs []record.Record
	for i := range 250 {
		// Ten records per millisecond: ids must stay unique and ordered.
		recs = append(recs, rec(base.Add(time.Duration(i/10)*time.Millisecond), "h", "a", 6, "msg "+strconv.Itoa(i)))
	}
	// Small batches from several producers spread them over the shards.
	var wg sync.WaitGroup
	for i := 0; i < len(recs); i += 5 {
		wg.Go(func() { mustSync(t, s, recs[i:i+5]...) })
	}
	wg.Wait()
	seen := map[string]bool{}
	before := ""
	var lastID int64
	for page := 0; ; page++ {
		res, err := s.Search(context.Background(), Request{Query: "msg", Limit: 40, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Records {
			if seen[r.Message] {
				t.Fatalf("%s seen twice", r.Message)
			}
			if lastID != 0 && r.ID >= lastID {
				t.Fatalf("ids not strictly decreasing: %d after %d", r.ID, lastID)
			}
			seen[r.Message], lastID = true, r.ID
		}
		if res.Next == "" {
			break
		}
		before = res.Next
	}
	if len(seen) != 250 {
		t.Fatalf("paged through %d records, want 250", len(seen))
	}
}

func TestCrowdedMillisecondAndRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	write := func(n int, tag string) {
		s, err := Open(ctx, dir, Options{MaxBatch: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var recs []record.Record
		for i := range n {
			recs = append(recs, rec(base, "h", "a", 6, tag+" "+strconv.Itoa(i)))
		}
		// Several batches, so the crowding spans transactions.
		for i := 0; i < len(recs); i += 1500 {
			mustSync(t, s, recs[i:min(i+1500, len(recs))]...)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// More records in one millisecond than it has slots, twice over a
	// restart that forgets which slots are taken.
	write(5000, "first")
	write(3000, "second")
	s, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for q, want := range map[string]int{"first": 5000, "second": 3000} {
		res, err := s.Search(ctx, Request{Query: q, Limit: MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) != want {
			t.Errorf("%s: %d records, want %d", q, len(res.Records), want)
		}
	}
}

func TestCloseCommitsEverythingQueued(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{MaxBatch: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20_000 {
		if err := s.Submit(ctx, []record.Record{rec(base.Add(time.Duration(i)*time.Microsecond), "h", "a", 6, "queued")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Submit(ctx, []record.Record{rec(base, "h", "a", 6, "late")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Close: %v, want ErrClosed", err)
	}
	r, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Search(ctx, Request{Query: "queued", Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	facets, err := r.Facets(ctx, Request{}, "host", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != MaxLimit || len(facets) != 1 || facets[0].Count != 20_000 {
		t.Fatalf("after Close: %d on the first page, facets %+v; want all 20000 committed", len(res.Records), facets)
	}
}

func TestFullQueueRefusesAndCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, _ := openTest(t, Options{QueueSize: 10, Registerer: reg})
	mustSync(t, s, rec(base, "h", "a", 6, "first")) // creates the partition
	// Every writer now blocks in its next transaction.
	var parts []*partition
	for shard := range s.opt.Writers {
		p := s.partitionFor(dayOf(idFloor(base)), shard)
		p.mu.Lock()
		parts = append(parts, p)
	}
	accepted := 0
	for range 30 {
		if s.TrySubmit([]record.Record{rec(base, "h", "a", 6, "x")}) {
			accepted++
		}
	}
	// Batches in the blocked writer's hands still count against the bound.
	if accepted != 10 {
		t.Errorf("accepted %d into a queue of 10", accepted)
	}
	if d := metricValue(t, reg, "vigie_store_queue_depth"); d != 10 {
		t.Errorf("queue depth %v with a full queue", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Submit(ctx, []record.Record{rec(base, "h", "a", 6, "x")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("blocking Submit on a full queue: %v, want it to wait for its context", err)
	}
	for _, p := range parts {
		p.mu.Unlock()
	}
	if err := s.SubmitSync(context.Background(), []record.Record{rec(base, "h", "a", 6, "after")}); err != nil {
		t.Fatal(err)
	}
	// Writers commit in parallel: the others may finish just after.
	want := float64(accepted + 2)
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, reg, "vigie_store_records_total") != want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := metricValue(t, reg, "vigie_store_records_total"); got != want {
		t.Errorf("stored %v, want %v", got, want)
	}
}

func TestRetentionByAgeAndSize(t *testing.T) {
	s, dir := openTest(t, Options{RetentionEvery: time.Hour})
	now := time.Now().UTC()
	for d := range 5 {
		mustSync(t, s, rec(now.Add(-time.Duration(d)*24*time.Hour), "h", "a", 6, fmt.Sprintf("day-%d", d)))
	}
	s.applyRetention(now, 2, 0)
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "logs-*.db"))
	if len(files) != 2 {
		t.Fatalf("%d partition files after age retention, want 2: %v", len(files), files)
	}
	res, _ := s.Search(context.Background(), Request{})
	if got := messages(res.Records); fmt.Sprint(got) != "[day-0 day-1]" {
		t.Errorf("left %v", got)
	}
	// Size: yesterday goes, today stays even when it alone is over the limit.
	s.applyRetention(now, 2, 1)
	files, _ = filepath.Glob(filepath.Join(dir, "logs", "logs-*"))
	if len(files) == 0 || filepath.Base(files[0])[:len("logs-20060102")] != "logs-"+now.Format("20060102") {
		t.Fatalf("size retention left %v, want today's partition only", files)
	}
	// Records for a deleted day are still accepted (a new partition).
	mustSync(t, s, rec(now.Add(-24*time.Hour), "h", "a", 6, "late arrival"))
	if res, _ := s.Search(context.Background(), Request{Query: "late"}); len(res.Records) != 1 {
		t.Errorf("late record after retention: %d found", len(res.Records))
	}
}

func TestFutureStampsFiledAtReceiveTime(t *testing.T) {
	s, _ := openTest(t, Options{})
	r := rec(base.AddDate(5, 0, 0), "badclock", "a", 6, "from the future")
	r.Received = base
	mustSync(t, s, r)
	res, err := s.Search(context.Background(), Request{From: base.Add(-time.Minute), To: base.Add(time.Minute)})
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("future-stamped record not found at its receive time: %v %v", res.Records, err)
	}
	if !res.Records[0].Time.Equal(base.AddDate(5, 0, 0)) {
		t.Errorf("its own time was changed: %v", res.Records[0].Time)
	}
}

func TestFacetsAndHistogram(t *testing.T) {
	s, _ := openTest(t, Options{})
	var recs []record.Record
	for i := range 30 {
		host := []string{"erp1", "erp1", "www"}[i%3]
		recs = append(recs, rec(base.Add(time.Duration(i)*time.Minute), host, "app", 6, "tick", "db", []string{"A", "B"}[i%2]))
	}
	mustSync(t, s, recs...)
	ctx := context.Background()
	f, err := s.Facets(ctx, Request{Query: "tick"}, "host", 0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(f) != "[{erp1 20} {www 10}]" {
		t.Errorf("host facets %v", f)
	}
	f, err = s.Facets(ctx, Request{}, "db", 0)
	if err != nil || fmt.Sprint(f) != "[{A 15} {B 15}]" {
		t.Errorf("field facets %v %v", f, err)
	}
	h, err := s.Histogram(ctx, Request{From: base, To: base.Add(29*time.Minute + 59*time.Second)}, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].Count != 10 || h[1].Count != 10 || h[2].Count != 10 || !h[1].Time.Equal(base.Add(10*time.Minute)) {
		t.Errorf("histogram %+v", h)
	}
	if _, err := s.Histogram(ctx, Request{From: base, To: base.Add(365 * 24 * time.Hour)}, time.Second); !errors.Is(err, ErrBadRequest) {
		t.Errorf("too many buckets: %v", err)
	}
	// Keys are attacker-controlled too: quotes and dots stay part of the key.
	mustSync(t, s, rec(base, "h", "app", 6, "odd", `we"ird.key`, "v1"))
	f, err = s.Facets(ctx, Request{}, `we"ird.key`, 0)
	if err != nil || fmt.Sprint(f) != "[{v1 1}]" {
		t.Errorf("facets of a key with a quote %v %v", f, err)
	}
}

func TestInvalidUTF8IsStoredValid(t *testing.T) {
	s, _ := openTest(t, Options{})
	mustSync(t, s, rec(base, "h\xff", "a", 6, "bad \xc3\x28 bytes", "k", "v\xfe"))
	res, err := s.Search(context.Background(), Request{Query: "bytes"})
	if err != nil || len(res.Records) != 1 {
		t.Fatal(res, err)
	}
	if r := res.Records[0]; r.Host != "h\uFFFD" || r.Message != "bad \uFFFD( bytes" || r.Fields["k"] != "v\uFFFD" {
		t.Errorf("%+v", r)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.meta.Exec("PRAGMA user_version = 99"); err == nil {
		t.Fatal("meta still open after Close")
	}
	db, _ := openMeta(context.Background(), filepath.Join(dir, "vigie.db"))
	db.Exec("PRAGMA user_version = 99")
	db.Close()
	if _, err := Open(context.Background(), dir, Options{}); err == nil {
		t.Fatal("opened a store with a newer schema")
	}
	os.Remove(filepath.Join(dir, "vigie.db"))
}

// metricValue reads one unlabelled metric from the registry.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestFileModesAreRestricted(t *testing.T) {
	s, dir := openTest(t, Options{})
	mustSync(t, s, rec(base, "h", "a", 6, "x"))
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "logs-*.db"))
	if len(logs) == 0 {
		t.Fatal("no partition file")
	}
	want := map[string]os.FileMode{filepath.Join(dir, "vigie.db"): 0o600}
	for _, l := range logs {
		want[l] = 0o640
	}
	for path, mode := range want {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), mode)
		}
	}
}
