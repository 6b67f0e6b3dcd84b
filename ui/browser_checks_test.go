package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigie/checks"
	"vigie/checks/history"
	"vigie/checks/schedule"
	"vigie/cmd/config"
	"vigie/rules"
)

// xssLocation is where the failing web server redirects: the check's
// error quotes it, so attacker-controlled text reaches the Checks page.
const xssLocation = `/"><img src=x onerror="window.__xss=1"><script>window.__xss=1</script>`

// monitorRig is what the Checks and Alerts pages show: a web server the
// checks probe (switchable to failing), their history seeded with an
// hour of runs, a scheduler for "Run now", and a rules engine fed by the
// hub that posts to a webhook receiver.
type monitorRig struct {
	failing atomic.Bool
	release chan struct{} // a failing answer waits for it
	web     *httptest.Server
	hook    *httptest.Server
	hist    *history.History
	eng     *rules.Engine

	mu    sync.Mutex
	hooks []string // bodies the webhook received
}

func (m *monitorRig) hookCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.hooks)
}

// withMonitoring wires checks and rules into the browser test's server,
// and adds the user admin.
func withMonitoring(t *testing.T, m *monitorRig) func(*browserEnv, *Options) {
	return func(e *browserEnv, o *Options) {
		m.release = make(chan struct{})
		m.web = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if m.failing.Load() {
				select {
				case <-m.release: // lets the test see the run in progress
				case <-r.Context().Done():
				}
				w.Header().Set("Location", xssLocation)
				w.WriteHeader(http.StatusFound)
				return
			}
			io.WriteString(w, "<html>shop open</html>")
		}))
		t.Cleanup(m.web.Close)
		m.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			m.mu.Lock()
			m.hooks = append(m.hooks, string(b))
			m.mu.Unlock()
		}))
		t.Cleanup(m.hook.Close)

		ok := func(code int) config.StatusCodes {
			c, err := config.ParseStatusCodes(fmt.Sprint(code))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		off := false
		cfgs := []config.Check{
			{Name: "webshop", Type: "scenario", Interval: config.Duration(2 * time.Minute), Timeout: config.Duration(15 * time.Second),
				SLA:   &config.SLA{Target: 99.5, ResponseTime: config.Duration(2 * time.Second)},
				Steps: []config.Step{{Name: "home", URL: m.web.URL + "/", StatusCodes: ok(200)}}},
			{Name: "erp-login", Type: "scenario", Interval: config.Duration(2 * time.Minute),
				Steps: []config.Step{{Name: "login page", URL: m.web.URL + "/web/login"}, {Name: "log in", URL: m.web.URL + "/web"}}},
			{Name: "backup-nightly", Type: "backup", Enabled: &off, Path: "/nonexistent/*.dump"},
		}
		ctx := context.Background()
		var err error
		m.hist, err = history.Open(ctx, filepath.Join(t.TempDir(), "checks.db"), history.Options{Checks: cfgs})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.hist.Close() })
		seedRuns(t, m.hist)
		sched := schedule.New(schedule.Options{
			Checks: cfgs, SLA: m.hist,
			Run: func(ctx context.Context, c *config.Check) *checks.Result { return checks.Run(ctx, c, nil) },
			OnResult: func(r *checks.Result) {
				if _, err := m.hist.Record(context.Background(), r); err != nil {
					t.Errorf("recording a run: %v", err)
				}
			},
		})
		o.Checks = &Checks{Configs: cfgs, History: m.hist, Scheduler: sched}

		now := time.Now()
		m.eng, err = rules.New(ctx, rules.Options{
			Rules: []config.Rule{
				{Name: "web-errors", Query: "app:webshop severity<=err", Threshold: &config.Threshold{Count: 2, Window: config.Duration(10 * time.Minute)},
					GroupBy: []string{"host"}, Severity: "critical", Notify: []string{"hook"},
					Summary: `{{.Count}} errors on {{.Group.host}}: {{(index .Samples 0).Message}}`},
				{Name: "db-errors", Query: "app:dbmaint", Threshold: &config.Threshold{Count: 1, Window: config.Duration(10 * time.Minute)},
					Severity: "warning", Notify: []string{"hook"}},
				{Name: "flap", Query: "app:flapper", Threshold: &config.Threshold{Count: 1, Window: config.Duration(2 * time.Second)}, Severity: "info"},
			},
			Notifiers: []config.Notifier{{Name: "hook", Type: "webhook", URL: m.hook.URL}},
			Maintenance: []config.Maintenance{{Name: "db-migration", Start: now.Add(-time.Hour).Format(time.RFC3339),
				End: now.Add(time.Hour).Format(time.RFC3339), Rules: []string{"db-errors"}}},
			Checks: cfgs, DataDir: t.TempDir(), Search: e.st, SLA: m.hist, BaseURL: "http://vigie.test",
			Tick: 100 * time.Millisecond, DeliveryPoll: 50 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		e.hub.Observe(m.eng.Observe)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.eng.Run(runCtx)
		}()
		t.Cleanup(func() {
			cancel()
			<-done
			m.eng.Close()
		})
		o.Rules = m.eng
		o.Users = append(o.Users, User{"admin", hashOf(t, testPassword)})
	}
}

// seedRuns writes an hour of runs, every two minutes: webshop up but for
// two failures (below its 99.5 % target), erp-login always up.
func seedRuns(t *testing.T, h *history.History) {
	now := time.Now()
	phases := func(i int) checks.Phases {
		ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
		p := checks.Phases{DNS: ms(1 + i%3), Connect: ms(2 + i%4), TLS: ms(8 + i%5), TTFB: ms(40 + 7*(i%6)), Transfer: ms(3 + i%2)}
		p.Total = p.DNS + p.Connect + p.TLS + p.TTFB + p.Transfer + ms(1)
		return p
	}
	for i := range 30 {
		start := now.Add(-time.Hour + time.Duration(i)*2*time.Minute)
		down := i == 10 || i == 11
		home := checks.StepResult{Name: "home", URL: "http://shop.test/", Success: !down, Code: 200, Bytes: 22, Phases: phases(i)}
		res := &checks.Result{Check: "webshop", Type: "scenario", Start: start, Duration: home.Phases.Total, Success: !down, FailedStep: -1, Attempts: 1,
			Steps: []checks.StepResult{home}}
		if down {
			home.Code, res.FailedStep, home.Error = 503, 0, "HTTP 503, expected 200"
			res.Error, res.Steps[0] = `step 1 "home": HTTP 503, expected 200`, home
		}
		erp := &checks.Result{Check: "erp-login", Type: "scenario", Start: start, Duration: 2 * phases(i).Total, Success: true, FailedStep: -1, Attempts: 1,
			Steps: []checks.StepResult{
				{Name: "login page", Success: true, Code: 200, Bytes: 5120, Phases: phases(i)},
				{Name: "log in", Success: true, Code: 200, Bytes: 48211, Phases: phases(i + 3)}}}
		for _, r := range []*checks.Result{res, erp} {
			if _, err := h.Record(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestBrowserMonitoring(t *testing.T) {
	m := &monitorRig{}
	e := newBrowserEnv(t, withMonitoring(t, m))
	steps := []struct {
		name string
		fn   func(*testing.T, *browserEnv, *monitorRig)
	}{
		{"login", loginAsAdmin},
		{"checks", testChecksPage},
		{"alerts", testAlertsPage},
		{"console", func(t *testing.T, e *browserEnv, _ *monitorRig) {
			if p := e.problems(); len(p) > 0 {
				t.Fatalf("console problems on the pages: %q", p)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.fn(t, e, m) }) {
			t.Logf("console: %q", e.consoleText())
			return // the steps build on each other
		}
	}
}

func loginAsAdmin(t *testing.T, e *browserEnv, _ *monitorRig) {
	e.do(t, chromedp.Navigate(e.ts.URL+"/checks"), chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#user"), "admin"), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS(".checks tbody tr")))
	if loc := e.location(t); loc != "/checks" {
		t.Fatalf("after login: %s", loc)
	}
	nav := eval[[]string](t, e, `[...document.querySelectorAll('#nav li:not([hidden]) a')].map((a) => a.textContent)`)
	if strings.Join(nav, ",") != "Search,Live,Checks,Alerts,Sources" {
		t.Errorf("navigation %q", nav)
	}
}

// inert fails the test if a payload ran or became markup.
func inert(t *testing.T, e *browserEnv, where string) {
	t.Helper()
	if v := eval[string](t, e, `typeof window.__xss`); v != "undefined" {
		t.Fatalf("%s: window.__xss is %s: a payload ran", where, v)
	}
	if n := eval[float64](t, e, `document.querySelectorAll('main script, main img, main iframe, .records svg, .alerts svg, table svg, a[href^="javascript"]').length`); n != 0 {
		t.Fatalf("%s: %v elements made from attacker-controlled text", where, n)
	}
}

func rowStatus(t *testing.T, e *browserEnv, check string) (text, class string) {
	t.Helper()
	v := eval[[]string](t, e, fmt.Sprintf(`(() => { const b = document.querySelector('tr[data-check=%q] .st'); return b ? [b.textContent, b.className] : ['', '']; })()`, check))
	return v[0], v[1]
}

func testChecksPage(t *testing.T, e *browserEnv, m *monitorRig) {
	e.do(t, chromedp.Navigate(e.ts.URL+"/checks"), chromedp.WaitVisible(chromedp.CSS(`tr[data-check="webshop"]`)))
	want := map[string]string{"webshop": "up", "erp-login": "up", "backup-nightly": "unknown"}
	for name, st := range want {
		if text, class := rowStatus(t, e, name); text != st || !strings.Contains(class, "st-"+st) {
			t.Errorf("%s: status %q (class %q), want %q", name, text, class, st)
		}
	}
	// Two failures in the hour: below the 99.5 % target, marked in words too.
	sla := eval[[]string](t, e, `[...document.querySelectorAll('tr[data-check="webshop"] td.sla')].map((c) => c.className + '|' + c.textContent)`)
	if len(sla) != 4 || !strings.Contains(sla[0], "below") || !strings.Contains(sla[0], "(below target)") || !strings.Contains(sla[0], "93.") {
		t.Errorf("webshop availability cells %q", sla)
	}
	if erp := eval[string](t, e, `document.querySelector('tr[data-check="erp-login"] td.sla').className`); strings.Contains(erp, "below") {
		t.Errorf("erp-login has no target but is marked below it")
	}
	if title := eval[string](t, e, `document.querySelector('tr[data-check="webshop"] time').title`); !strings.HasPrefix(title, time.Now().Format("2006-01-02")) {
		t.Errorf("last run's absolute time in its title: %q", title)
	}

	// The list refreshes by itself: a slow run of erp-login shows in amber,
	// in words, without a reload.
	slow := &checks.Result{Check: "erp-login", Type: "scenario", Start: time.Now(), Duration: 3 * time.Second, Success: true, Slow: true,
		FailedStep: -1, Attempts: 1, Steps: []checks.StepResult{{Name: "login page", Success: true, Code: 200}, {Name: "log in", Success: true, Code: 200}}}
	if _, err := m.hist.Record(context.Background(), slow); err != nil {
		t.Fatal(err)
	}
	e.waitJS(t, `document.querySelector('tr[data-check="erp-login"] .st').textContent === 'slow'`, 15*time.Second)
	if text, class := rowStatus(t, e, "erp-login"); text != "slow" || !strings.Contains(class, "st-slow") {
		t.Errorf("erp-login after a slow run: %q (class %q)", text, class)
	}

	// Enter on a check opens its detail; the URL says which.
	e.do(t, chromedp.Focus(chromedp.CSS(`tr[data-check="webshop"] .check-open`)), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("#check-detail svg.rt")))
	if loc := e.location(t); loc != "/checks?check=webshop&from=-24h" {
		t.Errorf("URL with the detail open: %s", loc)
	}
	e.waitJS(t, `document.querySelectorAll('.runs tbody tr').length === 30`, 5*time.Second)
	bars := eval[float64](t, e, `document.querySelectorAll('#check-detail svg.rt .rt-slot').length`)
	segs := eval[float64](t, e, `document.querySelectorAll('#check-detail svg.rt rect.seg').length`)
	fails := eval[float64](t, e, `document.querySelectorAll('#check-detail svg.rt rect.fail-mark').length`)
	// 30 runs in the last hour of 24: a few slots of 12 minutes, 5 phases
	// each; the two failures (one slot, or two on a slot's edge) marked.
	if bars < 4 || bars > 7 || segs != 5*(bars-1) && segs != 5*bars || fails < 1 || fails > 2 {
		t.Errorf("chart: %v slots, %v phase bars, %v failure marks", bars, segs, fails)
	}
	if lbl := eval[string](t, e, `document.getElementById(document.querySelector('svg.rt').getAttribute('aria-labelledby').split(' ')[0]).textContent`); lbl != `Response time of step 1 "home"` {
		t.Errorf("chart title %q", lbl)
	}
	legend := eval[string](t, e, `document.querySelector('#check-detail .legend').textContent`)
	if legend != "DNSConnectTLSFirst byteTransferfailed run" {
		t.Errorf("legend %q", legend)
	}
	if y := eval[string](t, e, `document.querySelector('.rt-y').textContent`); !strings.HasSuffix(y, "0") || !strings.Contains(y, "ms") {
		t.Errorf("y axis labels %q", y)
	}

	// The SLA report: a download link to the API for the range.
	if dl := eval[bool](t, e, `document.getElementById('sla-csv').hasAttribute('download')`); !dl {
		t.Error("the SLA link is not a download")
	}
	csv := eval[string](t, e, `fetch(document.getElementById('sla-csv').href).then(async (r) => r.status + ' ' + r.headers.get('Content-Type') + '\n' + await r.text())`)
	if lines := strings.SplitN(csv, "\n", 3); len(lines) < 3 || lines[0] != "200 text/csv; charset=utf-8" || lines[1] != "SLA report,webshop" {
		t.Errorf("SLA CSV: %q", csv)
	}

	// The server fails: Run now shows the run in progress, then down.
	m.failing.Store(true)
	e.do(t, chromedp.Click(chromedp.CSS("#run-now")))
	e.waitJS(t, `document.getElementById('run-now').disabled && document.getElementById('run-now').textContent === 'Running…'`, 5*time.Second)
	close(m.release)
	e.waitJS(t, `document.querySelector('.run-result .st-down') !== null`, 20*time.Second)
	e.waitJS(t, `document.querySelector('tr[data-check="webshop"] .st').textContent === 'down'`, 10*time.Second)
	if text, class := rowStatus(t, e, "webshop"); text != "down" || !strings.Contains(class, "st-down") {
		t.Errorf("after a failing run: %q (class %q)", text, class)
	}
	if row := eval[string](t, e, `document.querySelector('tr[data-check="webshop"]').className`); !strings.Contains(row, "st-down") {
		t.Errorf("the down check's row is not marked: %q", row)
	}
	if dis := eval[bool](t, e, `document.getElementById('run-now').disabled`); dis {
		t.Error("Run now still disabled after the run")
	}
	errText := eval[string](t, e, `document.querySelector('tr[data-check="webshop"] td.err').textContent`)
	if !strings.HasPrefix(errText, `step 1 "home": HTTP 302, expected 200 (redirect to `+xssLocation) {
		t.Errorf("failing step and error %q", errText)
	}
	e.waitJS(t, `document.querySelectorAll('.runs tbody tr').length === 31`, 10*time.Second)
	if first := eval[string](t, e, `document.querySelector('.runs tbody tr').textContent`); !strings.Contains(first, "down") || !strings.Contains(first, xssLocation) {
		t.Errorf("newest run row %q", first)
	}
	inert(t, e, "checks")

	// Another range: the URL, the picker and the CSV link follow it.
	e.do(t, chromedp.SetValue(chromedp.CSS("#check-range"), "-15m"), chromedp.Click(chromedp.CSS(`.detail-bar button[type="submit"]`)))
	e.waitJS(t, `location.search === '?check=webshop&from=-15m'`, 5*time.Second)
	// Seeded every 2 minutes, plus the run just made: 7 or 8 (6 if this test
	// reached here more than a minute after seeding).
	e.waitJS(t, `document.querySelectorAll('.runs tbody tr').length >= 6 && document.querySelectorAll('.runs tbody tr').length <= 9`, 5*time.Second)
	if href := eval[string](t, e, `document.getElementById('sla-csv').getAttribute('href')`); href != "/api/v1/checks/webshop/sla?from=-15m&format=csv" {
		t.Errorf("CSV link after the range changed: %q", href)
	}
	e.do(t, chromedp.NavigateBack())
	e.waitJS(t, `document.getElementById('check-range').value === '-24h' && document.querySelectorAll('.runs tbody tr').length === 31`, 5*time.Second)
	e.do(t, chromedp.Navigate(e.ts.URL+"/checks?check=webshop&from=-1h"), chromedp.WaitVisible(chromedp.CSS("#check-detail svg.rt .seg")))
	e.shoot(t, "checks")
	eval[bool](t, e, `(document.getElementById('check-detail').scrollIntoView(), true)`)
	e.shoot(t, "check-detail")
	e.darkMode(t, true)
	defer e.darkMode(t, false)
	e.do(t, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#check-detail svg.rt .seg")))
	if bg := eval[string](t, e, `getComputedStyle(document.querySelector('svg.rt')).backgroundColor`); bg != "rgb(26, 31, 37)" {
		t.Errorf("dark chart background %q", bg)
	}
	e.shoot(t, "checks-dark")
}

func testAlertsPage(t *testing.T, e *browserEnv, m *monitorRig) {
	word := randomWord(t)
	e.sendRaw(t, "shop1", "webshop", xssImg+" payment failed "+word)
	e.sendRaw(t, "shop1", "webshop", xssScript+" payment failed "+word)
	e.sendRaw(t, "db1", "dbmaint", "replication lag during the migration")
	e.sendRaw(t, "shop1", "flapper", "one blip")
	e.waitStored(t, word, 2)

	// Wait for the engine: web-errors and db-errors firing, flap resolved,
	// the webhook told of web-errors (db-errors is held back).
	ctx := context.Background()
	var byRule map[string]rules.Alert
	deadline := time.Now().Add(20 * time.Second)
	for {
		all, err := m.eng.Alerts(ctx, rules.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		byRule = map[string]rules.Alert{}
		for _, a := range all {
			byRule[a.Rule] = a
		}
		if byRule["web-errors"].State == "firing" && byRule["db-errors"].State == "firing" && byRule["flap"].State == "resolved" && m.hookCount() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts after 20s: %+v, %d webhook posts", byRule, m.hookCount())
		}
		time.Sleep(50 * time.Millisecond)
	}
	web := byRule["web-errors"]
	if web.Query != `(app:webshop severity<=err) host:"shop1"` || web.QueryFrom == nil || !web.QueryFrom.Equal(web.StartedAt.Add(-10*time.Minute)) {
		t.Errorf("web-errors records query %q from %v (started %v)", web.Query, web.QueryFrom, web.StartedAt)
	}

	e.do(t, chromedp.Navigate(e.ts.URL+"/alerts"), chromedp.WaitVisible(chromedp.CSS(".alerts-firing li.alert")))
	firing := eval[[]string](t, e, `[...document.querySelectorAll('.alerts-firing li.alert .alert-title')].map((x) => x.textContent)`)
	past := eval[[]string](t, e, `[...document.querySelectorAll('.alerts-history li.alert .alert-title')].map((x) => x.textContent)`)
	slices.Sort(firing) // newest first: both fired within a second
	if strings.Join(firing, ",") != "db-errors,web-errors" || strings.Join(past, ",") != "flap" {
		t.Fatalf("firing %q, history %q", firing, past)
	}
	card := fmt.Sprintf(`document.querySelector('li.alert[data-id="%d"]')`, web.ID)
	head := eval[string](t, e, card+`.querySelector('.alert-head').textContent`)
	if !strings.HasPrefix(head, "criticalweb-errorsweb-errors{host=\"shop1\"}firingfiring for ") {
		t.Errorf("web-errors head %q", head)
	}
	if s := eval[string](t, e, card+`.querySelector('.alert-summary').textContent`); !strings.HasPrefix(s, "2 errors on shop1: ") || !strings.Contains(s, "payment failed "+word) {
		t.Errorf("summary %q", s)
	}
	if sil := eval[string](t, e, `document.querySelector('li.alert[data-id="`+fmt.Sprint(byRule["db-errors"].ID)+`"] .silenced').textContent`); sil != "silenced by maintenance db-migration" {
		t.Errorf("silenced badge %q", sil)
	}
	if when := eval[string](t, e, `document.querySelector('.alerts-history li.alert .when').textContent`); !strings.HasPrefix(when, "resolved ") || !strings.Contains(when, " · lasted ") {
		t.Errorf("resolved alert %q", when)
	}
	// The samples, as records (text only).
	samples := eval[[]string](t, e, card+`.querySelectorAll('.samples .records .msg').length ? [...`+card+`.querySelectorAll('.samples .records .msg')].map((x) => x.textContent) : []`)
	got := strings.Join(samples, "|")
	if len(samples) != 2 || !strings.Contains(got, xssScript+" payment failed "+word) || !strings.Contains(got, xssImg+" payment failed "+word) {
		t.Errorf("samples %q", samples)
	}
	inert(t, e, "alerts")

	// The delivery log, opened.
	e.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`li.alert[data-id="%d"] .deliveries summary`, web.ID))))
	e.waitJS(t, card+`.querySelector('.deliveries-table tbody tr') !== null`, 5*time.Second)
	dl := eval[string](t, e, card+`.querySelector('.deliveries-table tbody tr').textContent`)
	if !strings.Contains(dl, "hookfiringdelivered1200") {
		t.Errorf("delivery row %q", dl)
	}
	if p := eval[string](t, e, card+`.querySelector('.deliveries-table pre').textContent`); !strings.Contains(p, `"rule": "web-errors"`) {
		t.Errorf("payload %q", p)
	}

	// Acknowledge: the button goes, who acked shows, and it stays after a reload.
	e.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`li.alert[data-id="%d"] .ack-button`, web.ID))))
	e.waitJS(t, card+`.querySelector('.acked') !== null`, 5*time.Second)
	if ack := eval[string](t, e, card+`.querySelector('.acked').textContent`); ack != "acked by admin" {
		t.Errorf("ack badge %q", ack)
	}
	if a, err := m.eng.Alert(ctx, web.ID); err != nil || a.AckedBy != "admin" {
		t.Errorf("stored ack: %q %v", a.AckedBy, err)
	}
	e.shoot(t, "alerts")

	// The link to the matching records: the rule's query for the group, over
	// the window that fired it.
	href := eval[string](t, e, card+`.querySelector('a.records-link').getAttribute('href')`)
	u, err := url.Parse(href)
	if err != nil || u.Path != "/search" || u.Query().Get("q") != web.Query || u.Query().Get("from") != web.QueryFrom.UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("records link %q (%v)", href, err)
	}
	e.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`li.alert[data-id="%d"] a.records-link`, web.ID))), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS(".records .rec")))
	e.waitJS(t, `location.pathname === '/search' && document.querySelectorAll('.records .rec').length === 2`, 10*time.Second)
	inert(t, e, "alert's records")

	// The url sent to receivers (/alerts/ID) points at the alert.
	e.do(t, chromedp.Navigate(e.ts.URL+fmt.Sprintf("/alerts/%d", byRule["flap"].ID)), chromedp.WaitVisible(chromedp.CSS("li.alert.targeted")))
	if id := eval[string](t, e, `document.querySelector('li.alert.targeted').dataset.id`); id != fmt.Sprint(byRule["flap"].ID) {
		t.Errorf("targeted alert %s", id)
	}
	if acked := eval[string](t, e, card+`.querySelector('.acked').textContent`); acked != "acked by admin" {
		t.Errorf("after a reload: %q", acked)
	}
	if cur := eval[string](t, e, `document.querySelector('#nav a[aria-current="page"]').textContent`); cur != "Alerts" {
		t.Errorf("current page in the navigation: %q", cur)
	}
}
