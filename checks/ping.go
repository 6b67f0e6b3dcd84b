package checks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	probing "github.com/prometheus-community/pro-bing"

	"vigie/cmd/config"
)

// probePing sends c.Count ICMP echo requests and passes when at least one
// answer comes back. It tries an unprivileged datagram ICMP socket first
// (Linux allows it to the groups in net.ipv4.ping_group_range) and a raw
// socket second (root or CAP_NET_RAW); privileged: true goes to the raw
// socket directly.
func probePing(ctx context.Context, c *config.Check, logger *slog.Logger) *Result {
	res := &Result{FailedStep: -1, Values: map[string]float64{}}
	timeout := checkTimeout(c)
	step := StepResult{Name: c.Name, URL: "icmp://" + c.Host}
	start := time.Now()
	fail := func(msg string) *Result {
		step.Phases.Total = time.Since(start)
		step.Error = msg
		res.Steps = []StepResult{step}
		res.Error = msg
		return res
	}

	ip, err := resolveHost(ctx, c.Host)
	step.Phases.DNS = time.Since(start)
	if err != nil {
		return fail(describeErr(err, c.Host, timeout, "resolving "+c.Host))
	}
	count := c.Count
	if count <= 0 {
		count = config.DefaultPingCount
	}
	modes := []bool{false, true} // unprivileged, then raw
	if c.Privileged != nil && *c.Privileged {
		modes = []bool{true}
	}
	var stats *probing.Statistics
	var errs [2]error
	for _, privileged := range modes {
		stats, err = pingOnce(ctx, ip, count, timeout-time.Since(start), privileged)
		if err == nil {
			break
		}
		i := 0
		if privileged {
			i = 1
		}
		errs[i] = err
		if !isPermission(err) {
			return fail(fmt.Sprintf("ping %s: %v", c.Host, err))
		}
		logger.Debug("ping socket refused", "check", c.Name, "privileged", privileged, "error", err)
	}
	if stats == nil {
		return fail(permissionMessage(errs[0], errs[1]))
	}
	res.Values["sent"] = float64(stats.PacketsSent)
	res.Values["received"] = float64(stats.PacketsRecv)
	loss := 1.0
	if stats.PacketsSent > 0 {
		loss = float64(stats.PacketsSent-stats.PacketsRecv) / float64(stats.PacketsSent)
		loss = max(loss, 0) // duplicates can make received exceed sent
	}
	res.Values["loss_ratio"] = loss
	if stats.PacketsRecv > 0 {
		res.Values["rtt_min_ms"] = ms(stats.MinRtt)
		res.Values["rtt_avg_ms"] = ms(stats.AvgRtt)
		res.Values["rtt_max_ms"] = ms(stats.MaxRtt)
		step.Phases.TTFB = stats.AvgRtt
	}
	step.Phases.Total = time.Since(start)
	if stats.PacketsRecv == 0 {
		return fail(fmt.Sprintf("no answer from %s (%s): %d sent, 100%% loss in %s", c.Host, ip, stats.PacketsSent, fmtDuration(timeout)))
	}
	step.Success = true
	res.Steps = []StepResult{step}
	res.Success = true
	return res
}

// resolveHost is the first address of host (an IPv4 one when it has both).
func resolveHost(ctx context.Context, host string) (*net.IPAddr, error) {
	if ip := net.ParseIP(host); ip != nil {
		return &net.IPAddr{IP: ip}, nil
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no address", Name: host, IsNotFound: true}
	}
	for _, a := range addrs {
		if a.IP.To4() != nil {
			return &a, nil
		}
	}
	return &addrs[0], nil
}

// pingOnce runs one pinger; its error is only about the socket, lost
// packets show in the statistics.
func pingOnce(ctx context.Context, ip *net.IPAddr, count int, timeout time.Duration, privileged bool) (*probing.Statistics, error) {
	p := probing.New(ip.String())
	p.SetIPAddr(ip)
	p.SetPrivileged(privileged)
	p.SetLogger(probing.NoopLogger{})
	p.Count = count
	// Spread the packets over the first part of the timeout, at most one a
	// second (ping's pace), so the last one still has time to come back.
	p.Interval = min(time.Second, max(timeout/time.Duration(2*count), 10*time.Millisecond))
	p.Timeout = max(timeout-50*time.Millisecond, 10*time.Millisecond)
	p.RecordRtts, p.RecordTTLs = false, false
	err := p.RunWithContext(ctx)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	return p.Statistics(), nil
}

func isPermission(err error) bool {
	return errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) ||
		errors.Is(err, syscall.EPROTONOSUPPORT)
}

// permissionMessage names the fixes when no ICMP socket could be opened.
func permissionMessage(unprivileged, raw error) string {
	msg := "cannot send ICMP: "
	if unprivileged != nil {
		msg += fmt.Sprintf("unprivileged ICMP was refused (%v; allow vigie's group with sysctl -w net.ipv4.ping_group_range=\"0 2147483647\", kept in /etc/sysctl.d/)", unprivileged)
		if raw != nil {
			msg += " and "
		}
	}
	if raw != nil {
		msg += fmt.Sprintf("raw ICMP sockets were refused (%v; run vigie as root or give it CAP_NET_RAW: setcap cap_net_raw+ep /usr/local/bin/vigie, or AmbientCapabilities=CAP_NET_RAW in its systemd unit)", raw)
	}
	return msg
}
