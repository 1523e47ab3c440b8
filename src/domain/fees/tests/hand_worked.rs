//! Fees and quotes worked by hand.

use super::*;

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
            source_attributes: Default::default(),
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
