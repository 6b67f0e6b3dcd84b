//go:build cgo

// The real collector needs the cgo SQLite store; the agent code does not.

package output

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"vigie/forwarder/spool"
	"vigie/store"
	"vigie/ui"
)

// collectorAt is a real vigie server (ui over store) on a data directory.
type collectorAt struct {
	st  *store.Store
	srv *ui.Server
}

func startCollector(t *testing.T, dir string) collectorAt {
	t.Helper()
	st, err := store.Open(context.Background(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ui.New(ui.Options{Store: st, AgentTokens: []ui.Token{{Name: "erp1", Secret: token}}})
	if err != nil {
		t.Fatal(err)
	}
	return collectorAt{st, srv}
}

// TestRealIngestExactlyOnce sends three batches to the real ingest handler;
// the answer to the second is lost after its commit (the connection dies),
// and the collector is stopped and started again on the same data before
// the resend. Every record must be stored exactly once.
func TestRealIngestExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	var (
		mu      sync.Mutex
		current = startCollector(t, dir)
		calls   atomic.Int32
		killed  = make(chan struct{})
		swapped = make(chan struct{})
	)
	// The agent's URL stays the same: the front forwards to whichever
	// collector is current, like a DNS name in front of a restarted server.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		mu.Lock()
		c := current
		mu.Unlock()
		if n == 2 {
			// Batch 2 is committed, then the network dies before the answer.
			rec := httptest.NewRecorder()
			c.srv.ServeHTTP(rec, r)
			if rec.Code != 200 {
				t.Errorf("batch 2 first try: %d %s", rec.Code, rec.Body)
			}
			close(killed)
			<-swapped
			panic(http.ErrAbortHandler)
		}
		c.srv.ServeHTTP(w, r)
	}))
	defer front.Close()

	sp := openSpool(t)
	var seqs []int64
	for i := range 3 {
		seq, err := sp.Append(spool.Batch{Records: ndjson("exactly-once b"+strconv.Itoa(i), 50), Count: 50})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	go func() {
		<-killed
		// The collector goes away and comes back on the same data.
		mu.Lock()
		current.st.Close()
		current = startCollector(t, dir)
		mu.Unlock()
		close(swapped)
	}()
	logger, logs := testLogger()
	v := newVigie(t, front.URL, func(c *VigieConfig) { c.Logger = logger })
	runUntil(t, sp, v, nil, logger, func() bool { return sp.Stats().Batches == 0 })
	mu.Lock()
	st := current.st
	mu.Unlock()
	defer st.Close()

	if calls.Load() != 4 {
		t.Errorf("%d requests, want 4 (batch 2 twice)", calls.Load())
	}
	res, err := st.Search(context.Background(), store.Request{Query: "exactly", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range res.Records {
		seen[r.Message]++
		if r.Source == "" || r.Host != "erp1" || r.Fields["db"] != "Specibike" {
			t.Errorf("record %+v", r)
		}
	}
	if len(res.Records) != 150 || len(seen) != 150 {
		t.Fatalf("%d records stored, %d distinct; want 150 once each", len(res.Records), len(seen))
	}
	for m, n := range seen {
		if n != 1 {
			t.Errorf("%q stored %d times", m, n)
		}
	}
	if !strings.Contains(logs.String(), "already had this batch") {
		t.Errorf("the resend was not acknowledged as a duplicate:\n%s", logs)
	}
}

// TestRealIngestWindowExactlyOnce keeps four batches in flight against the
// real collector while answers are lost after the commit: batches commit
// out of order and resends come back among new batches. Every record is
// stored once.
func TestRealIngestWindowExactlyOnce(t *testing.T) {
	c := startCollector(t, t.TempDir())
	defer c.st.Close()
	var calls atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1)%4 == 0 {
			rec := httptest.NewRecorder()
			c.srv.ServeHTTP(rec, r)
			panic(http.ErrAbortHandler) // committed, answer lost
		}
		c.srv.ServeHTTP(w, r)
	}))
	defer front.Close()
	sp := openSpool(t)
	const batches, per = 30, 20
	for i := range batches {
		if _, err := sp.Append(spool.Batch{Records: ndjson("windowed b"+strconv.Itoa(i), per), Count: per}); err != nil {
			t.Fatal(err)
		}
	}
	v := newVigie(t, front.URL, func(c *VigieConfig) { c.Window = 4 })
	runUntil(t, sp, v, nil, nil, func() bool { return sp.Stats().Batches == 0 })
	res, err := c.st.Search(context.Background(), store.Request{Query: "windowed", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range res.Records {
		seen[r.Message]++
	}
	if len(res.Records) != batches*per || len(seen) != batches*per {
		t.Fatalf("%d records stored, %d distinct; want %d once each (%d requests)", len(res.Records), len(seen), batches*per, calls.Load())
	}
	if calls.Load() <= batches {
		t.Errorf("%d requests for %d batches: no answer was lost, the test proved nothing", calls.Load(), batches)
	}
}
