//go:build linux

package collector

import (
	"net"
	"syscall"
)

// setUDPReadBuffer asks for a receive buffer of size bytes. SO_RCVBUFFORCE
// (root or CAP_NET_ADMIN) goes past net.core.rmem_max, which is usually far
// too small for bursts of syslog; without the privilege the request is
// silently capped to rmem_max. It returns the size the kernel grants (the
// kernel doubles the request for its bookkeeping; that is halved back here).
func setUDPReadBuffer(c *net.UDPConn, size int) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var forceErr error
	if err := rc.Control(func(fd uintptr) {
		forceErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size)
	}); err != nil {
		return 0, err
	}
	if forceErr != nil {
		if err := c.SetReadBuffer(size); err != nil {
			return 0, err
		}
	}
	got := 0
	var getErr error
	if err := rc.Control(func(fd uintptr) {
		got, getErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	}); err != nil {
		return 0, err
	}
	return got / 2, getErr
}

// msgTrunc is the recvmsg flag set on a datagram cut to fit the buffer.
const msgTrunc = syscall.MSG_TRUNC
