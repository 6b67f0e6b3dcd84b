package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// vigieServer is one `vigie serve` started by the harness, on loopback ports
// of its own and a fresh data directory.
type vigieServer struct {
	cmd      *exec.Cmd
	dir      string
	httpAddr string
	tcpAddr  string
	udpAddr  string
	token    string
	client   *http.Client
	started  string // the startup line the server printed
	done     chan struct{}
	waitErr  error
	logFile  *os.File
}

// randomWord returns n random lowercase letters and digits.
func randomWord(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// freeAddrs returns loopback addresses free right now: nTCP TCP then nUDP UDP.
func freeAddrs(nTCP, nUDP int) ([]string, error) {
	var out []string
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for range nTCP {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		closers = append(closers, l)
		out = append(out, l.Addr().String())
	}
	for range nUDP {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		closers = append(closers, c)
		out = append(out, c.LocalAddr().String())
	}
	return out, nil
}

// startVigie starts bin serve in dir (created; data in dir/data) and waits for
// /healthz to answer 200.
func startVigie(ctx context.Context, bin, dir string) (*vigieServer, error) {
	return startVigieWith(ctx, bin, dir, "")
}

// vigieConfig is the server configuration the harness writes: an API token,
// and an agent token named bench when agentToken is set.
func vigieConfig(apiToken, agentToken string) string {
	agents := ""
	if agentToken != "" {
		agents = fmt.Sprintf(", agent_tokens: [{name: %s, token: %q}]", agentName, agentToken)
	}
	return fmt.Sprintf("auth: {api_tokens: [{name: bench, token: %q}]%s}\n", apiToken, agents)
}

// startVigieWith is startVigie with an agent token in the configuration.
func startVigieWith(ctx context.Context, bin, dir, agentToken string) (*vigieServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addrs, err := freeAddrs(2, 1)
	if err != nil {
		return nil, err
	}
	s := &vigieServer{
		dir: dir, httpAddr: addrs[0], tcpAddr: addrs[1], udpAddr: addrs[2],
		token:  randomWord(32),
		client: &http.Client{Timeout: 5 * time.Minute},
		done:   make(chan struct{}),
	}
	cfg := filepath.Join(dir, "vigie.yml")
	conf := vigieConfig(s.token, agentToken)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	if s.logFile, err = os.Create(filepath.Join(dir, "vigie.log")); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "serve", "--data", filepath.Join(dir, "data"),
		"--http", s.httpAddr, "--syslog-udp", s.udpAddr, "--syslog-tcp", s.tcpAddr, "--config", cfg)
	s.cmd.Stderr = s.logFile
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		s.logFile.Close()
		return nil, err
	}
	lines := make(chan string, 16)
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintf(s.logFile, "stdout: %s\n", sc.Text())
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	go func() {
		<-outDone // Wait closes the pipe: read it to the end first
		s.waitErr = s.cmd.Wait()
		s.logFile.Close()
		close(s.done)
	}()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if ok && strings.HasPrefix(l, "vigie ") {
				s.started = l
			}
		default:
		}
		if s.healthy(ctx) {
			// The startup line comes just after the listeners: wait a little for it.
			for s.started == "" {
				select {
				case l, ok := <-lines:
					if !ok {
						return s, nil
					}
					if strings.HasPrefix(l, "vigie ") {
						s.started = l
					}
				case <-time.After(2 * time.Second):
					return s, nil
				}
			}
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("vigie exited during startup (%v); log %s: %s", s.waitErr, s.logFile.Name(), tail(s.logFile.Name(), 1500))
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("vigie: /healthz not 200 after 30 s; log %s: %s", s.logFile.Name(), tail(s.logFile.Name(), 1500))
		}
	}
}

func (s *vigieServer) healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.httpAddr+"/healthz", nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200
}

func (s *vigieServer) pid() int { return s.cmd.Process.Pid }

func (s *vigieServer) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// exitError describes how the server ended, for error messages.
func (s *vigieServer) exitError() error {
	if s.alive() {
		return nil
	}
	return fmt.Errorf("vigie exited (%v); log %s: %s", s.waitErr, s.logFile.Name(), tail(s.logFile.Name(), 1500))
}

// metrics scrapes /metrics (no auth).
func (s *vigieServer) metrics(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.httpAddr+"/metrics", nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("/metrics: %s: %s", resp.Status, b)
	}
	return parseMetrics(resp.Body)
}

const storedMetric = "vigie_store_records_total"

// stored reads vigie_store_records_total; a missing metric is an error.
func (s *vigieServer) stored(ctx context.Context) (int64, map[string]float64, error) {
	m, err := s.metrics(ctx)
	if err != nil {
		if e := s.exitError(); e != nil {
			return 0, nil, e
		}
		return 0, nil, err
	}
	v, ok := m[storedMetric]
	if !ok {
		return 0, m, fmt.Errorf("/metrics has no %s", storedMetric)
	}
	return int64(v), m, nil
}

// waitStored polls the stored counter every 50 ms until it reaches target.
// It returns the last value seen and when target was seen.
func (s *vigieServer) waitStored(ctx context.Context, target int64, timeout time.Duration) (int64, time.Time, error) {
	deadline := time.Now().Add(timeout)
	var last int64
	for {
		v, _, err := s.stored(ctx)
		now := time.Now()
		if err != nil {
			return last, now, err
		}
		last = v
		if v >= target {
			return v, now, nil
		}
		if now.After(deadline) {
			return v, now, fmt.Errorf("%s = %d after %s, want %d", storedMetric, v, timeout, target)
		}
		select {
		case <-ctx.Done():
			return v, now, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// quietResult is what waitQuiet saw.
type quietResult struct {
	stored   int64
	metrics  map[string]float64
	lastMove time.Time // when the counter last moved
	maxQueue float64   // highest vigie_store_queue_depth seen (-1: no such metric)
}

// waitQuiet polls the stored counter until it reaches target, or has not
// moved for quiet while the store's queue (vigie_store_queue_depth, when
// exported) is empty; bounded by timeout. The queue condition matters: the
// counter moves once per committed batch (up to 20,000 records), so a slow
// batch would otherwise end the wait with records accepted but not yet
// stored, and count them as lost.
func (s *vigieServer) waitQuiet(ctx context.Context, target int64, quiet, timeout time.Duration) (quietResult, error) {
	deadline := time.Now().Add(timeout)
	res := quietResult{stored: -1, lastMove: time.Now(), maxQueue: -1}
	for {
		v, m, err := s.stored(ctx)
		if err != nil {
			return res, err
		}
		res.metrics = m
		now := time.Now()
		if v != res.stored {
			if res.stored >= 0 {
				res.lastMove = now
			}
			res.stored = v
		}
		q, hasQueue := m["vigie_store_queue_depth"]
		if hasQueue {
			res.maxQueue = max(res.maxQueue, q)
		}
		if v >= target || (now.Sub(res.lastMove) >= quiet && (!hasQueue || q == 0)) {
			return res, nil
		}
		if now.After(deadline) {
			return res, fmt.Errorf("%s still short of %d after %s (queue depth %v)", storedMetric, target, timeout, q)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// api does an authenticated GET of an API path and decodes the JSON answer.
// It returns the time from sending the request to the end of the body.
func (s *vigieServer) api(ctx context.Context, path string, params url.Values, out any) (time.Duration, error) {
	u := "http://" + s.httpAddr + path + "?" + params.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	t0 := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return d, err
	}
	if resp.StatusCode != 200 {
		return d, fmt.Errorf("GET %s: %s: %.300s", path+"?"+params.Encode(), resp.Status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return d, fmt.Errorf("GET %s: %w: %.300s", path, err, body)
	}
	return d, nil
}

// facetSum asks /api/v1/facets for q and field and returns the counts' sum
// and how many values there were.
func (s *vigieServer) facetSum(ctx context.Context, q, field string) (int64, int, error) {
	var ans struct {
		Field  string `json:"field"`
		Counts []struct {
			Value string `json:"value"`
			Count int64  `json:"count"`
		} `json:"counts"`
	}
	if _, err := s.api(ctx, "/api/v1/facets", url.Values{"q": {q}, "field": {field}, "limit": {"1000"}}, &ans); err != nil {
		return 0, 0, err
	}
	var sum int64
	for _, c := range ans.Counts {
		sum += c.Count
	}
	return sum, len(ans.Counts), nil
}

// searchRecord is the part of an answered record the harness checks.
type searchRecord struct {
	ID      int64  `json:"id"`
	Host    string `json:"host"`
	Message string `json:"message"`
}

// search runs one /api/v1/search and returns its latency and the records.
func (s *vigieServer) search(ctx context.Context, q string, limit int) (time.Duration, []searchRecord, error) {
	var ans struct {
		Records []searchRecord `json:"records"`
		Next    string         `json:"next"`
	}
	d, err := s.api(ctx, "/api/v1/search", url.Values{"q": {q}, "limit": {fmt.Sprint(limit)}}, &ans)
	return d, ans.Records, err
}

// checkAnswer verifies that a search answer is newest first (ids
// decreasing) and that each record matches the query: host:H on the host,
// a single word in the message.
func checkAnswer(q string, recs []searchRecord) error {
	for k, r := range recs {
		if k > 0 && r.ID >= recs[k-1].ID {
			return fmt.Errorf("not newest first: id %d after %d", r.ID, recs[k-1].ID)
		}
		if h, ok := strings.CutPrefix(q, "host:"); ok {
			if r.Host != h {
				return fmt.Errorf("record %d has host %q", r.ID, r.Host)
			}
		} else if !strings.ContainsAny(q, " :\"()-*") && !slices.Contains(strings.Fields(r.Message), q) {
			return fmt.Errorf("record %d does not hold the word %q: %.120q", r.ID, q, r.Message)
		}
	}
	return nil
}

// stop sends SIGTERM and waits (60 s, then SIGKILL). A non-zero exit is an error.
func (s *vigieServer) stop() error {
	if !s.alive() {
		return s.exitError()
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.kill()
		return fmt.Errorf("vigie did not stop within 60 s of SIGTERM: killed")
	}
	if s.waitErr != nil {
		return fmt.Errorf("vigie exit after SIGTERM: %v; log %s: %s", s.waitErr, s.logFile.Name(), tail(s.logFile.Name(), 1500))
	}
	return nil
}

func (s *vigieServer) kill() {
	if s.alive() {
		s.cmd.Process.Kill()
		<-s.done
	}
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "(" + err.Error() + ")"
	}
	off := max(0, st.Size()-n)
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}
