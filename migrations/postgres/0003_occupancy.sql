-- Capacity taken on each asset, kept by the concession workflow (never by
-- imports or edits): applications hold units with a conditional UPDATE, so
-- the database, not a replica's memory, decides when an asset is full.
ALTER TABLE assets ADD COLUMN in_use BIGINT NOT NULL DEFAULT 0 CHECK (in_use >= 0);
ALTER TABLE assets ADD COLUMN installed BIGINT NOT NULL DEFAULT 0 CHECK (installed >= 0);

-- Every boundary-layer replacement appends here in the same transaction, so
-- other replicas (and a server beside a CLI import) re-place their assets.
CREATE TABLE area_changes (
    seq        BIGSERIAL PRIMARY KEY,
    authority  TEXT NOT NULL,
    layer      TEXT NOT NULL
);
