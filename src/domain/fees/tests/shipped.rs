//! The shipped schedules and the examples in `docs/fees.md`.

use super::*;

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
