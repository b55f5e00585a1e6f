package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/sqlstore"
)

// writeLoad drives changes against one server and records which were
// acknowledged with SUCCESS, so that a test can require every one of them to
// survive a crash, an outage or a shutdown. One goroutine updates a member
// card sequentially ($points_en_US$ = 1, 2, …; sequential, so "the last
// acknowledged value or a later one" is well defined); the others create
// member cards with distinct bizSerialIds.
type writeLoad struct {
	c      *apiClient
	addr   string
	cardID string
	prefix string // of the bizSerialIds of created passes
	// keepGoing: after a transport error, pause and go on (the server is
	// meant to be up; the error is recorded) instead of stopping (the
	// server was killed or shut down).
	keepGoing bool

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	mu           sync.Mutex
	attempted    int               // highest points value sent
	lastPoints   int               // highest points value acknowledged
	updatesAcked int               // acknowledged updates of the card
	created      map[string]string // bizSerialId → passId, acknowledged creates
	acked        map[string]bool   // Tracer-Ids of SUCCESS responses
	codes        map[string]int    // result codes; "transport" for no answer
	successes    []span            // every SUCCESS, when sent and answered
	transport    []error           // requests that got no answer
	bad          []error           // answers that failed a check
}

type span struct{ sent, done time.Time }

const (
	loadMaxOps  = 5000 // per goroutine: a bound, never reached in practice
	loadMaxTime = 60 * time.Second
)

// startWriteLoad creates the card, then starts the updater and `creators`
// creating goroutines.
func startWriteLoad(t testing.TB, c *apiClient, addr, prefix string, creators int, keepGoing bool) *writeLoad {
	t.Helper()
	l := &writeLoad{
		c: c, addr: addr, prefix: prefix, keepGoing: keepGoing, stop: make(chan struct{}),
		created: map[string]string{}, acked: map[string]bool{}, codes: map[string]int{},
	}
	l.cardID = c.call(t, addr, "createPass", memberCreate(prefix+"card"), "SUCCESS").passID()
	deadline := time.Now().Add(loadMaxTime)
	l.wg.Go(func() {
		for i := 1; i <= loadMaxOps && time.Now().Before(deadline); i++ {
			l.mu.Lock()
			l.attempted = i
			l.mu.Unlock()
			if !l.do("updatePass", pointsUpdate(l.cardID, i), func(*apiResp) {
				l.lastPoints, l.updatesAcked = i, l.updatesAcked+1
			}) {
				return
			}
		}
	})
	for w := range creators {
		l.wg.Go(func() {
			for n := 0; n < loadMaxOps && time.Now().Before(deadline); n++ {
				serial := fmt.Sprintf("%s%d-%d", prefix, w, n)
				if !l.do("createPass", memberCreate(serial), func(r *apiResp) { l.created[serial] = r.passID() }) {
					return
				}
			}
		})
	}
	return l
}

// do sends one request and records its outcome (ack runs under l.mu on
// SUCCESS). It reports whether to go on.
func (l *writeLoad) do(op, body string, ack func(*apiResp)) bool {
	select {
	case <-l.stop:
		return false
	default:
	}
	sent := time.Now()
	var resp *apiResp
	r, err := l.c.sign(op, body)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		resp, err = l.c.send(ctx, l.addr, r)
		cancel()
	}
	if errors.Is(err, errTransport) {
		l.mu.Lock()
		l.codes["transport"]++
		l.transport = append(l.transport, err)
		l.mu.Unlock()
		if l.keepGoing {
			time.Sleep(20 * time.Millisecond)
		}
		return l.keepGoing
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.bad = append(l.bad, err)
		return true
	}
	l.codes[resp.code]++
	if resp.code == "SUCCESS" {
		l.acked[resp.tracer] = true
		l.successes = append(l.successes, span{sent, resp.at})
		ack(resp)
	}
	return true
}

// finish stops the goroutines and waits for them; it may be called again.
func (l *writeLoad) finish() {
	l.stopOnce.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// waitAcks waits until n more changes have been acknowledged (bounded).
func (l *writeLoad) waitAcks(t testing.TB, n int) {
	t.Helper()
	l.mu.Lock()
	want := len(l.acked) + n
	l.mu.Unlock()
	for deadline := time.Now().Add(20 * time.Second); ; {
		l.mu.Lock()
		got := len(l.acked)
		l.mu.Unlock()
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("write load: %d acknowledged changes after 20s, want %d; results so far %v", got, want, l.codes)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// count returns how many answers had result code.
func (l *writeLoad) count(code string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.codes[code]
}

func (l *writeLoad) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("results %v; %d creates and %d updates acknowledged (points %d acknowledged, %d sent)",
		l.codes, len(l.created), l.updatesAcked, l.lastPoints, l.attempted)
}

// checkDurable requires every acknowledged change to be in the database:
// each acknowledged create exists with the passId it was answered with, and
// the card holds the last acknowledged points value or a later one sent, at a
// version counting at least every acknowledged update.
func (l *writeLoad) checkDurable(t testing.TB, db *sqlstore.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	for serial, id := range l.created {
		p, err := db.PassBySerial(ctx, merchant44, serial)
		if err != nil || p.ID != id {
			t.Errorf("acknowledged create %s (pass %s) is lost: %v %v", serial, id, p, err)
		}
	}
	card, err := db.PassByID(ctx, l.cardID)
	if err != nil {
		t.Fatalf("card %s: %v", l.cardID, err)
	}
	points, err := strconv.Atoi(string(card.DataInfo["$points_en_US$"]))
	if err != nil || points < l.lastPoints || points > l.attempted {
		t.Errorf("card points %s, want from %d (last acknowledged) to %d (last sent)", card.DataInfo["$points_en_US$"], l.lastPoints, l.attempted)
	}
	if card.Version < 1+l.updatesAcked {
		t.Errorf("card version %d, want ≥ 1 + %d acknowledged updates", card.Version, l.updatesAcked)
	}
}

// checkAllAnswered requires the converse, for a graceful stop: every change
// the database holds was acknowledged to the client, so no request that the
// server carried out lost its response.
func (l *writeLoad) checkAllAnswered(t testing.TB, db *sqlstore.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	h, err := db.History(ctx, l.cardID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range h[1:] {
		if !l.acked[v.TracerID] {
			t.Errorf("card version %d (Tracer-Id %s) was applied but its response never reached the client", v.Version, v.TracerID)
		}
	}
	ids, err := db.PassIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		p, err := db.PassByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p.BizSerialID, l.prefix) && p.ID != l.cardID && l.created[p.BizSerialID] != p.ID {
			t.Errorf("pass %s (%s) was created but its response never reached the client", p.ID, p.BizSerialID)
		}
	}
}

// checkResponses fails the test for every answer that failed a check.
func (l *writeLoad) checkResponses(t testing.TB) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	firstErrors(t, l.bad)
}
