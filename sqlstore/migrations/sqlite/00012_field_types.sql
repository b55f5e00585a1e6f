-- Typed template fields (docs/tenants-file.md, "Field types"): placeholder
-- -> {"type": ..., "place": ...}, JSON; {} for templates provisioned before,
-- whose placeholders stay untyped. Keep in step with ../postgres/00012_field_types.sql.

-- +goose Up
ALTER TABLE templates ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE templates DROP COLUMN fields;
