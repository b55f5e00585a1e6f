package ipass

import "context"

// WalletStore holds what the wallet view (the pass holder's side) reads: the
// secret that authenticates wallet links and a holder's change feed.
//
// Every change to a pass (createPass, updatePass) is recorded by the
// PassStore in the same transaction as the change, under a cursor taken from
// the holder's own counter, so the feed of one holder is ordered by commit on
// every node and its cursor says nothing about other holders' changes.
// Errors are internal failures.
type WalletStore interface {
	// WalletSecret returns the secret that authenticates wallet links,
	// generating and storing it on first use; every node reads the same one.
	WalletSecret(ctx context.Context) ([]byte, error)
	// RotateWalletSecret replaces the secret: every earlier link stops working.
	RotateWalletSecret(ctx context.Context) error
	// HolderChanges returns, from one snapshot, the passes of userID that
	// changed after cursor since (every pass of the holder when since is 0),
	// newest change first; the ids of passes that changed after since but now
	// belong to another user; and the holder's current cursor.
	HolderChanges(ctx context.Context, userID string, since int64) (*HolderChanges, error)
}

// HolderChanges is one read of a holder's change feed.
type HolderChanges struct {
	Passes []*Pass  // the holder's changed passes, newest change first
	Gone   []string // passes that changed since the cursor and are no longer the holder's
	Cursor int64    // the holder's latest change; 0 if none yet
	Seq    []int64  // Seq[i] is the cursor of the last change of Passes[i]
}

// ChangeNotifier wakes readers when a holder's passes change. A wake-up
// carries no data and may be lost or repeated: it only prompts the reader to
// read the change feed again. The PassStore publishes in the transaction of
// the change (so other nodes learn of it at commit).
type ChangeNotifier interface {
	// SubscribeHolder returns a channel that receives a value (wake-ups
	// coalesce) after changes to userID's passes commit, on any node sharing
	// the database; stop ends the subscription.
	SubscribeHolder(userID string) (wake <-chan struct{}, stop func())
}
