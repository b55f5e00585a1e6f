-- Sandbox servers (docs/sandbox.md). Keep in step with ../sqlite/00013_sandbox.sql.

-- +goose Up
-- Whether the database belongs to a sandbox: recorded by the first
-- `ipass serve` that runs on it (sandbox 1 with --sandbox, else 0). A server
-- of the other kind refuses to start, and the sandbox commands refuse a
-- database that is not a sandbox's.
CREATE TABLE server_mode (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    sandbox     INTEGER NOT NULL CHECK (sandbox IN (0, 1)),
    recorded_at BIGINT  NOT NULL -- Unix milliseconds
);

-- Failures on purpose, per client, used up oldest first (id order).
-- operation: createPass, updatePass, queryPass, queryPassHistory or '*';
-- answer: a kind of ipass.ChaosAnswers, or '' to only delay; remaining: the
-- requests still to fail (a rule is deleted when it reaches 0).
CREATE TABLE chaos_rules (
    id            BIGSERIAL NOT NULL PRIMARY KEY,
    client_id     TEXT      NOT NULL,
    operation     TEXT      NOT NULL,
    answer        TEXT      NOT NULL,
    remaining     INTEGER   NOT NULL CHECK (remaining > 0),
    after_execute INTEGER   NOT NULL CHECK (after_execute IN (0, 1)),
    delay_ms      BIGINT    NOT NULL CHECK (delay_ms >= 0)
);
CREATE INDEX chaos_rules_client ON chaos_rules (client_id, id);

-- A sandbox's clock per merchant (`ipass admin clock`): the merchant's
-- "now" is the real one plus offset_ms. A merchant without a row has the
-- real clock.
CREATE TABLE merchant_clocks (
    merchant_id TEXT   NOT NULL PRIMARY KEY,
    offset_ms   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE merchant_clocks;
DROP TABLE chaos_rules;
DROP TABLE server_mode;
