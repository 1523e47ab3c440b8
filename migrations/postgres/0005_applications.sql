-- Applications for sites, their documents and audit trail, the agreements
-- approvals make, the charges those agreements bring, and installations.
-- Dates are ISO 8601 text; money is decimal text (exact, summed in Rust) (PostgreSQL).

-- Each council's periods; an authority without a row uses the defaults
-- (56 days to decide, 183 days to install after approval).
CREATE TABLE authority_settings (
    authority             TEXT PRIMARY KEY REFERENCES authorities(code),
    decision_period_days  BIGINT NOT NULL CHECK (decision_period_days BETWEEN 1 AND 365),
    install_by_days       BIGINT NOT NULL CHECK (install_by_days BETWEEN 1 AND 1095),
    updated_at            TEXT NOT NULL
);

CREATE TABLE applications (
    id                    TEXT PRIMARY KEY,
    authority             TEXT NOT NULL REFERENCES authorities(code),
    organisation          TEXT NOT NULL REFERENCES organisations(slug),
    status                TEXT NOT NULL CHECK (status IN ('submitted', 'under_review',
                              'info_requested', 'approved', 'rejected', 'withdrawn',
                              'installed', 'terminated', 'lapsed')),
    term_years            BIGINT NOT NULL,
    start_on              TEXT NOT NULL,
    install_by            TEXT NOT NULL,
    -- Equipment, deployment plan, contact and social value as one JSON document.
    details               TEXT NOT NULL,
    site_search           TEXT,
    -- The quote the application was made on (JSON) and the terms it used.
    schedule_version      BIGINT NOT NULL,
    currency              TEXT NOT NULL,
    application_fee       TEXT NOT NULL,
    quote                 TEXT NOT NULL,
    submitted_at          TEXT NOT NULL,
    submitted_on          TEXT NOT NULL,
    -- The decision clock: due date counting answered pauses; while
    -- information is awaited, the day it was asked for.
    decision_period_days  BIGINT NOT NULL,
    paused_days           BIGINT NOT NULL DEFAULT 0,
    paused_since          TEXT,
    decision_due          TEXT NOT NULL,
    decided_on            TEXT,
    install_deadline      TEXT,
    -- Documents attached so far (a conditional update caps it).
    attachment_count      BIGINT NOT NULL DEFAULT 0,
    updated_at            TEXT NOT NULL
);
CREATE INDEX applications_by_authority ON applications (authority, status, decision_due);
CREATE INDEX applications_by_organisation ON applications (organisation, status);
CREATE INDEX applications_by_install_deadline ON applications (status, install_deadline);

-- The sites of an application, as priced and placed when it was submitted
-- (an asset may change or go later; the application keeps what it asked for).
CREATE TABLE application_assets (
    application_id  TEXT NOT NULL REFERENCES applications(id),
    asset_id        TEXT NOT NULL,
    position        BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    ward            TEXT,
    fee_zone        TEXT,
    power_supply    TEXT NOT NULL,
    install_year    BIGINT,
    shared          BIGINT NOT NULL CHECK (shared IN (0, 1)),
    PRIMARY KEY (application_id, asset_id)
);
CREATE INDEX application_assets_by_asset ON application_assets (asset_id);

-- Documents, kept in the database so they are backed up and replicated with
-- everything else.
CREATE TABLE application_attachments (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications(id),
    filename        TEXT NOT NULL,
    description     TEXT,
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    content         BYTEA NOT NULL,
    uploaded_at     TEXT NOT NULL,
    uploaded_by     TEXT NOT NULL
);
CREATE INDEX application_attachments_by_application ON application_attachments (application_id);

-- The audit trail: appended to, never changed (the triggers refuse).
CREATE TABLE application_events (
    seq             BIGSERIAL PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications(id),
    at              TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT,
    reason          TEXT,
    detail          TEXT
);
CREATE INDEX application_events_by_application ON application_events (application_id, seq);
CREATE FUNCTION application_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'application events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER application_events_no_change BEFORE UPDATE OR DELETE ON application_events
    FOR EACH ROW EXECUTE FUNCTION application_events_append_only();
CREATE TRIGGER application_events_no_truncate BEFORE TRUNCATE ON application_events
    FOR EACH STATEMENT EXECUTE FUNCTION application_events_append_only();

-- A concession agreement, made when an application is approved.
CREATE TABLE agreements (
    id                TEXT PRIMARY KEY,
    application_id    TEXT NOT NULL UNIQUE REFERENCES applications(id),
    authority         TEXT NOT NULL REFERENCES authorities(code),
    organisation      TEXT NOT NULL REFERENCES organisations(slug),
    schedule_version  BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    start_on          TEXT NOT NULL,
    term_years        BIGINT NOT NULL,
    made_on           TEXT NOT NULL,
    -- Set when it lapses or is terminated: charges due after it stop.
    ended_on          TEXT,
    end_reason        TEXT
);
CREATE INDEX agreements_by_authority ON agreements (authority);

-- Each site's charges under an agreement, worked out once when it is made,
-- so the ledger never changes when fee schedules, assets or the quote
-- engine do later.
CREATE TABLE agreement_charges (
    agreement_id  TEXT NOT NULL REFERENCES agreements(id),
    asset_id      TEXT NOT NULL,
    charge        TEXT NOT NULL CHECK (charge IN ('rent', 'site_fee')),
    year          BIGINT NOT NULL,
    due_on        TEXT NOT NULL,
    authority     TEXT NOT NULL,
    amount        TEXT NOT NULL,
    subsidy       TEXT NOT NULL,
    PRIMARY KEY (agreement_id, asset_id, charge, year)
);
CREATE INDEX agreement_charges_by_due ON agreement_charges (authority, due_on);

-- Equipment on a site under an application.
CREATE TABLE installations (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications(id),
    asset_id        TEXT NOT NULL,
    authority       TEXT NOT NULL REFERENCES authorities(code),
    organisation    TEXT NOT NULL REFERENCES organisations(slug),
    carrier         TEXT NOT NULL,
    technology      TEXT NOT NULL,
    equipment       TEXT NOT NULL,
    installed_on    TEXT NOT NULL,
    contact_name    TEXT NOT NULL,
    contact_phone   TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    removed_on      TEXT,
    UNIQUE (application_id, asset_id)
);
CREATE INDEX installations_by_asset ON installations (asset_id);
CREATE INDEX installations_by_authority ON installations (authority);
