-- The request log: one row per API request of a known client, for the
-- merchant to read back (queryRequestLog) and the operator (ipass admin
-- requests). Written in batches off the request path; pruned by age and
-- by a row bound per client. Never a body.
-- Keep in step with ../postgres/00011_request_log.sql.

-- +goose Up
CREATE TABLE request_log (
    id             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL, -- Unix milliseconds, arrival
    client_id      TEXT    NOT NULL,
    operation      TEXT    NOT NULL,
    merchant_id    TEXT    NOT NULL,
    pass_id        TEXT    NOT NULL,
    result_code    TEXT    NOT NULL,
    result_message TEXT    NOT NULL,
    http_status    INTEGER NOT NULL,
    duration_us    INTEGER NOT NULL,
    tracer_id      TEXT    NOT NULL,
    content_sha256 TEXT    NOT NULL, -- hex; '' before the signature check
    node           TEXT    NOT NULL
) STRICT;
-- A client's page, newest first; the per-client row bound.
CREATE INDEX request_log_client ON request_log (client_id, id);
-- Pruning by age.
CREATE INDEX request_log_at ON request_log (at);

-- +goose Down
DROP TABLE request_log;
