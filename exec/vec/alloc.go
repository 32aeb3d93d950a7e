package vec

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// bufferPool is the Arrow allocator of a scan. Every record batch hands its
// buffers back when it is released, and the next batch's builders take
// them, so a scan of a large table allocates a few batches' worth of
// memory instead of the whole table's, and gives the garbage collector
// next to nothing to do. Arrow's builders expect zeroed memory (a NULL
// only leaves its validity bit unset), so reused buffers are cleared.
type bufferPool struct {
	mu   sync.Mutex
	free map[int][][]byte
}

var _ memory.Allocator = (*bufferPool)(nil)

func newBufferPool() *bufferPool { return &bufferPool{free: map[int][][]byte{}} }

func (p *bufferPool) Allocate(size int) []byte {
	p.mu.Lock()
	list := p.free[size]
	if n := len(list); n > 0 {
		b := list[n-1]
		p.free[size] = list[:n-1]
		p.mu.Unlock()
		clear(b)
		return b
	}
	p.mu.Unlock()
	return memory.DefaultAllocator.Allocate(size)
}

func (p *bufferPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free keeps b for an Allocate of its length (a batch's buffers have the
// same sizes as the next batch's).
func (p *bufferPool) Free(b []byte) {
	if len(b) == 0 {
		return
	}
	p.mu.Lock()
	if len(p.free[len(b)]) < 64 {
		p.free[len(b)] = append(p.free[len(b)], b)
	}
	p.mu.Unlock()
}
