package forwarder

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"vigie/cmd/config"
	"vigie/forwarder/positions"
	"vigie/record"
)

// fakeCollector is POST /api/v1/ingest with a memory: every attempt's body
// by batch number, what it stored (first success only), and failures to
// inject: fail answers 503 without storing, lose stores and then answers
// 500 (the answer lost after the commit).
type fakeCollector struct {
	t          *testing.T
	mu         sync.Mutex
	tries      map[int64][][]byte // X-Vigie-Batch → each attempt's decompressed body
	stored     map[int64][]byte
	fail, lose func(seq int64, attempt int) bool
}

func newFakeCollector(t *testing.T) (*fakeCollector, *httptest.Server) {
	c := &fakeCollector{t: t, tries: map[int64][][]byte{}, stored: map[int64][]byte{}}
	ts := httptest.NewServer(c)
	t.Cleanup(ts.Close)
	return c, ts
}

func (c *fakeCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/ingest" || r.Header.Get("Authorization") != "Bearer test-token-0123456789" || r.Header.Get("X-Vigie-Agent") != "erp1" {
		c.t.Errorf("request %s %s %v", r.Method, r.URL.Path, r.Header)
		http.Error(w, `{"error":"no"}`, http.StatusForbidden)
		return
	}
	seq, err := strconv.ParseInt(r.Header.Get("X-Vigie-Batch"), 10, 64)
	zr, zerr := gzip.NewReader(r.Body)
	if err != nil || zerr != nil || r.Header.Get("Content-Encoding") != "gzip" {
		c.t.Errorf("batch %q, gzip %v, %v", r.Header.Get("X-Vigie-Batch"), zerr, r.Header)
		http.Error(w, `{"error":"bad"}`, http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	if err != nil {
		c.t.Errorf("batch %d: %v", seq, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tries[seq] = append(c.tries[seq], body)
	attempt := len(c.tries[seq])
	if c.fail != nil && c.fail(seq, attempt) {
		http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
		return
	}
	_, dup := c.stored[seq]
	if !dup {
		c.stored[seq] = body
	}
	if c.lose != nil && c.lose(seq, attempt) {
		http.Error(w, `{"error":"lost answer"}`, http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, `{"accepted":%d,"duplicate":%t}`, bytes.Count(body, []byte{'\n'}), dup)
}

// lines returns the stored records, batches in number order.
func (c *fakeCollector) lines() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	seqs := make([]int64, 0, len(c.stored))
	for s := range c.stored {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	var out [][]byte
	for _, s := range seqs {
		for l := range bytes.Lines(c.stored[s]) {
			out = append(out, bytes.TrimSuffix(l, []byte{'\n'}))
		}
	}
	return out
}

func (c *fakeCollector) count() int { return len(c.lines()) }

// runAgent runs an agent on the file until the collector holds want
// records, then stops it.
func runAgent(t *testing.T, url, stateDir, path string, c *fakeCollector, want int) {
	t.Helper()
	cfg := &config.Agent{
		AgentID:  "erp1",
		Server:   config.AgentServer{URL: url, Token: "test-token-0123456789"},
		StateDir: stateDir,
		Spool:    config.AgentSpool{MaxSize: 1 << 30},
		Sources: []config.AgentSource{{Type: "file", Paths: []string{path}, Format: "odoo",
			Multiline: &config.Multiline{Timeout: config.Duration(200 * time.Millisecond)}}},
	}
	a, err := New(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for c.count() < want {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("%d of %d records shipped", c.count(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a record too many would show now
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("agent: %v", err)
	}
}

// fileRecords splits an Odoo file into its records (a record starts with
// a line the format says starts one).
func fileRecords(t *testing.T, f record.Format, data []byte) [][]byte {
	t.Helper()
	var recs [][]byte
	for line := range bytes.Lines(data) {
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		if len(recs) == 0 || f.Starts(line) {
			recs = append(recs, bytes.Clone(line))
			continue
		}
		recs[len(recs)-1] = append(append(recs[len(recs)-1], '\n'), line...)
	}
	return recs
}

// The agent ships every record of an Odoo file once, in order, each the
// JSON of record.Format.Parse with its file field (what it sent before its
// JSON was written straight from the line); a batch that failed, and one
// whose answer was lost after it was stored, are resent byte for byte under
// their number; the positions are saved at the file's end, and a restart
// ships only what was appended since.
func TestAgentShipsEveryRecordOnceAsParsed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "odoo-server.log")
	golden, err := os.ReadFile("../testdata/odoo/odoo17-traceback-werkzeug/input.txt")
	if err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(dir, "gen.log")
	if _, err := writeOdooLog(gen, 12_000); err != nil {
		t.Fatal(err)
	}
	more, err := os.ReadFile(gen)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(golden, more...), 0o644); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	f, err := record.NewFormat("odoo", record.FormatOptions{Host: host})
	if err != nil {
		t.Fatal(err)
	}
	want := fileRecords(t, f, append(golden, more...))

	c, ts := newFakeCollector(t)
	var first int64
	c.fail = func(seq int64, attempt int) bool {
		if first == 0 {
			first = seq
		}
		return seq == first+1 && attempt == 1
	}
	c.lose = func(seq int64, attempt int) bool { return seq == first+2 && attempt == 1 }
	state := filepath.Join(dir, "state")
	runAgent(t, ts.URL, state, path, c, len(want))

	checkShipped(t, c, f, want, path)
	c.mu.Lock()
	if len(c.stored) < 3 {
		t.Errorf("%d batches: the test wants at least 3", len(c.stored))
	}
	for seq, tries := range c.tries {
		for i, b := range tries[1:] {
			if !bytes.Equal(b, tries[0]) {
				t.Errorf("batch %d attempt %d differs from the first", seq, i+2)
			}
		}
	}
	if len(c.tries[first+1]) < 2 || len(c.tries[first+2]) < 2 {
		t.Errorf("failed batches not resent: %d, %d attempts", len(c.tries[first+1]), len(c.tries[first+2]))
	}
	c.mu.Unlock()

	pos, err := positions.Open(filepath.Join(state, "positions.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	for _, e := range pos.Entries("") {
		if e.Offset != st.Size() {
			t.Errorf("saved offset %d, want the file's end %d", e.Offset, st.Size())
		}
	}

	// Restart: only the appended records go out.
	extra := "2026-11-22 12:00:00,000 4711 INFO Specibike odoo.modules.loading: after restart 1 \n" +
		"2026-11-22 12:00:01,000 4711 ERROR Specibike odoo.http: boom\nTraceback (most recent call last):\nValueError: x\n"
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(extra)
	fh.Close()
	all, _ := os.ReadFile(path)
	want = fileRecords(t, f, all)
	runAgent(t, ts.URL, state, path, c, len(want))
	checkShipped(t, c, f, want, path)
}

// checkShipped compares the collector's records with the file's: each the
// bytes json.Marshal writes for Parse (at the received time it carries)
// with the file field.
func checkShipped(t *testing.T, c *fakeCollector, f record.Format, want [][]byte, path string) {
	t.Helper()
	got := c.lines()
	if len(got) != len(want) {
		t.Fatalf("%d records stored, want %d", len(got), len(want))
	}
	for i, line := range got {
		var r record.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("record %d: %v: %s", i, err, line)
		}
		exp := f.Parse(want[i], r.Received)
		exp.SetField("file", path)
		wantJSON, _ := json.Marshal(exp)
		if !bytes.Equal(line, wantJSON) {
			t.Fatalf("record %d:\n got %s\nwant %s", i, line, wantJSON)
		}
	}
}

// odooFile is what writeOdooLog wrote.
type odooFile struct{ lines, records int }

// writeOdooLog writes an Odoo 16/17 log of exactly lines lines: werkzeug
// access lines with perf_info, some INFO and WARNING lines of other loggers,
// and every 500th record an ERROR with a 3-line traceback.
func writeOdooLog(path string, lines int) (odooFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return odooFile{}, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var bf odooFile
	t := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var buf []byte
	rng := uint64(0x9E3779B97F4A7C15)
	next := func(n int) int {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return int(rng % uint64(n))
	}
	dbs := []string{"Specibike", "specibike_prod", "cycles_martin", "?"}
	paths := []string{
		"POST /web/dataset/call_kw/sale.order/read", "POST /web/dataset/call_kw/account.move/search_read",
		"GET /web/image/product.template/4711/image_128", "POST /longpolling/poll", "POST /mail/init_messaging",
		"GET /web/webclient/translations/3f2c9a1b7d?lang=fr_FR", "GET /report/pdf/account.report_invoice/20211",
	}
	for bf.lines < lines {
		t = t.Add(time.Duration(1+next(3)) * time.Millisecond)
		buf = t.AppendFormat(buf[:0], "2006-01-02 15:04:05,000")
		buf = fmt.Appendf(buf, " %d ", 4711+next(8))
		db := dbs[next(len(dbs))]
		switch r := next(1000); {
		case bf.records%500 == 499 && bf.lines+4 <= lines:
			buf = fmt.Appendf(buf, "ERROR %s odoo.http: Exception during request handling (%s, uid %d)\n", db, paths[next(len(paths))], 2+next(40))
			buf = append(buf, "Traceback (most recent call last):\n"...)
			buf = fmt.Appendf(buf, "  File \"/opt/odoo/odoo/http.py\", line %d, in _serve_db\n", 1500+next(700))
			buf = append(buf, "psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n"...)
			bf.lines += 4
		case r < 30:
			buf = fmt.Appendf(buf, "WARNING %s odoo.addons.stock.models.stock_rule: procurement for product [VELO-%04d] Vélo de ville 28 pouces not scheduled: no route \n", db, next(10000))
			bf.lines++
		case r < 60:
			buf = fmt.Appendf(buf, "INFO %s odoo.addons.mail.models.mail_mail: Mail with ID %d and Message-Id '<1732270000.%d-openerp-sale.order@erp1>' sent \n", db, next(100000), next(100000))
			bf.lines++
		default:
			buf = fmt.Appendf(buf, "INFO %s werkzeug: 10.0.%d.%d - - [%s] \"%s HTTP/1.1\" %d - %d %d.%03d %d.%03d\n",
				db, next(256), next(256), t.Format("02/Jan/2006 15:04:05"), paths[next(len(paths))],
				[]int{200, 200, 200, 200, 304, 404}[next(6)], next(200), next(3), next(1000), next(5), next(1000))
			bf.lines++
		}
		bf.records++
		if _, err := w.Write(buf); err != nil {
			f.Close()
			return bf, err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return bf, err
	}
	return bf, f.Close()
}
