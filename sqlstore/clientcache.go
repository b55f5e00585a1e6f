package sqlstore

// The client and its keys, and the merchants, from a cache.
//
// Every signed request looks its client up (Client-Id, its keys, its rate
// limit). Read from the database each time, that is a read transaction per
// request; the tenants change a few times a month. So lookups are served
// from a per-process cache, and every process drops it when a tenants change
// commits:
//   - in the process that applied the change, at once, before ApplyChanges
//     returns;
//   - on PostgreSQL, in every other process, as soon as the NOTIFY sent in
//     the change's transaction arrives (milliseconds; a LISTEN connection per
//     process, opened at the first lookup);
//   - in any case, an entry older than clientCacheTTL is read again, so a
//     retired key stops working, and a new key starts working, everywhere
//     within clientCacheTTL of the commit, even if a notification is lost,
//     and on SQLite, where another process (`ipass admin apply`) can only be
//     noticed by reading. (SQLite's PRAGMA data_version would tell, but it
//     changes with every commit of any connection, pass writes included, so
//     under load it would never let an entry live.)

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipass-dev/ipass"
)

// clientCacheTTL is the longest a process serves a client as it was before a
// tenants change committed elsewhere (docs/operating.md, SECURITY.md).
const clientCacheTTL = time.Second

// tenantsChannel is the PostgreSQL NOTIFY channel of tenants changes.
const tenantsChannel = "ipass_tenants"

// clientCache holds clients, and merchants (which client owns them), by
// id. The zero value is ready for use.
type clientCache struct {
	mu        sync.Mutex
	gen       uint64 // bumped by every invalidation
	entries   map[string]cacheEntry[*ipass.Client]
	merchants map[string]cacheEntry[ipass.Merchant]
	listen    sync.Once
}

type cacheEntry[V any] struct {
	v   V
	at  time.Time // when it was read
	gen uint64    // the cache generation it was read in
}

// Client returns the client with all its keys, retired ones included, ordered
// by (algorithm, keyVersion), from the cache when it is fresh (see above).
func (db *DB) Client(ctx context.Context, clientID string) (*ipass.Client, error) {
	c, err := cached(db, &db.clients.entries, clientID, func() (*ipass.Client, error) { return db.readClient(ctx, clientID) })
	if err != nil {
		return nil, err
	}
	return copyClient(c), nil
}

// Merchant returns the merchant, from the cache when it is fresh: every
// signed request checks that its merchant belongs to its client.
func (db *DB) Merchant(ctx context.Context, merchantID string) (*ipass.Merchant, error) {
	m, err := cached(db, &db.clients.merchants, merchantID, func() (ipass.Merchant, error) { return db.readMerchant(ctx, merchantID) })
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// cached returns m's fresh entry for key, or read's answer (kept when no
// invalidation happened during the read). Errors are not kept.
func cached[V any](db *DB, m *map[string]cacheEntry[V], key string, read func() (V, error)) (V, error) {
	cc := &db.clients
	if db.d.name == EnginePostgres {
		cc.listen.Do(func() { go db.listenTenants() })
	}
	now := time.Now()
	cc.mu.Lock()
	e, ok := (*m)[key]
	gen := cc.gen
	cc.mu.Unlock()
	if ok && e.gen == gen && now.Sub(e.at) < clientCacheTTL {
		return e.v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	cc.mu.Lock()
	// An invalidation during the read may have made it stale: keep it only
	// if none happened (it is still this request's answer either way).
	if cc.gen == gen {
		if *m == nil {
			*m = map[string]cacheEntry[V]{}
		}
		(*m)[key] = cacheEntry[V]{v: v, at: now, gen: gen}
	}
	cc.mu.Unlock()
	return v, nil
}

// copyClient gives each caller its own value: a cached one is shared.
func copyClient(c *ipass.Client) *ipass.Client {
	cp := *c
	cp.Keys = slices.Clone(c.Keys)
	cp.Omitted = slices.Clone(c.Omitted)
	return &cp
}

// invalidateClients drops every cached client; called after a tenants change
// commits in this process, and when another process's change is notified.
func (db *DB) invalidateClients() {
	cc := &db.clients
	cc.mu.Lock()
	cc.gen++
	clear(cc.entries)
	clear(cc.merchants)
	cc.mu.Unlock()
}

// notifyTenants is run inside a tenants change's transaction: on PostgreSQL
// the notification reaches every process at commit.
func (db *DB) notifyTenants(ctx context.Context, q queryer) error {
	if db.d.name != EnginePostgres {
		return nil
	}
	if _, err := q.ExecContext(ctx, `SELECT pg_notify('`+tenantsChannel+`', '')`); err != nil {
		return fmt.Errorf("notify tenants change: %w", err)
	}
	return nil
}

// listenTenants holds one connection LISTENing on tenantsChannel until Close,
// dropping the cache at every notification and whenever it (re)connects,
// since notifications sent while it was not listening are lost.
func (db *DB) listenTenants() {
	db.listenLoop("tenants change", tenantsChannel, db.invalidateClients, func(string) { db.invalidateClients() })
}
