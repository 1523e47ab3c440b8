//! Boundary layers (wards, fee zones, conservation areas) and their change
//! log.

use geo::{Geometry, MultiPolygon};
use sqlx::FromRow;

use super::{Store, StoreError, StoreResult, conflict, parse_stored};
use crate::domain::area::{Area, AreaLayer};
use crate::geojson_io::{geometry_json, parse_geometry_text};

#[derive(FromRow)]
struct AreaRow {
    id: i64,
    authority: String,
    layer: String,
    name: String,
    geometry: String,
}

impl Store {
    /// Every boundary polygon of every authority.
    pub async fn all_areas(&self) -> StoreResult<Vec<Area>> {
        let rows: Vec<AreaRow> =
            sqlx::query_as("SELECT id, authority, layer, name, geometry FROM areas ORDER BY id")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter()
            .map(|r| {
                let geometry = match parse_geometry_text(&r.geometry) {
                    Ok(Geometry::MultiPolygon(m)) => m,
                    Ok(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
                    Ok(_) | Err(_) => {
                        return Err(StoreError::Corrupt(format!("area {} geometry", r.id)));
                    }
                };
                Ok(Area {
                    id: r.id,
                    authority: r.authority,
                    layer: parse_stored("layer", &r.layer)?,
                    name: r.name,
                    geometry,
                })
            })
            .collect()
    }

    /// Replaces one boundary layer of an authority with `areas`, atomically,
    /// and logs the change for other processes.
    pub async fn replace_areas(
        &self,
        authority: &str,
        layer: AreaLayer,
        areas: &[(String, MultiPolygon<f64>)],
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM areas WHERE authority = $1 AND layer = $2")
            .bind(authority)
            .bind(layer.as_str())
            .execute(&mut *tx)
            .await?;
        for (name, geometry) in areas {
            sqlx::query(
                "INSERT INTO areas (authority, layer, name, geometry) VALUES ($1, $2, $3, $4)",
            )
            .bind(authority)
            .bind(layer.as_str())
            .bind(name)
            .bind(geometry_json(&Geometry::MultiPolygon(geometry.clone())))
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, || format!("authority {authority:?}")))?;
        }
        sqlx::query("INSERT INTO area_changes (authority, layer) VALUES ($1, $2)")
            .bind(authority)
            .bind(layer.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
