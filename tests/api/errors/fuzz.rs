//! Fuzz-ish: random bodies and query strings never get a 500.

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use super::*;

/// Numbers worth trying where a coordinate, distance or count goes.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "53.4",
    "-2.3",
    "90",
    "-90",
    "90.0000001",
    "180",
    "-180",
    "180.0000001",
    "360",
    "1e308",
    "-1e308",
    "1e309",
    "1e-320",
    "5e-324",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "50000",
    "50000.1",
    "1000",
    "1001",
    "",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn random_string(rng: &mut StdRng) -> String {
    let len = rng.random_range(0..12);
    (0..len)
        .map(|_| match rng.random_range(0..4) {
            0 => char::from(rng.random_range(b'a'..=b'z')),
            1 => *pick(
                rng,
                &[
                    '_', '-', ' ', ',', '"', '\\', '\u{0}', 'é', '🦀', '%', '&', '=',
                ],
            ),
            2 => char::from(rng.random_range(b'0'..=b'9')),
            _ => char::from_u32(rng.random_range(0..0x3000)).unwrap_or('?'),
        })
        .collect()
}

fn random_number(rng: &mut StdRng) -> Value {
    match rng.random_range(0..5) {
        0 => json!(rng.random_range(-200.0..200.0)),
        1 => json!(rng.random_range(-100_000i64..100_000)),
        2 => json!(*pick(
            rng,
            &[
                0.0, -0.0, 90.0, -90.0, 180.0, -180.0, 1e308, -1e308, 5e-324, 1e30, 50_000.0
            ]
        )),
        3 => json!(rng.random::<u64>()),
        _ => json!(rng.random::<f64>() * 10f64.powi(rng.random_range(-10..20))),
    }
}

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    let top = if depth >= 4 { 4 } else { 7 };
    match rng.random_range(0..top) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => random_number(rng),
        3 => Value::String(random_string(rng)),
        4 => json!(*pick(
            rng,
            &[
                "Point",
                "Polygon",
                "LineString",
                "MultiPolygon",
                "Feature",
                "lamp_post",
                "available",
                "none"
            ]
        )),
        5 => Value::Array(
            (0..rng.random_range(0..5))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "type",
                "coordinates",
                "geometry",
                "geometries",
                "buffer_m",
                "kind",
                "status",
                "authority",
                "power_supply",
                "properties",
                "bbox",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..rng.random_range(0..5) {
                let k = if rng.random_bool(0.8) {
                    pick(rng, &keys).to_string()
                } else {
                    random_string(rng)
                };
                m.insert(k, random_json(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn random_position(rng: &mut StdRng) -> Value {
    if rng.random_bool(0.8) {
        json!([
            rng.random_range(-181.0..181.0),
            rng.random_range(-91.0..91.0)
        ])
    } else {
        Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_number(rng))
                .collect(),
        )
    }
}

fn random_ring(rng: &mut StdRng) -> Value {
    let n = rng.random_range(0..7);
    let mut ring: Vec<Value> = (0..n).map(|_| random_position(rng)).collect();
    if n > 0 && rng.random_bool(0.6) {
        ring.push(ring[0].clone());
    }
    Value::Array(ring)
}

fn random_geometry(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..8) {
        0 => json!({"type": "Point", "coordinates": random_position(rng)}),
        1 => {
            json!({"type": "LineString", "coordinates": (0..rng.random_range(0..5)).map(|_| random_position(rng)).collect::<Vec<_>>()})
        }
        2 => {
            json!({"type": "Polygon", "coordinates": (0..rng.random_range(0..3)).map(|_| random_ring(rng)).collect::<Vec<_>>()})
        }
        3 => {
            json!({"type": "MultiPolygon", "coordinates": (0..rng.random_range(0..3)).map(|_| json!([random_ring(rng)])).collect::<Vec<_>>()})
        }
        4 => {
            json!({"type": "MultiPoint", "coordinates": (0..rng.random_range(0..4)).map(|_| random_position(rng)).collect::<Vec<_>>()})
        }
        5 => {
            json!({"type": "MultiLineString", "coordinates": [(0..rng.random_range(0..4)).map(|_| random_position(rng)).collect::<Vec<_>>()]})
        }
        6 if depth < 2 => {
            json!({"type": "GeometryCollection", "geometries": (0..rng.random_range(0..3)).map(|_| random_geometry(rng, depth + 1)).collect::<Vec<_>>()})
        }
        _ => random_json(rng, 2),
    }
}

/// A body shaped like a search, with random (often wrong) contents.
fn random_search(rng: &mut StdRng) -> Value {
    let mut m = serde_json::Map::new();
    if rng.random_bool(0.9) {
        m.insert("geometry".into(), random_geometry(rng, 0));
    }
    if rng.random_bool(0.7) {
        let b = match rng.random_range(0..3) {
            0 => json!(rng.random_range(-10.0..60_000.0)),
            1 => random_number(rng),
            _ => random_json(rng, 3),
        };
        m.insert("buffer_m".into(), b);
    }
    for key in ["kind", "status", "power_supply", "authority"] {
        if rng.random_bool(0.25) {
            let v = if rng.random_bool(0.5) {
                json!(*pick(
                    rng,
                    &[
                        "lamp_post",
                        "rooftop,wall",
                        "available",
                        "none,continuous",
                        "alpha",
                        "",
                        ",",
                        "LAMP POST"
                    ]
                ))
            } else {
                random_json(rng, 3)
            };
            m.insert(key.into(), v);
        }
    }
    if rng.random_bool(0.05) {
        m.insert(random_string(rng), Value::Null);
    }
    Value::Object(m)
}

/// A random query string over the parameters of `/v1/assets` and
/// `/v1/assets/nearest` (and some that are neither), raw bytes included.
fn random_query(rng: &mut StdRng) -> String {
    const KEYS: &[&str] = &[
        "bbox",
        "kind",
        "status",
        "power_supply",
        "authority",
        "ward",
        "limit",
        "offset",
        "lon",
        "lat",
        "k",
        "max_distance_m",
        "lon",
        "lat",
    ];
    let mut parts = Vec::new();
    for _ in 0..rng.random_range(0..7) {
        let key = if rng.random_bool(0.9) {
            pick(rng, KEYS).to_string()
        } else {
            random_string(rng)
        };
        let value = match rng.random_range(0..6) {
            0 | 1 => pick(rng, NUMBERS).to_string(),
            2 => (0..rng.random_range(1..7))
                .map(|_| pick(rng, NUMBERS).to_string())
                .collect::<Vec<_>>()
                .join(","),
            3 => pick(
                rng,
                &[
                    "lamp_post",
                    "rooftop,wall",
                    "available",
                    "part_night",
                    "alpha",
                    "x,y",
                    ",,",
                ],
            )
            .to_string(),
            4 => random_string(rng),
            _ => {
                // Raw bytes, percent-encoded (invalid UTF-8 included).
                let mut b = vec![0u8; rng.random_range(0..6)];
                rng.fill_bytes(&mut b);
                b.iter().map(|x| format!("%{x:02X}")).collect()
            }
        };
        let enc = |s: &str| -> String {
            if s.starts_with('%') {
                s.to_string()
            } else {
                form_urlencoded::byte_serialize(s.as_bytes()).collect()
            }
        };
        parts.push(format!("{}={}", enc(&key), enc(&value)));
    }
    if rng.random_bool(0.05) {
        parts.push("&&=&".into());
    }
    parts.join("&")
}

/// Checks one fuzz response: never a 500 (nor a dropped connection), and
/// every error a problem document.
async fn check_fuzz(
    resp: Result<reqwest::Response, reqwest::Error>,
    what: &str,
    failures: &mut Vec<String>,
) {
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            failures.push(format!("{what}: no response: {e}"));
            return;
        }
    };
    let status = resp.status().as_u16();
    let ct = content_type(&resp);
    let text = resp.text().await.unwrap_or_default();
    if status >= 500 {
        failures.push(format!("{what}: {status} {text}"));
    } else if status >= 400 {
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !ct.starts_with("application/problem+json")
            || body["status"] != status
            || !body["title"].is_string()
            || !body["detail"].is_string()
        {
            failures.push(format!("{what}: {status} is not a problem ({ct}): {text}"));
        }
    } else if status != 200 || !ct.starts_with("application/geo+json") {
        failures.push(format!("{what}: {status} {ct}"));
    }
}

on_both_databases!(random_input_never_gets_a_500, |app: TestApp| async move {
    let seed: u64 = std::env::var("STREETCELL_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5ce11);
    eprintln!("fuzz seed {seed} (set STREETCELL_FUZZ_SEED to change)");
    let mut rng = StdRng::seed_from_u64(seed);
    let staff = app.authority("alpha").await;
    // Some assets for the searches to find, around Trafford and elsewhere.
    let mut csv = String::from("ref,kind,lon,lat\n");
    for i in 0..50 {
        let (lon, lat) = if i < 40 {
            (-2.4 + 0.002 * i as f64, 53.4 + 0.001 * i as f64)
        } else {
            (
                rng.random_range(-180.0..180.0),
                rng.random_range(-90.0..90.0),
            )
        };
        csv.push_str(&format!("F-{i},lamp_post,{lon},{lat}\n"));
    }
    let resp = send_raw(
        &app,
        Method::POST,
        "/v1/authorities/alpha/imports",
        Some(&staff),
        "text/csv",
        csv.into_bytes(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);

    let mut failures = Vec::new();
    let search = app.url("/v1/assets/search");
    for i in 0..200 {
        // Random bytes.
        let mut bytes = vec![0u8; rng.random_range(0..200)];
        rng.fill_bytes(&mut bytes);
        if i % 4 == 0 && !bytes.is_empty() {
            bytes[0] = b'{';
        }
        let resp = app
            .client
            .post(&search)
            .bearer_auth(&staff)
            .header("content-type", "application/json")
            .body(bytes.clone())
            .send()
            .await;
        check_fuzz(resp, &format!("search bytes {bytes:?}"), &mut failures).await;

        // Random JSON values, and random search-shaped bodies.
        for body in [random_json(&mut rng, 0), random_search(&mut rng)] {
            let resp = app
                .client
                .post(&search)
                .bearer_auth(&staff)
                .json(&body)
                .send()
                .await;
            check_fuzz(resp, &format!("search {body}"), &mut failures).await;
        }

        // Random query strings.
        for path in ["/v1/assets", "/v1/assets/nearest"] {
            let q = random_query(&mut rng);
            let url = format!("{}?{q}", app.url(path));
            let resp = app.client.get(&url).bearer_auth(&staff).send().await;
            check_fuzz(resp, &format!("GET {path}?{q}"), &mut failures).await;
        }
        // Nearest with valid coordinates and random extras, so that it gets
        // past the coordinate check more often.
        let q = format!(
            "lon={}&lat={}&{}",
            rng.random_range(-180.0..180.0),
            rng.random_range(-90.0..90.0),
            random_query(&mut rng)
                .split('&')
                .filter(|p| !p.starts_with("lon=") && !p.starts_with("lat="))
                .collect::<Vec<_>>()
                .join("&")
        );
        let url = format!("{}?{q}", app.url("/v1/assets/nearest"));
        let resp = app.client.get(&url).bearer_auth(&staff).send().await;
        check_fuzz(resp, &format!("GET /v1/assets/nearest?{q}"), &mut failures).await;
    }
    assert!(
        failures.is_empty(),
        "seed {seed}: {} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The service is still healthy.
    let (s, b) = app.get("/healthz", None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["assets"], 50, "{b}");
});
