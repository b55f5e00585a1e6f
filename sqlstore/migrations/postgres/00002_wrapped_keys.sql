-- +goose Up
-- The wrapped AES keys (Encrypt symmetricKey) of encrypted requests, each
-- accepted once server-wide (SECURITY.md, "sender binding"). digest is the
-- SHA-256 of the wrapped bytes; used_at is Unix milliseconds. Kept without
-- expiry: a captured ciphertext can be re-signed by another client at any
-- time, not only inside the replay window.
CREATE TABLE wrapped_keys (
    digest    BYTEA  NOT NULL PRIMARY KEY,
    client_id TEXT   NOT NULL,
    used_at   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE wrapped_keys;
