package bench

import (
	"math"
	"sync/atomic"
	"time"
)

// histogram records durations in logarithmic buckets 2% wide, from 1 µs to
// about 20 minutes, with atomic counters: fixed memory whatever the number
// of samples (a backlog run sends a million), safe for concurrent use, and
// quantiles within 2%.
type histogram struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
}

const (
	histGrowth  = 1.02
	histBuckets = 1100 // 1.02^1100 µs ≈ 2.9e9 µs
)

var logGrowth = math.Log(histGrowth)

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return min(int(math.Log(us)/logGrowth), histBuckets-1)
}

// Record adds one sample.
func (h *histogram) Record(d time.Duration) {
	h.counts[bucketOf(d)].Add(1)
	h.n.Add(1)
}

// Count is the number of samples.
func (h *histogram) Count() int64 { return h.n.Load() }

// Quantile returns the q-quantile (0 < q ≤ 1): the upper edge of the
// bucket holding it, so it errs high by at most 2%. Zero when empty.
func (h *histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(math.Pow(histGrowth, float64(i+1)) * float64(time.Microsecond))
		}
	}
	return time.Duration(math.Pow(histGrowth, histBuckets) * float64(time.Microsecond))
}

// reset empties the histogram.
func (h *histogram) reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.n.Store(0)
}
