-- Pass history kept as JSON, and passes listed per merchant and user
-- (`ipass admin passes list`). Keep in step with ../postgres/00005_history_json.sql.
--
-- SQLite's JSON functions query the TEXT columns directly, e.g.
--   SELECT version FROM pass_versions WHERE json_extract(changes, '$.dataInfo."$points_en_US$"') IS NOT NULL;
-- The trigger makes "it is JSON" a guarantee of the schema, not only of the code.

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER pass_versions_json BEFORE INSERT ON pass_versions
WHEN (NEW.changes IS NOT NULL AND NOT json_valid(NEW.changes))
  OR (NEW.metadata IS NOT NULL AND NOT json_valid(NEW.metadata))
BEGIN
    SELECT RAISE(ABORT, 'pass_versions: changes and metadata must be JSON');
END;
-- +goose StatementEnd

CREATE INDEX passes_merchant_user ON passes (merchant_id, user_id, id);

-- +goose Down
DROP INDEX passes_merchant_user;
DROP TRIGGER pass_versions_json;
