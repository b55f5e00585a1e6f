package service

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ipass-dev/ipass"
)

// parallel runs n calls of f at once and returns their errors by index.
func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = f(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func countCodes(errs []error) map[ipass.Code]int {
	m := map[ipass.Code]int{}
	for _, err := range errs {
		m[ipass.ErrorCode(err)]++
	}
	return m
}

// Two different USED on one pass: exactly one wins (5.3).
func TestConcurrentUsed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller := ipass.Caller{ClientID: client44}
	for round := range 5 {
		id, err := e.svc.CreatePass(ctx, caller, []byte(replace(create83, `"GC-0001"`, fmt.Sprintf(`"GC-R%d"`, round))))
		if err != nil {
			t.Fatal(err)
		}
		errs := parallel(2, func(i int) error {
			return e.svc.UpdatePass(ctx, caller, []byte(fmt.Sprintf(
				`{"merchantId":"2160120036095023","openId":"fj398457jd8iue98d8w7w93j","passId":"%s","status":"USED","passVerifyCode":"V%d"}`, id, i)))
		})
		got := countCodes(errs)
		if got[ipass.CodeSuccess] != 1 || got[ipass.CodePassUsedOccupied] != 1 {
			t.Fatalf("round %d: results %v (%v), want one SUCCESS and one PASS_USED_OCCUPIED", round, got, errs)
		}
		p, err := e.db.PassByID(ctx, id)
		if err != nil || p.Version != 2 || p.Status != ipass.StatusUsed {
			t.Fatalf("round %d: pass %+v %v", round, p, err)
		}
	}
}

// Concurrent UPDATEs of different keys all merge: none is lost (5.3).
func TestConcurrentUpdatesMerge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller := ipass.Caller{ClientID: client44}
	id, err := e.svc.CreatePass(ctx, caller, []byte(create84))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, name := range []string{"ticketName", "address", "availableTimes", "price", "startTime", "endTime"} {
		keys = append(keys, "$"+name+"_zh_HK$", "$"+name+"_en_US$")
	}
	errs := parallel(len(keys), func(i int) error {
		return e.svc.UpdatePass(ctx, caller, []byte(fmt.Sprintf(
			`{"merchantId":"2160120036095023","userId":"2160220043214225","passId":"%s","status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735776000000,"dataInfo":{%q:"v%d"}}`,
			id, keys[i], i)))
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	p, err := e.db.PassByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 1+len(keys) {
		t.Fatalf("version %d, want %d", p.Version, 1+len(keys))
	}
	for i, k := range keys {
		if got, want := string(p.DataInfo[k]), fmt.Sprintf(`"v%d"`, i); got != want {
			t.Errorf("%s = %s, want %s (a merge was lost)", k, got, want)
		}
	}
	h, err := e.db.History(ctx, id)
	if err != nil || len(h) != p.Version {
		t.Fatalf("history %d entries (%v), want %d", len(h), err, p.Version)
	}
}

// Concurrent identical creates make one pass and all get its passId (4.4).
func TestConcurrentIdenticalCreates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := make([]string, 6)
	errs := parallel(len(ids), func(i int) error {
		body := create81
		if i%2 == 1 { // the other spelling of the same user
			body = replace(create81, `"userId":"2160220037090534"`, `"openId":"fj398457jd8iue98d8w7w93j"`)
		}
		var err error
		ids[i], err = e.svc.CreatePass(ctx, ipass.Caller{ClientID: client44}, []byte(body))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		if ids[i] != ids[0] {
			t.Fatalf("passIds differ: %v", ids)
		}
	}
	h, err := e.db.History(ctx, ids[0])
	if err != nil || len(h) != 1 {
		t.Fatalf("history %v %v, want one entry", h, err)
	}
}

// Concurrent creates of one bizSerialId with different content: exactly one
// pass; the others are told which field conflicts.
func TestConcurrentConflictingCreates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 6
	errs := parallel(n, func(i int) error {
		body := replace(create81, `"endDate":4102444800000`, fmt.Sprintf(`"endDate":%d`, 4102444800000+int64(i)))
		_, err := e.svc.CreatePass(ctx, ipass.Caller{ClientID: client44}, []byte(body))
		return err
	})
	got := countCodes(errs)
	if got[ipass.CodeSuccess] != 1 || got[ipass.CodeParamIllegal] != n-1 {
		t.Fatalf("results %v, want one SUCCESS and %d PARAM_ILLEGAL", got, n-1)
	}
	for _, err := range errs {
		if err != nil && !strings.Contains(ipass.ErrorMessage(err), "with a different endDate") {
			t.Errorf("message %q does not name endDate", ipass.ErrorMessage(err))
		}
	}
}
