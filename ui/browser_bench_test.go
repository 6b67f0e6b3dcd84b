package ui

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"vigie/record"
	"vigie/store"
	"vigie/store/hub"
)

// The "Fast" quality bar of the dashboard (docs/benchmarks.md, Dashboard),
// measured in headless chromium against this package's server on a real
// store. Benchmarks only: make test never runs them (go test runs no
// benchmark without -bench).

// benchDataEnv names the data directory of a large store for the search
// page benchmark: bench/cmd/vigie-bench -search-n 10000000 -keep makes one.
const benchDataEnv = "VIGIE_BENCH_DATA"

// benchQueries are the search page's queries. They suit a store filled by
// bench/cmd/vigie-bench: kestrel is in 1% of its messages, "user" (of
// user=) in every one, host web01 in 1 in 40.
var benchQueries = []struct{ label, q string }{
	{"rare", "kestrel"},
	{"common", "user"},
	{"host", "host:web01"},
	{"all", ""},
}

// firstRowScript runs in every document before the page's own scripts: a
// MutationObserver notes performance.now() (ms since the navigation
// started) once the first result row is in the DOM, then disconnects. It
// fires at the microtask checkpoint after the page's handler that inserted
// the rows, so it also counts the rest of that handler (0 to 19 ms after the
// page's own vigie:first-results mark, measured): the conservative figure.
// Its cost is one querySelector per mutation batch until then.
const firstRowScript = `(() => {
	const mo = new MutationObserver(() => {
		if (document.querySelector('.records .rec')) { window.__firstRow = performance.now(); mo.disconnect(); }
	});
	mo.observe(document, { childList: true, subtree: true });
})();`

func BenchmarkSearchPageFirstResults(b *testing.B) {
	dir := os.Getenv(benchDataEnv)
	if dir == "" {
		b.Skipf("%s is not set: point it at a store's data directory, e.g. bench/out/RUN/vigie-search/data after go run ./bench/cmd/vigie-bench -skip-syslog -skip-agent -skip-peer -skip-checks -search-n 10000000 -runs 1 -keep", benchDataEnv)
	}
	ctx := context.Background()
	h := hub.New(nil)
	st, err := store.Open(ctx, dir, store.Options{OnCommit: h.Publish})
	if err != nil {
		b.Fatalf("opening the store in %s: %v", dir, err)
	}
	b.Cleanup(func() { st.Close() })
	b.Logf("store %s: %d records in the last 30 days, %.2f GiB; load average %s",
		dir, countRecords(b, st, 30*24*time.Hour), float64(st.Size())/(1<<30), loadAvg())

	bb := newBenchBrowser(b, Options{Store: st, Hub: h, Users: []User{{"ops", hashOf(b, testPassword)}}}, firstRowScript)
	bb.login(b)

	// One untimed pass first: the browser's module cache and the store's
	// statement caches warm up, as on a server that has been running.
	for _, q := range benchQueries {
		l := bb.loadSearch(b, q.q)
		b.Logf("warm-up %-7s first row %6.1f ms, page settled %7.1f ms", q.label, l.Row, l.Settled)
	}
	samples := make([][]pageLoad, len(benchQueries))
	for b.Loop() {
		for i, q := range benchQueries {
			samples[i] = append(samples[i], bb.loadSearch(b, q.q))
		}
	}
	b.StopTimer()
	var skew float64
	for i, q := range benchQueries {
		var row, asked, api, settled []float64
		for _, l := range samples[i] {
			row, asked, api, settled = append(row, l.Row), append(asked, l.Asked), append(api, l.API), append(settled, l.Settled)
			if l.Mark >= 0 {
				skew = max(skew, l.Row-l.Mark)
			}
		}
		b.ReportMetric(percentile(row, 50), q.label+"-median-ms")
		b.ReportMetric(percentile(row, 90), q.label+"-p90-ms")
		b.Logf("%-7s %q: first row median %.1f ms, p90 %.1f ms (medians: search request sent at %.1f ms, answered at %.1f ms); histogram and facets done at %.0f ms median; %d rows; %d samples",
			q.label, q.q, percentile(row, 50), percentile(row, 90), percentile(asked, 50), percentile(api, 50), percentile(settled, 50), samples[i][0].Rows, len(row))
	}
	b.Logf("observer vs the page's own vigie:first-results mark: at most %.2f ms later; load average %s", skew, loadAvg())
	b.ReportMetric(loadAvg1(), "load1")
}

// pageLoad is one search page load, in ms since its navigation started.
type pageLoad struct {
	Row     float64 `json:"row"`     // the first result row in the DOM
	Mark    float64 `json:"mark"`    // the page's vigie:first-results mark, -1 if none
	Asked   float64 `json:"asked"`   // the /api/v1/search request started (the page booted)
	API     float64 `json:"api"`     // the /api/v1/search response fully received
	Settled float64 `json:"settled"` // the last histogram or facets response received
	Rows    int     `json:"rows"`
}

// loadSearch opens the search page on q over the last 30 days, waits for
// its first row, then for its histogram and facets: the next load starts on
// an idle server.
func (bb *benchBrowser) loadSearch(b *testing.B, q string) pageLoad {
	b.Helper()
	u := bb.ts.URL + "/search?q=" + url.QueryEscape(q) + "&from=-30d"
	bb.do(b, time.Minute, chromedp.Navigate(u))
	got := pollJS[float64](b, bb.ctx, `window.__firstRow || (document.querySelector('.results')?.textContent.includes('No record matches') ? -1 : 0)`, time.Minute)
	if got < 0 {
		b.Fatalf("%s: no record matches %q: is %s a store filled by bench/cmd/vigie-bench?", u, q, benchDataEnv)
	}
	pollJS[bool](b, bb.ctx, `document.querySelector('.histogram').childNodes.length > 0 && document.querySelector('.facets').childNodes.length > 0`, 10*time.Minute)
	l := evalJS[pageLoad](b, bb.ctx, `(() => {
		const res = performance.getEntriesByType('resource');
		const end = (re, f = 'responseEnd') => Math.max(-1, ...res.filter((e) => re.test(e.name)).map((e) => e[f]));
		const m = performance.getEntriesByName('vigie:first-results')[0];
		return { row: window.__firstRow, mark: m ? m.startTime : -1, asked: end(/\/api\/v1\/search\b/, 'startTime'), api: end(/\/api\/v1\/search\b/),
			settled: end(/\/api\/v1\/(facets|histogram)\b/), rows: document.querySelectorAll('.records .rec').length };
	})()`)
	if l.Rows == 0 || l.API < 0 || l.Settled < 0 {
		b.Fatalf("%s: %+v: no rows, or the search, histogram or facets requests were not seen", u, l)
	}
	return l
}

// liveScript counts the rows the live page adds (whatever it trims later)
// and notes the wall-clock time of the last addition; it walks only the
// added nodes, a few hundred a frame at most.
const liveScript = `(() => {
	window.__added = 0; window.__lastAdd = 0;
	new MutationObserver((ms) => {
		let n = 0;
		for (const m of ms) for (const el of m.addedNodes) if (el.nodeType === 1 && el.classList.contains('rec')) n++;
		if (n) { window.__added += n; window.__lastAdd = Date.now(); }
	}).observe(document, { childList: true, subtree: true });
})();`

// frameGapsJS starts recording the gaps between animation frames: a frame
// is late whenever the main thread is busy, so the longest gap is the
// longest freeze the user would see.
const frameGapsJS = `(() => {
	window.__gaps = []; window.__stopGaps = false;
	let last = performance.now();
	const f = (ts) => { window.__gaps.push(ts - last); last = ts; if (!window.__stopGaps) requestAnimationFrame(f); };
	requestAnimationFrame(f);
	return true;
})()`

func BenchmarkLiveView2000PerSecond(b *testing.B) {
	const (
		rate     = 2000
		every    = 50 * time.Millisecond
		duration = 10 * time.Second
	)
	perBatch := int(rate * every / time.Second)
	h := hub.New(nil)
	st, err := store.Open(context.Background(), b.TempDir(), store.Options{OnCommit: h.Publish})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	bb := newBenchBrowser(b, Options{Store: st, Hub: h, Users: []User{{"ops", hashOf(b, testPassword)}}}, liveScript)
	bb.login(b)
	b.Logf("load average before: %s", loadAvg())

	var base, gaps []float64
	var sent, shown, skipped int
	var lags []float64
	busy := map[string]float64{}
	var wall time.Duration
	seq := 0
	for b.Loop() {
		bb.do(b, time.Minute, chromedp.Navigate(bb.ts.URL+"/live"))
		pollJS[bool](b, bb.ctx, `document.querySelector('.status')?.textContent === 'live'`, 30*time.Second)
		evalJS[bool](b, bb.ctx, frameGapsJS)
		time.Sleep(time.Second) // the idle page's frames, for comparison
		base = append(base, evalJS[[]float64](b, bb.ctx, `window.__gaps.splice(0)`)...)

		m0 := bb.mainThread(b)
		start := time.Now()
		n := 0
		var last time.Time
		for i := 0; time.Duration(i)*every < duration; i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
			batch := make([]record.Record, perBatch)
			for j := range batch {
				at := time.Now()
				batch[j] = record.Record{Time: at, Received: at, Host: "flood", App: "livebench", Severity: 6,
					Source: "syslog/udp 192.0.2.50", Message: fmt.Sprintf("live bench record %d", seq)}
				seq++
			}
			if err := st.Submit(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			n += perBatch
			last = time.Now()
		}
		b.Logf("submitted %d records in %.2f s (%.0f/s)", n, last.Sub(start).Seconds(), float64(n)/last.Sub(start).Seconds())

		// Every record is either shown or counted as skipped, once the page has caught up.
		acct := fmt.Sprintf(`window.__added + (+document.querySelector('.skipped').textContent.replace(/\D/g, '') || 0) >= %d`, n)
		pollJS[bool](b, bb.ctx, acct, 30*time.Second)
		time.Sleep(200 * time.Millisecond) // a few frames after the last row
		for k, v := range bb.mainThread(b) {
			busy[k] += v - m0[k]
		}
		wall += time.Since(start)
		r := evalJS[struct {
			Gaps    []float64 `json:"gaps"`
			Added   int       `json:"added"`
			Skipped string    `json:"skipped"`
			LastAdd int64     `json:"lastAdd"`
		}](b, bb.ctx, `(window.__stopGaps = true, { gaps: window.__gaps, added: window.__added,
			skipped: document.querySelector('.skipped').textContent, lastAdd: window.__lastAdd })`)
		sk, err := strconv.Atoi(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, r.Skipped))
		if err != nil {
			b.Fatalf("skipped display %q: %v", r.Skipped, err)
		}
		gaps = append(gaps, r.Gaps...)
		sent += n
		// __added counts across the page's life; the page is new each
		// iteration, so the figures of this one are the last read.
		shown += r.Added
		skipped += sk
		lags = append(lags, float64(r.LastAdd-last.UnixMilli()))
		if shown+skipped != sent {
			b.Errorf("%d records sent, %d shown and %d skipped: %d unaccounted for", sent, shown, skipped, sent-shown-skipped)
		}
	}
	b.StopTimer()
	long := 0
	for _, g := range gaps {
		if g > 50 {
			long++
		}
	}
	b.ReportMetric(slices.Max(gaps), "max-frame-gap-ms")
	b.ReportMetric(percentile(gaps, 99), "p99-frame-gap-ms")
	b.ReportMetric(float64(shown), "shown")
	b.ReportMetric(float64(sent), "sent")
	b.ReportMetric(float64(skipped), "skipped")
	b.ReportMetric(percentile(lags, 50), "last-row-lag-ms")
	b.ReportMetric(loadAvg1(), "load1")
	b.Logf("idle page: %d frames, longest gap %.1f ms, median %.1f ms", len(base), slices.Max(base), percentile(base, 50))
	b.Logf("under %d records/s: %d frames, longest gap %.1f ms, p99 %.1f ms, median %.1f ms, %d frames over 50 ms",
		rate, len(gaps), slices.Max(gaps), percentile(gaps, 99), percentile(gaps, 50), long)
	b.Logf("renderer main thread busy %.0f%% of the %.1f s flood and drain: script %.1f s, layout %.1f s, style %.1f s, all tasks %.1f s",
		100*busy["TaskDuration"]/wall.Seconds(), wall.Seconds(), busy["ScriptDuration"], busy["LayoutDuration"], busy["RecalcStyleDuration"], busy["TaskDuration"])
	b.Logf("%d records sent, %d shown, %d skipped; the last row shown %.0f ms after the last batch was submitted (median); load average %s",
		sent, shown, skipped, percentile(lags, 50), loadAvg())
}

// mainThread is chromium's count of the seconds the page's main thread
// has spent so far on tasks, script, layout and style.
func (bb *benchBrowser) mainThread(b *testing.B) map[string]float64 {
	b.Helper()
	if _, err := chromedp.Call(bb.ctx, performance.Enable, performance.EnableParams{}); err != nil {
		b.Fatalf("performance metrics: %v", err)
	}
	res, err := chromedp.Call(bb.ctx, performance.GetMetrics, cdp.Empty{})
	if err != nil {
		b.Fatalf("performance metrics: %v", err)
	}
	out := map[string]float64{}
	for _, m := range res.Metrics {
		out[m.Name] = m.Value
	}
	return out
}

// benchBrowser is the server and a headless chromium tab for a benchmark
// (newBrowserEnv is the tests' version, with a syslog collector).
type benchBrowser struct {
	ts  *httptest.Server
	ctx context.Context
}

// newBenchBrowser serves opt and starts chromium; script runs in every
// document the tab opens, before the page's own scripts.
func newBenchBrowser(b *testing.B, opt Options, script string) *benchBrowser {
	b.Helper()
	chromium := ""
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := exec.LookPath(p); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		b.Skip("/usr/bin/chromium not found (apt-get install chromium, or make test-deps)")
	}
	srv, err := New(opt)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	b.Cleanup(srv.Close)
	ctx := startChromium(b, chromium)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
		b.Fatalf("starting chromium: %v", err)
	}
	return &benchBrowser{ts: ts, ctx: ctx}
}

// login signs in as ops through the login form, once: the session cookie
// serves every later page.
func (bb *benchBrowser) login(b *testing.B) {
	b.Helper()
	bb.do(b, 30*time.Second, chromedp.Navigate(bb.ts.URL+"/login?next=%2Flive"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#user"), "ops"), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#pause")))
}

func (bb *benchBrowser) do(b *testing.B, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	b.Helper()
	ctx, cancel := context.WithTimeout(bb.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.Fatalf("browser: %v", err)
	}
}

// evalJS evaluates an expression in the page (promises awaited).
func evalJS[T any](b *testing.B, tab context.Context, js string) T {
	b.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// pollJS waits for a truthy value of js, checked in the page every 20 ms.
func pollJS[T any](b *testing.B, tab context.Context, js string, timeout time.Duration) T {
	b.Helper()
	ctx, cancel := context.WithTimeout(tab, timeout+5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		b.Fatalf("waiting for %s: %v", js, err)
	}
	return v
}

// countRecords sums the store's histogram over the last span.
func countRecords(b *testing.B, st *store.Store, span time.Duration) int64 {
	b.Helper()
	now := time.Now()
	buckets, err := st.Histogram(context.Background(), store.Request{From: now.Add(-span), To: now}, 24*time.Hour)
	if err != nil {
		b.Fatalf("counting the records: %v", err)
	}
	var n int64
	for _, k := range buckets {
		n += k.Count
	}
	return n
}

// percentile of xs (linear between the closest ranks); xs is not changed.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	r := p / 100 * float64(len(s)-1)
	i := int(r)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (r-float64(i))*(s[i+1]-s[i])
}

// loadAvg is /proc/loadavg's 1, 5 and 15 minute figures: other work on the
// machine shows in every figure here.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func loadAvg1() float64 {
	v, _ := strconv.ParseFloat(strings.Fields(loadAvg() + " 0")[0], 64)
	return v
}
