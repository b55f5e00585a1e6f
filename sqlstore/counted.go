package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"
)

// Statement counting.
//
// Every statement the store sends to the driver (BEGIN, COMMIT, ROLLBACK,
// SAVEPOINT and the queries alike) is counted at the database/sql driver
// boundary, so nothing that bypasses a helper escapes the count. On
// PostgreSQL each one is a network round trip (pgx runs a cached prepared
// statement in one exchange); on SQLite each is one run of the virtual
// machine. DB.Statements exposes the total: the metrics exporter publishes
// it, and tests bound the statements of one request with it.
//
// The cost is one atomic add and one interface call per statement.

// openCounted opens a pool like sql.Open, counting its statements in n.
func openCounted(driverName, dsn string, n *atomic.Int64) (*sql.DB, error) {
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	drv := db.Driver()
	db.Close() // only opened to find the driver; it holds no connection yet
	var c driver.Connector = dsnConnector{dsn: dsn, drv: drv}
	if dc, ok := drv.(driver.DriverContext); ok {
		if c, err = dc.OpenConnector(dsn); err != nil {
			return nil, err
		}
	}
	return sql.OpenDB(countedConnector{Connector: c, n: n}), nil
}

type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

type countedConnector struct {
	driver.Connector
	n *atomic.Int64
}

func (c countedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: conn, n: c.n}, nil
}

// countedConn passes every optional interface of the driver's connection
// through, so database/sql behaves exactly as without it.
type countedConn struct {
	driver.Conn
	n *atomic.Int64
}

// unwrapConn returns the driver's own connection (for conn.Raw users).
func unwrapConn(dc any) any {
	if c, ok := dc.(*countedConn); ok {
		return c.Conn
	}
	return dc
}

func (c *countedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *countedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var s driver.Stmt
	var err error
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, query)
	} else {
		s, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countedStmt{Stmt: s, conn: c.Conn, n: c.n}, nil
}

func (c *countedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.n.Add(1)
	var tx driver.Tx
	var err error
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		//lint:ignore SA1019 fallback for drivers without BeginTx, as database/sql does
		tx, err = c.Conn.Begin()
	}
	if err != nil {
		return nil, err
	}
	return countedTx{Tx: tx, n: c.n}, nil
}

func (c *countedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.n.Add(1)
	}
	return res, err
}

func (c *countedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.n.Add(1)
	}
	return rows, err
}

func (c *countedConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countedConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countedConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countedTx struct {
	driver.Tx
	n *atomic.Int64
}

func (t countedTx) Commit() error   { t.n.Add(1); return t.Tx.Commit() }
func (t countedTx) Rollback() error { t.n.Add(1); return t.Tx.Rollback() }

type countedStmt struct {
	driver.Stmt
	conn driver.Conn // the driver's connection that prepared it
	n    *atomic.Int64
}

func (s *countedStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.n.Add(1)
	//lint:ignore SA1019 only reached for drivers without StmtExecContext
	return s.Stmt.Exec(args)
}

func (s *countedStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.n.Add(1)
	//lint:ignore SA1019 only reached for drivers without StmtQueryContext
	return s.Stmt.Query(args)
}

func (s *countedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		vals, err := namedToValues(args)
		if err != nil {
			return nil, err
		}
		return s.Exec(vals)
	}
	s.n.Add(1)
	return e.ExecContext(ctx, args)
}

func (s *countedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		vals, err := namedToValues(args)
		if err != nil {
			return nil, err
		}
		return s.Query(vals)
	}
	s.n.Add(1)
	return q.QueryContext(ctx, args)
}

// CheckNamedValue defers to the statement's checker, else the
// connection's: database/sql asks a statement that has one instead of its
// connection.
func (s *countedStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	if ch, ok := s.conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func namedToValues(args []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("sqlstore: driver does not support named arguments")
		}
		vals[i] = a.Value
	}
	return vals, nil
}

// Statements returns how many statements the store has sent to the
// database since it was opened (see counted.go).
func (db *DB) Statements() int64 { return db.stmts.Load() }
