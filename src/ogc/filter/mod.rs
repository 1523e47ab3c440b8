//! OGC API - Features Part 3 (Filtering) in CQL2 text.
//!
//! The `cql2` crate parses a `filter` into a [`cql2::Expr`] once per
//! request; [`compile`] turns that into a small typed predicate tree over
//! the collection's own records ([`Asset`] or [`Area`]), so each feature is
//! tested by reading its fields directly, with no JSON built per feature.
//! Types are checked while compiling (a number property compared with a
//! string is a 400, not an empty answer).
//!
//! The properties a filter may name are the collection's [`Schema`]: the
//! same table `/collections/{id}/queryables` publishes, so the two cannot
//! drift apart.
//!
//! Comparisons follow CQL2's three-valued logic: a comparison with a null
//! property is *unknown*, `NOT unknown` is unknown, and only features for
//! which the whole filter is *true* are returned (use `IS NULL` for nulls).
//!
//! Layout: `schema.rs` (queryables: the fields a filter may name),
//! `predicate.rs` (the compiled predicate and its evaluation), `compile.rs`
//! (CQL2 expression to predicate, type checks), `spatial.rs` (spatial terms
//! and British National Grid literals), `errors.rs` (positions and limits
//! in error messages), `lower.rs` (conjuncts the index decides by itself,
//! moved into attribute criteria).

use std::cmp::Ordering;

use geo::{BoundingRect, Coord, CoordsIter, Geometry, Intersects, LinesIter, MapCoords, Rect};
use pest::error::{ErrorVariant, LineColLocation};
use serde_json::{Map, Value, json};

use super::crs::Crs;
use crate::crs::{bng_to_wgs84, wgs84_to_bng};
use crate::domain::area::Area;
use crate::domain::asset::{Asset, AssetKind, AssetStatus, PowerSupply, validate_coordinates};

/// Why a filter was refused, for the client: the HTTP edge answers 400 with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

mod compile;
mod errors;
mod lower;
mod predicate;
mod schema;
mod spatial;

use compile::*;
use errors::*;
use predicate::*;
pub use predicate::{Filter, area};
pub use schema::*;
use spatial::*;

/// Which filter language a request uses (`filter-lang`).
pub fn check_lang(lang: Option<&str>) -> Result<(), FilterError> {
    match lang {
        None | Some("cql2-text") => Ok(()),
        Some(other) => Err(FilterError(format!(
            "filter-lang {other:?} is not supported; use cql2-text"
        ))),
    }
}

/// Most rule calls the CQL2 parser may make for one filter. Unclosed
/// parentheses before an unfinished function call make its backtracking
/// double with each level (found by `fuzz/fuzz_targets/cql2_filter.rs`: 24
/// levels took minutes of a core); the largest filters the tests accept need
/// far fewer calls, and past the limit the parse fails as a syntax error.
const PARSER_CALL_LIMIT: usize = 200_000;

/// Sets [`PARSER_CALL_LIMIT`] on the `pest` parser under `cql2` (a process-
/// wide setting; `cql2` is its only user here).
fn bound_parser_work() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| pest::set_call_limit(std::num::NonZeroUsize::new(PARSER_CALL_LIMIT)));
}

/// Parses and compiles a cql2-text `filter` against `schema`, with spatial
/// literals in `crs` (`filter-crs`).
pub fn compile<T>(
    text: &str,
    crs: Crs,
    schema: &'static Schema<T>,
) -> Result<Filter<T>, FilterError> {
    check_nesting(text)?;
    bound_parser_work();
    let expr = cql2::parse_text(text).map_err(|e| syntax_error(text, e))?;
    let c = Compiler { text, schema, crs };
    let pred = c.pred(&expr)?;
    let rects = pred.bound();
    Ok(Filter { pred, rects })
}

#[cfg(test)]
mod tests;
