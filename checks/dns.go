package checks

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"

	"vigie/cmd/config"
)

// probeDNS resolves host for one record type, through server when set
// (UDP, then TCP when the answer is truncated) or the system's resolver.
func probeDNS(ctx context.Context, c *config.Check, logger *slog.Logger) *Result {
	res := &Result{FailedStep: -1, Values: map[string]float64{}}
	step := StepResult{Name: c.Name, URL: "dns://" + c.Server + "/" + c.Host}
	start := time.Now()
	fail := func(msg string) *Result {
		step.Phases.Total = time.Since(start)
		step.Phases.DNS = step.Phases.Total
		step.Error = msg
		res.Steps = []StepResult{step}
		res.Error = msg
		return res
	}
	r := net.DefaultResolver
	via := "the system resolver"
	if c.Server != "" {
		server := c.Server
		via = server
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, server)
		}}
	}
	typ := c.RecordType
	if typ == "" {
		typ = "A"
	}
	answers, err := lookup(ctx, r, typ, c.Host)
	res.Values["answers"] = float64(len(answers))
	if err != nil {
		return fail(fmt.Sprintf("%s %s via %s: %s", typ, c.Host, via, describeErr(err, via, checkTimeout(c), "waiting for the DNS answer")))
	}
	if len(answers) == 0 {
		return fail(fmt.Sprintf("%s %s via %s: no answer", typ, c.Host, via))
	}
	if c.Expect != "" {
		re, err := regexp.Compile(c.Expect)
		if err != nil {
			return fail(fmt.Sprintf("expect: bad regular expression: %v", err))
		}
		matched := false
		for _, a := range answers {
			matched = matched || re.MatchString(a)
		}
		if !matched {
			return fail(fmt.Sprintf("%s %s via %s: expect %q matches none of the answers: %s", typ, c.Host, via, c.Expect, strings.Join(answers, ", ")))
		}
	}
	step.Phases.Total = time.Since(start)
	step.Phases.DNS = step.Phases.Total
	step.Success = true
	res.Steps = []StepResult{step}
	res.Success = true
	logger.Debug("dns check passed", "check", c.Name, "answers", answers)
	return res
}

// lookup returns the answers of one record type as text: addresses, names
// (with their final dot as the resolver gives them), "10 mx.example.org."
// for MX, the strings of TXT records.
func lookup(ctx context.Context, r *net.Resolver, typ, host string) ([]string, error) {
	var out []string
	switch typ {
	case "A", "AAAA":
		network := "ip4"
		if typ == "AAAA" {
			network = "ip6"
		}
		ips, err := r.LookupIP(ctx, network, host)
		for _, ip := range ips {
			out = append(out, ip.String())
		}
		return out, err
	case "CNAME":
		name, err := r.LookupCNAME(ctx, host)
		if err != nil {
			return nil, err
		}
		return []string{name}, nil
	case "MX":
		mxs, err := r.LookupMX(ctx, host)
		for _, mx := range mxs {
			out = append(out, fmt.Sprintf("%d %s", mx.Pref, mx.Host))
		}
		return out, err
	case "TXT":
		return r.LookupTXT(ctx, host)
	case "NS":
		nss, err := r.LookupNS(ctx, host)
		for _, ns := range nss {
			out = append(out, ns.Host)
		}
		return out, err
	case "PTR":
		return r.LookupAddr(ctx, host)
	}
	return nil, fmt.Errorf("record type %s is not supported", typ)
}
