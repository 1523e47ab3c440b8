-- The transaction that wrote each change, so readers of the feed can tell
-- rows that may still gain lower-numbered neighbours (their transaction, or
-- an older one, is still running) from rows that are final; see
-- src/store/changes.rs.
ALTER TABLE asset_changes
    ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX asset_changes_by_txid ON asset_changes (txid, seq);
