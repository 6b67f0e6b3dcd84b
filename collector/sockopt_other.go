//go:build !linux

package collector

import "net"

// setUDPReadBuffer asks for a receive buffer of size bytes; other systems
// cap it silently, and do not say by how much, so the request is returned.
func setUDPReadBuffer(c *net.UDPConn, size int) (int, error) {
	return size, c.SetReadBuffer(size)
}

// msgTrunc: the recvmsg flag for a cut datagram is not relied upon here;
// a full buffer is taken as a cut datagram instead.
const msgTrunc = 0
