package checks

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math"
	"time"

	"vigie/cmd/config"
)

// probeTLS connects, shakes hands, verifies the chain and the name (unless
// verify_peer/verify_host say otherwise), and measures how long the chain
// has before its first certificate expires.
func probeTLS(ctx context.Context, c *config.Check, logger *slog.Logger) *Result {
	res := &Result{FailedStep: -1, Values: map[string]float64{}}
	timeout := checkTimeout(c)
	step := StepResult{Name: c.Name, URL: "tls://" + c.Address}
	start := time.Now()
	var tr *tracer
	fail := func(msg string) *Result {
		if tr != nil {
			step.Phases = tr.done(start, time.Now())
		}
		step.Error = msg
		res.Steps = []StepResult{step}
		res.Error = msg
		return res
	}
	name := serverName(c)
	conf, err := tlsConfig(c, name)
	if err != nil {
		return fail(err.Error())
	}
	// Verification is done below, after the handshake, so that a chain that
	// fails it still reports its expiry.
	conf.InsecureSkipVerify, conf.VerifyConnection = true, nil

	conn, tr, err := dialTraced(ctx, c.Address)
	if err != nil {
		return fail(describeErr(err, c.Address, timeout, tr.doing()))
	}
	defer conn.Close()
	tr.setState("in the TLS handshake")
	tlsStart := time.Now()
	tc, err := handshake(ctx, conn, conf)
	if err != nil {
		return fail(describeErr(err, c.Address, timeout, tr.doing()))
	}
	took := time.Since(tlsStart)
	tr.set(func(time.Time) { tr.p.TLS = took })
	state := tc.ConnectionState()
	certs := state.PeerCertificates

	chain := certs
	var verifyErr error
	if verifyPeer(c) {
		dnsName := ""
		if verifyHost(c) {
			dnsName = name
		}
		var verified []*x509.Certificate
		if verified, verifyErr = verifyChain(certs, conf.RootCAs, dnsName); verifyErr == nil {
			chain = verified
		}
	}
	if len(chain) == 0 {
		return fail(fmt.Sprintf("TLS: %s sent no certificate", c.Address))
	}
	earliest := chain[0]
	for _, ct := range chain[1:] {
		if ct.NotAfter.Before(earliest.NotAfter) {
			earliest = ct
		}
	}
	now := time.Now()
	daysLeft := math.Floor(earliest.NotAfter.Sub(now).Hours() / 24)
	res.Values["days_left"] = daysLeft
	res.Values["earliest_expiry_unix"] = float64(earliest.NotAfter.Unix())
	res.Values["tls_ms"] = ms(took)

	switch {
	case verifyErr != nil:
		return fail(describeErr(verifyErr, c.Address, timeout, ""))
	case now.After(earliest.NotAfter):
		return fail(fmt.Sprintf("certificate %q expired on %s", certName(earliest), earliest.NotAfter.UTC().Format(time.DateOnly)))
	case daysLeft < float64(c.MinDaysLeft):
		return fail(fmt.Sprintf("certificate %q expires on %s, in %d days: fewer than min_days_left %d",
			certName(earliest), earliest.NotAfter.UTC().Format(time.DateOnly), int(daysLeft), c.MinDaysLeft))
	}
	step.Phases = tr.done(start, time.Now())
	step.Success = true
	res.Steps = []StepResult{step}
	res.Success = true
	logger.Debug("tls check passed", "check", c.Name, "days_left", daysLeft, "expiring", certName(earliest))
	return res
}
