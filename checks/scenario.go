package checks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"vigie/cmd/config"
)

// maxBody is how much of a step's body is read; the rest is cut (and the
// errors that looked at the body say so).
const maxBody = 8 << 20

// probeScenario runs a Zabbix-style web scenario: its steps in order, with
// variables and cookies carried from one step to the next, stopping at the
// first step that fails.
func probeScenario(ctx context.Context, c *config.Check, logger *slog.Logger) *Result {
	res := &Result{Success: true, FailedStep: -1}
	client, err := newScenarioClient(c)
	if err != nil {
		res.Success, res.Error = false, err.Error()
		return res
	}
	defer client.close()
	v := checkVars(c)
	for i := range c.Steps {
		st := &c.Steps[i]
		sr, err := runStep(ctx, client, c, st, v)
		res.Steps = append(res.Steps, sr)
		if err != nil {
			res.Success, res.FailedStep = false, i
			res.Error = stepLabel(i, st) + ": " + err.Error()
			res.Steps[i].Error = err.Error()
			logger.Debug("scenario step failed", "check", c.Name, "step", i+1, "error", err)
			return res
		}
	}
	return res
}

// stepLabel is `step 2 "log in"`, or `step 2` for an unnamed step.
func stepLabel(i int, st *config.Step) string {
	n := fmt.Sprintf("step %d", i+1)
	if st.Name == "" || st.Name == n {
		return n
	}
	return fmt.Sprintf("%s %q", n, st.Name)
}

// runStep sends one step's request and judges its answer: status codes,
// required pattern, then its variables.
func runStep(ctx context.Context, client *scenarioClient, c *config.Check, st *config.Step, v vars) (StepResult, error) {
	sr := StepResult{Name: st.Name}
	timeout := time.Duration(st.Timeout)
	if timeout <= 0 {
		timeout = time.Duration(c.Timeout)
	}
	if timeout <= 0 {
		timeout = config.DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := newTracer()
	ctx = httptrace.WithClientTrace(ctx, tr.trace())
	req, err := buildRequest(ctx, c, st, v)
	if err != nil {
		return sr, err
	}
	sr.URL = req.URL.Redacted()
	target := hostPort(req.URL)

	start := time.Now()
	resp, err := client.forStep(st.FollowRedirects).Do(req)
	if err != nil {
		sr.Phases = tr.done(start, time.Now())
		return sr, errors.New(describeErr(err, target, timeout, tr.doing()))
	}
	defer resp.Body.Close()
	sr.Code = resp.StatusCode
	if resp.Request != nil && resp.Request.URL != nil {
		target = hostPort(resp.Request.URL)
	}
	body, cut, readErr := readBody(resp.Body)
	end := time.Now()
	sr.Phases = tr.done(start, end)
	sr.Bytes = int64(len(body))
	if s := sr.Phases.Transfer.Seconds(); s > 0 {
		sr.Speed = float64(sr.Bytes) / s
	}
	if readErr != nil {
		return sr, fmt.Errorf("HTTP %d, reading the body after %s: %s", resp.StatusCode, humanBytes(sr.Bytes), describeErr(readErr, target, timeout, tr.doing()))
	}
	r := &response{header: resp.Header, body: body, cut: cut}
	r.retrieved = retrieved(st.RetrieveMode, resp, body)

	if !st.StatusCodes.Match(resp.StatusCode) {
		return sr, fmt.Errorf("HTTP %d, expected %s%s", resp.StatusCode, formatCodes(st.StatusCodes), redirectHint(resp, st))
	}
	if st.Required != "" {
		re, err := regexp.Compile(st.Required)
		if err != nil {
			return sr, fmt.Errorf("required: bad regular expression: %v", err)
		}
		if !re.MatchString(r.retrieved) {
			where := "body"
			if st.RetrieveMode == "headers" {
				where = "headers"
			} else if st.RetrieveMode == "both" {
				where = "headers and body"
			}
			return sr, fmt.Errorf("required pattern %q not found in %s (HTTP %d, %s)%s%s",
				st.Required, where, resp.StatusCode, humanBytes(sr.Bytes), cutNote(r), redirectHint(resp, st))
		}
	}
	if err := v.capture(st, r); err != nil {
		return sr, err
	}
	sr.Success = true
	return sr, nil
}

// redirectHint explains a 3xx that was not followed.
func redirectHint(resp *http.Response, st *config.Step) string {
	if st.FollowRedirects || resp.StatusCode < 300 || resp.StatusCode > 399 {
		return ""
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		return fmt.Sprintf(" (redirect to %s not followed: set follow_redirects: true)", loc)
	}
	return ""
}

// buildRequest expands the step's variables into its URL, query, form or
// body, and headers.
func buildRequest(ctx context.Context, c *config.Check, st *config.Step, v vars) (*http.Request, error) {
	raw := v.expand(st.URL)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q is not an http(s) URL after expanding variables", raw)
	}
	if len(st.Query) > 0 {
		q := encodePairs(st.Query, v)
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
	}
	var body io.Reader
	contentType := ""
	switch {
	case len(st.Posts) > 0:
		body = strings.NewReader(encodePairs(st.Posts, v))
		contentType = "application/x-www-form-urlencoded"
	case st.Body != "":
		body = strings.NewReader(v.expand(st.Body))
	}
	req, err := http.NewRequestWithContext(ctx, st.Method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("cannot build the request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	ua := userAgent()
	if c.UserAgent != "" {
		ua = v.expand(c.UserAgent)
	}
	req.Header.Set("User-Agent", ua)
	// Check headers first, then the step's: a step header replaces a check
	// header of the same name.
	for _, list := range []config.Pairs{c.Headers, st.Headers} {
		seen := map[string]bool{}
		for _, h := range list {
			val := v.expand(h.Value)
			if strings.EqualFold(h.Key, "Host") {
				req.Host = val
				continue
			}
			if !seen[http.CanonicalHeaderKey(h.Key)] {
				req.Header.Del(h.Key)
				seen[http.CanonicalHeaderKey(h.Key)] = true
			}
			req.Header.Add(h.Key, val)
		}
	}
	if a := c.Auth; a != nil && a.Type == "basic" {
		req.SetBasicAuth(v.expand(a.User), v.expand(a.Password))
	}
	return req, nil
}

// encodePairs form-encodes pairs in the order written (url.Values would
// sort them).
func encodePairs(p config.Pairs, v vars) string {
	parts := make([]string, 0, len(p))
	for _, kv := range p {
		parts = append(parts, url.QueryEscape(v.expand(kv.Key))+"="+url.QueryEscape(v.expand(kv.Value)))
	}
	return strings.Join(parts, "&")
}

// readBody reads at most maxBody bytes; cut says there was more.
func readBody(r io.Reader) (body []byte, cut bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, maxBody+1))
	if len(body) > maxBody {
		return body[:maxBody], true, nil
	}
	return body, false, err
}

// retrieved is the part of the answer that required and regex: variables
// look at: the body, the headers (status line and fields), or both.
func retrieved(mode string, resp *http.Response, body []byte) string {
	if mode == "" || mode == "body" {
		return string(body)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\r\n", resp.Proto, resp.Status)
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		for _, val := range resp.Header[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, val)
		}
	}
	if mode == "both" {
		b.WriteString("\r\n")
		b.Write(body)
	}
	return b.String()
}

// formatCodes writes allowed status codes as the config does: 200, 300-399.
func formatCodes(s config.StatusCodes) string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = fmt.Sprint(r.Min)
		if r.Max != r.Min {
			parts[i] += fmt.Sprintf("-%d", r.Max)
		}
	}
	if len(parts) > 1 {
		return "one of " + strings.Join(parts, ", ")
	}
	return strings.Join(parts, ", ")
}

// hostPort is the URL's host with its port, the way connect errors name it.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
