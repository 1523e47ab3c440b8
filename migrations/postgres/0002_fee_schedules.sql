-- Published fee schedules: every version is kept, so a quote or agreement
-- can always name (and reproduce from) the version it used.
CREATE TABLE fee_schedules (
    authority       TEXT NOT NULL REFERENCES authorities(code),
    version         BIGINT NOT NULL,
    effective_from  TEXT NOT NULL,
    document        TEXT NOT NULL,
    published_at    TEXT NOT NULL,
    PRIMARY KEY (authority, version)
);
