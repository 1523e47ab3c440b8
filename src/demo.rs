//! The bundled demo: real Trafford Council open data (see `data/demo/README.md`
//! for sources, licences and which fields are synthetic).

use crate::domain::access::Principal;
use crate::domain::area::AreaLayer;
use crate::import::{self, Mapping};
use crate::register::{ImportTarget, import_rows};
use crate::store::Store;

/// The demo authority's code.
pub const AUTHORITY: &str = "trafford";
/// The demo operator's slug.
pub const OPERATOR: &str = "demo-mobile";

const ASSETS: &[u8] = include_bytes!("../data/demo/assets.geojson");
const WARDS: &[u8] = include_bytes!("../data/demo/wards.geojson");
const FEE_ZONES: &[u8] = include_bytes!("../data/demo/fee_zones.geojson");
const CONSERVATION: &[u8] = include_bytes!("../data/demo/conservation_areas.geojson");
/// An illustrative schedule in the shape of the example (not
/// Trafford's real terms): zones `central` and `suburban` match the demo's
/// synthetic fee zones.
const FEE_SCHEDULE: &str = include_str!("../data/demo/fee_schedule.json");

/// Loads the demo into an empty database, then (empty or not, as long as
/// the demo authority exists) issues a fresh token per role and returns
/// them as `(label, token)`.
pub async fn load_if_empty(store: &Store) -> anyhow::Result<Option<Vec<(String, String)>>> {
    if store.authorities().await?.is_empty() {
        load(store).await?;
    } else if store.authority(AUTHORITY).await?.is_none() {
        eprintln!("--demo: the database already holds other data; the demo was not loaded");
        return Ok(None);
    }
    let mut tokens = Vec::new();
    for (label, p) in [
        ("admin", Principal::Admin),
        (
            "staff (trafford)",
            Principal::Staff {
                authority: AUTHORITY.into(),
            },
        ),
        (
            "operator (demo-mobile)",
            Principal::Operator {
                organisation: OPERATOR.into(),
            },
        ),
    ] {
        tokens.push((
            label.to_string(),
            store.create_token(&p, "demo", None).await?,
        ));
    }
    Ok(Some(tokens))
}

/// Loads the demo data set.
pub async fn load(store: &Store) -> anyhow::Result<()> {
    eprintln!(
        "--demo: loading the Trafford demo data (Contains public sector information licensed under the Open Government Licence v3.0)"
    );
    store
        .create_authority(AUTHORITY, "Trafford Council")
        .await?;
    store
        .create_organisation(OPERATOR, "Demo Mobile Ltd")
        .await?;
    for (layer, bytes) in [
        (AreaLayer::Ward, WARDS),
        (AreaLayer::FeeZone, FEE_ZONES),
        (AreaLayer::ConservationArea, CONSERVATION),
    ] {
        let areas: Vec<_> = import::parse_areas_geojson(bytes, "name")?
            .into_iter()
            .filter_map(|a| a.outcome.ok())
            .collect();
        store.replace_areas(AUTHORITY, layer, &areas).await?;
    }
    let schedule: crate::domain::fees::FeeSchedule = serde_json::from_str(FEE_SCHEDULE)?;
    crate::domain::fees::validate(&schedule).map_err(anyhow::Error::msg)?;
    store
        .publish_fee_schedule(AUTHORITY, &schedule, None)
        .await?;
    let rows = import::parse_geojson(ASSETS, &Mapping::default())?;
    let report = import_rows(ImportTarget::Store(store), AUTHORITY, rows, &|_| {}).await?;
    eprintln!(
        "--demo: {} assets loaded, {} rejected",
        report.inserted + report.updated,
        report.rejected_total
    );
    Ok(())
}
