package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Group commit for SQLite.
//
// SQLite has one writer, and with synchronous=FULL every commit waits for an
// fsync of the WAL. Committing each request alone makes the fsync, not the
// work, the limit: requests queue behind each other's disk flushes. The
// committer instead owns the writer connection and runs, in one transaction,
// every write that is waiting when it starts: each in a SAVEPOINT of its own,
// so one request's failure rolls back only its own work, then one COMMIT (one
// fsync) for all. A request's write returns only after that COMMIT, so SUCCESS
// still means durable. No request waits for others to arrive: a batch is
// simply whatever queued up while the previous COMMIT was flushing.

// maxBatch bounds one group commit, so that a long queue cannot make one
// transaction (and the wait of its first member) grow without limit.
const maxBatch = 64

// errClosed is returned by writes after the store was closed.
var errClosed = errors.New("sqlstore: closed")

type job struct {
	ctx  context.Context
	fn   txFunc
	done chan error // receives the job's result once its batch committed or failed
	res  unitResult
}

type committer struct {
	db        *DB
	jobs      chan *job
	closed    chan struct{}
	closeOnce sync.Once
	exited    chan struct{}
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, jobs: make(chan *job), closed: make(chan struct{}), exited: make(chan struct{})}
	go c.loop()
	return c
}

// close stops the committer once it has finished its current batch.
func (c *committer) close() {
	c.closeOnce.Do(func() { close(c.closed) })
	<-c.exited
}

// run submits fn and waits until it is committed (or failed).
func (c *committer) run(ctx context.Context, fn txFunc) error {
	j := &job{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case c.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closed:
		return errClosed
	}
	// Once taken, a job is always answered: its work may already be in a
	// transaction, so leaving early could not undo it anyway.
	return <-j.done
}

func (c *committer) loop() {
	defer close(c.exited)
	for {
		var first *job
		select {
		case first = <-c.jobs:
		case <-c.closed:
			return
		}
		batch := []*job{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case j := <-c.jobs:
				batch = append(batch, j)
			default:
				break drain
			}
		}
		c.commit(batch)
	}
}

// commit runs batch in one transaction and answers every job.
func (c *committer) commit(batch []*job) {
	// The transaction belongs to the batch, not to any one request: a
	// request's cancellation must not roll back the others' work.
	ctx := context.Background()
	tx, err := c.db.w.BeginTx(ctx, nil)
	if err != nil {
		c.fail(batch, fmt.Errorf("begin: %w", err))
		return
	}
	defer tx.Rollback()
	// A job alone needs no savepoint: discarding its work is rolling back
	// the transaction, which holds nothing else (two statements fewer per
	// request when requests do not overlap).
	alone := len(batch) == 1
	var members []*job
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err
			continue
		}
		if alone {
			j.res = c.db.unit(context.WithoutCancel(j.ctx), tx, j.fn)
			if !j.res.commit {
				j.done <- j.res.err // the deferred Rollback discards it
				return
			}
			members = append(members, j)
			continue
		}
		if err := c.runOne(tx, j); err != nil {
			// The savepoint could not be handled: the transaction is in an
			// unknown state, so nothing of it may be committed.
			c.fail(append(members, j), err)
			c.fail(remaining(batch, j), fmt.Errorf("batch aborted: %w", err))
			return
		}
		members = append(members, j)
	}
	if err := tx.Commit(); err != nil {
		c.fail(members, fmt.Errorf("commit: %w", err))
		return
	}
	for _, j := range members {
		j.res.publish()
		j.done <- j.res.err
	}
}

// runOne runs j in a savepoint of tx, keeping its work only if it commits.
// Its statements run without its cancellation: SQLite interrupts a
// cancelled statement by rolling back the whole transaction, the other
// members' work included.
func (c *committer) runOne(tx *sql.Tx, j *job) error {
	ctx := context.WithoutCancel(j.ctx)
	if _, err := tx.ExecContext(ctx, `SAVEPOINT request`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	j.res = c.db.unit(ctx, tx, j.fn)
	if !j.res.commit {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO request`); err != nil {
			return fmt.Errorf("rollback to savepoint: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `RELEASE request`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

func (c *committer) fail(jobs []*job, err error) {
	for _, j := range jobs {
		j.done <- err
	}
}

// remaining is the jobs of batch after j.
func remaining(batch []*job, j *job) []*job {
	for i, b := range batch {
		if b == j {
			return batch[i+1:]
		}
	}
	return nil
}
