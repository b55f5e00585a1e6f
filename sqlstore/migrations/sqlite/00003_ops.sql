-- Operators: the cluster's server key set and a per-client header spelling.
-- Keep in step with ../postgres/00003_ops.sql.

-- +goose Up
-- The SHA-256 fingerprints (hex, of the SPKI DER) of the server's public keys
-- per --server-key-version, recorded by the first node that starts with that
-- version. Every later node must present the same keys or refuse to start, so
-- a response verifies whichever node answered.
CREATE TABLE server_keys (
    key_version    INTEGER NOT NULL PRIMARY KEY CHECK (key_version >= 0),
    rsa_signing    TEXT    NOT NULL,
    ecc_signing    TEXT    NOT NULL,
    rsa_encryption TEXT    NOT NULL,
    recorded_at    INTEGER NOT NULL -- Unix milliseconds
) STRICT;

-- How response protocol header names are spelled for this client: 'lower'
-- (signature, response-time, ...; the default, what HTTP/2 and the Antom
-- Python SDK expect) or 'canonical' (Signature, Response-Time, ...; for SDKs
-- such as ZOLOZ Java that look names up case-sensitively in that spelling).
ALTER TABLE clients ADD COLUMN header_case TEXT NOT NULL DEFAULT 'lower'
    CHECK (header_case IN ('lower', 'canonical'));

-- +goose Down
-- SQLite cannot drop a column that has a CHECK constraint; header_case stays,
-- harmless, with its default.
DROP TABLE server_keys;
