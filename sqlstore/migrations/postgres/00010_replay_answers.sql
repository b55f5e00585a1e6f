-- The first delivery's answer to a signed request, kept with its replay
-- record, so that a repeat of the request is answered and never executed
-- again (SECURITY.md, "at most once"); pruned with the record.
-- answer_state: 0 none kept (too large, or not one to repeat; the default,
-- also for the records written before this migration), 1 the first delivery
-- is still running, 2 answer holds the response body as first sent, before
-- encryption and signing. answer_envelope is the SHA-256 of the request's
-- Encrypt header (NULL: a plain request); answer_key_len the response's AES
-- key length in bytes. Keep in step with ../sqlite/00010_replay_answers.sql.

-- +goose Up
ALTER TABLE replay_records
    ADD COLUMN answer_state    SMALLINT NOT NULL DEFAULT 0 CHECK (answer_state IN (0, 1, 2)),
    ADD COLUMN answer_code     TEXT     NOT NULL DEFAULT '',
    ADD COLUMN answer          BYTEA,
    ADD COLUMN answer_envelope BYTEA,
    ADD COLUMN answer_key_len  INTEGER  NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE replay_records
    DROP COLUMN answer_state,
    DROP COLUMN answer_code,
    DROP COLUMN answer,
    DROP COLUMN answer_envelope,
    DROP COLUMN answer_key_len;
