-- Seeded passes into the change feed (docs/wallet.md "The change feed"). Keep
-- in step with ../sqlite/00009_seeded_changes.sql.
--
-- `ipass admin seed` used to insert passes without recording them in the
-- change feed, so the wallet (which lists a holder's passes from the feed)
-- never showed them. Each pass its holder's feed lacks is entered now, in the
-- order of its last change, with cursors that continue the holder's counter
-- as a pass write would; the counter then moves past them.

-- +goose Up
INSERT INTO pass_changes (user_id, pass_id, seq)
SELECT p.user_id, p.id,
       COALESCE((SELECT c.seq FROM holder_cursors c WHERE c.user_id = p.user_id), 0)
         + ROW_NUMBER() OVER (PARTITION BY p.user_id ORDER BY p.updated_at, p.id)
FROM passes p
WHERE NOT EXISTS (SELECT 1 FROM pass_changes pc WHERE pc.user_id = p.user_id AND pc.pass_id = p.id);

INSERT INTO holder_cursors (user_id, seq)
SELECT user_id, MAX(seq) FROM pass_changes WHERE true GROUP BY user_id
ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > holder_cursors.seq;

-- +goose Down
-- Nothing to undo: the rows are what the seed should have written.
SELECT 1;
