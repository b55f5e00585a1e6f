-- The wallet view (docs/wallet.md): template labels, the wallet-link secret
-- and the per-holder change feed. Keep in step with ../postgres/00004_wallet.sql.

-- +goose Up
-- placeholder -> locale -> label, JSON; {} for templates provisioned before.
ALTER TABLE templates ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';

-- One row: the HMAC key of wallet links, shared by every node.
CREATE TABLE wallet_secrets (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    secret     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- SQLite has no sequences: this one-row counter is the change feed's sequence.
-- Only write transactions take it, and SQLite has one writer at a time, so
-- values are handed out in commit order.
CREATE TABLE change_counter (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
) STRICT;

-- The last change of each pass, per holder it belonged to: seq is the cursor
-- of the change feed. One row per (holder, pass), so the table stays as large
-- as the set of passes, not as the history.
CREATE TABLE pass_changes (
    user_id TEXT    NOT NULL,
    pass_id TEXT    NOT NULL REFERENCES passes (id),
    seq     INTEGER NOT NULL,
    PRIMARY KEY (user_id, pass_id)
) STRICT;

CREATE INDEX pass_changes_user_seq ON pass_changes (user_id, seq);

-- Passes made before this migration enter the feed oldest change first.
INSERT INTO pass_changes (user_id, pass_id, seq)
SELECT user_id, id, ROW_NUMBER() OVER (ORDER BY updated_at, id) FROM passes;
INSERT INTO change_counter (id, value) VALUES (1, (SELECT COUNT(*) FROM passes));

-- +goose Down
DROP TABLE pass_changes;
DROP TABLE change_counter;
DROP TABLE wallet_secrets;
ALTER TABLE templates DROP COLUMN labels;
