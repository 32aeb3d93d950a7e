//go:build !linux

package pgwire

import "net"

func canCheckPeer(net.Conn) bool { return false }

func peerClosed(net.Conn) bool { return false }
