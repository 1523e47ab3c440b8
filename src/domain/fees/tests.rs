//! Worked examples (the FCC safe harbour, a banded schedule, `docs/fees.md`)
//! and properties: one file, as each example exercises validation, pricing
//! and the wire format together.

use super::wire::parse_decimal;
use super::*;
use proptest::prelude::*;

const FCC: &str = include_str!("../../../data/fees/fcc-2018-safe-harbour.json");
const GLASGOW: &str = include_str!("../../../data/fees/glasgow-style-banded.json");
const DOC: &str = include_str!("../../../docs/fees.md");

/// The example document of the issue.
const ISSUE_EXAMPLE: &str = r#"{
  "currency": "GBP",
  "effective_from": "2027-04-01",
  "application_fee": {"base": "500.00", "sites_included": 5, "per_additional_site": "100.00"},
  "annual_rent": {"lamp_post": "270.00", "cctv_column": "270.00", "traffic_signal": "270.00", "bus_shelter": "270.00", "rooftop": "3000.00", "wall": "1500.00", "other": "500.00"},
  "zone_multipliers": {"central": "1.50", "suburban": "0.80"},
  "power_annual": {"continuous": "0.00", "part_night": "0.00"},
  "structural_survey": {"fee": "150.00", "if_older_than_years": 7},
  "shared_site_discount": "0.00",
  "annual_indexation": "0.03",
  "subsidy_share": "0.50"
}"#;

fn d(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

fn date(s: &str) -> Date {
    crate::domain::asset::parse_date(s).unwrap()
}

fn parse(json: &str) -> FeeSchedule {
    let s: FeeSchedule = serde_json::from_str(json).unwrap();
    validate(&s).unwrap();
    s
}

fn issue() -> FeeSchedule {
    parse(ISSUE_EXAMPLE)
}

fn fcc() -> FeeSchedule {
    parse(FCC)
}

fn glasgow() -> FeeSchedule {
    parse(GLASGOW)
}

fn site(id: &str, kind: AssetKind) -> QuoteSite {
    QuoteSite {
        asset_id: id.to_string(),
        kind,
        fee_zone: None,
        power_supply: PowerSupply::None,
        install_year: None,
        shared: false,
        new_structure: false,
    }
}

fn in_zone(mut s: QuoteSite, zone: &str) -> QuoteSite {
    s.fee_zone = Some(zone.to_string());
    s
}

fn lamp_posts(n: usize) -> Vec<QuoteSite> {
    (1..=n)
        .map(|i| site(&format!("LP-{i}"), AssetKind::LampPost))
        .collect()
}

fn terms(term_years: u32, discount_rate: Option<&str>) -> QuoteTerms {
    QuoteTerms {
        term_years,
        start: date("2027-04-01"),
        discount_rate: discount_rate.map(d),
    }
}

fn money_of(q: &Quote) -> (String, String, String, String, String) {
    (
        money::to_string(q.application_fee),
        money::to_string(q.one_off_total),
        money::to_string(q.rent_total),
        money::to_string(q.term_total),
        money::to_string(q.subsidy_total),
    )
}

fn years_of(q: &Quote) -> Vec<(String, String)> {
    q.years
        .iter()
        .map(|y| (money::to_string(y.rent), money::to_string(y.subsidy)))
        .collect()
}

/// The JSON block that follows `<!-- example: NAME -->` in docs/fees.md.
fn doc_example(name: &str) -> serde_json::Value {
    let marker = format!("<!-- example: {name} -->");
    let at = DOC
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} not in docs"));
    let rest = &DOC[at..];
    let open = rest.find("```json\n").expect("json block after marker") + 8;
    let close = open + rest[open..].find("\n```").expect("closing fence");
    serde_json::from_str(&rest[open..close]).expect("docs example is JSON")
}

// ---------------------------------------------------------------- parsing

#[test]
fn issue_document_parses_and_keeps_its_scales() {
    let s = issue();
    assert_eq!(s.currency, "GBP");
    assert_eq!(s.effective_from, date("2027-04-01"));
    assert_eq!(s.annual_rent["rooftop"], d("3000"));
    assert_eq!(s.structural_survey.as_ref().unwrap().if_older_than_years, 7);
    assert_eq!(s.new_pole_fee, None);
    let out = serde_json::to_value(&s).unwrap();
    assert_eq!(out["application_fee"]["base"], "500.00");
    assert_eq!(out["zone_multipliers"]["central"], "1.50");
    assert_eq!(out["annual_indexation"], "0.03");
    assert_eq!(out["effective_from"], "2027-04-01");
    assert!(out.get("new_pole_fee").is_none());
    let again: FeeSchedule = serde_json::from_value(out).unwrap();
    assert_eq!(again, s);
}

#[test]
fn optional_parts_default_and_unknown_parts_are_ignored() {
    let s = parse(
        r#"{"currency": "EUR", "effective_from": "2028-01-01",
            "application_fee": {"base": "250", "sites_included": 1, "per_additional_site": "25.5"},
            "annual_rent": {"lamp_post": "1", "cctv_column": "1", "traffic_signal": "1",
                            "bus_shelter": "1", "rooftop": "1", "wall": "1", "other": "1"},
            "a_future_part": {"anything": [1, 2, 3]}}"#,
    );
    assert!(s.zone_multipliers.is_empty());
    assert!(s.power_annual.is_empty());
    assert_eq!(s.structural_survey, None);
    assert_eq!(s.shared_site_discount, Decimal::ZERO);
    assert_eq!(s.annual_indexation, Decimal::ZERO);
    assert_eq!(s.subsidy_share, Decimal::ZERO);
    assert_eq!(s.service_charge_annual, None);
    let out = serde_json::to_value(&s).unwrap();
    assert_eq!(out["application_fee"]["per_additional_site"], "25.50");
    assert_eq!(out["annual_rent"]["wall"], "1.00");
}

#[test]
fn wrong_types_are_refused_when_parsing() {
    let base: serde_json::Value = serde_json::from_str(ISSUE_EXAMPLE).unwrap();
    let cases: [(&str, serde_json::Value); 12] = [
        ("/application_fee/base", serde_json::json!(500)),
        ("/application_fee/base", serde_json::json!("500,00")),
        ("/application_fee/base", serde_json::json!("5e2")),
        ("/application_fee/base", serde_json::json!(" 500.00")),
        ("/application_fee/sites_included", serde_json::json!("5")),
        ("/application_fee/sites_included", serde_json::json!(-1)),
        ("/annual_rent/rooftop", serde_json::json!(3000.0)),
        ("/annual_rent", serde_json::json!(["270.00"])),
        ("/subsidy_share", serde_json::json!(0.5)),
        ("/effective_from", serde_json::json!("01/04/2027")),
        ("/currency", serde_json::json!(826)),
        ("/structural_survey", serde_json::json!("150.00")),
    ];
    for (pointer, value) in cases {
        let mut doc = base.clone();
        *doc.pointer_mut(pointer).unwrap() = value.clone();
        let result = serde_json::from_value::<FeeSchedule>(doc);
        assert!(result.is_err(), "{pointer} = {value} was accepted");
    }
}

#[test]
fn decimals_are_plain_digit_strings() {
    for ok in ["0", "270", "270.5", "270.00", "-3.10", "0.035"] {
        assert_eq!(parse_decimal(ok), Some(d(ok)), "{ok}");
    }
    for bad in [
        "", "-", ".5", "5.", "1.2.3", "+1", "1e3", " 1", "1 ", "£1", "NaN", "1_000",
    ] {
        assert_eq!(parse_decimal(bad), None, "{bad:?}");
    }
}

#[test]
fn money_is_written_with_two_decimals() {
    assert_eq!(money::to_string(d("270")), "270.00");
    assert_eq!(money::to_string(d("270.5")), "270.50");
    assert_eq!(money::to_string(d("1.005")), "1.01");
    assert_eq!(money::to_string(d("-0.00")), "0.00");
    assert_eq!(money::to_string(d("-50")), "-50.00");
    assert_eq!(money::to_string(MAX_MONEY), "1000000000.00");
}

#[test]
fn terms_parse_from_the_request_body() {
    let t: QuoteTerms = serde_json::from_str(
        r#"{"term_years": 10, "start": "2027-04-01", "discount_rate": "0.035"}"#,
    )
    .unwrap();
    assert_eq!(t, terms(10, Some("0.035")));
    let t: QuoteTerms =
        serde_json::from_str(r#"{"term_years": 10, "start": "2027-04-01"}"#).unwrap();
    assert_eq!(t.discount_rate, None);
    assert!(
        serde_json::from_str::<QuoteTerms>(
            r#"{"term_years": 10, "start": "2027-04-01", "discount_rate": 0.035}"#
        )
        .is_err()
    );
}

// ------------------------------------------------------------- validation

/// Every way a schedule "cannot be applied": (JSON pointer, new value,
/// field named by the 422). `null` removes the member.
#[test]
fn unusable_schedules_are_refused_naming_the_field() {
    use serde_json::json;
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        // unknown currency codes
        ("/currency", json!("GBX"), "currency"),
        ("/currency", json!("gbp"), "currency"),
        ("/currency", json!("ZZZ"), "currency"),
        ("/currency", json!(""), "currency"),
        ("/currency", json!("JPY"), "currency"),
        // negative money
        (
            "/application_fee/base",
            json!("-500.00"),
            "application_fee.base",
        ),
        (
            "/application_fee/per_additional_site",
            json!("-0.01"),
            "application_fee.per_additional_site",
        ),
        (
            "/annual_rent/rooftop",
            json!("-3000.00"),
            "annual_rent.rooftop",
        ),
        (
            "/power_annual/continuous",
            json!("-1.00"),
            "power_annual.continuous",
        ),
        (
            "/structural_survey/fee",
            json!("-150"),
            "structural_survey.fee",
        ),
        (
            "/shared_site_discount",
            json!("-5.00"),
            "shared_site_discount",
        ),
        ("/new_pole_fee", json!("-1000.00"), "new_pole_fee"),
        (
            "/service_charge_annual",
            json!("-60.00"),
            "service_charge_annual",
        ),
        // fractions of a penny, absurd amounts
        ("/annual_rent/wall", json!("1500.001"), "annual_rent.wall"),
        (
            "/application_fee/base",
            json!("1000000000.01"),
            "application_fee.base",
        ),
        // missing or unknown kinds, unknown supplies
        ("/annual_rent/wall", json!(null), "annual_rent.wall"),
        (
            "/annual_rent/lampost",
            json!("270.00"),
            "annual_rent.lampost",
        ),
        ("/power_annual/solar", json!("10.00"), "power_annual.solar"),
        // shares and rates outside 0-1
        ("/subsidy_share", json!("1.01"), "subsidy_share"),
        ("/subsidy_share", json!("-0.01"), "subsidy_share"),
        ("/annual_indexation", json!("1.5"), "annual_indexation"),
        ("/annual_indexation", json!("-0.01"), "annual_indexation"),
        // multipliers
        (
            "/zone_multipliers/central",
            json!("-1.50"),
            "zone_multipliers.central",
        ),
        (
            "/zone_multipliers/central",
            json!("100.01"),
            "zone_multipliers.central",
        ),
        ("/zone_multipliers/ ", json!("1.00"), "zone_multipliers"),
    ];
    let base: serde_json::Value = serde_json::from_str(ISSUE_EXAMPLE).unwrap();
    for (pointer, value, field) in cases {
        let mut doc = base.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let object = doc.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        if value.is_null() {
            object.remove(key);
        } else {
            object.insert(key.to_string(), value.clone());
        }
        let schedule: FeeSchedule = serde_json::from_value(doc).unwrap();
        let err = validate(&schedule).unwrap_err();
        assert_eq!(err.field, field, "{pointer} = {value}: {err}");
        // A quote refuses the schedule the same way.
        let err = quote("x", &schedule, 1, &lamp_posts(1), &terms(1, None)).unwrap_err();
        assert_eq!(err.field, field);
    }
}

#[test]
fn boundary_values_are_accepted() {
    let mut s = issue();
    for share in ["0", "1", "1.00"] {
        s.subsidy_share = d(share);
        s.annual_indexation = d(share);
        validate(&s).unwrap();
    }
    s.annual_rent.insert("wall".into(), d("1500.000"));
    s.shared_site_discount = d("0");
    s.zone_multipliers.insert("free".into(), d("0"));
    s.zone_multipliers.insert("max".into(), MAX_MULTIPLIER);
    s.new_pole_fee = Some(MAX_MONEY);
    s.power_annual.insert("none".into(), d("0.00"));
    validate(&s).unwrap();
    for code in CURRENCIES {
        s.currency = code.to_string();
        validate(&s).unwrap();
    }
}

#[test]
fn unusable_requests_are_refused_naming_the_field() {
    let s = issue();
    let sites = lamp_posts(2);
    for (years, ok) in [(0, false), (1, true), (50, true), (51, false)] {
        let r = quote("x", &s, 1, &sites, &terms(years, None));
        assert_eq!(r.is_ok(), ok, "{years}");
        if let Err(e) = r {
            assert_eq!(e.field, "term_years");
        }
    }
    for (rate, ok) in [("-0.01", false), ("0", true), ("1", true), ("1.01", false)] {
        let r = quote("x", &s, 1, &sites, &terms(5, Some(rate)));
        assert_eq!(r.is_ok(), ok, "{rate}");
        if let Err(e) = r {
            assert_eq!(e.field, "discount_rate");
        }
    }
    let err = quote("x", &s, 1, &[], &terms(5, None)).unwrap_err();
    assert_eq!(err.field, "assets");
    let twice = vec![sites[0].clone(), sites[1].clone(), sites[0].clone()];
    let err = quote("x", &s, 1, &twice, &terms(5, None)).unwrap_err();
    assert_eq!(err.field, "assets");
    assert!(err.message.contains("LP-1"), "{err}");
}

// ------------------------------------------------------------ hand-worked

#[test]
fn application_fee_follows_the_safe_harbour_shape() {
    let s = fcc();
    // (sites, fee): $500 covers up to five, then $100 each.
    for (n, fee) in [
        (1, "500.00"),
        (5, "500.00"),
        (6, "600.00"),
        (7, "700.00"),
        (12, "1200.00"),
    ] {
        let q = quote("x", &s, 1, &lamp_posts(n), &terms(1, None)).unwrap();
        assert_eq!(money::to_string(q.application_fee), fee, "{n} sites");
        assert_eq!(q.lines[0].amount(), q.application_fee);
    }
    let mut s = issue();
    s.application_fee.sites_included = 0;
    let q = quote("x", &s, 1, &lamp_posts(3), &terms(1, None)).unwrap();
    assert_eq!(q.application_fee, d("800")); // 500 + 3 × 100
}

/// Year-1 annual charge per site under the issue's example schedule
/// (power charges and discount changed where the case says so).
#[test]
fn annual_fee_table() {
    let mut s = issue();
    s.power_annual.insert("continuous".into(), d("120.00"));
    s.power_annual.insert("part_night".into(), d("45.50"));
    s.shared_site_discount = d("50.00");
    let cases: Vec<(QuoteSite, &str)> = vec![
        // 270 × 1 (no zone)
        (site("a", AssetKind::LampPost), "270.00"),
        // 270 × 1.50
        (in_zone(site("b", AssetKind::LampPost), "central"), "405.00"),
        // 3000 × 0.80
        (
            in_zone(site("c", AssetKind::Rooftop), "suburban"),
            "2400.00",
        ),
        // 1500 × 1 (zone without a multiplier)
        (in_zone(site("d", AssetKind::Wall), "riverside"), "1500.00"),
        // 270 × 1.50 + 120 power
        (
            QuoteSite {
                power_supply: PowerSupply::Continuous,
                ..in_zone(site("e", AssetKind::CctvColumn), "central")
            },
            "525.00",
        ),
        // 500 × 0.80 + 45.50 power − 50 discount
        (
            QuoteSite {
                power_supply: PowerSupply::PartNight,
                shared: true,
                ..in_zone(site("f", AssetKind::Other), "suburban")
            },
            "395.50",
        ),
        // zone names are matched exactly: "Central" is not "central"
        (in_zone(site("g", AssetKind::LampPost), "Central"), "270.00"),
    ];
    for (site, expected) in cases {
        assert_eq!(
            money::to_string(annual_fee(&s, &site)),
            expected,
            "{site:?}"
        );
    }
    // The discount never takes a site below zero.
    s.shared_site_discount = d("1000.00");
    let shared = QuoteSite {
        shared: true,
        ..site("h", AssetKind::LampPost)
    };
    assert_eq!(annual_fee(&s, &shared), Decimal::ZERO);
    let q = quote("x", &s, 1, &[shared], &terms(2, None)).unwrap();
    assert!(q.lines.contains(&QuoteLine::Discount {
        asset_id: "h".into(),
        amount: d("-270.00")
    }));
    assert_eq!(q.rent_total, Decimal::ZERO);
}

#[test]
fn a_zone_without_a_multiplier_counts_as_one() {
    let s = issue();
    let q = quote(
        "x",
        &s,
        1,
        &[in_zone(site("W1", AssetKind::Wall), "riverside")],
        &terms(1, None),
    )
    .unwrap();
    assert_eq!(
        q.lines[1],
        QuoteLine::Rent {
            asset_id: "W1".into(),
            kind: AssetKind::Wall,
            zone: Some("riverside".into()),
            multiplier: Decimal::ONE,
            base: d("1500.00"),
            amount: d("1500.00"),
        }
    );
    let line = serde_json::to_value(&q.lines[1]).unwrap();
    assert_eq!(
        line,
        serde_json::json!({"type": "rent", "asset_id": "W1", "kind": "wall",
            "zone": "riverside", "multiplier": "1", "base": "1500.00", "amount": "1500.00"})
    );
}

#[test]
fn half_pennies_round_up() {
    let mut s = issue();
    s.annual_indexation = d("0.03");
    s.subsidy_share = d("0.50");
    // Rent: 100.05 × 0.5 = 50.025 → 50.03 (banker's rounding would give 50.02).
    s.annual_rent.insert("other".into(), d("100.05"));
    s.zone_multipliers.insert("half".into(), d("0.5"));
    let half = in_zone(site("o", AssetKind::Other), "half");
    assert_eq!(annual_fee(&s, &half), d("50.03"));
    // A penny at half rate: 0.01 × 0.5 = 0.005 → 0.01.
    s.annual_rent.insert("wall".into(), d("0.01"));
    assert_eq!(
        annual_fee(&s, &in_zone(site("w", AssetKind::Wall), "half")),
        d("0.01")
    );
    // Indexation: 101.50 × 1.03 = 104.545 → 104.55 (banker's: 104.54).
    s.annual_rent.insert("rooftop".into(), d("101.50"));
    let q = quote(
        "x",
        &s,
        1,
        &[site("r", AssetKind::Rooftop)],
        &terms(2, None),
    )
    .unwrap();
    assert_eq!(q.years[1].rent, d("104.55"));
    // Subsidy: 101.50 × 0.5 = 50.75; 104.55 × 0.5 = 52.275 → 52.28.
    assert_eq!(q.years[0].subsidy, d("50.75"));
    assert_eq!(q.years[1].subsidy, d("52.28"));
    assert_eq!(q.subsidy_total, d("103.03"));
    // Year 2 of 50.03 at 3 %: 51.5309 → 51.53.
    let q = quote("x", &s, 1, &[half], &terms(2, None)).unwrap();
    assert_eq!(years_of(&q)[1], ("51.53".into(), "25.77".into())); // 25.765 → 25.77
}

/// The acceptance case: seven existing FCC sites, ten years, 3 %
/// indexation, worked by hand.
///
/// Application fee: $500 covers five sites; 7 − 5 = 2 more at $100:
/// 500 + 2 × 100 = **$700**.
///
/// Each site pays 270.00 in year 1 and, in year n, 270 × 1.03^(n−1)
/// rounded half-up to the cent *per site*:
///
/// | n  | 1.03^(n−1)          | 270 × that            | per site | × 7 sites |
/// |----|---------------------|-----------------------|----------|-----------|
/// | 1  | 1                   | 270                   | 270.00   | 1,890.00  |
/// | 2  | 1.03                | 278.1                 | 278.10   | 1,946.70  |
/// | 3  | 1.0609              | 286.443               | 286.44   | 2,005.08  |
/// | 4  | 1.092727            | 295.03629             | 295.04   | 2,065.28  |
/// | 5  | 1.12550881          | 303.8873787           | 303.89   | 2,127.23  |
/// | 6  | 1.1592740743        | 313.004000061         | 313.00   | 2,191.00  |
/// | 7  | 1.194052296529      | 322.39411906283       | 322.39   | 2,256.73  |
/// | 8  | 1.22987386542487    | 332.0659436647149     | 332.07   | 2,324.49  |
/// | 9  | 1.2667700813876161  | 342.02792197465635    | 342.03   | 2,394.21  |
/// | 10 | 1.304773183829244583| 352.28875963389603... | 352.29   | 2,466.03  |
///
/// Per site over ten years: 270.00 + 278.10 + 286.44 + 295.04 + 303.89 +
/// 313.00 + 322.39 + 332.07 + 342.03 + 352.29 = 3,095.25; seven sites:
/// 7 × 3,095.25 = **$21,666.75** rent. Term total 700 + 21,666.75 =
/// **$22,366.75**.
///
/// Rounding the year's sum instead of each site would differ: year 3 would
/// be 1,890 × 1.0609 = 2,005.101 → 2,005.10, not 2,005.08.
///
/// NPV at 3.5 %, payments at the start of each year: Σ rent(n) /
/// 1.035^(n−1) = 1,890.00 + 1,946.70/1.035 + ... + 2,466.03/1.035^9
/// = 18,494.3914... → **$18,494.39**.
#[test]
fn fcc_seven_sites_ten_years_at_three_percent_by_hand() {
    let mut s = fcc();
    s.annual_indexation = d("0.03");
    let q = quote("city", &s, 3, &lamp_posts(7), &terms(10, Some("0.035"))).unwrap();
    let per_site = [
        "270.00", "278.10", "286.44", "295.04", "303.89", "313.00", "322.39", "332.07", "342.03",
        "352.29",
    ];
    assert_eq!(per_site.iter().map(|p| d(p)).sum::<Decimal>(), d("3095.25"));
    for (row, p) in q.years.iter().zip(per_site) {
        assert_eq!(row.rent, d(p) * Decimal::from(7), "year {}", row.year);
        assert_eq!(row.subsidy, Decimal::ZERO);
    }
    let expected_years = [
        "1890.00", "1946.70", "2005.08", "2065.28", "2127.23", "2191.00", "2256.73", "2324.49",
        "2394.21", "2466.03",
    ];
    let got: Vec<String> = q.years.iter().map(|y| money::to_string(y.rent)).collect();
    assert_eq!(got, expected_years);
    assert_eq!(
        money_of(&q),
        (
            "700.00".into(),
            "700.00".into(),
            "21666.75".into(),
            "22366.75".into(),
            "0.00".into()
        )
    );
    assert_eq!(q.npv, Some(d("18494.39")));
    assert_eq!(q.schedule_version, 3);
    assert_eq!(q.currency, "USD");
    // 1 application-fee line + 7 rent lines; nothing else applies.
    assert_eq!(q.lines.len(), 8);
}

/// The same seven sites with half of every rent payment going to the
/// subsidy fund: each site's share is rounded, so years with a half-cent
/// per site round up seven times.
///
/// Per site: 135.00, 139.05, 143.22, 147.52, 151.945→151.95, 156.50,
/// 161.195→161.20, 166.035→166.04, 171.015→171.02, 176.145→176.15;
/// sum 1,547.65; × 7 = 10,833.55 (not half of 21,666.75 = 10,833.375).
#[test]
fn fcc_seven_sites_subsidy_is_rounded_per_site() {
    let mut s = fcc();
    s.annual_indexation = d("0.03");
    s.subsidy_share = d("0.50");
    let q = quote("city", &s, 3, &lamp_posts(7), &terms(10, None)).unwrap();
    let per_site = [
        "135.00", "139.05", "143.22", "147.52", "151.95", "156.50", "161.20", "166.04", "171.02",
        "176.15",
    ];
    for (row, p) in q.years.iter().zip(per_site) {
        assert_eq!(row.subsidy, d(p) * Decimal::from(7), "year {}", row.year);
    }
    // Year 5: 7 × 151.95 = 1,063.65, where half the year's rent would be
    // 2,127.23 / 2 = 1,063.615 → 1,063.62.
    assert_eq!(q.years[4].subsidy, d("1063.65"));
    assert_eq!(q.subsidy_total, d("10833.55"));
    assert_eq!(q.npv, None);
}

/// Fifty years of indexation, checked against exact rational arithmetic
/// (Python `fractions.Fraction`, rounding each site-year half-up).
#[test]
fn fifty_years_of_indexation() {
    let mut s = fcc();
    s.annual_indexation = d("0.03");
    s.subsidy_share = d("0.50");
    let q = quote("x", &s, 1, &lamp_posts(1), &terms(50, Some("0.035"))).unwrap();
    assert_eq!(q.years.len(), 50);
    // 270 × 1.03^49 = 1,149.1792476... → 1,149.18
    assert_eq!(years_of(&q)[49], ("1149.18".into(), "574.59".into()));
    assert_eq!(years_of(&q)[48], ("1115.71".into(), "557.86".into())); // 557.855 → .86
    assert_eq!(q.rent_total, d("30455.15"));
    assert_eq!(q.subsidy_total, d("15227.71"));
    assert_eq!(q.npv, Some(d("12018.97")));

    // Odd amounts, 3.5 %, a third to the fund, two sites.
    s.annual_rent = AssetKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), d("1234.56")))
        .collect();
    s.annual_indexation = d("0.035");
    s.subsidy_share = d("0.333");
    let sites = [
        site("a", AssetKind::LampPost),
        site("b", AssetKind::Rooftop),
    ];
    let q = quote("x", &s, 1, &sites, &terms(50, Some("0.05"))).unwrap();
    let y = years_of(&q);
    assert_eq!(y[0], ("2469.12".into(), "822.22".into()));
    assert_eq!(y[9], ("3365.16".into(), "1120.60".into()));
    assert_eq!(y[48], ("12872.98".into(), "4286.70".into()));
    assert_eq!(y[49], ("13323.54".into(), "4436.74".into()));
    assert_eq!(q.rent_total, d("323449.62"));
    assert_eq!(q.subsidy_total, d("107708.74"));
    assert_eq!(q.npv, Some(d("88661.55")));
}

#[test]
fn npv_discounts_from_the_start_of_each_year() {
    let mut s = fcc();
    s.annual_rent.insert("wall".into(), d("1000.00"));
    // 1000 + 1000/1.1 + 1000/1.21 = 1000 + 909.0909... + 826.4462... = 2735.537... → 2735.54
    let q = quote(
        "x",
        &s,
        1,
        &[site("w", AssetKind::Wall)],
        &terms(3, Some("0.10")),
    )
    .unwrap();
    assert_eq!(q.npv, Some(d("2735.54")));
    // At 0 % the NPV is the rent total.
    let q = quote(
        "x",
        &s,
        1,
        &[site("w", AssetKind::Wall)],
        &terms(3, Some("0")),
    )
    .unwrap();
    assert_eq!(q.npv, Some(q.rent_total));
    // Without a rate there is no NPV, and the JSON leaves both out.
    let q = quote("x", &s, 1, &[site("w", AssetKind::Wall)], &terms(3, None)).unwrap();
    let json = serde_json::to_value(&q).unwrap();
    assert!(json.get("npv").is_none() && json.get("discount_rate").is_none());
}

#[test]
fn structural_survey_applies_to_structures_older_than_the_limit() {
    let s = issue(); // 150.00 if older than 7 years
    let aged = |id: &str, year: Option<i32>| QuoteSite {
        install_year: year,
        ..site(id, AssetKind::LampPost)
    };
    let sites = [
        aged("2019", Some(2019)), // 2027 − 2019 = 8 > 7: surveyed
        aged("2020", Some(2020)), // 7 is not more than 7
        aged("1960", Some(1960)), // surveyed
        aged("2031", Some(2031)), // future: not surveyed
        aged("unknown", None),    // unknown year: not surveyed
    ];
    let q = quote("x", &s, 1, &sites, &terms(1, None)).unwrap();
    let surveyed: Vec<&str> = q
        .lines
        .iter()
        .filter(|l| matches!(l, QuoteLine::StructuralSurvey { .. }))
        .filter_map(QuoteLine::asset_id)
        .collect();
    assert_eq!(surveyed, ["2019", "1960"]);
    assert_eq!(q.one_off_total, d("800.00")); // 500 + 2 × 150
    // Age is measured from the start date's year, not the day.
    let late = QuoteTerms {
        start: date("2027-12-31"),
        ..terms(1, None)
    };
    let early = QuoteTerms {
        start: date("2028-01-01"),
        ..terms(1, None)
    };
    let one = [aged("2020", Some(2020))];
    assert_eq!(
        quote("x", &s, 1, &one, &late).unwrap().one_off_total,
        d("500")
    );
    assert_eq!(
        quote("x", &s, 1, &one, &early).unwrap().one_off_total,
        d("650")
    );
    // No survey part in the schedule: no survey.
    let mut s = s;
    s.structural_survey = None;
    let q = quote("x", &s, 1, &sites, &terms(1, None)).unwrap();
    assert_eq!(q.one_off_total, d("500.00"));
}

#[test]
fn new_poles_pay_their_own_fee_instead_of_the_application_fee() {
    let s = fcc();
    let mut sites = lamp_posts(7);
    sites[6].new_structure = true;
    let q = quote("x", &s, 1, &sites, &terms(1, None)).unwrap();
    // Six counted sites: 500 + 100; the new pole: 1000.
    assert_eq!(q.application_fee, d("600.00"));
    assert_eq!(q.one_off_total, d("1600.00"));
    assert!(q.lines.contains(&QuoteLine::NewPole {
        asset_id: "LP-7".into(),
        amount: d("1000.00")
    }));
    // The new pole still pays rent.
    assert_eq!(q.rent_total, d("1890.00"));
    // Only new poles: no application fee, one new-pole fee each.
    let mut poles = lamp_posts(2);
    for p in &mut poles {
        p.new_structure = true;
    }
    let q = quote("x", &s, 1, &poles, &terms(1, None)).unwrap();
    assert_eq!(q.application_fee, Decimal::ZERO);
    assert_eq!(q.one_off_total, d("2000.00"));
    // A schedule without a new-pole fee prices a new structure like any site.
    let mut s = s;
    s.new_pole_fee = None;
    let q = quote("x", &s, 1, &sites, &terms(1, None)).unwrap();
    assert_eq!(q.application_fee, d("700.00"));
    assert_eq!(q.one_off_total, d("700.00"));
}

#[test]
fn service_charge_is_annual_indexed_and_shared_with_the_fund() {
    let mut s = issue(); // 3 %, half to the fund
    s.service_charge_annual = Some(d("60.00"));
    let q = quote(
        "x",
        &s,
        1,
        &[site("a", AssetKind::LampPost)],
        &terms(2, None),
    )
    .unwrap();
    assert!(q.lines.contains(&QuoteLine::ServiceCharge {
        asset_id: "a".into(),
        amount: d("60.00")
    }));
    // (270 + 60) = 330.00; × 1.03 = 339.90; subsidy 165.00 + 169.95.
    assert_eq!(
        years_of(&q),
        [
            ("330.00".to_string(), "165.00".to_string()),
            ("339.90".to_string(), "169.95".to_string())
        ]
    );
}

#[test]
fn quotes_are_reproducible_and_round_trip_through_json() {
    let s = glasgow();
    let sites = glasgow_sites();
    let t = terms(5, Some("0.035"));
    let a = quote("glasgow", &s, 7, &sites, &t).unwrap();
    let b = quote("glasgow", &s.clone(), 7, &sites.clone(), &t.clone()).unwrap();
    assert_eq!(a, b);
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(json, serde_json::to_string(&b).unwrap());
    let back: Quote = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
    // Lines classify themselves.
    let one_off: Decimal = a
        .lines
        .iter()
        .filter(|l| !l.is_annual())
        .map(QuoteLine::amount)
        .sum();
    assert_eq!(one_off, a.one_off_total);
    let annual: Decimal = a
        .lines
        .iter()
        .filter(|l| l.is_annual())
        .map(QuoteLine::amount)
        .sum();
    assert_eq!(annual, a.years[0].rent);
}

#[test]
fn quote_site_from_an_asset() {
    use crate::domain::asset::{AssetDetails, AssetStatus, Placement};
    let asset = Asset {
        id: "a-1".into(),
        authority: "glasgow".into(),
        details: AssetDetails {
            asset_ref: "LP-1".into(),
            kind: AssetKind::CctvColumn,
            geometry: geo::Geometry::Point(geo::Point::new(-4.25, 55.86)),
            height_m: None,
            power_supply: PowerSupply::Continuous,
            capacity: 1,
            load_rating_kg: None,
            last_inspected: None,
            install_year: Some(2001),
            status: AssetStatus::Available,
            listed: false,
            photo_url: None,
            source_attributes: BTreeMap::new(),
        },
        placement: Placement {
            ward: None,
            fee_zone: Some("band_a".into()),
            in_conservation_area: false,
        },
        occupancy: Default::default(),
        revision: 1,
    };
    let s = QuoteSite::from_asset(&asset, true);
    assert_eq!(
        s,
        QuoteSite {
            asset_id: "a-1".into(),
            kind: AssetKind::CctvColumn,
            fee_zone: Some("band_a".into()),
            power_supply: PowerSupply::Continuous,
            install_year: Some(2001),
            shared: true,
            new_structure: false,
        }
    );
    // 300 × 1.50 + 180 power + 60 service − 50 shared = 640.00
    assert_eq!(annual_fee(&glasgow(), &s), d("640.00"));
}

// ------------------------------------------------- shipped schedules, docs

#[test]
fn shipped_fcc_schedule_holds_the_safe_harbour_figures() {
    let s = fcc();
    assert_eq!(s.currency, "USD");
    assert_eq!(s.application_fee.base, d("500"));
    assert_eq!(s.application_fee.sites_included, 5);
    assert_eq!(s.application_fee.per_additional_site, d("100"));
    for kind in AssetKind::ALL {
        assert_eq!(s.annual_rent[kind.as_str()], d("270"), "{kind}");
    }
    assert_eq!(s.new_pole_fee, Some(d("1000")));
    assert_eq!(s.annual_indexation, Decimal::ZERO);
    assert_eq!(s.subsidy_share, Decimal::ZERO);
}

fn fcc_example_sites() -> Vec<QuoteSite> {
    let mut sites: Vec<QuoteSite> = (1..=4)
        .map(|i| site(&format!("SL-{i:03}"), AssetKind::LampPost))
        .chain((1..=2).map(|i| site(&format!("TS-{i:03}"), AssetKind::TrafficSignal)))
        .collect();
    sites.push(QuoteSite {
        new_structure: true,
        ..site("NEW-001", AssetKind::Other)
    });
    sites
}

/// docs/fees.md, example 1: the FCC schedule as shipped.
#[test]
fn docs_example_fcc_as_shipped() {
    let q = quote(
        "springfield",
        &fcc(),
        1,
        &fcc_example_sites(),
        &terms(10, None),
    )
    .unwrap();
    assert_eq!(
        money_of(&q),
        (
            "600.00".into(),
            "1600.00".into(),
            "18900.00".into(),
            "20500.00".into(),
            "0.00".into()
        )
    );
    assert!(q.years.iter().all(|y| y.rent == d("1890.00")));
    assert_eq!(
        serde_json::to_value(&q).unwrap(),
        doc_example("fcc-as-shipped")
    );
}

/// docs/fees.md, example 2: the hand-worked seven sites at 3 %.
#[test]
fn docs_example_fcc_indexed() {
    let mut s = fcc();
    s.annual_indexation = d("0.03");
    let q = quote(
        "springfield",
        &s,
        2,
        &lamp_posts(7),
        &terms(10, Some("0.035")),
    )
    .unwrap();
    assert_eq!(q.term_total, d("22366.75"));
    assert_eq!(q.npv, Some(d("18494.39")));
    assert_eq!(
        serde_json::to_value(&q).unwrap(),
        doc_example("fcc-indexed")
    );
}

fn glasgow_sites() -> Vec<QuoteSite> {
    vec![
        QuoteSite {
            power_supply: PowerSupply::Continuous,
            install_year: Some(2012),
            ..in_zone(site("GCC-LP-0142", AssetKind::LampPost), "band_a")
        },
        QuoteSite {
            power_supply: PowerSupply::PartNight,
            install_year: Some(2021),
            shared: true,
            ..in_zone(site("GCC-LP-0977", AssetKind::LampPost), "band_b")
        },
        QuoteSite {
            power_supply: PowerSupply::Continuous,
            ..in_zone(site("GCC-CC-0031", AssetKind::CctvColumn), "band_c")
        },
        in_zone(site("GCC-RT-0005", AssetKind::Rooftop), "band_a"),
        QuoteSite {
            install_year: Some(2019),
            ..in_zone(site("GCC-BS-0210", AssetKind::BusShelter), "riverside")
        },
    ]
}

/// docs/fees.md, example 3: the Glasgow-style banded schedule.
#[test]
fn docs_example_glasgow_style() {
    let s = glasgow();
    let sites = glasgow_sites();
    let fees: Vec<String> = sites
        .iter()
        .map(|x| money::to_string(annual_fee(&s, x)))
        .collect();
    assert_eq!(fees, ["690.00", "405.00", "435.00", "3810.00", "410.00"]);
    let q = quote("glasgow", &s, 1, &sites, &terms(5, Some("0.035"))).unwrap();
    assert_eq!(
        money_of(&q),
        (
            "550.00".into(),
            "850.00".into(),
            "30527.53".into(),
            "31377.53".into(),
            "15263.81".into()
        )
    );
    assert_eq!(
        years_of(&q),
        [
            ("5750.00", "2875.00"),
            ("5922.50", "2961.26"),
            ("6100.17", "3050.10"),
            ("6283.18", "3141.60"),
            ("6471.68", "3235.85"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(q.npv, Some(d("28473.56")));
    assert_eq!(
        serde_json::to_value(&q).unwrap(),
        doc_example("glasgow-style")
    );
}

#[test]
fn docs_quote_the_shipped_schedules_verbatim() {
    for (name, file) in [
        ("fcc-2018-safe-harbour", FCC),
        ("glasgow-style-banded", GLASGOW),
    ] {
        let in_docs = doc_example(name);
        let shipped: serde_json::Value = serde_json::from_str(file).unwrap();
        assert_eq!(in_docs, shipped, "{name}");
    }
}

// --------------------------------------------------------------- property

fn money_strategy(max_cents: i64) -> impl Strategy<Value = Decimal> {
    (0..=max_cents).prop_map(|c| Decimal::new(c, 2))
}

prop_compose! {
    fn schedule_strategy()(
        rents in prop::collection::vec(money_strategy(1_000_000), 7),
        base in money_strategy(100_000),
        included in 0u32..8,
        per in money_strategy(50_000),
        multipliers in prop::collection::vec(0i64..=400, 3),
        continuous in money_strategy(50_000),
        part_night in money_strategy(50_000),
        survey in prop::option::of((money_strategy(50_000), 0u32..30)),
        discount in money_strategy(100_000),
        indexation in 0i64..=150,
        share in 0i64..=100,
        pole in prop::option::of(money_strategy(500_000)),
        service in prop::option::of(money_strategy(20_000)),
    ) -> FeeSchedule {
        FeeSchedule {
            currency: "GBP".into(),
            effective_from: time::macros::date!(2027 - 04 - 01),
            application_fee: ApplicationFee {
                base,
                sites_included: included,
                per_additional_site: per,
            },
            annual_rent: AssetKind::ALL
                .iter()
                .zip(rents)
                .map(|(k, r)| (k.as_str().to_string(), r))
                .collect(),
            zone_multipliers: ["a", "b", "c"]
                .iter()
                .zip(multipliers)
                .map(|(z, m)| (z.to_string(), Decimal::new(m, 2)))
                .collect(),
            power_annual: [
                ("continuous".to_string(), continuous),
                ("part_night".to_string(), part_night),
            ]
            .into(),
            structural_survey: survey
                .map(|(fee, years)| StructuralSurvey { fee, if_older_than_years: years }),
            shared_site_discount: discount,
            annual_indexation: Decimal::new(indexation, 3),
            subsidy_share: Decimal::new(share, 2),
            new_pole_fee: pole,
            service_charge_annual: service,
        }
    }
}

prop_compose! {
    fn site_strategy()(
        kind in prop::sample::select(AssetKind::ALL.to_vec()),
        zone in prop::option::of(prop::sample::select(vec!["a", "b", "c", "elsewhere"])),
        power in prop::sample::select(PowerSupply::ALL.to_vec()),
        install_year in prop::option::of(1950i32..2040),
        shared in any::<bool>(),
        new_structure in any::<bool>(),
    ) -> QuoteSite {
        QuoteSite {
            asset_id: String::new(),
            kind,
            fee_zone: zone.map(str::to_string),
            power_supply: power,
            install_year,
            shared,
            new_structure,
        }
    }
}

proptest! {
    #[test]
    fn year_table_sums_to_the_totals(
        schedule in schedule_strategy(),
        sites in prop::collection::vec(site_strategy(), 1..12),
        term_years in 1u32..=MAX_TERM_YEARS,
        rate in prop::option::of(0i64..=200),
    ) {
        let sites: Vec<QuoteSite> = sites.into_iter().enumerate()
            .map(|(i, s)| QuoteSite { asset_id: format!("s{i}"), ..s })
            .collect();
        let t = QuoteTerms {
            term_years,
            start: time::macros::date!(2027 - 04 - 01),
            discount_rate: rate.map(|r| Decimal::new(r, 3)),
        };
        let q = quote("x", &schedule, 1, &sites, &t).unwrap();
        prop_assert_eq!(q.years.len() as u32, term_years);
        prop_assert_eq!(q.years.iter().map(|y| y.rent).sum::<Decimal>(), q.rent_total);
        prop_assert_eq!(q.years.iter().map(|y| y.subsidy).sum::<Decimal>(), q.subsidy_total);
        prop_assert_eq!(q.term_total, q.one_off_total + q.rent_total);
        let one_off: Decimal =
            q.lines.iter().filter(|l| !l.is_annual()).map(QuoteLine::amount).sum();
        prop_assert_eq!(one_off, q.one_off_total);
        let year_one: Decimal = sites.iter().map(|s| annual_fee(&schedule, s)).sum();
        prop_assert_eq!(year_one, q.years[0].rent);
        let annual: Decimal =
            q.lines.iter().filter(|l| l.is_annual()).map(QuoteLine::amount).sum();
        prop_assert_eq!(annual, q.years[0].rent);
        for (i, y) in q.years.iter().enumerate() {
            prop_assert_eq!(y.year as usize, i + 1);
            prop_assert!(y.subsidy >= Decimal::ZERO && y.subsidy <= y.rent);
            prop_assert!(y.rent.normalize().scale() <= 2 && y.subsidy.normalize().scale() <= 2);
            if i > 0 {
                prop_assert!(y.rent >= q.years[i - 1].rent);
            }
        }
        prop_assert_eq!(q.npv.is_some(), rate.is_some());
        if let Some(npv) = q.npv {
            prop_assert!(npv <= q.rent_total && npv >= Decimal::ZERO);
        }
        let again = quote("x", &schedule, 1, &sites, &t).unwrap();
        prop_assert_eq!(&again, &q);
    }
}

#[test]
fn the_member_lists_are_the_documents_members() {
    let doc = serde_json::json!({
        "currency": "GBP",
        "effective_from": "2027-01-01",
        "application_fee": {"base": "100", "sites_included": 5, "per_additional_site": "10"},
        "annual_rent": {},
        "structural_survey": {"fee": "50", "if_older_than_years": 30},
        "new_pole_fee": "1000",
        "service_charge_annual": "12",
    });
    let full: FeeSchedule = serde_json::from_value(doc).unwrap();
    let written = serde_json::to_value(&full).unwrap();
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let sorted = |a: &[&str]| -> Vec<String> {
        let mut k: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    };
    assert_eq!(keys(&written), sorted(&SCHEDULE_MEMBERS));
    assert_eq!(
        keys(&written["application_fee"]),
        sorted(&APPLICATION_FEE_MEMBERS)
    );
    assert_eq!(
        keys(&written["structural_survey"]),
        sorted(&STRUCTURAL_SURVEY_MEMBERS)
    );
    assert!(unknown_members(&written).is_empty());
    let mut misspelt = written.clone();
    misspelt["anual_rent"] = serde_json::json!({});
    misspelt["application_fee"]["bse"] = serde_json::json!("1");
    misspelt["version"] = serde_json::json!(3);
    let mut unknown = unknown_members(&misspelt);
    unknown.sort();
    assert_eq!(unknown, ["anual_rent", "application_fee.bse"]);
}
