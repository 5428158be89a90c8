package wakeup

import (
	"testing"
	"time"
)

func TestNotifyCoalesces(t *testing.T) {
	s := New()
	s.Notify()
	s.Notify()
	<-s.C()
	select {
	case <-s.C():
		t.Fatal("two notifications before a wait gave two wake-ups")
	default:
	}
}

func TestNotifyAtKeepsEarliest(t *testing.T) {
	s := New()
	start := time.Now()
	s.NotifyAt(start.Add(time.Hour))
	s.NotifyAt(start.Add(20 * time.Millisecond))
	s.NotifyAt(start.Add(time.Hour)) // later: must not replace the earlier timer
	select {
	case <-s.C():
		if time.Since(start) < 20*time.Millisecond {
			t.Fatal("woke before the earliest time")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up at the earliest time")
	}
}
