-- The wallet view (docs/wallet.md): template labels, the wallet-link secret
-- and the per-holder change feed. Keep in step with ../sqlite/00004_wallet.sql.

-- +goose Up
-- placeholder -> locale -> label, JSON; {} for templates provisioned before.
ALTER TABLE templates ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';

-- One row: the HMAC key of wallet links, shared by every node.
CREATE TABLE wallet_secrets (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    secret     BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL
);

-- The change feed's cursor. A holder's changes take it under a per-holder
-- advisory lock held to commit, so one holder's cursors follow commit order
-- across every node.
CREATE SEQUENCE pass_change_seq;

-- The last change of each pass, per holder it belonged to (see the SQLite file).
CREATE TABLE pass_changes (
    user_id TEXT   NOT NULL,
    pass_id TEXT   NOT NULL REFERENCES passes (id),
    seq     BIGINT NOT NULL,
    PRIMARY KEY (user_id, pass_id)
);

CREATE INDEX pass_changes_user_seq ON pass_changes (user_id, seq);

INSERT INTO pass_changes (user_id, pass_id, seq)
SELECT user_id, id, ROW_NUMBER() OVER (ORDER BY updated_at, id) FROM passes;
SELECT setval('pass_change_seq', (SELECT COUNT(*) FROM passes) + 1, false);

-- +goose Down
DROP TABLE pass_changes;
DROP SEQUENCE pass_change_seq;
DROP TABLE wallet_secrets;
ALTER TABLE templates DROP COLUMN labels;
