-- Pass history queryable as JSON, and passes listed per merchant and user
-- (`ipass admin passes list`). Keep in step with ../sqlite/00005_history_json.sql.
--
-- changes and metadata stay TEXT: they are the exact record (dataInfo values
-- byte for byte, see 00001). Beside them, a stored jsonb copy that SQL can
-- query and index, e.g.
--   SELECT version FROM pass_versions WHERE changes_jsonb -> 'dataInfo' ? '$points_en_US$';
-- A value jsonb cannot hold (a lone surrogate escape, a number beyond
-- numeric's range) makes that copy NULL rather than refusing a change the
-- API accepted; the TEXT column still has it.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION ipass_jsonb_or_null(doc TEXT) RETURNS JSONB
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN doc::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

ALTER TABLE pass_versions
    ADD COLUMN changes_jsonb  JSONB GENERATED ALWAYS AS (ipass_jsonb_or_null(changes)) STORED,
    ADD COLUMN metadata_jsonb JSONB GENERATED ALWAYS AS (ipass_jsonb_or_null(metadata)) STORED;

CREATE INDEX passes_merchant_user ON passes (merchant_id, user_id, id);

-- +goose Down
DROP INDEX passes_merchant_user;
ALTER TABLE pass_versions DROP COLUMN metadata_jsonb, DROP COLUMN changes_jsonb;
DROP FUNCTION ipass_jsonb_or_null(TEXT);
