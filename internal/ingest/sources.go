package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

// sourceCacheTTL is how long ingest reuses a source it looked up. Loading
// the source was most of the ingest handler's CPU; with the cache, a
// change to a source (disabled, verification, allowed methods, custom
// response) applies to ingest within this time. Whether the source has a
// connection is not cached: the store decides it when it commits the
// request (NO_CONNECTION).
const sourceCacheTTL = time.Second

// maxCachedSources bounds the cache; it is emptied when full.
const maxCachedSources = 10000

// cachedSource is a looked-up source and when to look it up again.
type cachedSource struct {
	source  model.Source
	expires time.Time
}

// sourceCache memoises sources for sourceCacheTTL.
type sourceCache struct {
	store Store
	mu    sync.Mutex
	items map[string]cachedSource
}

func newSourceCache(st Store) *sourceCache {
	return &sourceCache{store: st, items: map[string]cachedSource{}}
}

// lookup returns the source. Errors are the store's (store.ErrNotFound for
// an unknown source, which is not cached).
func (c *sourceCache) lookup(ctx context.Context, teamID, id string) (model.Source, error) {
	now := time.Now()
	c.mu.Lock()
	it, ok := c.items[id]
	c.mu.Unlock()
	if ok && now.Before(it.expires) {
		return it.source, nil
	}
	src, err := c.store.GetSource(ctx, teamID, id)
	if err != nil {
		return src, err
	}
	c.mu.Lock()
	if len(c.items) >= maxCachedSources {
		clear(c.items)
	}
	c.items[id] = cachedSource{source: src, expires: now.Add(sourceCacheTTL)}
	c.mu.Unlock()
	return src, nil
}
