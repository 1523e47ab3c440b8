-- Authorities (councils), organisations (operators), tokens, assets and
-- boundary layers (PostgreSQL). Dates are ISO 8601 text; geometries are GeoJSON text.

CREATE TABLE authorities (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE organisations (
    slug        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Only a SHA-256 hash of each token is kept.
CREATE TABLE tokens (
    id            BIGSERIAL PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'operator')),
    authority     TEXT REFERENCES authorities(code),
    organisation  TEXT REFERENCES organisations(slug),
    name          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE assets (
    id                 TEXT PRIMARY KEY,
    authority          TEXT NOT NULL REFERENCES authorities(code),
    ref                TEXT NOT NULL,
    kind               TEXT NOT NULL,
    geometry           TEXT NOT NULL,
    height_m           DOUBLE PRECISION,
    power_supply       TEXT NOT NULL,
    capacity           BIGINT NOT NULL CHECK (capacity >= 1),
    load_rating_kg     DOUBLE PRECISION,
    last_inspected     TEXT,
    install_year       BIGINT,
    status             TEXT NOT NULL,
    listed             BIGINT NOT NULL CHECK (listed IN (0, 1)),
    photo_url          TEXT,
    source_attributes  TEXT NOT NULL DEFAULT '{}',
    -- 1 when inserted, +1 on every update: tells an import what it did.
    revision           BIGINT NOT NULL DEFAULT 1,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (authority, ref)
);

CREATE TABLE areas (
    id         BIGSERIAL PRIMARY KEY,
    authority  TEXT NOT NULL REFERENCES authorities(code),
    layer      TEXT NOT NULL CHECK (layer IN ('ward', 'fee_zone', 'conservation_area')),
    name       TEXT NOT NULL,
    geometry   TEXT NOT NULL
);
CREATE INDEX areas_by_layer ON areas (authority, layer);

-- Every asset write appends here in the same transaction, so other replicas
-- sharing the database can patch their in-memory index.
CREATE TABLE asset_changes (
    seq       BIGSERIAL PRIMARY KEY,
    asset_id  TEXT NOT NULL
);
