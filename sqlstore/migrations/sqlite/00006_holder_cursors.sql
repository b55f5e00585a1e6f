-- Per-holder change-feed cursors (docs/wallet.md "The change feed"). Keep in
-- step with ../postgres/00006_holder_cursors.sql.
--
-- The cursor was a database-wide counter, so a holder watching their own
-- cursor learnt how many writes everyone else made. Now each holder counts
-- their own changes: holder_cursors holds the last cursor handed out to each
-- holder, taken by the pass write's transaction (SQLite's single writer keeps
-- them in commit order). Existing feeds are renumbered per holder in their
-- old order; a page that still holds an old, larger cursor is told to start
-- over, as for any cursor from the future.

-- +goose Up
CREATE TABLE holder_cursors (
    user_id TEXT    NOT NULL PRIMARY KEY,
    seq     INTEGER NOT NULL
) STRICT;

UPDATE pass_changes SET seq = r.n
FROM (SELECT user_id, pass_id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY seq) AS n FROM pass_changes) AS r
WHERE pass_changes.user_id = r.user_id AND pass_changes.pass_id = r.pass_id;

INSERT INTO holder_cursors (user_id, seq)
SELECT user_id, MAX(seq) FROM pass_changes GROUP BY user_id;

DROP TABLE change_counter;

-- +goose Down
CREATE TABLE change_counter (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
) STRICT;
INSERT INTO change_counter (id, value) VALUES (1, (SELECT COALESCE(MAX(seq), 0) FROM holder_cursors));
DROP TABLE holder_cursors;
