package vec

import (
	"math/bits"
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
	mu sync.Mutex
	// free holds released buffers by capacity class: class c has cap 1<<c.
	free [64][][]byte
}

var _ memory.Allocator = (*bufferPool)(nil)

func newBufferPool() *bufferPool { return &bufferPool{} }

// class is the capacity class that holds size bytes. Buffers are kept by
// power-of-two capacity, so a reader whose requests vary a little (a
// Parquet page's values, say) still finds the last batch's buffers.
func class(size int) int { return bits.Len(uint(size - 1)) }

func (p *bufferPool) Allocate(size int) []byte {
	if size <= 0 {
		return memory.DefaultAllocator.Allocate(size)
	}
	c := class(size)
	p.mu.Lock()
	list := p.free[c]
	if n := len(list); n > 0 {
		b := list[n-1]
		p.free[c] = list[:n-1]
		p.mu.Unlock()
		b = b[:size]
		clear(b)
		return b
	}
	p.mu.Unlock()
	return memory.DefaultAllocator.Allocate(1 << c)[:size]
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

// Free keeps b for a later Allocate of its class (a batch's buffers have
// about the sizes of the next batch's).
func (p *bufferPool) Free(b []byte) {
	c := cap(b)
	if c == 0 || c&(c-1) != 0 {
		return // not one of ours: the garbage collector takes it
	}
	k := class(c)
	p.mu.Lock()
	if len(p.free[k]) < 64 {
		p.free[k] = append(p.free[k], b[:0])
	}
	p.mu.Unlock()
}
