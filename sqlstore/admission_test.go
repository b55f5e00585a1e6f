package sqlstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
)

// testAdmissionInWrite: a write carrying an admission records it in the
// same transaction, runs only when admitted, and keeps the admission when
// decide refuses the change; concurrent admitted writes (a group commit on
// SQLite) each keep their own work and nothing of a failed neighbour's.
func testAdmissionInWrite(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	p := createPass(t, db, 1)
	now := time.UnixMilli(1760000000000)
	db.Now = func() time.Time { return now }
	bump := func(next *ipass.Pass) (*ipass.PassVersion, error) {
		next.DataInfo["$points_en_US$"] = json.RawMessage(fmt.Sprint(next.Version * 10))
		return &ipass.PassVersion{Operation: "updatePass", ClientID: clientA, MerchantID: merchantA}, nil
	}
	admission := func(digest string, rate int) *ipass.Admission {
		return &ipass.Admission{ClientID: clientA, Digest: []byte(digest), KeepUntil: now.Add(time.Hour),
			Deadline: now.Add(time.Minute), RateLimit: rate, Arrived: now}
	}
	update := func(a *ipass.Admission, decide func(*ipass.Pass) (*ipass.PassVersion, error)) error {
		_, err := db.UpdatePass(ipass.WithAdmission(ctx(t), a), p.ID, decide)
		return err
	}
	version := func() int {
		t.Helper()
		got, err := db.PassByID(ctx(t), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Version
	}

	a := admission("one", 0)
	if err := update(a, bump); err != nil || a.Outcome != ipass.Admitted || version() != 2 {
		t.Fatalf("admitted update: %v, outcome %d, version %d", err, a.Outcome, version())
	}
	// The same request again: not executed.
	a = admission("one", 0)
	if err := update(a, bump); !errors.Is(err, ipass.ErrNotAdmitted) || a.Outcome != ipass.Replayed || version() != 2 {
		t.Fatalf("replayed update: %v, outcome %d, version %d", err, a.Outcome, version())
	}
	// Refused by decide: the admission is kept, the pass untouched.
	refusal := &ipass.Error{Code: ipass.CodePassStatusIllegal, Message: "no"}
	a = admission("refused", 0)
	if err := update(a, func(*ipass.Pass) (*ipass.PassVersion, error) { return nil, refusal }); err != refusal || a.Outcome != ipass.Admitted {
		t.Fatalf("refused update: %v, outcome %d", err, a.Outcome)
	}
	if fresh, err := db.RecordRequest(ctx(t), clientA, []byte("refused"), now.Add(time.Hour)); err != nil || fresh {
		t.Fatalf("the refused request's record: fresh %v, %v; want a replay", fresh, err)
	}
	// Rate limited (clientB has no bucket yet; rate 1 allows one): the second
	// is not executed but its replay record is kept.
	first, second := admission("r1", 1), admission("r2", 1)
	if err := update(first, bump); err != nil || first.Outcome != ipass.Admitted {
		t.Fatalf("first rate-limited update: %v, outcome %d", err, first.Outcome)
	}
	if err := update(second, bump); !errors.Is(err, ipass.ErrNotAdmitted) || second.Outcome != ipass.RateLimited || second.RetryAfter <= 0 || version() != 3 {
		t.Fatalf("second rate-limited update: %v, outcome %d, retry after %s, version %d", err, second.Outcome, second.RetryAfter, version())
	}
	if fresh, err := db.RecordRequest(ctx(t), clientA, []byte("r2"), now.Add(time.Hour)); err != nil || fresh {
		t.Fatalf("the rate-limited request's record: fresh %v, %v; want a replay", fresh, err)
	}

	// Concurrent writes, every third one failing inside its transaction
	// after its admission: the failures leave neither admission nor change.
	const n = 30
	var wg sync.WaitGroup
	errs := make([]error, n)
	adms := make([]*ipass.Admission, n)
	for i := range n {
		adms[i] = admission(fmt.Sprint("c", i), 0)
		wg.Go(func() {
			if i%3 == 0 {
				_, errs[i] = db.UpdatePass(ipass.WithAdmission(ctx(t), adms[i]), "no-such-pass", bump)
				return
			}
			errs[i] = update(adms[i], bump)
		})
	}
	wg.Wait()
	for i := range n {
		fresh, err := db.RecordRequest(ctx(t), clientA, []byte(fmt.Sprint("c", i)), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if !errors.Is(errs[i], ipass.ErrNotFound) || adms[i].Outcome != ipass.AdmissionPending || !fresh {
				t.Errorf("failed write %d: %v, outcome %d, record left %v", i, errs[i], adms[i].Outcome, !fresh)
			}
			continue
		}
		if errs[i] != nil || adms[i].Outcome != ipass.Admitted || fresh {
			t.Errorf("write %d: %v, outcome %d, record kept %v", i, errs[i], adms[i].Outcome, !fresh)
		}
	}
	if got, want := version(), 3+n-n/3; got != want {
		t.Fatalf("version %d after the concurrent writes, want %d", got, want)
	}
}
