package ui

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"image/png"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"vigie/collector"
	"vigie/record"
	"vigie/store"
	"vigie/store/hub"
)

// The browser tests run the whole path in one process: util-linux logger →
// the real syslog collector → a store in a temporary folder → its hub → this
// server, driven by Debian's chromium through chromedp.

// updateShots rewrites the screenshots docs/ui.md links; without it each
// run still takes and checks them, but into a temporary folder, so tests
// leave the tree clean.
var updateShots = flag.Bool("update-screenshots", false, "rewrite ui/testdata/screenshots (linked from docs/ui.md)")

func screenshotDir() string {
	if *updateShots {
		return filepath.Join("testdata", "screenshots")
	}
	return filepath.Join(os.TempDir(), "vigie-ui-screenshots")
}

// needProgram finds a peer program: a missing one skips the test, except
// in CI (CI=true), where it fails it.
func needProgram(t *testing.T, install string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if strings.Contains(p, "/") {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		} else if lp, err := exec.LookPath(p); err == nil {
			return lp
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found: it is required in CI (make test-deps installs %s)", paths[0], install)
	}
	t.Skipf("%s not found (apt-get install %s, or make test-deps)", paths[0], install)
	return ""
}

type browserEnv struct {
	st      *store.Store
	hub     *hub.Hub
	srv     *Server
	ts      *httptest.Server
	tcpAddr string
	logger  string
	ctx     context.Context // the chromedp tab

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowserEnv starts the pipeline, the server and chromium; setup may
// add to the server's options (checks, rules) once the store and hub exist.
func newBrowserEnv(t *testing.T, setup ...func(*browserEnv, *Options)) *browserEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	chromium := needProgram(t, "chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
	e := &browserEnv{logger: needProgram(t, "bsdutils", "logger")}

	h := hub.New(nil)
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{OnCommit: h.Publish})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st, e.hub = st, h
	col, err := collector.New(collector.Config{TCPAddr: "127.0.0.1:0"}, st, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := col.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		col.Shutdown(ctx)
	})
	_, tcp, _ := col.Addrs()
	e.tcpAddr = tcp.String()

	opt := Options{Store: st, Hub: h, Users: []User{{"ops", hashOf(t, testPassword)}}}
	for _, f := range setup {
		f(e, &opt)
	}
	e.srv, err = New(opt)
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	t.Cleanup(e.srv.Close)

	ctx := startChromium(t, chromium)
	e.ctx = ctx

	// Every console message, exception and browser log entry of the tab;
	// CSP violations are also reported by a listener added before any of
	// the page's own scripts run.
	msgs := chromedp.Console(ctx)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener('securitypolicyviolation', (e) =>
			console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`,
	}); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			e.mu.Lock()
			e.console = append(e.console, m)
			e.mu.Unlock()
		}
	}()
	return e
}

// do runs browser steps, failing the test on the first error.
func (e *browserEnv) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression in the page (promises awaited).
func eval[T any](t *testing.T, e *browserEnv, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it holds or the timeout.
func (e *browserEnv) waitJS(t *testing.T, js string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s: %v", js, err)
	}
}

func (e *browserEnv) location(t *testing.T) string {
	t.Helper()
	loc, err := chromedp.Run(e.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(loc, e.ts.URL)
}

// send hands a message to util-linux logger, RFC 5424 over TCP with
// octet counting.
func (e *browserEnv) send(t *testing.T, app, prio, msg string, extra ...string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(e.tcpAddr)
	args := append([]string{"-n", "127.0.0.1", "-P", port, "-T", "--octet-count", "--rfc5424", "-t", app, "-p", prio}, extra...)
	if out, err := exec.Command(e.logger, append(args, "--", msg)...).CombinedOutput(); err != nil {
		t.Fatalf("logger: %v %s", err, out)
	}
}

// sendRaw writes one RFC 5424 frame itself: logger cannot set the host.
func (e *browserEnv) sendRaw(t *testing.T, host, app, msg string) {
	t.Helper()
	conn, err := net.Dial("tcp", e.tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := fmt.Sprintf("<131>1 %s %s %s - - - %s", time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00"), host, app, msg)
	fmt.Fprintf(conn, "%d %s", len(m), m)
}

// waitStored waits until q finds n records in the store.
func (e *browserEnv) waitStored(t *testing.T, q string, n int) []record.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := e.st.Search(context.Background(), store.Request{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) >= n {
			return res.Records
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q: %d records stored, want %d", q, len(res.Records), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shoot saves the page at a laptop's and a phone's size, then goes back
// to the laptop's.
func (e *browserEnv) shoot(t *testing.T, name string) {
	t.Helper()
	dir := screenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sizes := []struct {
		suffix string
		w, h   int64
		opts   []chromedp.EmulateViewportOption
	}{
		{"phone", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(1)}},
		{"desktop", 1366, 768, []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}},
	}
	for _, s := range sizes {
		e.do(t, chromedp.EmulateViewport(s.w, s.h, s.opts...))
		eval[bool](t, e, `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
		ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
		buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(buf))
		if err != nil || int64(cfg.Width) != s.w {
			t.Fatalf("screenshot %s-%s: %dx%d %v, want %d wide", name, s.suffix, cfg.Width, cfg.Height, err, s.w)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+s.suffix+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// darkMode makes the page see prefers-color-scheme: dark (or not).
func (e *browserEnv) darkMode(t *testing.T, on bool) {
	t.Helper()
	p := emulation.SetEmulatedMediaParams{}
	if on {
		p.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}
	}
	if _, err := chromedp.Call(e.ctx, emulation.SetEmulatedMedia, p); err != nil {
		t.Fatal(err)
	}
}

// problems are the console messages no page may produce: exceptions,
// console.error calls and CSP violations.
func (e *browserEnv) problems() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, m := range e.console {
		csp := strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "CSP violation")
		if m.IsException() || csp || (m.Type == chromedp.ConsoleError && m.Source == "") {
			out = append(out, fmt.Sprintf("%s %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
		}
	}
	return out
}

func (e *browserEnv) consoleText() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, m := range e.console {
		out = append(out, string(m.Type)+" "+m.Source+" "+m.Text)
	}
	return out
}

func randomWord(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// startChromium starts headless chromium with the flags a closed network
// and a root user need, and returns a tab's context; both end with tb.
func startChromium(tb testing.TB, chromium string) context.Context {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1366, 768),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tb.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx)
	tb.Cleanup(cancelTab)
	return ctx
}
