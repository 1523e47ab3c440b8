//! Worked examples (the FCC safe harbour, a banded schedule, `docs/fees.md`)
//! and properties; each example exercises validation, pricing and the wire
//! format together.
//!
//! Layout: the documents, helpers and parsing tests are here;
//! `validation.rs` (unusable schedules and requests named field by field),
//! `hand_worked.rs` (fees and quotes worked by hand), `shipped.rs` (the
//! shipped schedules and the examples in `docs/fees.md`), `property.rs`
//! (properties over generated schedules).

use super::wire::parse_decimal;
use super::*;
use proptest::prelude::*;

const FCC: &str = include_str!("../../../../data/fees/fcc-2018-safe-harbour.json");
const GLASGOW: &str = include_str!("../../../../data/fees/glasgow-style-banded.json");
const DOC: &str = include_str!("../../../../docs/fees.md");

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

pub(super) fn glasgow_sites() -> Vec<QuoteSite> {
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

mod hand_worked;
mod property;
mod shipped;
mod validation;
