package sqlstore

import (
	"database/sql"
	"time"
)

// TxObserver is told about every transaction the store runs; cmd/ipass plugs
// in the metrics exporter. kind is "read" or "write"; a write's d covers all
// its attempts (retries after a conflict), and attempts says how many ran.
// Calls are concurrent and must not block.
type TxObserver interface {
	ObserveTx(kind string, d time.Duration, attempts int, err error)
}

// SetObserver installs o (nil removes it). Call it before serving.
func (db *DB) SetObserver(o TxObserver) { db.observer = o }

func (db *DB) observeTx(kind string, start time.Time, attempts int, err error) {
	if db.observer != nil {
		db.observer.ObserveTx(kind, time.Since(start), attempts, err)
	}
}

// PoolStats reports the connection pools: "read" and "write" on SQLite (one
// writer connection, several readers), one "main" pool on PostgreSQL.
func (db *DB) PoolStats() map[string]sql.DBStats {
	if db.r == db.w {
		return map[string]sql.DBStats{"main": db.w.Stats()}
	}
	return map[string]sql.DBStats{"read": db.r.Stats(), "write": db.w.Stats()}
}
