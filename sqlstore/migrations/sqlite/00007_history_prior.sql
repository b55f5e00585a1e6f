-- History pages that cost what the page holds (docs/api.md, queryPassHistory;
-- docs/wallet.md, the detail page). Keep in step with ../postgres/00007_history_prior.sql.
--
-- A version stores only the new values of what it changed; the old ones used
-- to come from replaying every earlier version, so one page of a long history
-- cost the whole history. Now each version also keeps, in `prior`, the value
-- each field it changed had before it (a JSON object field -> value, fields
-- named as in the API's history answer: status, endDate, codeInfo,
-- dataInfo.<key>, ...; a field that had no value is absent). pass_history_state
-- is what the history has built up after the pass's latest version, from which
-- the next version's prior is taken in the transaction that writes it.
--
-- Rows written before this migration have prior NULL: the store fills them,
-- per pass, when it opens the database (replaying each such pass once), and
-- until then reads a page of such a pass by replaying it as before.

-- +goose Up
ALTER TABLE pass_versions ADD COLUMN prior TEXT; -- JSON object, or NULL: not yet known

CREATE TABLE pass_history_state (
    pass_id TEXT    NOT NULL PRIMARY KEY REFERENCES passes (id),
    version INTEGER NOT NULL CHECK (version >= 1), -- the version this state is after
    state   TEXT    NOT NULL                       -- JSON object field -> value
) STRICT;

-- Empty once every prior is filled, so finding what is left costs nothing.
CREATE INDEX pass_versions_without_prior ON pass_versions (pass_id) WHERE prior IS NULL;

-- +goose Down
DROP INDEX pass_versions_without_prior;
DROP TABLE pass_history_state;
ALTER TABLE pass_versions DROP COLUMN prior;
