//! Pure rules of the business: no HTTP, no SQL.
//!
//! - [`asset`]: assets and their validation.
//! - [`area`]: boundary layers (wards, fee zones, conservation areas).
//! - [`access`]: roles and who may see or change what.
//! - [`criteria`]: attribute filters shared by the listing endpoints.
//! - [`fees`]: fee schedules and quotes (exact decimal money);
//!   [`fee_versions`]: published versions and which is in effect.
//! - [`geometry`]: geometry validity for every geometry input.
//! - [`validate`]: validated newtypes for identifiers (authority codes, slugs).

pub mod access;
pub mod area;
pub mod asset;
pub mod criteria;
pub mod fee_versions;
pub mod fees;
pub mod geometry;
pub mod validate;
