package sqlstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
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

// testRepeatAnswer: the answer kept with a replay record (issue 17). It is
// written with the admission (Answer) or in the admitted write's own
// transaction (AnswerOf: committed, or refused by decide), replaced by
// KeepAnswer, read by a replay in its transaction and by RepeatAnswer from
// another handle, dropped for a rate-limited request, and pruned with the
// record.
func testRepeatAnswer(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	db, other := sqlstoretest.Open(t, dsn), sqlstoretest.Open(t, dsn)
	seed(t, db)
	p := createPass(t, db, 1)
	now := time.UnixMilli(1760000000000)
	db.Now = func() time.Time { return now }
	admission := func(digest string) *ipass.Admission {
		return &ipass.Admission{ClientID: clientA, Digest: []byte(digest), KeepUntil: now.Add(time.Hour), Deadline: now.Add(time.Minute), Arrived: now}
	}
	kept := func(code ipass.Code, body string) *ipass.Answer {
		return &ipass.Answer{State: ipass.AnswerKept, Code: code, Body: []byte(body), Envelope: []byte{1, 2, 3}, KeyLen: 16}
	}
	stored := func(digest string) *ipass.Answer {
		t.Helper()
		ans, err := other.RepeatAnswer(ctx(t), clientA, []byte(digest))
		if err != nil {
			t.Fatalf("RepeatAnswer %s: %v", digest, err)
		}
		return ans
	}
	bump := func(next *ipass.Pass) (*ipass.PassVersion, error) {
		next.DataInfo["$points_en_US$"] = json.RawMessage(fmt.Sprint(next.Version * 10))
		return &ipass.PassVersion{Operation: "updatePass", ClientID: clientA, MerchantID: merchantA}, nil
	}

	// With the admission, and read back by a replay in its transaction.
	q := admission("query")
	q.Answer = kept(ipass.CodeSuccess, `{"q":1}`)
	if err := db.Admit(ctx(t), q); err != nil || q.Outcome != ipass.Admitted || !reflect.DeepEqual(q.Kept, q.Answer) {
		t.Fatalf("Admit with an answer: %v, outcome %d, kept %+v", err, q.Outcome, q.Kept)
	}
	if got := stored("query"); !reflect.DeepEqual(got, q.Answer) {
		t.Fatalf("kept %+v, want %+v", got, q.Answer)
	}
	again := admission("query")
	again.Answer = kept(ipass.CodeSuccess, `{"q":2}`)
	if err := other.Admit(ctx(t), again); err != nil || again.Outcome != ipass.Replayed || !reflect.DeepEqual(again.Replay, q.Answer) {
		t.Fatalf("replay: %v, outcome %d, replay %+v; want the first's answer", err, again.Outcome, again.Replay)
	}

	// In the write's transaction: committed and refused.
	var calls []string
	u := admission("update")
	u.AnswerOf = func(passID string, refused error) *ipass.Answer {
		calls = append(calls, fmt.Sprintf("%q %v", passID, refused))
		return kept(ipass.CodeSuccess, `{"u":1}`)
	}
	if _, err := db.UpdatePass(ipass.WithAdmission(ctx(t), u), p.ID, bump); err != nil || u.Outcome != ipass.Admitted {
		t.Fatalf("update: %v, outcome %d", err, u.Outcome)
	}
	if got := stored("update"); len(calls) != 1 || calls[0] != `"" <nil>` || string(got.Body) != `{"u":1}` || got.State != ipass.AnswerKept {
		t.Fatalf("update's answer: calls %v, kept %+v", calls, got)
	}
	refusal := &ipass.Error{Code: ipass.CodePassStatusIllegal, Message: "no"}
	r := admission("refused")
	r.AnswerOf = func(_ string, refused error) *ipass.Answer {
		return kept(ipass.ErrorCode(refused), `{"refused":1}`)
	}
	if _, err := db.UpdatePass(ipass.WithAdmission(ctx(t), r), p.ID, func(*ipass.Pass) (*ipass.PassVersion, error) { return nil, refusal }); err != refusal {
		t.Fatalf("refused update: %v", err)
	}
	if got := stored("refused"); got.Code != ipass.CodePassStatusIllegal || string(got.Body) != `{"refused":1}` {
		t.Fatalf("refused update's answer: %+v", got)
	}
	c := admission("create")
	c.AnswerOf = func(passID string, _ error) *ipass.Answer { return kept(ipass.CodeSuccess, passID) }
	np, nv := newPass(passID(2), "serial-2")
	if _, err := db.CreatePass(ipass.WithAdmission(ctx(t), c), np, nv); err != nil {
		t.Fatal(err)
	}
	if got := stored("create"); string(got.Body) != passID(2) {
		t.Fatalf("create's answer: %+v; want the new passId", got)
	}

	// A write whose answer is decided after it committed: pending, then kept.
	late := admission("late")
	late.AnswerOf = func(string, error) *ipass.Answer { return nil }
	if _, err := db.UpdatePass(ipass.WithAdmission(ctx(t), late), p.ID, bump); err != nil || late.Kept != nil {
		t.Fatalf("update without an answer: %v, kept %+v", err, late.Kept)
	}
	if got := stored("late"); got.State != ipass.AnswerPending {
		t.Fatalf("answer of a write still deciding: %+v; want pending", got)
	}
	if err := other.KeepAnswer(ctx(t), clientA, []byte("late"), kept(ipass.CodeSuccess, "late")); err != nil {
		t.Fatal(err)
	}
	if got := stored("late"); got.State != ipass.AnswerKept || string(got.Body) != "late" {
		t.Fatalf("after KeepAnswer: %+v", got)
	}

	// Rate limited: the record stays, the answer (never sent) does not.
	for _, d := range []string{"r1", "r2"} {
		a := admission(d)
		a.RateLimit, a.Answer = 1, kept(ipass.CodeSuccess, d)
		if err := db.Admit(ctx(t), a); err != nil {
			t.Fatal(err)
		}
	}
	if got := stored("r2"); got.State != ipass.AnswerNone || got.Body != nil {
		t.Fatalf("rate-limited request's answer: %+v; want none", got)
	}

	// Pruned with the record.
	if _, err := db.PruneRequests(ctx(t), now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := other.RepeatAnswer(ctx(t), clientA, []byte("query")); !errors.Is(err, ipass.ErrNotFound) {
		t.Fatalf("answer after prune: %v; want ErrNotFound", err)
	}
}
