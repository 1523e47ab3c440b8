//! The shared source files read independently of the importer.

use super::*;

/// One point feature of a source file: the ref it should get and where it is.
#[derive(Debug, Clone)]
pub(super) struct Site {
    pub(super) reference: String,
    pub(super) lon: f64,
    pub(super) lat: f64,
}

impl Site {
    pub(super) fn point(&self) -> Point<f64> {
        Point::new(self.lon, self.lat)
    }
}

/// A ref as the file writes it: text, or a JSON number (`1001.0` is `1001`).
pub(super) fn ref_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => panic!("unexpected ref value {other}"),
    }
}

/// The Point features of a GeoJSON file, with refs from `ref_property`.
pub(super) fn sites(file: &Value, ref_property: &str) -> Vec<Site> {
    file["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            assert_eq!(f["geometry"]["type"], "Point");
            Site {
                reference: ref_text(&f["properties"][ref_property]),
                lon: c[0].as_f64().expect("lon"),
                lat: c[1].as_f64().expect("lat"),
            }
        })
        .collect()
}

/// A shared data file's bytes and its parsed JSON, or `None` when absent.
pub(super) fn shared_file(rel: &str) -> Option<(Vec<u8>, Value)> {
    let path = helpers::shared_data(rel)?;
    let bytes = std::fs::read(&path).expect("read shared data");
    let value = serde_json::from_slice(&bytes).expect("shared data is JSON");
    Some((bytes, value))
}
