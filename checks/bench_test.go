package checks

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkStepAgainstCurl runs one scenario step and `curl -w` on the same
// local URL, alternately, and reports the median difference of their totals
// and of their time to first byte in milliseconds (the issue asks for under
// 1 ms). Both open a new connection each time.
//
//	go test -run '^$' -bench StepAgainstCurl -benchtime 200x ./checks/
func BenchmarkStepAgainstCurl(b *testing.B) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skip("curl is not installed")
	}
	page := strings.Repeat("<p>Odoo</p>\n", 4000) // ~48 KiB, a login page's size
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // a server that thinks a little
		io.WriteString(w, page)
	}))
	defer srv.Close()
	c := loadCheck(b, "name: bench\ntype: scenario\nsteps:\n  - {url: \""+srv.URL+"/web/login\", status_codes: [200]}")
	logger := slog.New(slog.DiscardHandler)
	var dTotal, dTTFB []float64
	b.ResetTimer()
	for b.Loop() {
		res := Run(context.Background(), c, logger)
		if !res.Success {
			b.Fatal(res.Error)
		}
		out, err := exec.Command(curl, "-s", "-o", "/dev/null", "-w",
			"%{time_pretransfer} %{time_starttransfer} %{time_total}", srv.URL+"/web/login").Output()
		if err != nil {
			b.Fatal(err)
		}
		f := strings.Fields(string(out))
		pre, _ := strconv.ParseFloat(f[0], 64)
		start, _ := strconv.ParseFloat(f[1], 64)
		total, _ := strconv.ParseFloat(f[2], 64)
		p := res.Steps[0].Phases
		dTotal = append(dTotal, abs(ms(p.Total)-total*1000))
		dTTFB = append(dTTFB, abs(ms(p.TTFB)-(start-pre)*1000))
	}
	b.StopTimer()
	b.ReportMetric(median(dTotal), "total-diff-ms")
	b.ReportMetric(median(dTTFB), "ttfb-diff-ms")
}

func abs(f float64) float64 { return max(f, -f) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}
