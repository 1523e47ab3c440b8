-- Saved site searches: every POST /v1/site-searches, with the request as
-- sent, the answer as served (and its summary, for lists), who ran it and
-- when. `organisation` is the operator's (NULL for staff and admin);
-- `authority` the staff member's council (NULL otherwise).
CREATE TABLE site_searches (
    id            TEXT PRIMARY KEY,
    organisation  TEXT REFERENCES organisations(slug),
    authority     TEXT REFERENCES authorities(code),
    role          TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'operator')),
    request       TEXT NOT NULL,
    summary       TEXT NOT NULL,
    result        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX site_searches_by_organisation ON site_searches (organisation, created_at, id);
CREATE INDEX site_searches_by_time ON site_searches (created_at, id);

-- The chosen sites in rank order, with their council: staff see the
-- searches that chose their council's sites, and an application can be
-- seeded from them.
CREATE TABLE site_search_sites (
    search_id  TEXT NOT NULL REFERENCES site_searches(id) ON DELETE CASCADE,
    rank       INTEGER NOT NULL,
    asset_id   TEXT NOT NULL,
    authority  TEXT NOT NULL,
    PRIMARY KEY (search_id, rank)
);
CREATE INDEX site_search_sites_by_authority ON site_search_sites (authority, search_id);
