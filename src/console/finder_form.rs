//! The site finder's two forms as the browser posts them, and their
//! translation into the JSON bodies the API takes: the search form into a
//! `POST /v1/site-searches` body (a typed box, a ward picked by name, a
//! drawn or typed polygon, or a corridor line and width), and the
//! "apply for these sites" form into an `ApplicationRequest`. Pure: the
//! API's own validation runs afterwards and names what is still wrong.
//!
//! Forms are read as (name, value) pairs because checkboxes repeat a name
//! (`kind=lamp_post&kind=cctv_column`).

use geo::{Geometry, MultiPolygon};
use serde_json::{Map, Value, json};

use crate::domain::application::{ApplicationRequest, ContactRequest, EquipmentRequest};
use crate::domain::area::AreaLayer;
use crate::domain::asset::InvalidField;
use crate::geojson_io::geometry_json;
use crate::index::areas::AreaIndex;

/// The ways of saying where, as the form's `place` radio buttons name them.
pub const PLACES: [(&str, &str); 4] = [
    ("bbox", "A box (west, south, east, north)"),
    ("ward", "A ward"),
    ("polygon", "A polygon (drawn on the map or typed)"),
    ("corridor", "A street corridor (a line and a width)"),
];

/// The search form's values, kept as typed so a page can show them again.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchFields {
    /// `bbox`, `ward`, `polygon` or `corridor`.
    pub place: String,
    /// `west,south,east,north`.
    pub bbox: String,
    /// `authority/ward name`.
    pub ward: String,
    /// Longitude-latitude pairs of a polygon.
    pub polygon: String,
    /// Longitude-latitude pairs of a corridor's line.
    pub line: String,
    /// The corridor's full width.
    pub width_m: String,
    /// How many sites.
    pub sites_wanted: String,
    /// Least spacing between sites.
    pub min_spacing_m: String,
    /// Coverage mode's radius (empty: spacing mode).
    pub coverage_radius_m: String,
    /// Kinds ticked (none: any kind).
    pub kinds: Vec<String>,
    /// Height range.
    pub min_height_m: String,
    /// Height range.
    pub max_height_m: String,
    /// Power supplies ticked (none: any).
    pub power: Vec<String>,
    /// Exclusions.
    pub exclude_conservation_areas: bool,
    /// Exclusions.
    pub exclude_listed: bool,
    /// Also unavailable assets.
    pub include_unavailable: bool,
    /// Quote term.
    pub term_years: String,
}

impl Default for SearchFields {
    fn default() -> Self {
        SearchFields {
            place: "bbox".into(),
            bbox: String::new(),
            ward: String::new(),
            polygon: String::new(),
            line: String::new(),
            width_m: "60".into(),
            sites_wanted: "10".into(),
            min_spacing_m: "150".into(),
            coverage_radius_m: String::new(),
            kinds: Vec::new(),
            min_height_m: String::new(),
            max_height_m: String::new(),
            power: Vec::new(),
            exclude_conservation_areas: false,
            exclude_listed: false,
            include_unavailable: false,
            term_years: "10".into(),
        }
    }
}

fn ticked(v: &str) -> bool {
    matches!(v, "on" | "true" | "yes" | "1")
}

impl SearchFields {
    /// The fields of a posted search form.
    pub fn from_pairs(pairs: &[(String, String)]) -> SearchFields {
        let mut f = SearchFields {
            place: String::new(),
            width_m: String::new(),
            sites_wanted: String::new(),
            min_spacing_m: String::new(),
            term_years: String::new(),
            ..SearchFields::default()
        };
        for (k, v) in pairs {
            let v = v.trim().to_string();
            match k.as_str() {
                "place" => f.place = v,
                "bbox" => f.bbox = v,
                "ward" => f.ward = v,
                "polygon" => f.polygon = v,
                "line" => f.line = v,
                "width_m" => f.width_m = v,
                "sites_wanted" => f.sites_wanted = v,
                "min_spacing_m" => f.min_spacing_m = v,
                "coverage_radius_m" => f.coverage_radius_m = v,
                "kind" if !v.is_empty() => f.kinds.push(v),
                "min_height_m" => f.min_height_m = v,
                "max_height_m" => f.max_height_m = v,
                "power" if !v.is_empty() => f.power.push(v),
                "exclude_conservation_areas" => f.exclude_conservation_areas = ticked(&v),
                "exclude_listed" => f.exclude_listed = ticked(&v),
                "include_unavailable" => f.include_unavailable = ticked(&v),
                "term_years" => f.term_years = v,
                _ => {}
            }
        }
        f
    }

    /// The `POST /v1/site-searches` body these fields say, or the fields
    /// that cannot be read (form names; the API's validation follows).
    pub fn to_request(&self, areas: &AreaIndex) -> Result<Value, Vec<InvalidField>> {
        let mut bad = Vec::new();
        let mut body = Map::new();
        match self.place.as_str() {
            "bbox" => match bbox(&self.bbox) {
                Ok(area) => {
                    body.insert("area".into(), area);
                }
                Err(m) => bad.push(InvalidField::new("bbox", m)),
            },
            "ward" => match ward(areas, &self.ward) {
                Some(mp) => {
                    body.insert(
                        "area".into(),
                        geometry_value(&Geometry::MultiPolygon(mp.clone())),
                    );
                }
                None => bad.push(InvalidField::new("ward", "choose a ward from the list")),
            },
            "polygon" => match positions(&self.polygon) {
                Ok(mut ring) if ring.len() >= 3 => {
                    if ring.first() != ring.last() {
                        ring.push(ring[0]);
                    }
                    if ring.len() < 4 {
                        bad.push(InvalidField::new("polygon", "needs three or more corners"));
                    } else {
                        body.insert(
                            "area".into(),
                            json!({"type": "Polygon", "coordinates": [ring]}),
                        );
                    }
                }
                Ok(_) => bad.push(InvalidField::new(
                    "polygon",
                    "needs three or more corners: draw them on the map or type longitude latitude pairs",
                )),
                Err(m) => bad.push(InvalidField::new("polygon", m)),
            },
            "corridor" => {
                let line = match positions(&self.line) {
                    Ok(l) if l.len() >= 2 => Some(json!({"type": "LineString", "coordinates": l})),
                    Ok(_) => {
                        bad.push(InvalidField::new(
                            "line",
                            "needs two or more points: draw the street on the map or type longitude latitude pairs",
                        ));
                        None
                    }
                    Err(m) => {
                        bad.push(InvalidField::new("line", m));
                        None
                    }
                };
                let width = number(&mut bad, "width_m", &self.width_m);
                if self.width_m.is_empty() {
                    bad.push(InvalidField::new("width_m", "is required for a corridor"));
                }
                if let (Some(line), Some(w)) = (line, width) {
                    body.insert("corridor".into(), json!({"line": line, "width_m": w}));
                }
            }
            _ => bad.push(InvalidField::new(
                "place",
                "choose a box, a ward, a polygon or a corridor",
            )),
        }
        if let Some(n) = whole(&mut bad, "sites_wanted", &self.sites_wanted) {
            body.insert("sites_wanted".into(), json!(n));
        }
        for (name, text) in [
            ("min_spacing_m", &self.min_spacing_m),
            ("coverage_radius_m", &self.coverage_radius_m),
            ("min_height_m", &self.min_height_m),
            ("max_height_m", &self.max_height_m),
        ] {
            if let Some(v) = number(&mut bad, name, text) {
                body.insert(name.into(), json!(v));
            }
        }
        if !self.kinds.is_empty() {
            body.insert("kinds".into(), json!(self.kinds));
        }
        if !self.power.is_empty() {
            body.insert("power_supply".into(), json!(self.power));
        }
        for (name, on) in [
            (
                "exclude_conservation_areas",
                self.exclude_conservation_areas,
            ),
            ("exclude_listed", self.exclude_listed),
            ("include_unavailable", self.include_unavailable),
        ] {
            if on {
                body.insert(name.into(), json!(true));
            }
        }
        if let Some(n) = whole(&mut bad, "term_years", &self.term_years) {
            body.insert("term_years".into(), json!(n));
        }
        if bad.is_empty() {
            Ok(Value::Object(body))
        } else {
            Err(bad)
        }
    }

    /// The form that would send a saved request (for showing a saved search
    /// with its form filled in): a ward's polygon is shown as that ward, an
    /// upright rectangle as a box.
    pub fn from_request(req: &Value, areas: &AreaIndex) -> SearchFields {
        let mut f = SearchFields {
            width_m: String::new(),
            sites_wanted: String::new(),
            min_spacing_m: String::new(),
            term_years: String::new(),
            ..SearchFields::default()
        };
        let text = |v: &Value| match v {
            // 150.0 as sent reads 150 in the form.
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
                _ => n.to_string(),
            },
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        if let Some(area) = req.get("area") {
            let ring = area["coordinates"][0]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if let Some(name) = ward_named_by(areas, area) {
                f.place = "ward".into();
                f.ward = name;
            } else if let Some(b) = upright_box(area) {
                f.place = "bbox".into();
                f.bbox = b;
            } else {
                f.place = "polygon".into();
                f.polygon = pairs_text(&ring);
            }
        } else if let Some(c) = req.get("corridor") {
            f.place = "corridor".into();
            f.line = pairs_text(c["line"]["coordinates"].as_array().unwrap_or(&Vec::new()));
            f.width_m = text(&c["width_m"]);
        }
        f.sites_wanted = text(&req["sites_wanted"]);
        f.min_spacing_m = text(&req["min_spacing_m"]);
        f.coverage_radius_m = text(&req["coverage_radius_m"]);
        f.min_height_m = text(&req["min_height_m"]);
        f.max_height_m = text(&req["max_height_m"]);
        f.term_years = text(&req["term_years"]);
        let list = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        f.kinds = list(&req["kinds"]);
        f.power = list(&req["power_supply"]);
        f.exclude_conservation_areas = req["exclude_conservation_areas"] == json!(true);
        f.exclude_listed = req["exclude_listed"] == json!(true);
        f.include_unavailable = req["include_unavailable"] == json!(true);
        f
    }
}

fn geometry_value(g: &Geometry<f64>) -> Value {
    serde_json::from_str(&geometry_json(g)).unwrap_or(Value::Null)
}

/// The ward `authority/name` of the boundary layers.
pub fn ward<'a>(areas: &'a AreaIndex, key: &str) -> Option<&'a MultiPolygon<f64>> {
    let (authority, name) = key.split_once('/')?;
    areas
        .areas()
        .iter()
        .find(|a| a.layer == AreaLayer::Ward && a.authority == authority && a.name == name)
        .map(|a| &a.geometry)
}

/// The ward whose outline is exactly `area`, as `authority/name`.
fn ward_named_by(areas: &AreaIndex, area: &Value) -> Option<String> {
    areas
        .areas()
        .iter()
        .filter(|a| a.layer == AreaLayer::Ward)
        .find(|a| &geometry_value(&Geometry::MultiPolygon(a.geometry.clone())) == area)
        .map(|a| format!("{}/{}", a.authority, a.name))
}

/// `west,south,east,north` of an area that is an upright rectangle.
fn upright_box(area: &Value) -> Option<String> {
    if area["type"] != "Polygon" || area["coordinates"].as_array()?.len() != 1 {
        return None;
    }
    let ring: Vec<(f64, f64)> = area["coordinates"][0]
        .as_array()?
        .iter()
        .map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
        .collect::<Option<_>>()?;
    if ring.len() != 5 {
        return None;
    }
    let mut xs: Vec<f64> = ring.iter().map(|p| p.0).collect();
    let mut ys: Vec<f64> = ring.iter().map(|p| p.1).collect();
    xs.sort_by(f64::total_cmp);
    ys.sort_by(f64::total_cmp);
    xs.dedup();
    ys.dedup();
    let upright = ring
        .windows(2)
        .all(|w| w[0].0 == w[1].0 || w[0].1 == w[1].1);
    (xs.len() == 2 && ys.len() == 2 && upright)
        .then(|| format!("{},{},{},{}", xs[0], ys[0], xs[1], ys[1]))
}

/// Positions as `lon lat, lon lat, ...`.
fn pairs_text(positions: &[Value]) -> String {
    positions
        .iter()
        .filter_map(|p| Some(format!("{} {}", p[0].as_f64()?, p[1].as_f64()?)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Numbers separated by commas, semicolons or spaces, read in
/// longitude-latitude pairs.
pub fn positions(text: &str) -> Result<Vec<[f64; 2]>, String> {
    let numbers: Vec<f64> = text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{s:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    if numbers.len() % 2 == 1 {
        return Err("give longitude and latitude pairs (an odd count of numbers was given)".into());
    }
    let out: Vec<[f64; 2]> = numbers.chunks(2).map(|c| [c[0], c[1]]).collect();
    if let Some(p) = out
        .iter()
        .find(|p| !(-180.0..=180.0).contains(&p[0]) || !(-90.0..=90.0).contains(&p[1]))
    {
        return Err(format!(
            "{} {} is not a longitude and latitude (longitude first)",
            p[0], p[1]
        ));
    }
    Ok(out)
}

/// A box `west,south,east,north` as a GeoJSON Polygon.
fn bbox(text: &str) -> Result<Value, String> {
    let p = positions(text).map_err(|_| {
        "give four numbers: west, south, east, north (longitude and latitude, degrees)".to_string()
    })?;
    let [[w, s], [e, n]] = p[..] else {
        return Err(
            "give four numbers: west, south, east, north (longitude and latitude, degrees)".into(),
        );
    };
    if w >= e || s >= n {
        return Err("west must be less than east and south less than north".into());
    }
    Ok(json!({"type": "Polygon",
        "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}))
}

fn number(bad: &mut Vec<InvalidField>, field: &str, text: &str) -> Option<f64> {
    if text.is_empty() {
        return None;
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            bad.push(InvalidField::new(
                field,
                format!("{text:?} is not a number"),
            ));
            None
        }
    }
}

fn whole(bad: &mut Vec<InvalidField>, field: &str, text: &str) -> Option<i64> {
    if text.is_empty() {
        return None;
    }
    match text.parse::<i64>() {
        Ok(v) => Some(v),
        Err(_) => {
            bad.push(InvalidField::new(
                field,
                format!("{text:?} is not a whole number"),
            ));
            None
        }
    }
}

/// The "apply for these sites" form's values, kept as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyFields {
    /// Asset ids ticked.
    pub assets: Vec<String>,
    /// Term in years.
    pub term_years: String,
    /// First day, `YYYY-MM-DD`.
    pub start: String,
    /// Install-by date, `YYYY-MM-DD`.
    pub install_by: String,
    /// Equipment.
    pub technology: String,
    /// Bands, comma-separated.
    pub bands: String,
    /// Litres.
    pub antenna_volume_l: String,
    /// Ground cabinet.
    pub cabinet: bool,
    /// Watts.
    pub power_w: String,
    /// The deployment plan.
    pub deployment_plan: String,
    /// Contact.
    pub contact_name: String,
    /// Contact.
    pub contact_email: String,
    /// Contact.
    pub contact_phone: String,
    /// Social value.
    pub social_value: String,
}

impl ApplyFields {
    /// The fields of a posted apply form.
    pub fn from_pairs(pairs: &[(String, String)]) -> ApplyFields {
        let mut f = ApplyFields::default();
        for (k, v) in pairs {
            let t = v.trim().to_string();
            match k.as_str() {
                "asset" if !t.is_empty() => f.assets.push(t),
                "term_years" => f.term_years = t,
                "start" => f.start = t,
                "install_by" => f.install_by = t,
                "technology" => f.technology = t,
                "bands" => f.bands = t,
                "antenna_volume_l" => f.antenna_volume_l = t,
                "cabinet" => f.cabinet = ticked(&t),
                "power_w" => f.power_w = t,
                "deployment_plan" => f.deployment_plan = v.clone(),
                "contact_name" => f.contact_name = t,
                "contact_email" => f.contact_email = t,
                "contact_phone" => f.contact_phone = t,
                "social_value" => f.social_value = v.clone(),
                _ => {}
            }
        }
        f
    }

    /// The application request (from saved search `search`) these fields
    /// say, or the fields that cannot be read. Blank fields are sent as
    /// missing, so the API's own validation names them.
    pub fn to_request(&self, search: &str) -> Result<ApplicationRequest, Vec<InvalidField>> {
        let mut bad = Vec::new();
        let given = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
        let req = ApplicationRequest {
            assets: Some(self.assets.clone()),
            term_years: whole(&mut bad, "term_years", &self.term_years),
            start: given(&self.start),
            install_by: given(&self.install_by),
            equipment: Some(EquipmentRequest {
                technology: given(&self.technology),
                bands: given(&self.bands).map(|b| {
                    b.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                }),
                antenna_volume_l: number(
                    &mut bad,
                    "equipment.antenna_volume_l",
                    &self.antenna_volume_l,
                ),
                cabinet: Some(self.cabinet),
                power_w: number(&mut bad, "equipment.power_w", &self.power_w),
            }),
            deployment_plan: given(&self.deployment_plan),
            contact: Some(ContactRequest {
                name: given(&self.contact_name),
                email: given(&self.contact_email),
                phone: given(&self.contact_phone),
            }),
            social_value: given(&self.social_value),
            site_search: Some(search.to_string()),
        };
        if bad.is_empty() { Ok(req) } else { Err(bad) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::area::Area;
    use geo::polygon;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn wards() -> AreaIndex {
        AreaIndex::build(vec![Area {
            id: 1,
            authority: "trafford".into(),
            layer: AreaLayer::Ward,
            name: "Altrincham".into(),
            geometry: MultiPolygon(vec![polygon![
                (x: -2.36, y: 53.38), (x: -2.34, y: 53.38), (x: -2.34, y: 53.40), (x: -2.36, y: 53.38)
            ]]),
        }])
    }

    #[test]
    fn a_typed_box_becomes_the_api_area() {
        let f = SearchFields::from_pairs(&pairs(&[
            ("place", "bbox"),
            ("bbox", "-2.36, 53.38, -2.34, 53.395"),
            ("sites_wanted", "5"),
            ("min_spacing_m", "150"),
            ("coverage_radius_m", ""),
            ("kind", "lamp_post"),
            ("kind", "cctv_column"),
            ("power", "continuous"),
            ("exclude_listed", "on"),
            ("term_years", "10"),
        ]));
        let body = f.to_request(&wards()).unwrap();
        assert_eq!(
            body,
            json!({"area": {"type": "Polygon", "coordinates": [[[-2.36, 53.38], [-2.34, 53.38],
                [-2.34, 53.395], [-2.36, 53.395], [-2.36, 53.38]]]},
                "sites_wanted": 5, "min_spacing_m": 150.0, "kinds": ["lamp_post", "cctv_column"],
                "power_supply": ["continuous"], "exclude_listed": true, "term_years": 10})
        );
        // And back: the saved request fills the form as it was.
        let again = SearchFields::from_request(&body, &wards());
        assert_eq!(again.place, "bbox");
        assert_eq!(again.bbox, "-2.36,53.38,-2.34,53.395");
        assert_eq!(again.kinds, f.kinds);
        assert!(again.exclude_listed && !again.exclude_conservation_areas);
    }

    #[test]
    fn a_ward_a_polygon_and_a_corridor() {
        let w = wards();
        let f = SearchFields::from_pairs(&pairs(&[
            ("place", "ward"),
            ("ward", "trafford/Altrincham"),
        ]));
        let body = f.to_request(&w).unwrap();
        assert_eq!(body["area"]["type"], "MultiPolygon");
        assert_eq!(
            SearchFields::from_request(&body, &w).ward,
            "trafford/Altrincham"
        );
        let unknown = SearchFields::from_pairs(&pairs(&[("place", "ward"), ("ward", "x/y")]));
        assert_eq!(unknown.to_request(&w).unwrap_err()[0].field, "ward");

        let f = SearchFields::from_pairs(&pairs(&[
            ("place", "polygon"),
            ("polygon", "-2.36 53.38, -2.34 53.38, -2.35 53.39"),
        ]));
        let body = f.to_request(&w).unwrap();
        assert_eq!(
            body["area"]["coordinates"][0].as_array().unwrap().len(),
            4,
            "closed"
        );
        let f = SearchFields::from_pairs(&pairs(&[
            ("place", "corridor"),
            ("line", "-2.36 53.38; -2.34 53.39"),
            ("width_m", "60"),
        ]));
        let body = f.to_request(&w).unwrap();
        assert_eq!(
            body["corridor"],
            json!({"line": {"type": "LineString", "coordinates": [[-2.36, 53.38], [-2.34, 53.39]]},
                "width_m": 60.0})
        );
        let back = SearchFields::from_request(&body, &w);
        assert_eq!(
            (back.place.as_str(), back.width_m.as_str()),
            ("corridor", "60")
        );
    }

    #[test]
    fn unreadable_fields_are_named() {
        let f = SearchFields::from_pairs(&pairs(&[
            ("place", "bbox"),
            ("bbox", "-2.34,53.38,-2.36,53.39"),
            ("sites_wanted", "ten"),
            ("min_spacing_m", "far"),
        ]));
        let bad: Vec<String> = f
            .to_request(&wards())
            .unwrap_err()
            .into_iter()
            .map(|b| b.field)
            .collect();
        assert_eq!(bad, ["bbox", "sites_wanted", "min_spacing_m"]);
        assert!(positions("53.4 -200").is_err());
        assert!(positions("1 2 3").is_err());
    }

    #[test]
    fn the_apply_form_becomes_an_application_request() {
        let f = ApplyFields::from_pairs(&pairs(&[
            ("asset", "a1"),
            ("asset", "a2"),
            ("term_years", "10"),
            ("start", "2027-01-01"),
            ("install_by", "2027-06-30"),
            ("technology", "5G NR"),
            ("bands", "n78, n77"),
            ("antenna_volume_l", "20"),
            ("power_w", "250"),
            ("deployment_plan", "In rank order."),
            ("contact_name", "Ann"),
            ("contact_email", "ann@example.net"),
            ("contact_phone", "+44 161 555 0100"),
            ("social_value", ""),
        ]));
        let r = f.to_request("search_1").unwrap();
        assert_eq!(
            r.assets.as_deref(),
            Some(&["a1".to_string(), "a2".into()][..])
        );
        assert_eq!(r.site_search.as_deref(), Some("search_1"));
        let e = r.equipment.unwrap();
        assert_eq!(e.bands.unwrap(), ["n78", "n77"]);
        assert_eq!(e.cabinet, Some(false));
        assert_eq!(
            r.social_value, None,
            "blank is missing, for the API to name"
        );
    }
}
