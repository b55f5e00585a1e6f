-- Per-holder change-feed cursors (docs/wallet.md "The change feed"). Keep in
-- step with ../sqlite/00006_holder_cursors.sql.
--
-- The cursor was a database-wide sequence, so a holder watching their own
-- cursor learnt how many writes everyone else made. Now each holder counts
-- their own changes: holder_cursors holds the last cursor handed out to each
-- holder. A pass write increments its holder's row, and the row lock it takes
-- is held to commit, so one holder's cursors follow commit order across every
-- node (this replaces the advisory lock and the shared sequence). Existing
-- feeds are renumbered per holder in their old order; a page that still holds
-- an old, larger cursor is told to start over, as for any cursor from the future.

-- +goose Up
CREATE TABLE holder_cursors (
    user_id TEXT   NOT NULL PRIMARY KEY,
    seq     BIGINT NOT NULL
);

UPDATE pass_changes SET seq = r.n
FROM (SELECT user_id, pass_id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY seq) AS n FROM pass_changes) AS r
WHERE pass_changes.user_id = r.user_id AND pass_changes.pass_id = r.pass_id;

INSERT INTO holder_cursors (user_id, seq)
SELECT user_id, MAX(seq) FROM pass_changes GROUP BY user_id;

DROP SEQUENCE pass_change_seq;

-- +goose Down
CREATE SEQUENCE pass_change_seq;
SELECT setval('pass_change_seq', (SELECT COALESCE(MAX(seq), 0) FROM holder_cursors) + 1, false);
DROP TABLE holder_cursors;
