package service

import (
	"context"
	"sync"
	"time"
)

// A sandbox moves "now" per merchant (docs/sandbox.md, "A clock per
// merchant"): expiry and the status a pass shows follow the merchant's
// clock. Production services have no Clocks and read nothing.

// DefaultClockRefresh is how long the offsets read are trusted.
const DefaultClockRefresh = time.Second

// clockCache holds every moved merchant's offset, read at most once per
// refresh: one read a second for the whole service, none per request.
type clockCache struct {
	mu      sync.Mutex
	offsets map[string]time.Duration
	readAt  time.Time
}

// merchantNow is now as merchantID's clock reads it.
func (s *Service) merchantNow(ctx context.Context, merchantID string, now time.Time) (time.Time, error) {
	if s.Clocks == nil {
		return now, nil
	}
	c := &s.clocks
	c.mu.Lock()
	defer c.mu.Unlock()
	refresh := s.ClockRefresh
	if refresh <= 0 {
		refresh = DefaultClockRefresh
	}
	if c.offsets == nil || time.Since(c.readAt) >= refresh {
		offsets, err := s.Clocks.ClockOffsets(ctx)
		if err != nil {
			return now, err
		}
		c.offsets, c.readAt = offsets, time.Now()
	}
	return now.Add(c.offsets[merchantID]), nil
}
