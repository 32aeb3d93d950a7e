package sql

import (
	"container/list"
	"sync"
)

// parseCache is a bounded LRU of parsed query strings. Repeated statements
// (a driver's single-row INSERT in a loop) skip tokenizing, translation and
// the TiDB parse. Entries are shared between callers, so statements from
// the cache are read-only.
type parseCache struct {
	maxEntries int
	maxText    int // longer query strings are not cached
	mu         struct {
		sync.Mutex
		lru     *list.List // front is most recent; values are *cacheEntry
		entries map[string]*list.Element
	}
}

type cacheEntry struct {
	sql   string
	stmts []Statement
}

var defaultCache = newParseCache(4096, 64<<10)

func newParseCache(maxEntries, maxText int) *parseCache {
	c := &parseCache{maxEntries: maxEntries, maxText: maxText}
	c.mu.lru = list.New()
	c.mu.entries = make(map[string]*list.Element)
	return c
}

func (c *parseCache) parse(sql string) ([]Statement, error) {
	if len(sql) > c.maxText {
		return ParseUncached(sql)
	}
	c.mu.Lock()
	if e, ok := c.mu.entries[sql]; ok {
		c.mu.lru.MoveToFront(e)
		stmts := e.Value.(*cacheEntry).stmts
		c.mu.Unlock()
		return stmts, nil
	}
	c.mu.Unlock()
	stmts, err := ParseUncached(sql)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.entries[sql]; !ok {
		c.mu.entries[sql] = c.mu.lru.PushFront(&cacheEntry{sql: sql, stmts: stmts})
		for c.mu.lru.Len() > c.maxEntries {
			old := c.mu.lru.Back()
			c.mu.lru.Remove(old)
			delete(c.mu.entries, old.Value.(*cacheEntry).sql)
		}
	}
	return stmts, nil
}
