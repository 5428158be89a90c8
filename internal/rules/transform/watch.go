package transform

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
)

// watch enforces one run's time and memory limits from outside the run's
// goroutine. Both end the run the same way: goja's Interrupt, which stops
// JavaScript at its next instruction (it cannot stop a native built-in in
// the middle of a call; see the package documentation).
//
// Memory: goja has no heap limit and Go has no per-goroutine allocation
// counter, so the watch samples the process heap. Every sample interval it
// reads the bytes in heap objects (live and not yet swept) and compares them
// with the reading at the start of the run. When the growth exceeds the
// limit it confirms with a forced collection (at most one at a time,
// process-wide) and compares the live heap after it with an estimate of the
// live heap at the start; only confirmed growth stops the run. The estimate
// can be high (garbage not yet collected, such as a previous stopped run's),
// which makes the effective bound the limit plus that excess; other
// goroutines' growth during the run counts against the run. The first sample comes one interval
// after the start, so the usual run (tens of microseconds) never samples and
// pays only for the start reading.
type watch struct {
	rt       *goja.Runtime
	why      atomic.Pointer[ExecError]
	maxMem   uint64
	interval time.Duration

	mu       sync.Mutex // guards done, the timers and raising the interrupt
	done     bool
	timer    *time.Timer
	memTimer *time.Timer

	// base estimates the live heap at the start of the run: the smaller of
	// the bytes in heap objects then and the live heap at the last
	// collection. trigger is the heap reading that growth is measured from
	// before forcing a collection; it moves up to the live heap after each
	// collection that does not confirm, so a run that makes garbage forces
	// at most one collection per MaxMemoryBytes it allocates.
	base, trigger uint64
}

// startWatch arms the limits of a run on rt.
func startWatch(rt *goja.Runtime, timeout time.Duration, maxMem int64, interval time.Duration) *watch {
	w := &watch{rt: rt, maxMem: uint64(maxMem), interval: interval}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(timeout, func() {
		w.trip(&ExecError{Kind: KindTimeout, Message: fmt.Sprintf("transformation exceeded the %s time limit", timeout)})
	})
	if maxMem > 0 {
		heap, live := readHeap()
		w.base, w.trigger = min(heap, live), heap
		if live == 0 { // no collection yet
			w.base = heap
		}
		w.memTimer = time.AfterFunc(interval, w.sample)
	}
	return w
}

// trip stops the run for the given reason; the first reason wins. After
// stop it does nothing: an interrupt raised then would stay pending in the
// runtime and stop whichever run used it next.
func (w *watch) trip(e *ExecError) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	if w.why.CompareAndSwap(nil, e) {
		w.rt.Interrupt(e)
	}
}

// tripped reports whether a limit stopped the run. Native guards poll it so
// that long native calls stop too.
func (w *watch) tripped() bool { return w.why.Load() != nil }

// reason is why the run was stopped, nil if it was not.
func (w *watch) reason() *ExecError { return w.why.Load() }

// stop disarms the limits once the run is over; no interrupt can be raised
// after it returns.
func (w *watch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	w.timer.Stop()
	if w.memTimer != nil {
		w.memTimer.Stop()
	}
}

func (w *watch) sample() {
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done || w.tripped() {
		return
	}
	heap, _ := readHeap()
	if heap > w.trigger && heap-w.trigger > w.maxMem {
		if live, ok := confirmLive(); ok {
			if live > w.base && live-w.base > w.maxMem {
				w.trip(&ExecError{Kind: KindMemory, Message: fmt.Sprintf(
					"transformation exceeded the memory limit: the heap grew by %d MiB during the run; the limit is %d MiB",
					(live-w.base)>>20, w.maxMem>>20)})
				return
			}
			w.trigger = live
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.memTimer.Reset(w.interval)
	}
}

// heapMetrics are read together: bytes in heap objects now, and the live
// heap as of the last completed collection.
var heapMetrics = [...]string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes"}

func readHeap() (heap, live uint64) {
	s := [len(heapMetrics)]metrics.Sample{{Name: heapMetrics[0]}, {Name: heapMetrics[1]}}
	metrics.Read(s[:])
	if s[0].Value.Kind() == metrics.KindUint64 {
		heap = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		live = s[1].Value.Uint64()
	}
	return heap, live
}

// gcMu serializes forced collections: the heap is the process's, so one
// confirmation serves whichever runs are waiting.
var gcMu sync.Mutex

// collectGarbage forces a collection, unless one is already being forced.
func collectGarbage() {
	if gcMu.TryLock() {
		runtime.GC()
		gcMu.Unlock()
	}
}

// confirmLive forces a collection and returns the live heap after it; ok is
// false when another confirmation is in progress (the caller retries at its
// next sample).
func confirmLive() (live uint64, ok bool) {
	if !gcMu.TryLock() {
		return 0, false
	}
	defer gcMu.Unlock()
	runtime.GC()
	_, live = readHeap()
	return live, true
}
