package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigie/record"
	"vigie/store/query"
)

// Attacker-controlled text sent through syslog. None of it may run.
const (
	xssScript  = `<script>window.__xss=1</script>`
	xssImg     = `<img src=x onerror="window.__xss=1">`
	xssJS      = `javascript:alert(1)`
	xssField   = `"><svg onload=window.__xss=1>`
	xssSDID    = `xss@32473`
	xssFieldID = xssSDID + ".v"
)

func TestBrowser(t *testing.T) {
	e := newBrowserEnv(t)
	token, xss := "probe"+randomWord(t), "xss"+randomWord(t)

	// Sent a moment before the browser looks for them.
	e.send(t, "e2eweb", "local0.err", "hello from syslog "+token)
	e.send(t, "xssapp", "user.warning", xssScript+" "+xss)
	e.send(t, "xssapp", "user.warning", xssImg+" "+xss)
	e.send(t, xssJS, "user.notice", "app payload "+xss)
	e.sendRaw(t, xssJS, "xssapp", "host payload "+xss)
	// An SD-PARAM value escapes " ] and \ with a backslash (RFC 5424).
	sdValue := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(xssField)
	e.send(t, "xssapp", "user.info", "field payload "+xss, "--sd-id", xssSDID, "--sd-param", `v="`+sdValue+`"`)
	rec := e.waitStored(t, token, 1)[0]
	e.waitStored(t, xss, 5)

	steps := []struct {
		name string
		fn   func(*testing.T, *browserEnv, record.Record, string, string)
	}{
		{"login", testLoginPage},
		{"search", testSearchPage},
		{"zoom", testHistogramZoom},
		{"scroll", testInfiniteScroll},
		{"live", testLivePage},
		{"sources", testSourcesPage},
		{"xss", testXSSInert},
		{"dark", testDarkMode},
		{"csp", testCSPEnforced},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.fn(t, e, rec, token, xss) }) {
			t.Logf("console: %q", e.consoleText())
			return // the steps build on each other
		}
	}
}

func testLoginPage(t *testing.T, e *browserEnv, _ record.Record, token, _ string) {
	e.do(t, chromedp.Navigate(e.ts.URL+"/search?q="+url.QueryEscape(token)+"&from=-15m"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if loc := e.location(t); !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("not sent to the login page: %s", loc)
	}
	e.shoot(t, "login")
	e.do(t, chromedp.SendKeys(chromedp.CSS("#user"), "ops"), chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("#login-submit")), chromedp.WaitVisible(chromedp.CSS("#login-error")))
	msg, _ := chromedp.Run(e.ctx, chromedp.Text(chromedp.CSS("#login-error")))
	if !strings.Contains(msg, "wrong user name or password") {
		t.Fatalf("wrong password: %q", msg)
	}
	e.do(t, chromedp.SendKeys(chromedp.CSS("#password"), testPassword), chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS(".records .rec")))
	if loc := e.location(t); loc != "/search?q="+url.QueryEscape(token)+"&from=-15m" {
		t.Fatalf("after login: %s, want the page asked for", loc)
	}
}

func testSearchPage(t *testing.T, e *browserEnv, rec record.Record, token, _ string) {
	e.do(t, chromedp.Navigate(e.ts.URL+"/search?q="+url.QueryEscape(token)+"&from=-15m"),
		chromedp.WaitVisible(chromedp.CSS(".records .rec")))
	first := eval[float64](t, e, `(performance.getEntriesByName('vigie:first-results')[0] || {startTime: -1}).startTime`)
	t.Logf("search page: first results %.0f ms after the navigation started", first)
	msgs := eval[[]string](t, e, `[...document.querySelectorAll('.records .msg')].map((m) => m.textContent)`)
	if len(msgs) != 1 || msgs[0] != "hello from syslog "+token {
		t.Fatalf("results %q", msgs)
	}
	if sev := eval[string](t, e, `document.querySelector('.records .rec').className`); !strings.Contains(sev, "sev-3") {
		t.Errorf("severity colour class: %q", sev)
	}
	e.do(t, chromedp.WaitVisible(chromedp.CSS(".facets .facet")), chromedp.WaitVisible(chromedp.CSS("svg.hist .bar")))
	facets := eval[[]string](t, e, `[...document.querySelectorAll('.facet-group')].map((g) => g.textContent)`)
	if len(facets) != 3 || !strings.Contains(facets[1], "e2eweb") || !strings.Contains(facets[2], "err") {
		t.Errorf("facets %q", facets)
	}

	// A row opens to all its fields.
	e.do(t, chromedp.Click(chromedp.CSS(".records .rec .line")), chromedp.WaitVisible(chromedp.CSS(".records .details")))
	fields := eval[map[string]string](t, e, `Object.fromEntries([...document.querySelectorAll('.details dd')].map((d) => [d.dataset.field, d.textContent]))`)
	if fields["app"] != "e2eweb" || fields["host"] != rec.Host || fields["severity"] != "err (3)" || fields["facility"] != "local0 (16)" ||
		fields["source"] != rec.Source || fields["message"] != rec.Message {
		t.Fatalf("fields %v", fields)
	}
	if exp := eval[string](t, e, `document.querySelector('.records .line').getAttribute('aria-expanded')`); exp != "true" {
		t.Errorf("aria-expanded %q", exp)
	}
	e.shoot(t, "search")

	// Clicking the host refines the query, in the box and the URL.
	e.do(t, chromedp.Click(chromedp.CSS(`.details dd[data-field="host"] button`)))
	want := token + ` host:"` + rec.Host + `"`
	e.waitJS(t, fmt.Sprintf(`document.getElementById('q').value === %q`, want), 5*time.Second)
	e.do(t, chromedp.WaitVisible(chromedp.CSS(".records .rec")))
	if loc := e.location(t); !strings.Contains(loc, "q="+url.QueryEscape(want)) {
		t.Errorf("URL after refining: %s", loc)
	}
	q, err := query.Parse(want)
	if err != nil || !q.Match(&rec) {
		t.Errorf("refined query %q: %v, or it does not match the record", want, err)
	}

	// A query mistake is shown at its column.
	e.do(t, chromedp.Navigate(e.ts.URL+"/search?q="+url.QueryEscape("host:erp1 (app:x")), chromedp.WaitVisible(chromedp.CSS("#q-error")))
	caret := eval[string](t, e, `document.querySelector('#q-error .caret').textContent`)
	if caret != "host:erp1 (app:x\n          ^" {
		t.Errorf("error caret %q", caret)
	}
	if inv := eval[string](t, e, `document.getElementById('q').getAttribute('aria-invalid')`); inv != "true" {
		t.Errorf("aria-invalid %q", inv)
	}
}

func testHistogramZoom(t *testing.T, e *browserEnv, _ record.Record, token, _ string) {
	e.do(t, chromedp.Navigate(e.ts.URL+"/search?q="+url.QueryEscape(token)+"&from=-1h"), chromedp.WaitVisible(chromedp.CSS("svg.hist .bar")))
	n := eval[float64](t, e, `[...document.querySelectorAll('svg.hist g.bucket')].findIndex((g) => +g.querySelector('.bar').getAttribute('height') > 0) + 1`)
	if n < 1 {
		t.Fatal("no bar with a count")
	}
	e.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf("svg.hist g.bucket:nth-of-type(%d) rect.hit", int(n)))))
	e.waitJS(t, `new URLSearchParams(location.search).get('to') !== null`, 5*time.Second)
	e.do(t, chromedp.WaitVisible(chromedp.CSS(".records .rec")))
	p, _ := url.ParseQuery(strings.SplitN(e.location(t), "?", 2)[1])
	from, err1 := time.Parse(time.RFC3339Nano, p.Get("from"))
	to, err2 := time.Parse(time.RFC3339Nano, p.Get("to"))
	if err1 != nil || err2 != nil || to.Sub(from) <= 0 || to.Sub(from) > 2*time.Minute {
		t.Fatalf("zoomed range %q – %q (%v %v)", p.Get("from"), p.Get("to"), err1, err2)
	}
	if sel := eval[string](t, e, `document.getElementById('search-range').value`); sel != "custom" {
		t.Errorf("range picker shows %q after a zoom", sel)
	}
	// Back goes to the range before the zoom.
	e.do(t, chromedp.NavigateBack())
	e.waitJS(t, `document.getElementById('search-range').value === '-1h'`, 5*time.Second)
}

func testInfiniteScroll(t *testing.T, e *browserEnv, _ record.Record, _, _ string) {
	word := "page" + randomWord(t)
	recs := make([]record.Record, 250)
	base := time.Now().Add(-time.Minute)
	for i := range recs {
		at := base.Add(time.Duration(i) * time.Millisecond)
		recs[i] = record.Record{Time: at, Received: at, Host: "pager", App: "pager", Severity: 6, Source: "syslog/udp 192.0.2.60",
			Message: fmt.Sprintf("%s %03d", word, i)}
	}
	if err := e.st.SubmitSync(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	e.do(t, chromedp.Navigate(e.ts.URL+"/search?q="+word+"&from=-15m"), chromedp.WaitVisible(chromedp.CSS(".records .rec")))
	if n := eval[float64](t, e, `document.querySelectorAll('.records .rec').length`); n != 100 {
		t.Fatalf("first page: %v rows", n)
	}
	// Scrolling to the end loads the older pages, through the before cursor.
	for range 5 {
		eval[bool](t, e, `(window.scrollTo(0, document.body.scrollHeight), true)`)
		time.Sleep(100 * time.Millisecond)
	}
	e.waitJS(t, `document.querySelectorAll('.records .rec').length === 250`, 10*time.Second)
	msgs := eval[[]string](t, e, `[...document.querySelectorAll('.records .msg')].map((m) => m.textContent)`)
	for i, m := range msgs {
		if want := fmt.Sprintf("%s %03d", word, 249-i); m != want {
			t.Fatalf("row %d: %q, want %q (newest first, no gap, no repeat)", i, m, want)
		}
	}
	if more := eval[bool](t, e, `document.querySelector('.more').hidden`); !more {
		t.Error("the load-more button still shows at the end")
	}
	// Keyboard: a row is a button; Enter opens it.
	e.do(t, chromedp.Focus(chromedp.CSS(".records .rec .line")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS(".records .details")))
}

func testLivePage(t *testing.T, e *browserEnv, _ record.Record, _, _ string) {
	// A bad query: the tail's error message, shown at its column.
	e.do(t, chromedp.Navigate(e.ts.URL+"/live?q="+url.QueryEscape("app:x severity:fatal")), chromedp.WaitVisible(chromedp.CSS("#q-error")))
	if caret := eval[string](t, e, `document.querySelector('#q-error .caret').textContent`); caret != "app:x severity:fatal\n               ^" {
		t.Errorf("live query error caret %q", caret)
	}
	if msg := eval[string](t, e, `document.querySelector('#q-error p').textContent`); !strings.Contains(msg, `unknown severity "fatal"`) {
		t.Errorf("live query error %q", msg)
	}

	e.do(t, chromedp.Navigate(e.ts.URL+"/live?q="+url.QueryEscape("app:e2elive")), chromedp.WaitVisible(chromedp.CSS("#pause")))
	e.waitJS(t, `document.querySelector('.status').textContent === 'live'`, 10*time.Second)

	live := "live message " + randomWord(t)
	start := time.Now()
	e.send(t, "e2elive", "daemon.notice", live)
	e.waitJS(t, fmt.Sprintf(`[...document.querySelectorAll('.records .msg')].some((m) => m.textContent === %q)`, live), 5*time.Second)
	if el := time.Since(start); el > time.Second {
		t.Errorf("live message shown %v after it was sent, want within 1s", el)
	} else {
		t.Logf("live message shown %v after logger started", el.Round(time.Millisecond))
	}
	// A record the query does not match never shows.
	e.send(t, "e2eother", "daemon.notice", "not followed")

	// Paused: records wait, counted, and show on resume.
	e.do(t, chromedp.Click(chromedp.CSS("#pause")))
	held := "held while paused " + randomWord(t)
	e.send(t, "e2elive", "daemon.notice", held)
	e.waitJS(t, `document.querySelector('.waiting').textContent === '1 waiting'`, 5*time.Second)
	if shown := eval[bool](t, e, fmt.Sprintf(`document.body.textContent.includes(%q)`, held)); shown {
		t.Fatal("a record showed while paused")
	}
	e.do(t, chromedp.Click(chromedp.CSS("#pause")))
	e.waitJS(t, fmt.Sprintf(`document.querySelector('.records .msg').textContent === %q`, held), 5*time.Second)
	if eval[bool](t, e, `document.body.textContent.includes('not followed')`) {
		t.Error("a record outside the query showed")
	}

	// 2,000 records a second for 3 seconds through the store: the page keeps
	// the newest 2,000 and stays responsive (the longest frame is logged).
	eval[bool](t, e, `(() => { window.__gap = 0; let last = performance.now();
		const f = (ts) => { window.__gap = Math.max(window.__gap, ts - last); last = ts; if (!window.__stopGap) requestAnimationFrame(f); };
		requestAnimationFrame(f); return true; })()`)
	ctx := context.Background()
	tick := time.NewTicker(50 * time.Millisecond)
	for i := range 60 {
		<-tick.C
		batch := make([]record.Record, 100)
		for j := range batch {
			at := time.Now()
			batch[j] = record.Record{Time: at, Received: at, Host: "flood", App: "e2elive", Severity: 6, Source: "syslog/udp 192.0.2.50",
				Message: fmt.Sprintf("flood %d", i*100+j)}
		}
		if err := e.st.Submit(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	tick.Stop()
	e.waitJS(t, `document.querySelector('.records .msg').textContent === 'flood 5999'`, 10*time.Second)
	n := eval[float64](t, e, `document.querySelectorAll('.records .rec').length`)
	gap := eval[float64](t, e, `(window.__stopGap = true, window.__gap)`)
	skipped := eval[string](t, e, `document.querySelector('.skipped').textContent`)
	t.Logf("live view after 6,000 records at 2,000/s: %v rows kept, longest frame %.0f ms, %s", n, gap, skipped)
	if n != 2000 {
		t.Errorf("%v rows kept, want the newest 2,000", n)
	}

	// Paused under a flood: more than 2,000 wait, the oldest are skipped and
	// the count says so.
	e.do(t, chromedp.Click(chromedp.CSS("#pause")))
	flood := make([]record.Record, 5000)
	for j := range flood {
		flood[j] = record.Record{Time: time.Now(), App: "e2elive", Severity: 4, Message: fmt.Sprintf("burst %d", j)}
	}
	e.hub.Publish(flood)
	e.waitJS(t, `document.querySelector('.waiting').textContent === '2,000 waiting'`, 10*time.Second)
	e.do(t, chromedp.Click(chromedp.CSS("#pause")))
	e.waitJS(t, `document.querySelector('.records .msg').textContent === 'burst 4999'`, 10*time.Second)
	skipped = eval[string](t, e, `document.querySelector('.skipped').textContent`)
	if skipped == "0 skipped" || !strings.HasSuffix(skipped, " skipped") {
		t.Errorf("skipped count %q after 5,000 records while paused", skipped)
	}
	e.shoot(t, "live")
}

func testSourcesPage(t *testing.T, e *browserEnv, _ record.Record, _, _ string) {
	// An agent last heard 20 minutes ago.
	old := time.Now().Add(-25 * time.Minute)
	if err := e.st.SubmitSync(context.Background(), []record.Record{{Time: old, Received: old, Host: "erp9", App: "odoo",
		Source: "agent/erp9 192.0.2.9", Message: "last words"}}); err != nil {
		t.Fatal(err)
	}
	e.do(t, chromedp.Navigate(e.ts.URL+"/sources"), chromedp.WaitVisible(chromedp.CSS(".sources tbody tr")))
	rows := eval[[]string](t, e, `[...document.querySelectorAll('.sources tbody tr')].map((r) => r.textContent)`)
	found := false
	for _, r := range rows {
		found = found || strings.HasPrefix(r, "127.0.0.1 (tcp)syslog")
	}
	if !found {
		t.Errorf("the syslog sender is not listed: %q", rows)
	}
	silent := eval[[]string](t, e, `[...document.querySelectorAll('.sources tr.silent')].map((r) => r.textContent)`)
	if len(silent) != 1 || !strings.Contains(silent[0], "erp9 (192.0.2.9)") || !strings.Contains(silent[0], " min agosilent") {
		t.Errorf("silent agents %q", silent)
	}
	e.shoot(t, "sources")
}

func testXSSInert(t *testing.T, e *browserEnv, _ record.Record, _, xss string) {
	inert := func(where string) {
		t.Helper()
		if v := eval[string](t, e, `typeof window.__xss`); v != "undefined" {
			t.Fatalf("%s: window.__xss is %s: a payload ran", where, v)
		}
		if n := eval[float64](t, e, `document.querySelectorAll('main script, main img, main iframe, .records svg, a[href^="javascript"]').length`); n != 0 {
			t.Fatalf("%s: %v elements made from log text", where, n)
		}
	}
	e.do(t, chromedp.Navigate(e.ts.URL+"/search?q="+url.QueryEscape(xss)+"&from=-15m"), chromedp.WaitVisible(chromedp.CSS(".records .rec")))
	e.waitJS(t, `document.querySelectorAll('.records .rec').length === 5`, 5*time.Second)
	eval[bool](t, e, `(document.querySelectorAll('.records .line').forEach((b) => b.click()), true)`)
	e.waitJS(t, `document.querySelectorAll('.records .details').length === 5`, 5*time.Second)
	text := eval[string](t, e, `document.querySelector('.records').textContent`)
	for _, p := range []string{xssScript, xssImg, xssJS, xssField} {
		if !strings.Contains(text, p) {
			t.Errorf("payload %q not shown as text", p)
		}
	}
	e.waitJS(t, `document.querySelectorAll('.facets .facet').length > 0`, 5*time.Second)
	inert("search")
	// The payloads reached the host, app and fields (no parse error kept them raw).
	var hosts, apps, fields int
	for _, r := range e.waitStored(t, xss, 5) {
		if r.Fields[record.FieldParseError] != "" {
			t.Errorf("payload kept raw: %+v", r)
		}
		hosts += btoi(r.Host == xssJS)
		apps += btoi(r.App == xssJS)
		fields += btoi(r.Fields[xssFieldID] == xssField)
	}
	if hosts != 1 || apps != 1 || fields != 1 {
		t.Errorf("payloads in host %d, app %d, fields %d times, want once each", hosts, apps, fields)
	}

	// Refining by the hostile field value quotes it as the query language
	// wants: the query finds that record.
	e.do(t, chromedp.Click(chromedp.CSS(`.details dd[data-field="`+xssFieldID+`"] button`)))
	e.waitJS(t, `document.getElementById('q').value.includes('svg')`, 5*time.Second)
	qv, _ := chromedp.Run(e.ctx, chromedp.Value(chromedp.CSS("#q")))
	e.waitJS(t, `document.querySelectorAll('.records .rec').length === 1`, 5*time.Second)
	q, err := query.Parse(qv)
	r := record.Record{Message: "field payload " + xss, Fields: map[string]string{xssFieldID: xssField}}
	if err != nil || !q.Match(&r) {
		t.Errorf("refined query %q: %v, or it does not match", qv, err)
	}
	inert("search, refined")

	e.do(t, chromedp.Navigate(e.ts.URL+"/live?q="+url.QueryEscape(xss)), chromedp.WaitVisible(chromedp.CSS("#pause")))
	e.waitJS(t, `document.querySelector('.status').textContent === 'live'`, 10*time.Second)
	e.send(t, "xssapp", "user.err", xssScript+xssImg+" "+xss)
	e.sendRaw(t, xssJS, xssJS, xssField+" "+xss)
	e.waitJS(t, `document.querySelectorAll('.records .rec').length === 2`, 5*time.Second)
	eval[bool](t, e, `(document.querySelectorAll('.records .line').forEach((b) => b.click()), true)`)
	inert("live")

	e.do(t, chromedp.Navigate(e.ts.URL+"/sources"), chromedp.WaitVisible(chromedp.CSS(".sources tbody tr")))
	inert("sources")
	e.do(t, chromedp.Navigate(e.ts.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	inert("login")
}

func testDarkMode(t *testing.T, e *browserEnv, _ record.Record, token, _ string) {
	e.darkMode(t, true)
	defer e.darkMode(t, false)
	e.do(t, chromedp.Navigate(e.ts.URL+"/search?q="+url.QueryEscape(token)+"&from=-15m"), chromedp.WaitVisible(chromedp.CSS(".records .rec")))
	bg := eval[string](t, e, `getComputedStyle(document.body).backgroundColor`)
	if bg != "rgb(17, 20, 24)" {
		t.Errorf("dark background %q", bg)
	}
	e.shoot(t, "search-dark")
}

// testCSPEnforced checks that no page broke the policy so far, then that the
// policy is really enforced and its violations would have been seen.
func testCSPEnforced(t *testing.T, e *browserEnv, _ record.Record, _, _ string) {
	if p := e.problems(); len(p) > 0 {
		t.Fatalf("console problems on the pages: %q", p)
	}
	e.do(t, chromedp.Navigate(e.ts.URL+"/sources"), chromedp.WaitVisible(chromedp.CSS(".sources tbody tr")))
	probe := `(() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s);
		const d = document.createElement('div'); d.setAttribute('style', 'color: red'); document.body.append(d); return true; })()`
	eval[bool](t, e, probe)
	deadline := time.Now().Add(5 * time.Second)
	for len(e.problems()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if v := eval[string](t, e, `typeof window.__inline`); v != "undefined" {
		t.Errorf("an inline script ran: the CSP is not enforced")
	}
	p := e.problems()
	b, _ := json.Marshal(p)
	if len(p) < 2 || !strings.Contains(string(b), "script-src") || !strings.Contains(string(b), "style-src") {
		t.Errorf("the probe's violations were not reported: %s", b)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
