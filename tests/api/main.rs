//! HTTP API tests: the real service on a real port over a fresh database,
//! once on SQLite and once on PostgreSQL (when `STREETCELL_TEST_POSTGRES`
//! is set).

mod access;
mod application_helpers;
mod applications;
mod attachments;
mod axe;
mod bng;
mod browser;
mod browser_finder;
mod bulk_import;
mod capacity;
mod consistency;
mod console;
mod console_finder;
mod console_helpers;
mod console_pages;
mod console_sliding;
mod cql2;
mod crash;
mod downloads;
mod edits;
mod errors;
mod fees;
mod gdal;
mod geojson_valid;
mod geometry;
mod gis;
mod helpers;
mod ledger;
mod limits;
mod ogc;
mod openapi;
mod openapi_strict;
mod operations;
mod panics;
mod register;
mod replicas;
mod saved_site_searches;
mod schemathesis;
mod site_searches;
mod snapshots;
mod tiles;
mod tokens;
mod webdriver;
