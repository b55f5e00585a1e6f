// Package ssetest reads Server-Sent Events streams in tests: it records when
// each data event and the end of the stream arrived, and the lines sent.
package ssetest

import (
	"bufio"
	"io"
	"strings"
	"sync"
	"time"
)

// Watch reads an event stream in the background.
type Watch struct {
	mu     sync.Mutex
	events []time.Time
	lines  []string
	ended  chan struct{}
	endAt  time.Time
}

// Start reads body until it ends, then closes it.
func Start(body io.ReadCloser) *Watch {
	w := &Watch{ended: make(chan struct{})}
	go func() {
		defer close(w.ended)
		defer body.Close()
		rd := bufio.NewReader(body)
		for {
			line, err := rd.ReadString('\n')
			w.mu.Lock()
			if err != nil {
				w.endAt = time.Now()
				w.mu.Unlock()
				return
			}
			w.lines = append(w.lines, strings.TrimRight(line, "\n"))
			if strings.HasPrefix(line, "data: ") {
				w.events = append(w.events, time.Now())
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// Ended is closed when the stream has ended.
func (w *Watch) Ended() <-chan struct{} { return w.ended }

// EndedAt is when the stream ended (zero while it is open).
func (w *Watch) EndedAt() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.endAt
}

// EventsAfter counts the data events that arrived at or after at.
func (w *Watch) EventsAfter(at time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.events {
		if !e.Before(at) {
			n++
		}
	}
	return n
}

// Has reports whether the stream sent line (without its newline).
func (w *Watch) Has(line string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if l == line {
			return true
		}
	}
	return false
}

// WaitFor polls cond every 5 ms until it holds or limit passes, and reports
// whether it held.
func WaitFor(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); ; time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
