//! Unusable schedules and requests are refused naming the field.

use super::*;

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
