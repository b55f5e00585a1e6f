package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache prepares each query text once per pool, so that SQLite does not
// parse and plan the same SQL on every request (it showed in CPU profiles as
// a large share of the store's cost). PostgreSQL needs none: pgx already
// keeps a prepared statement per connection for every query it has run.
//
// A query is prepared in the background the first time it is seen and runs
// unprepared until then: preparing needs a connection of the pool, and the
// caller may be holding the only one (SQLite's writer) or all of them.
// database/sql then prepares the statement once on each connection that runs
// it, including inside transactions (Tx.StmtContext), and again on a new
// connection after a reconnect.
type stmtCache struct {
	pool *sql.DB
	m    sync.Map // query text → *sql.Stmt, or preparing while it is being prepared
}

// preparing marks a query whose preparation is under way.
var preparing = new(sql.Stmt)

func newStmtCache(pool *sql.DB) *stmtCache { return &stmtCache{pool: pool} }

// get returns the prepared statement for query, or nil (and starts preparing
// it) when there is none yet.
func (c *stmtCache) get(query string) *sql.Stmt {
	v, loaded := c.m.LoadOrStore(query, preparing)
	if !loaded {
		go c.prepare(query)
		return nil
	}
	if s := v.(*sql.Stmt); s != preparing {
		return s
	}
	return nil
}

func (c *stmtCache) prepare(query string) {
	s, err := c.pool.PrepareContext(context.Background(), query)
	if err != nil {
		// A closed pool or a query one engine refuses: try again next time
		// it is used rather than remembering the failure.
		c.m.Delete(query)
		return
	}
	c.m.Store(query, s)
}

// close closes every prepared statement.
func (c *stmtCache) close() {
	c.m.Range(func(k, v any) bool {
		if s := v.(*sql.Stmt); s != preparing {
			s.Close()
		}
		c.m.Delete(k)
		return true
	})
}

// preparedQ runs queries through the cache: on the pool when tx is nil,
// else inside tx.
type preparedQ struct {
	c  *stmtCache
	tx *sql.Tx
}

func (p preparedQ) stmt(ctx context.Context, query string) *sql.Stmt {
	s := p.c.get(query)
	if s == nil || p.tx == nil {
		return s
	}
	return p.tx.StmtContext(ctx, s)
}

func (p preparedQ) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	if p.tx == nil {
		return p.c.pool.ExecContext(ctx, query, args...)
	}
	return p.tx.ExecContext(ctx, query, args...)
}

func (p preparedQ) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	if p.tx == nil {
		return p.c.pool.QueryContext(ctx, query, args...)
	}
	return p.tx.QueryContext(ctx, query, args...)
}

func (p preparedQ) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	if p.tx == nil {
		return p.c.pool.QueryRowContext(ctx, query, args...)
	}
	return p.tx.QueryRowContext(ctx, query, args...)
}

// rq runs a query on the read pool, prepared where the engine needs it.
func (db *DB) rq() queryer {
	if db.stmtsR == nil {
		return db.r
	}
	return preparedQ{c: db.stmtsR}
}

// q runs tx's queries prepared where the engine needs it. tx belongs to the
// write pool when write is true, else to the read pool.
func (db *DB) q(tx *sql.Tx, write bool) queryer {
	c := db.stmtsR
	if write {
		c = db.stmtsW
	}
	if c == nil {
		return tx
	}
	return preparedQ{c: c, tx: tx}
}
