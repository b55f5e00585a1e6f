-- Initial schema, PostgreSQL flavour. Keep in step with ../sqlite/00001_init.sql:
-- same tables, columns and constraints; only the type names differ.
--
-- Timestamps are Unix milliseconds (BIGINT) unless the column name says otherwise.
-- JSON columns are TEXT, not JSONB: JSONB re-encodes values (numbers, escapes,
-- duplicate keys) and dataInfo values must come back byte for byte
-- (ipass-api.md 3.6).

-- +goose Up
CREATE TABLE clients (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    rate_limit INTEGER NOT NULL CHECK (rate_limit >= 0)
);

-- Keys are never deleted: a retired key stays as history (STYLE habit 11).
CREATE TABLE client_keys (
    client_id   TEXT    NOT NULL REFERENCES clients (id),
    algorithm   TEXT    NOT NULL,
    key_version INTEGER NOT NULL CHECK (key_version >= 0),
    public_key  TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('active', 'retired')),
    PRIMARY KEY (client_id, algorithm, key_version)
);

CREATE TABLE merchants (
    id        TEXT NOT NULL PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id),
    name      TEXT NOT NULL
);

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
);

CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY
);

-- A user has at most one openId per merchant, and an openId names at most one
-- user within its merchant.
CREATE TABLE user_open_ids (
    user_id     TEXT NOT NULL REFERENCES users (id),
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    open_id     TEXT NOT NULL,
    PRIMARY KEY (user_id, merchant_id),
    UNIQUE (merchant_id, open_id)
);

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
    start_date              BIGINT  NOT NULL,
    end_date                BIGINT  NOT NULL,
    biz_create              BIGINT  NOT NULL,
    data_info               TEXT    NOT NULL, -- JSON object, values verbatim
    code_info               TEXT    NOT NULL, -- JSON object {"$codemsg$","$codevalue$"}
    version                 INTEGER NOT NULL CHECK (version >= 1),
    last_biz_date           BIGINT  NOT NULL,
    created_at              BIGINT  NOT NULL,
    updated_at              BIGINT  NOT NULL,
    create_fingerprint      TEXT    NOT NULL,
    last_update_fingerprint TEXT    NOT NULL,
    -- A retried create never makes a second pass (product.md 4): the database
    -- enforces it, not a check-then-insert.
    UNIQUE (merchant_id, biz_serial_id),
    FOREIGN KEY (merchant_id, template_code) REFERENCES templates (merchant_id, template_code)
);

CREATE TABLE pass_versions (
    pass_id          TEXT    NOT NULL REFERENCES passes (id),
    version          INTEGER NOT NULL CHECK (version >= 1),
    operation        TEXT    NOT NULL,
    client_id        TEXT    NOT NULL,
    merchant_id      TEXT    NOT NULL,
    changed_at       BIGINT  NOT NULL,
    status           TEXT    NOT NULL,
    request_status   TEXT    NOT NULL,
    update_kind      TEXT    NOT NULL,
    changes          TEXT,             -- JSON object or NULL
    metadata         TEXT,             -- JSON object or NULL
    pass_verify_code TEXT    NOT NULL,
    biz_date         BIGINT  NOT NULL,
    tracer_id        TEXT    NOT NULL,
    PRIMARY KEY (pass_id, version)
);

-- Signed requests seen inside the replay window (ipass-api.md 2.9).
-- expires_at is Unix milliseconds.
CREATE TABLE replay_records (
    client_id  TEXT   NOT NULL,
    digest     BYTEA  NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, digest)
);

CREATE INDEX replay_records_expires_at ON replay_records (expires_at);

-- One token bucket per client, shared by every process (ipass-api.md 2.9).
-- updated_us is Unix microseconds: at 200 req/s a token is 5 ms, so
-- milliseconds would lose a visible share of the refill to rounding.
CREATE TABLE rate_buckets (
    client_id  TEXT             NOT NULL PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    updated_us BIGINT           NOT NULL
);

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
