//! Streetcell: council street assets as 5G small-cell sites.
//!
//! Councils keep their asset registers here; operators search them for
//! sites that meet their radio needs; GIS tools read everything as GeoJSON.
//! One deployment serves several councils, each managing only its own data.
//!
//! # Layout
//!
//! - [`domain`]: pure rules (assets, boundary layers, access, fees). No I/O.
//! - [`index`]: the in-memory R-tree of assets (lock-free snapshots) and the
//!   boundary-layer index that derives ward, fee zone and conservation area.
//! - [`store`]: the database (SQLite or PostgreSQL) behind one API.
//! - [`register`]: the one way in for every write: keeps the database, the
//!   indexes and the caches in step; imports.
//! - [`import`]: reads council exports (GeoJSON, CSV, BNG or WGS84).
//! - [`crs`]: British National Grid ⇄ WGS84 (OSTN15).
//! - [`geojson_io`]: GeoJSON written straight to bytes.
//! - [`http`]: the HTTP API, one module per resource.
//! - [`ogc`]: OGC API - Features (Parts 1 and 2) for GIS clients.
//! - [`cli`]: the command line; [`demo`]: the bundled Trafford demo.
//!
//! A request flows `http::<resource>` → (reads) an index snapshot, or
//! (writes) [`register::Register`] → `store` then index. See ARCHITECTURE.md.

pub mod cli;
pub mod console;
pub mod crs;
pub mod demo;
pub mod domain;
pub mod geojson_io;
pub mod http;
pub mod import;
pub mod index;
pub mod ogc;
pub mod register;
pub mod store;
