package bench

import (
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"single", []time.Duration{3 * time.Millisecond}, 0.99, 3 * time.Millisecond},
		{"median of 1..100 ms", ramp(100, time.Millisecond), 0.5, 50 * time.Millisecond},
		{"p99 of 1..100 ms", ramp(100, time.Millisecond), 0.99, 99 * time.Millisecond},
		{"sub-microsecond", []time.Duration{100 * time.Nanosecond}, 0.5, time.Microsecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			for _, s := range tc.samples {
				h.Record(s)
			}
			got := h.Quantile(tc.q)
			lo, hi := float64(tc.want), float64(tc.want)*1.021
			if tc.want == time.Microsecond {
				lo = float64(tc.want) * 0.97 // the first bucket's edge
			}
			if float64(got) < lo || float64(got) > hi {
				t.Fatalf("Quantile(%v) = %v, want %v (+2%%)", tc.q, got, tc.want)
			}
		})
	}
}

func ramp(n int, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * step
	}
	return out
}
