package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// sourceCacheTTL is how long ingest reuses a source it looked up. Loading
// the source and counting its connections were most of the ingest
// handler's CPU; with the cache, a change to a source (disabled,
// verification, allowed methods, custom response) applies to ingest
// within this time.
const sourceCacheTTL = time.Second

// sourceInfo is what ingest needs to know about a source.
type sourceInfo struct {
	source      model.Source
	connections int
	expires     time.Time
}

// sourceCache memoises sources with at least one connection. A source
// without connections is looked up every time, so that a connection
// created a moment ago is never missed (the request would be recorded as
// NO_CONNECTION).
type sourceCache struct {
	store Store
	mu    sync.Mutex
	items map[string]sourceInfo
}

func newSourceCache(st Store) *sourceCache {
	return &sourceCache{store: st, items: map[string]sourceInfo{}}
}

// lookup returns the source and its number of connections. Errors are the
// store's (store.ErrNotFound for an unknown source).
func (c *sourceCache) lookup(ctx context.Context, teamID, id string) (model.Source, int, error) {
	now := time.Now()
	c.mu.Lock()
	it, ok := c.items[id]
	c.mu.Unlock()
	if ok && now.Before(it.expires) {
		return it.source, it.connections, nil
	}
	src, err := c.store.GetSource(ctx, teamID, id)
	if err != nil {
		return src, 0, err
	}
	n, err := c.store.CountConnections(ctx, store.ConnectionFilter{TeamID: teamID, SourceIDs: []string{src.ID}})
	if err != nil {
		return src, 0, err
	}
	c.mu.Lock()
	if n > 0 {
		if len(c.items) >= 10000 {
			clear(c.items)
		}
		c.items[id] = sourceInfo{source: src, connections: n, expires: now.Add(sourceCacheTTL)}
	} else {
		delete(c.items, id)
	}
	c.mu.Unlock()
	return src, n, nil
}
