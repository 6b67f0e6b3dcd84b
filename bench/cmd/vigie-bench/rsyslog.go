package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// defaultRsyslogd is where the Debian package rsyslog installs the daemon.
const defaultRsyslogd = "/usr/sbin/rsyslogd"

// udpRcvBuf is the UDP socket buffer asked of rsyslog's imudp: vigie's
// collector asks 8 MiB by default, so both peers get the same.
const udpRcvBuf = "8m"

// rsyslogServer is one rsyslogd started by the harness in the foreground with
// a configuration of its own: imtcp and imudp on loopback ports, every message
// written by omfile (default template) to one file.
type rsyslogServer struct {
	cmd      *exec.Cmd
	dir      string
	tcpAddr  string
	udpAddr  string
	outFile  string
	logPath  string
	done     chan struct{}
	waitErr  error
	lines    *lineCounter
	lastMove time.Time // when waitLines last saw the count move
}

// rsyslogConfig is the configuration for one harness rsyslogd: no imuxsock,
// no imklog, nothing but the two network inputs and one file.
func rsyslogConfig(workDir, outFile string, tcpPort, udpPort int) string {
	return fmt.Sprintf(`# written by vigie-bench
global(workDirectory=%q maxMessageSize="64k")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="%d")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="%d" rcvBufSize=%q)
*.* action(type="omfile" file=%q)
`, workDir, tcpPort, udpPort, udpRcvBuf, outFile)
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

// startRsyslog starts bin -n -f CONF -i PIDFILE in dir and waits until its
// TCP input accepts connections.
func startRsyslog(ctx context.Context, bin, dir string) (*rsyslogServer, error) {
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	addrs, err := freeAddrs(1, 1)
	if err != nil {
		return nil, err
	}
	s := &rsyslogServer{
		dir: dir, tcpAddr: addrs[0], udpAddr: addrs[1],
		outFile: filepath.Join(dir, "messages.log"),
		logPath: filepath.Join(dir, "rsyslogd.log"),
		done:    make(chan struct{}),
	}
	s.lines = &lineCounter{path: s.outFile}
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, []byte(rsyslogConfig(work, s.outFile, portOf(s.tcpAddr), portOf(s.udpAddr))), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.tcpAddr, time.Second)
		if err == nil {
			c.Close()
			// imudp starts with imtcp; give the inputs a moment to settle.
			time.Sleep(300 * time.Millisecond)
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("rsyslogd exited during startup (%v): %s", s.waitErr, tail(s.logPath, 1500))
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("rsyslogd: TCP input %s not accepting after 30 s: %s", s.tcpAddr, tail(s.logPath, 1500))
		}
	}
}

func (s *rsyslogServer) pid() int { return s.cmd.Process.Pid }

func (s *rsyslogServer) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// waitLines polls the output file every 20 ms until it holds target lines or
// its count has not moved for stall; bounded by timeout. It returns the count
// and when it was seen.
func (s *rsyslogServer) waitLines(ctx context.Context, target int64, stall, timeout time.Duration) (int64, time.Time, error) {
	deadline := time.Now().Add(timeout)
	changed := time.Now()
	s.lastMove = changed
	var last int64 = -1
	for {
		n, err := s.lines.count()
		now := time.Now()
		if err != nil {
			return n, now, err
		}
		if n != last {
			if last >= 0 {
				s.lastMove = now
			}
			last, changed = n, now
		}
		if n >= target {
			return n, now, nil
		}
		if now.Sub(changed) >= stall {
			return n, now, fmt.Errorf("rsyslog output stalled at %d lines for %s, want %d", n, stall, target)
		}
		if now.After(deadline) {
			return n, now, fmt.Errorf("rsyslog output at %d lines after %s, want %d", n, timeout, target)
		}
		if !s.alive() {
			return n, now, fmt.Errorf("rsyslogd exited (%v): %s", s.waitErr, tail(s.logPath, 1500))
		}
		select {
		case <-ctx.Done():
			return n, now, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits (60 s, then SIGKILL).
func (s *rsyslogServer) stop() error {
	if !s.alive() {
		return fmt.Errorf("rsyslogd had exited (%v): %s", s.waitErr, tail(s.logPath, 1500))
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.kill()
		return fmt.Errorf("rsyslogd did not stop within 60 s of SIGTERM: killed")
	}
	if s.waitErr != nil {
		return fmt.Errorf("rsyslogd exit after SIGTERM: %v: %s", s.waitErr, tail(s.logPath, 1500))
	}
	return nil
}

func (s *rsyslogServer) kill() {
	if s.alive() {
		s.cmd.Process.Kill()
		<-s.done
	}
}

// lineCounter counts the newlines of a growing file, reading only what was
// appended since the last call. A missing file counts 0.
type lineCounter struct {
	path  string
	off   int64
	lines int64
	buf   []byte
}

func (c *lineCounter) count() (int64, error) {
	f, err := os.Open(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return c.lines, nil
	}
	if err != nil {
		return c.lines, err
	}
	defer f.Close()
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	for {
		n, err := f.ReadAt(c.buf, c.off)
		c.lines += int64(bytes.Count(c.buf[:n], []byte{'\n'}))
		c.off += int64(n)
		if errors.Is(err, io.EOF) {
			return c.lines, nil
		}
		if err != nil {
			return c.lines, err
		}
	}
}
