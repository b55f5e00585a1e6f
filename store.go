package ipass

import "context"

// TenantStore reads and provisions clients, merchants, templates and users.
//
// Lookups return an error wrapping ErrNotFound when the record does not exist;
// any other error is an internal failure (UNKNOWN_EXCEPTION).
type TenantStore interface {
	// Client returns the client with its keys (retired ones included).
	Client(ctx context.Context, clientID string) (*Client, error)
	// Merchant returns the merchant.
	Merchant(ctx context.Context, merchantID string) (*Merchant, error)
	// Template returns the template of merchantID with that code; a template of
	// another merchant is ErrNotFound.
	Template(ctx context.Context, merchantID, templateCode string) (*Template, error)
	// User returns the user by userId.
	User(ctx context.Context, userID string) (*User, error)
	// UserByOpenID returns the user whose openId at merchantID is openID.
	UserByOpenID(ctx context.Context, merchantID, openID string) (*User, error)
	// HasClients reports whether any client is registered (demo provisioning).
	HasClients(ctx context.Context) (bool, error)
	// Apply upserts everything in t by id in one transaction: all or nothing.
	// It never deletes. Keys are upserted by (clientId, algorithm, keyVersion);
	// a user's openIds are upserted per merchant. Referential problems (a
	// merchant of an unknown client, ...) are *Error PARAM_ILLEGAL.
	Apply(ctx context.Context, t *Tenants) error
	// Export returns every tenant record, ordered by id, keys by (algorithm, version).
	Export(ctx context.Context) (*Tenants, error)
}

// PassStore keeps passes and their history. Every exported method is one
// transaction; a nil error means it is committed. A write method (CreatePass,
// UpdatePass) called with a pending [Admission] in ctx records it in the same
// transaction (see [WithAdmission]).
type PassStore interface {
	// CreatePass inserts p (Version 1) and its first history entry v.
	// If a pass with the same (MerchantID, BizSerialID) already exists nothing
	// is written and the existing pass is returned with an error wrapping
	// ErrConflict. The uniqueness is enforced by the database, so concurrent
	// creates of one bizSerialId make exactly one pass.
	CreatePass(ctx context.Context, p *Pass, v *PassVersion) (*Pass, error)
	// PassByID returns the pass; ErrNotFound if it does not exist.
	PassByID(ctx context.Context, passID string) (*Pass, error)
	// MerchantPass returns the pass with passID if it belongs to merchantID;
	// ErrNotFound otherwise. Another merchant's pass and a pass that does not
	// exist are one indistinguishable answer (same query, same path), so a
	// caller cannot learn that another tenant's passId exists.
	MerchantPass(ctx context.Context, merchantID, passID string) (*Pass, error)
	// HolderPass returns the pass with passID if it belongs to userID;
	// ErrNotFound otherwise. Like MerchantPass, another holder's pass and a
	// pass that does not exist are one indexed miss, decided before any of
	// the pass's content is read.
	HolderPass(ctx context.Context, userID, passID string) (*Pass, error)
	// PassBySerial returns the pass of merchantID with bizSerialID; ErrNotFound if none.
	PassBySerial(ctx context.Context, merchantID, bizSerialID string) (*Pass, error)
	// UpdatePass serialises changes to one pass: it locks the pass, calls
	// decide with a copy of its current state, and, when decide returns a
	// non-nil PassVersion, stores the pass decide left in next with Version =
	// current+1 and appends the version entry (its Version set to the same
	// number) — all in one transaction. decide returning (nil, nil) means
	// "no change" (an exact retry). An error from decide aborts and is
	// returned unchanged. ErrNotFound if the pass does not exist. decide may be
	// called more than once (retries after a serialisation failure), so it
	// must have no side effects besides next.
	UpdatePass(ctx context.Context, passID string, decide func(next *Pass) (*PassVersion, error)) (*Pass, error)
	// History returns every version entry of the pass, oldest first.
	History(ctx context.Context, passID string) ([]PassVersion, error)
	// HistoryPage returns versions from … from+size-1 of the pass with
	// their from → to values, exactly as [PageHistory] cuts them out of
	// [ReplayHistory] of the whole history, read from one snapshot. Its cost
	// follows the page, not the history: the store keeps beside each version
	// the values its changes replaced. ErrNotFound if the pass does not exist.
	HistoryPage(ctx context.Context, passID string, from, size int) (*HistoryPage, error)
}

// Pinger reports whether the store's database is reachable (readiness).
type Pinger interface {
	Ping(ctx context.Context) error
}
