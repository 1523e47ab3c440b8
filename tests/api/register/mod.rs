//! The register over HTTP against answers worked out independently: real
//! Trafford open data imported through the API, then queried and compared
//! with brute force computed here from the same files (geodesic distances
//! with `geo::Geodesic`, point-in-polygon by ray casting, distance to a
//! polygon's boundary by densifying its edges), with the publisher's own
//! ward names, and with itself across a restart and a second writer.
//!
//! Layout: `source.rs` reads the shared files independently of the importer,
//! `brute.rs` works out the answers by brute force; the tests are `trees.rs`
//! (import at scale, nearest, bbox and polygon search), `wards.rs` (CCTV
//! cameras placed in the publisher's wards) and `lifecycle.rs` (restart,
//! writes seen at once and by another process, concurrent imports). The HTTP
//! helpers they share are here.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;
use std::time::Instant;

use geo::{Distance, Geodesic, Point};
use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{self, TestApp};
use crate::on_both_databases;

const AUTHORITY: &str = "trafford";
const GEOJSON: &str = "application/geo+json";
const TREES: &str = "trafford-street-assets/trafford_highways_trees.geojson";
const CCTV: &str = "trafford-street-assets/trafford_cctv_cameras.geojson";
const WARDS: &str = "trafford-boundaries/trafford_ward_2023_full_resolution.geojson";
const CONSERVATION: &str = "trafford-boundaries/trafford_conservation_areas.geojson";

/// Trafford, for random query points and boxes.
const LON: std::ops::Range<f64> = -2.48..-2.25;
const LAT: std::ops::Range<f64> = 53.35..53.48;

mod batches;
mod brute;
mod catching_up;
mod lifecycle;
mod source;
mod trees;
mod wards;

use brute::*;
use source::*;

// ---------------------------------------------------------------------------
// HTTP helpers.
// ---------------------------------------------------------------------------

/// Creates the authority and returns its staff token.
pub(super) async fn trafford(app: &TestApp) -> String {
    app.authority(AUTHORITY).await
}

/// Imports GeoJSON bytes as `kind` with refs from `ref_field`.
pub(super) async fn import(
    app: &TestApp,
    token: &str,
    kind: &str,
    ref_field: &str,
    body: Vec<u8>,
) -> Value {
    let path = format!("/v1/authorities/{AUTHORITY}/imports?kind={kind}&ref_field={ref_field}");
    let (s, b) = app.post_bytes(&path, Some(token), GEOJSON, body).await;
    assert_eq!(s, 200, "import: {b}");
    b
}

/// GETs `path`, asserting 200.
pub(super) async fn get_ok(app: &TestApp, token: &str, path: &str) -> Value {
    let (s, b) = app.get(path, Some(token)).await;
    assert_eq!(s, 200, "GET {path}: {b}");
    b
}

/// `numberMatched` of the whole register.
pub(super) async fn count(app: &TestApp, token: &str) -> u64 {
    get_ok(app, token, "/v1/assets?limit=1").await["numberMatched"]
        .as_u64()
        .expect("numberMatched")
}

/// Every asset in the register, page by page.
pub(super) async fn all_assets(app: &TestApp, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let page = get_ok(
            app,
            token,
            &format!("/v1/assets?limit=10000&offset={}", out.len()),
        )
        .await;
        let features = page["features"].as_array().expect("features").clone();
        let matched = page["numberMatched"].as_u64().expect("numberMatched") as usize;
        let done = features.is_empty();
        out.extend(features);
        if done || out.len() >= matched {
            assert_eq!(out.len(), matched, "paging lost or repeated features");
            return out;
        }
    }
}

pub(super) fn features(collection: &Value) -> &Vec<Value> {
    collection["features"].as_array().expect("features")
}

pub(super) fn ref_of(feature: &Value) -> &str {
    feature["properties"]["ref"].as_str().expect("ref")
}

/// The refs of a collection, asserting none repeats.
pub(super) fn ref_set(collection: &Value) -> BTreeSet<String> {
    let fs = features(collection);
    let set: BTreeSet<String> = fs.iter().map(|f| ref_of(f).to_string()).collect();
    assert_eq!(set.len(), fs.len(), "a ref repeats in the answer");
    set
}

/// The id of the asset with `reference`, from a listing.
pub(super) fn id_by_ref(assets: &[Value], reference: &str) -> String {
    assets
        .iter()
        .find(|f| ref_of(f) == reference)
        .and_then(|f| f["id"].as_str())
        .unwrap_or_else(|| panic!("no asset with ref {reference}"))
        .to_string()
}

pub(super) async fn nearest(app: &TestApp, token: &str, lon: f64, lat: f64, k: usize) -> Value {
    get_ok(
        app,
        token,
        &format!("/v1/assets/nearest?lon={lon}&lat={lat}&k={k}"),
    )
    .await
}
