package checks

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"vigie/cmd/config"
)

func TestResultJSON(t *testing.T) {
	start := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	r := Result{
		Check: "odoo-login", Type: "scenario", Start: start, Duration: 12500 * time.Microsecond,
		Success: false, Slow: false, Error: `step 2 "log in": HTTP 503, expected 200`, FailedStep: 1, Attempts: 2,
		Steps: []StepResult{
			{Name: "login page", URL: "http://erp.lan:8069/web/login", Success: true, Code: 200, Bytes: 5222, Speed: 1.5e6,
				Phases: Phases{DNS: 400 * time.Microsecond, Connect: 250 * time.Microsecond, TTFB: 8 * time.Millisecond, Transfer: 1234567, Total: 9999999}},
			{Name: "log in", Error: "HTTP 503, expected 200", Code: 503},
		},
		Values: map[string]float64{"x": 1.5},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"duration_ms":12.5`, `"dns_ms":0.4`, `"connect_ms":0.25`, `"tls_ms":0`, `"ttfb_ms":8`,
		`"transfer_ms":1.234567`, `"total_ms":9.999999`, `"failed_step":1`, `"start":"2026-11-22T10:00:00.123456789Z"`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
	if strings.Contains(s, `"Duration"`) || strings.Contains(s, `"DNS"`) {
		t.Errorf("raw durations leaked: %s", s)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, back) {
		t.Errorf("round trip:\n%+v\n%+v", r, back)
	}
}

func FuzzPhasesJSON(f *testing.F) {
	f.Add(int64(1), int64(12500000), int64(3600e9))
	f.Fuzz(func(t *testing.T, a, b, c int64) {
		// Durations a check can have: up to a day either way.
		clamp := func(v int64) time.Duration { return time.Duration(v % int64(24*time.Hour)) }
		p := Phases{clamp(a), clamp(b), clamp(c), clamp(a ^ b), clamp(b ^ c), clamp(a + c)}
		j, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back Phases
		if err := json.Unmarshal(j, &back); err != nil || back != p {
			t.Fatalf("%+v → %s → %+v (%v)", p, j, back, err)
		}
	})
}

func TestProber(t *testing.T) {
	for _, typ := range config.CheckTypes {
		if fn, ok := Prober(typ); !ok || fn == nil {
			t.Errorf("no prober for %s", typ)
		}
	}
	if _, ok := Prober("http"); ok {
		t.Error("a prober for an unknown type")
	}
	res := Run(context.Background(), &config.Check{Name: "x", Type: "smtp", Attempts: 3}, nil)
	if res.Success || res.Error != `unknown check type "smtp"` || res.FailedStep != -1 || res.Check != "x" {
		t.Errorf("%+v", res)
	}
}

func TestRunStopsRetryingWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &config.Check{Name: "gone", Type: "tcp", Address: closedPort(t), Attempts: 5, Timeout: config.Duration(time.Second)}
	res := Run(ctx, c, nil)
	if res.Success || res.Attempts != 1 || !strings.Contains(res.Error, "cancelled") {
		t.Errorf("%+v", res)
	}
}
