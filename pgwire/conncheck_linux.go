package pgwire

import (
	"golang.org/x/sys/unix"
	"net"
	"syscall"
)

// canCheckPeer reports whether peerClosed can look at c's socket.
func canCheckPeer(c net.Conn) bool {
	_, ok := c.(syscall.Conn)
	return ok
}

// peerClosed asks the kernel whether the client hung up, without reading
// or blocking, as PostgreSQL's client_connection_check_interval does
// (POLLRDHUP): a client that closed its socket is gone even when unread
// bytes (a Terminate message, say) are still queued. It uses
// RawConn.Control, not Read, so it never waits for the fd's read lock held
// by a blocked reader.
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
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		n, err := unix.Poll(fds, 0)
		if err != nil || n == 0 {
			return
		}
		closed = fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
	})
	return closed
}
