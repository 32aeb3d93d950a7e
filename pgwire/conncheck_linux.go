package pgwire

import (
	"net"
	"syscall"
)

// canCheckPeer reports whether peerClosed can look at c's socket.
func canCheckPeer(c net.Conn) bool {
	_, ok := c.(syscall.Conn)
	return ok
}

// peerClosed peeks at the socket without consuming or blocking, as
// PostgreSQL's client_connection_check_interval does: a readable socket with
// no data means the client closed it. It uses RawConn.Control, not Read, so
// it never waits for the fd's read lock held by a blocked reader.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil:
			closed = n == 0
		case err == syscall.EAGAIN || err == syscall.EINTR:
		default:
			closed = true
		}
	})
	return closed
}
