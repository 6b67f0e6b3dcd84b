package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK) needs cgo).
const clockTicks = 100

// procUsage is a process's peak resident set and CPU time so far.
type procUsage struct {
	PeakRSS    int64   // bytes (VmHWM)
	CPUSeconds float64 // utime + stime
}

// readProcUsage reads /proc/PID/status and /proc/PID/stat; the process must
// still be running (read before stopping it).
func readProcUsage(pid int) (procUsage, error) {
	var u procUsage
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	defer f.Close()
	if u.PeakRSS, err = parseVmHWM(f); err != nil {
		return u, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	if u.CPUSeconds, err = parseStatCPU(string(stat)); err != nil {
		return u, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return u, nil
}

// parseVmHWM returns the VmHWM line of a /proc/PID/status in bytes.
func parseVmHWM(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmHWM: unexpected %q", rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("VmHWM: bad value %q", f[0])
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmHWM line")
}

// parseStatCPU returns utime+stime in seconds from the text of /proc/PID/stat.
// The command name (field 2) is in parentheses and may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no ')' in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("only %d fields after the command name", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("bad utime/stime %q", s)
		}
		ticks += v
	}
	return float64(ticks) / clockTicks, nil
}

// readUDPSNMP reads the Udp counters of /proc/net/snmp.
func readUDPSNMP() (map[string]int64, error) {
	f, err := os.Open("/proc/net/snmp")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSNMP(f, "Udp")
}

// parseSNMP returns the counters of one protocol of /proc/net/snmp: a header
// line "Udp: Name Name..." followed by a value line "Udp: 1 2...".
func parseSNMP(r io.Reader, proto string) (map[string]int64, error) {
	prefix := proto + ":"
	sc := bufio.NewScanner(r)
	var names []string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != prefix {
			continue
		}
		if names == nil {
			names = f[1:]
			continue
		}
		if len(f)-1 != len(names) {
			return nil, fmt.Errorf("%s: %d names but %d values", proto, len(names), len(f)-1)
		}
		m := make(map[string]int64, len(names))
		for k, name := range names {
			v, err := strconv.ParseInt(f[k+1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s %s: bad value %q", proto, name, f[k+1])
			}
			m[name] = v
		}
		return m, nil
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("no %s value line", proto)
}

// parseMetrics sums, for each metric name, the samples of a Prometheus text
// exposition (all label sets together). Comments and histograms' _bucket
// series are kept under their own names, so callers ask for exact names.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var name, rest string
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				return nil, fmt.Errorf("metrics: unbalanced braces: %q", line)
			}
			name, rest = line[:i], line[j+1:]
		} else {
			var ok bool
			name, rest, ok = strings.Cut(line, " ")
			if !ok {
				return nil, fmt.Errorf("metrics: no value: %q", line)
			}
		}
		f := strings.Fields(rest) // value [timestamp]
		if len(f) < 1 {
			return nil, fmt.Errorf("metrics: no value: %q", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: bad value in %q", line)
		}
		m[name] += v
	}
	return m, sc.Err()
}
