-- Initial schema, SQLite flavour. Keep in step with ../postgres/00001_init.sql:
-- same tables, columns and constraints; only the type names differ.
--
-- Tables are STRICT so a wrong Go type bound to a column fails loudly instead
-- of being stored under SQLite's type affinity rules.
-- Timestamps are Unix milliseconds (INTEGER) unless the column name says otherwise.
-- JSON columns are TEXT, never re-encoded: dataInfo values must come back byte
-- for byte (ipass-api.md 3.6).

-- +goose Up
CREATE TABLE clients (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    rate_limit INTEGER NOT NULL CHECK (rate_limit >= 0)
) STRICT;

-- Keys are never deleted: a retired key stays as history (STYLE habit 11).
CREATE TABLE client_keys (
    client_id   TEXT    NOT NULL REFERENCES clients (id),
    algorithm   TEXT    NOT NULL,
    key_version INTEGER NOT NULL CHECK (key_version >= 0),
    public_key  TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('active', 'retired')),
    PRIMARY KEY (client_id, algorithm, key_version)
) STRICT;

CREATE TABLE merchants (
    id        TEXT NOT NULL PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id),
    name      TEXT NOT NULL
) STRICT;

CREATE INDEX merchants_client_id ON merchants (client_id);

-- templateCode is unique per merchant, not globally: the key is
-- (merchant_id, template_code), which is also how every lookup asks.
CREATE TABLE templates (
    merchant_id   TEXT NOT NULL REFERENCES merchants (id),
    template_code TEXT NOT NULL,
    type          TEXT NOT NULL,
    product       TEXT NOT NULL,
    title         TEXT NOT NULL, -- JSON object locale -> title
    locales       TEXT NOT NULL, -- JSON array
    placeholders  TEXT NOT NULL, -- JSON array
    code_display  TEXT NOT NULL,
    style         TEXT NOT NULL, -- JSON object
    PRIMARY KEY (merchant_id, template_code)
) STRICT;

CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY
) STRICT;

-- A user has at most one openId per merchant, and an openId names at most one
-- user within its merchant.
CREATE TABLE user_open_ids (
    user_id     TEXT NOT NULL REFERENCES users (id),
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    open_id     TEXT NOT NULL,
    PRIMARY KEY (user_id, merchant_id),
    UNIQUE (merchant_id, open_id)
) STRICT;

CREATE TABLE passes (
    id                      TEXT    NOT NULL PRIMARY KEY,
    merchant_id             TEXT    NOT NULL REFERENCES merchants (id),
    biz_serial_id           TEXT    NOT NULL,
    template_code           TEXT    NOT NULL,
    type                    TEXT    NOT NULL,
    product                 TEXT    NOT NULL,
    user_id                 TEXT    NOT NULL REFERENCES users (id),
    -- EXPIRED is derived at read time and never stored.
    status                  TEXT    NOT NULL CHECK (status IN ('ACTIVE', 'USED', 'REFUND', 'CLOSED')),
    start_date              INTEGER NOT NULL,
    end_date                INTEGER NOT NULL,
    biz_create              INTEGER NOT NULL,
    data_info               TEXT    NOT NULL, -- JSON object, values verbatim
    code_info               TEXT    NOT NULL, -- JSON object {"$codemsg$","$codevalue$"}
    version                 INTEGER NOT NULL CHECK (version >= 1),
    last_biz_date           INTEGER NOT NULL,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    create_fingerprint      TEXT    NOT NULL,
    last_update_fingerprint TEXT    NOT NULL,
    -- A retried create never makes a second pass (product.md 4): the database
    -- enforces it, not a check-then-insert.
    UNIQUE (merchant_id, biz_serial_id),
    FOREIGN KEY (merchant_id, template_code) REFERENCES templates (merchant_id, template_code)
) STRICT;

CREATE TABLE pass_versions (
    pass_id          TEXT    NOT NULL REFERENCES passes (id),
    version          INTEGER NOT NULL CHECK (version >= 1),
    operation        TEXT    NOT NULL,
    client_id        TEXT    NOT NULL,
    merchant_id      TEXT    NOT NULL,
    changed_at       INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    request_status   TEXT    NOT NULL,
    update_kind      TEXT    NOT NULL,
    changes          TEXT,             -- JSON object or NULL
    metadata         TEXT,             -- JSON object or NULL
    pass_verify_code TEXT    NOT NULL,
    biz_date         INTEGER NOT NULL,
    tracer_id        TEXT    NOT NULL,
    PRIMARY KEY (pass_id, version)
) STRICT;

-- Signed requests seen inside the replay window (ipass-api.md 2.9).
-- expires_at is Unix milliseconds.
CREATE TABLE replay_records (
    client_id  TEXT    NOT NULL,
    digest     BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, digest)
) STRICT;

CREATE INDEX replay_records_expires_at ON replay_records (expires_at);

-- One token bucket per client, shared by every process (ipass-api.md 2.9).
-- updated_us is Unix microseconds: at 200 req/s a token is 5 ms, so
-- milliseconds would lose a visible share of the refill to rounding.
CREATE TABLE rate_buckets (
    client_id  TEXT    NOT NULL PRIMARY KEY,
    tokens     REAL    NOT NULL,
    updated_us INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE rate_buckets;
DROP TABLE replay_records;
DROP TABLE pass_versions;
DROP TABLE passes;
DROP TABLE user_open_ids;
DROP TABLE users;
DROP TABLE templates;
DROP TABLE merchants;
DROP TABLE client_keys;
DROP TABLE clients;
