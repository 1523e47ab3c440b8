//! Pure rules of the business: no HTTP, no SQL.
//!
//! - [`asset`]: assets and their validation; [`attributes`]: their source
//!   attributes, kept compactly as JSON text.
//! - [`area`]: boundary layers (wards, fee zones, conservation areas).
//! - [`access`]: roles and who may see or change what.
//! - [`application`]: applications for sites: states, who moves them on,
//!   the decision clock, the application form.
//! - [`attachment`]: documents attached to applications (types from bytes).
//! - [`installation`]: equipment installed on sites.
//! - [`ledger`]: charges due from applications and agreements, the subsidy
//!   fund and their breakdowns.
//! - [`matching`]: site searches: hard constraints, scores, spacing and
//!   coverage selection.
//! - [`criteria`]: attribute filters shared by the listing endpoints.
//! - [`fees`]: fee schedules and quotes (exact decimal money);
//!   [`fee_versions`]: published versions and which is in effect.
//! - [`geometry`]: geometry validity for every geometry input.
//! - [`reimport`]: re-imports meeting stored assets (`merge` or `replace`).
//! - [`validate`]: validated newtypes for identifiers (authority codes, slugs).

pub mod access;
pub mod application;
pub mod area;
pub mod asset;
pub mod attachment;
pub mod attributes;
pub mod criteria;
pub mod fee_versions;
pub mod fees;
pub mod geometry;
pub mod installation;
pub mod ledger;
pub mod matching;
pub mod reimport;
pub mod rings;
pub mod validate;
