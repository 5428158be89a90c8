package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

func dedupCases() []testCase {
	return []testCase{
		{"Dedup/Window", testDedupWindow},
		{"Dedup/OneCall", testDedupOneCall},
		{"Dedup/Concurrent", testDedupConcurrent},
	}
}

// dedup checks keys at now and fails the test unless the answer is want.
func (f *fixture) dedup(what string, now time.Time, keys []store.DedupKey, want ...bool) {
	f.t.Helper()
	got, err := f.s.CheckDedup(f.ctx, keys, now)
	if err != nil {
		f.t.Fatalf("CheckDedup %s: %v", what, err)
	}
	if !slices.Equal(got, want) {
		f.t.Fatalf("CheckDedup %s = %v, want %v", what, got, want)
	}
}

func testDedupWindow(t *testing.T, f *fixture) {
	conn, other := model.NewID(model.PrefixConnection), model.NewID(model.PrefixConnection)
	r1, r2, r3 := model.NewID(model.PrefixRequest), model.NewID(model.PrefixRequest), model.NewID(model.PrefixRequest)
	key := func(connID, hash, req string, expires time.Duration) []store.DedupKey {
		return []store.DedupKey{{ConnectionID: connID, Hash: hash, RequestID: req, ExpiresAt: f.at(expires)}}
	}
	f.dedup("empty", f.now, nil)
	f.dedup("new key", f.now, key(conn, "h", r1, time.Minute), false)
	f.dedup("same hash, other request, inside the window", f.at(10*time.Second), key(conn, "h", r2, 70*time.Second), true)
	// The duplicate recorded nothing: the key still belongs to r1.
	f.dedup("the duplicate's request again", f.at(20*time.Second), key(conn, "h", r2, 80*time.Second), true)
	f.dedup("same request again (a retry after a crash)", f.at(30*time.Second), key(conn, "h", r1, 90*time.Second), false)
	// The retry re-recorded the key with its later expiry.
	f.dedup("other request after the first expiry, inside the new one", f.at(70*time.Second), key(conn, "h", r2, 130*time.Second), true)
	f.dedup("other hash", f.at(70*time.Second), key(conn, "h2", r2, 130*time.Second), false)
	f.dedup("same hash on another connection", f.at(70*time.Second), key(other, "h", r2, 130*time.Second), false)
	f.dedup("same hash on the other connection, inside its window", f.at(80*time.Second), key(other, "h", r3, 140*time.Second), true)

	// At its expiry time a key is out of its window: the next request
	// records it afresh.
	f.dedup("other request at the expiry", f.at(90*time.Second), key(conn, "h", r3, 150*time.Second), false)
	f.dedup("first request inside the new window", f.at(100*time.Second), key(conn, "h", r1, 160*time.Second), true)
	f.dedup("new owner again", f.at(110*time.Second), key(conn, "h", r3, 170*time.Second), false)
	f.dedup("long after", f.at(time.Hour), key(conn, "h", r2, time.Hour+time.Minute), false)
	f.dedup("inside the latest window", f.at(time.Hour+time.Second), key(conn, "h", r1, time.Hour+2*time.Minute), true)
}

func testDedupOneCall(t *testing.T, f *fixture) {
	c1, c2 := model.NewID(model.PrefixConnection), model.NewID(model.PrefixConnection)
	r1, r2, r3 := model.NewID(model.PrefixRequest), model.NewID(model.PrefixRequest), model.NewID(model.PrefixRequest)
	exp := f.at(time.Minute)
	k := func(connID, hash, req string) store.DedupKey {
		return store.DedupKey{ConnectionID: connID, Hash: hash, RequestID: req, ExpiresAt: exp}
	}
	// Keys are considered in order: of two equal keys of different
	// requests, the second is the duplicate; a request's own key repeated
	// is not; keys of other connections or hashes are independent.
	f.dedup("one call", f.now, []store.DedupKey{
		k(c1, "b", r2), k(c1, "a", r1), k(c2, "a", r2), k(c1, "a", r2), k(c1, "a", r1), k(c2, "a", r2), k(c2, "a", r3),
	}, false, false, false, true, false, false, true)
	f.dedup("later call", f.at(time.Second), []store.DedupKey{
		k(c1, "a", r3), k(c1, "b", r2), k(c2, "a", r2), k(c1, "c", r3), k(c1, "c", r1),
	}, true, false, false, false, true)
}

// testDedupConcurrent records one key from many requests at once: exactly
// one of them owns it.
func testDedupConcurrent(t *testing.T, f *fixture) {
	conn := model.NewID(model.PrefixConnection)
	const n = 16
	var wg sync.WaitGroup
	dup := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			keys := []store.DedupKey{
				// A key shared by all, and one of its own, in both orders.
				{ConnectionID: conn, Hash: "shared", RequestID: fmt.Sprintf("req_%02d", i), ExpiresAt: f.at(time.Minute)},
				{ConnectionID: conn, Hash: fmt.Sprintf("own_%02d", i), RequestID: fmt.Sprintf("req_%02d", i), ExpiresAt: f.at(time.Minute)},
			}
			if i%2 == 1 {
				keys[0], keys[1] = keys[1], keys[0]
			}
			got, err := f.s.CheckDedup(f.ctx, keys, f.now)
			errs[i] = err
			if err == nil && len(got) == 2 {
				if i%2 == 1 {
					got[0], got[1] = got[1], got[0]
				}
				if got[1] {
					errs[i] = fmt.Errorf("own key reported as a duplicate")
				}
				dup[i] = got[0]
			} else if err == nil {
				errs[i] = fmt.Errorf("%d answers for 2 keys", len(got))
			}
		})
	}
	wg.Wait()
	owners := 0
	for i := range n {
		must(t, fmt.Sprintf("CheckDedup #%d", i), errs[i])
		if !dup[i] {
			owners++
		}
	}
	if owners != 1 {
		t.Fatalf("%d requests own the shared key, want 1", owners)
	}
}
