package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// The receiver stands in for the collector when the agent is measured on
// its own: it speaks the agent side of POST /api/v1/ingest (token, batch
// numbers, gzip, an answer only once the batch is read) and stores nothing.
// vigie serve, which indexes every record, needs about twice the agent's CPU
// per record, so on a two-core machine it, not the agent, bounds the end to
// end rate; with the receiver on the other core the agent's own rate shows.
// It runs as a child of the harness (receiverEnv), pinned to CPU 0.

// receiverEnv holds "addr token" in the child that must be the receiver.
const receiverEnv = "VIGIE_BENCH_RECEIVER"

// maxReceiverBody bounds a batch, compressed or not.
const maxReceiverBody = 64 << 20

// receiver counts the records of distinct batches.
type receiver struct {
	token string

	mu      sync.Mutex
	seen    map[string]bool // agent + "/" + batch number
	records int64
	batches int64
	resent  int64
}

// receiverMain serves until the process is killed; it returns only on a
// setup error.
func receiverMain(spec string) error {
	addr, token, ok := bytes.Cut([]byte(spec), []byte(" "))
	if !ok || len(token) == 0 {
		return fmt.Errorf("%s: want \"addr token\"", receiverEnv)
	}
	ln, err := net.Listen("tcp", string(addr))
	if err != nil {
		return err
	}
	rc := &receiver{token: string(token), seen: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/ingest", rc.ingest)
	mux.HandleFunc("GET /count", rc.count)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

func (rc *receiver) ingest(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("Authorization") != "Bearer "+rc.token {
		answer(http.StatusUnauthorized, map[string]string{"error": "bad token"})
		return
	}
	agent := r.Header.Get("X-Vigie-Agent")
	seq, err := strconv.ParseInt(r.Header.Get("X-Vigie-Batch"), 10, 64)
	if agent == "" || err != nil || seq < 1 {
		answer(http.StatusBadRequest, map[string]string{"error": "X-Vigie-Agent and X-Vigie-Batch needed"})
		return
	}
	body, err := readBatch(r)
	if err != nil {
		answer(http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	n, err := countRecords(body)
	if err != nil {
		answer(http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	key := agent + "/" + strconv.FormatInt(seq, 10)
	rc.mu.Lock()
	dup := rc.seen[key]
	if dup {
		rc.resent++
	} else {
		rc.seen[key] = true
		rc.records += int64(n)
		rc.batches++
	}
	rc.mu.Unlock()
	if dup {
		answer(http.StatusOK, map[string]any{"accepted": 0, "duplicate": true})
		return
	}
	answer(http.StatusOK, map[string]any{"accepted": n})
}

func readBatch(r *http.Request) ([]byte, error) {
	var in io.Reader = io.LimitReader(r.Body, maxReceiverBody+1)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		in = zr
	}
	body, err := io.ReadAll(io.LimitReader(in, maxReceiverBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxReceiverBody {
		return nil, errors.New("batch over 64 MiB")
	}
	return body, nil
}

// countRecords counts the NDJSON lines of a batch, each of which must be a
// JSON object, as the collector would refuse the batch otherwise.
func countRecords(body []byte) (int, error) {
	n := 0
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte("\n"))
		body = rest
		if len(line) == 0 {
			continue
		}
		if line[0] != '{' || !json.Valid(line) {
			return 0, fmt.Errorf("record %d: not a JSON object", n+1)
		}
		n++
	}
	return n, nil
}

type receiverCount struct {
	Records int64 `json:"records"`
	Batches int64 `json:"batches"`
	Resent  int64 `json:"resent"`
}

func (rc *receiver) count(w http.ResponseWriter, _ *http.Request) {
	rc.mu.Lock()
	c := receiverCount{rc.records, rc.batches, rc.resent}
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(c)
}

// receiverCounts asks a running receiver for its counts.
func receiverCounts(ctx context.Context, addr string) (receiverCount, error) {
	var c receiverCount
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/count", nil)
	if err != nil {
		return c, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c, fmt.Errorf("receiver /count: %s", resp.Status)
	}
	return c, json.NewDecoder(io.LimitReader(resp.Body, 1<<10)).Decode(&c)
}

// startReceiver starts the receiver as a child of the harness on CPU 0.
func startReceiver(dir, token string) (*proc, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	addrs, err := freeAddrs(1, 0)
	if err != nil {
		return nil, "", err
	}
	argv := []string{self}
	if prefix := otherCore(); prefix != nil {
		argv = append(prefix, self)
	}
	p, err := startProc("receiver", filepath.Join(dir, "receiver.log"), []string{receiverEnv + "=" + addrs[0] + " " + token}, argv...)
	if err != nil {
		return nil, "", err
	}
	// Up once it answers.
	for end := time.Now().Add(10 * time.Second); ; {
		if _, err := receiverCounts(context.Background(), addrs[0]); err == nil {
			return p, addrs[0], nil
		}
		if err := p.exitError(); err != nil || time.Now().After(end) {
			p.kill()
			return nil, "", fmt.Errorf("receiver did not start (%v): %s", err, tail(p.logPath, 400))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// otherCore is oneCore's counterpart: the prefix that pins a process to
// CPU 0, away from the agent; nil when oneCore does not pin.
func otherCore() []string {
	prefix, _ := oneCore()
	if prefix == nil {
		return nil
	}
	return []string{prefix[0], "-c", "0"}
}

// runAgentReceiver ships the file with the agent on one core to the
// receiver on the other, and waits until the receiver has every record.
func runAgentReceiver(ctx context.Context, opt options, dir string, lf odooFile) (f fileFigures) {
	prefix, pin := oneCore()
	f.Pinning = pin + ", GOMAXPROCS=1"
	fail := func(err error) fileFigures { f.Error = err.Error(); return f }
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	token := randomWord(32)
	rp, raddr, err := startReceiver(dir, token)
	if err != nil {
		return fail(err)
	}
	defer rp.kill()
	cfg, metricsAddr, err := writeAgentConfig(dir, raddr, token, lf)
	if err != nil {
		return fail(err)
	}
	count := func() (int64, error) {
		c, err := receiverCounts(ctx, raddr)
		return c.Records, err
	}
	a, err := f.ship(ctx, prefix, opt.agent, dir, cfg, lf, count, 20*time.Millisecond)
	if a == nil {
		return fail(err)
	}
	defer a.kill()
	if u, err2 := readProcUsage(rp.pid()); err2 == nil {
		c := u.CPUSeconds
		f.CollectorCPUSeconds = &c
	}
	if err != nil {
		return fail(fmt.Errorf("receiver: %w (agent log %s: %s)", err, a.logPath, tail(a.logPath, 600)))
	}
	if f.AgentMetrics, err = awaitShipped(ctx, metricsAddr, lf); err != nil {
		return fail(err)
	}
	if c, err := receiverCounts(ctx, raddr); err != nil || c.Records != int64(lf.Records) {
		return fail(fmt.Errorf("receiver holds %d records (%v), want %d", c.Records, err, lf.Records))
	}
	if err := a.stop(); err != nil {
		return fail(err)
	}
	return f
}
