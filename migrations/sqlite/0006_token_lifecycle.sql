-- Token management: an optional expiry, when a token was last used
-- (written at most once a minute per token and process), and revocation.
-- A revoked token keeps its row, so revocations are only ever added and
-- replicas can tell a new one by counting them (see src/register/mod.rs).
-- Times are ISO 8601 text in UTC, like every other date here.
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
ALTER TABLE tokens ADD COLUMN revoked_at TEXT;
CREATE INDEX tokens_revoked ON tokens (revoked_at) WHERE revoked_at IS NOT NULL;
