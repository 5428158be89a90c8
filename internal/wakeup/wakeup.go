// Package wakeup lets one pipeline stage tell another that work is waiting,
// now or at a known time, so that workers sleep while idle instead of
// polling hard. A missed signal only costs latency: every worker also polls
// the store at a slow backstop interval.
package wakeup

import (
	"sync"
	"time"
)

// Signal is a level-triggered, coalescing wake-up: any number of Notify
// calls before the waiter looks collapse into one wake-up.
type Signal struct {
	ch chan struct{}

	mu    sync.Mutex
	timer *time.Timer
	at    time.Time
}

// New returns a Signal.
func New() *Signal { return &Signal{ch: make(chan struct{}, 1)} }

// Notify wakes the waiter now.
func (s *Signal) Notify() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// NotifyAt wakes the waiter at t (or now if t has passed). Only the earliest
// pending time is kept; later ones are found by the backstop poll or by the
// wake-up that the earliest one causes.
func (s *Signal) NotifyAt(t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		s.Notify()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil && !s.at.IsZero() && s.at.Before(t) && time.Until(s.at) > 0 {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.at = t
	s.timer = time.AfterFunc(d, s.Notify)
}

// C is the channel a waiter receives from.
func (s *Signal) C() <-chan struct{} { return s.ch }
