-- Which server RSA key opens a client's encrypted requests: 'encryption'
-- (the server's separate encryption key; the default) or 'signing' (the
-- server's signing key, for SDKs that know one server public key only and
-- use it both to verify and to encrypt, such as the ZOLOZ Java SDK).
-- Keep in step with ../postgres/00008_encryption_key.sql.

-- +goose Up
ALTER TABLE clients ADD COLUMN encryption_key TEXT NOT NULL DEFAULT 'encryption'
    CHECK (encryption_key IN ('encryption', 'signing'));

-- +goose Down
-- SQLite cannot drop a column that has a CHECK constraint; encryption_key
-- stays, harmless, with its default.
SELECT 1;
