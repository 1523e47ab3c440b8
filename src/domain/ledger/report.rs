//! The ledger's reports: an authority's year (totals and breakdowns by ward,
//! asset kind and operator), the CSV of its charges for finance, and the
//! public summary of the subsidy fund for residents.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use super::{Charge, ChargeKind};
use crate::domain::asset::{AssetKind, format_date};
use crate::domain::fees::money;

/// Revenue by what it is for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Revenue {
    /// Application fees.
    #[serde(with = "money")]
    #[schema(value_type = String, example = "500.00")]
    pub application_fees: Decimal,
    /// One-off site fees (structural surveys, new poles).
    #[serde(with = "money")]
    #[schema(value_type = String, example = "0.00")]
    pub site_fees: Decimal,
    /// Rent.
    #[serde(with = "money")]
    #[schema(value_type = String, example = "1890.00")]
    pub rent: Decimal,
    /// All of it.
    #[serde(with = "money")]
    #[schema(value_type = String, example = "2390.00")]
    pub total: Decimal,
}

impl Revenue {
    fn add(&mut self, c: &Charge) {
        match c.kind {
            ChargeKind::ApplicationFee => self.application_fees += c.amount,
            ChargeKind::SiteFee => self.site_fees += c.amount,
            ChargeKind::Rent => self.rent += c.amount,
        }
        self.total += c.amount;
    }
}

/// Revenue and subsidy of one ward (`null`: sites in no ward).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WardLine {
    /// The ward's name.
    pub ward: Option<String>,
    /// Revenue from sites there.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub revenue: Decimal,
    /// Subsidy from sites there.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub subsidy: Decimal,
}

/// Revenue and subsidy of one asset kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KindLine {
    /// The asset kind.
    #[schema(value_type = String, example = "lamp_post")]
    pub kind: AssetKind,
    /// Revenue from sites of that kind.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub revenue: Decimal,
    /// Subsidy from sites of that kind.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub subsidy: Decimal,
}

/// Revenue and subsidy from one operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OperatorLine {
    /// The operator's organisation slug.
    pub operator: String,
    /// Revenue from it.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub revenue: Decimal,
    /// Subsidy from it.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub subsidy: Decimal,
}

/// An authority's ledger for one calendar year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Ledger {
    /// The authority's code.
    pub authority: String,
    /// The calendar year of the due dates.
    pub year: i32,
    /// ISO 4217 currency of every amount.
    pub currency: Option<String>,
    /// Revenue falling due in the year.
    pub revenue: Revenue,
    /// The part of the rent paid into the subsidy fund.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub subsidy_fund: Decimal,
    /// By ward, by name (sites in no ward last).
    pub by_ward: Vec<WardLine>,
    /// By asset kind.
    pub by_kind: Vec<KindLine>,
    /// By operator, by slug.
    pub by_operator: Vec<OperatorLine>,
}

/// Sums of one group.
#[derive(Default, Clone, Copy)]
struct Sums {
    revenue: Decimal,
    subsidy: Decimal,
}

impl Sums {
    fn add(&mut self, c: &Charge) {
        self.revenue += c.amount;
        self.subsidy += c.subsidy;
    }
}

/// Groups `charges` by a key, summing each group.
fn group<K: Ord>(charges: &[Charge], key: impl Fn(&Charge) -> K) -> BTreeMap<K, Sums> {
    let mut out: BTreeMap<K, Sums> = BTreeMap::new();
    for c in charges {
        out.entry(key(c)).or_default().add(c);
    }
    out
}

/// Wards by name, sites in no ward last.
fn ward_order(w: &Option<String>) -> (bool, Option<String>) {
    (w.is_none(), w.clone())
}

/// The ledger of `charges` (those falling due in `year`, all in `currency`).
pub fn ledger(authority: &str, year: i32, currency: Option<&str>, charges: &[Charge]) -> Ledger {
    let mut revenue = Revenue::default();
    let mut subsidy_fund = Decimal::ZERO;
    for c in charges {
        revenue.add(c);
        subsidy_fund += c.subsidy;
    }
    Ledger {
        authority: authority.to_string(),
        year,
        currency: currency.map(str::to_string),
        revenue,
        subsidy_fund,
        by_ward: group(charges, |c| ward_order(&c.ward))
            .into_iter()
            .map(|((_, ward), s)| WardLine {
                ward,
                revenue: s.revenue,
                subsidy: s.subsidy,
            })
            .collect(),
        by_kind: group(charges, |c| c.asset_kind)
            .into_iter()
            .map(|(kind, s)| KindLine {
                kind,
                revenue: s.revenue,
                subsidy: s.subsidy,
            })
            .collect(),
        by_operator: group(charges, |c| c.operator.clone())
            .into_iter()
            .map(|(operator, s)| OperatorLine {
                operator,
                revenue: s.revenue,
                subsidy: s.subsidy,
            })
            .collect(),
    }
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 12] = [
    "due_on",
    "charge",
    "application",
    "agreement",
    "agreement_year",
    "operator",
    "asset",
    "asset_kind",
    "ward",
    "currency",
    "amount",
    "subsidy",
];

/// A text cell a spreadsheet will not take for a formula: cells starting
/// with `=`, `+`, `-`, `@`, tab or carriage return get a leading `'`.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The charges as CSV for finance: a header, then one row per charge in due
/// date order (then application, asset, kind, year).
pub fn csv(charges: &[Charge]) -> Vec<u8> {
    let mut sorted: Vec<&Charge> = charges.iter().collect();
    sorted.sort_by(|a, b| {
        (a.due_on, &a.application, &a.asset, a.kind, a.agreement_year).cmp(&(
            b.due_on,
            &b.application,
            &b.asset,
            b.kind,
            b.agreement_year,
        ))
    });
    let mut w = ::csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail; a failure would only lose the row.
    let _ = w.write_record(CSV_COLUMNS);
    for c in sorted {
        let _ = w.write_record([
            format_date(c.due_on),
            c.kind.as_str().to_string(),
            cell(&c.application),
            cell(c.agreement.as_deref().unwrap_or("")),
            c.agreement_year.map(|y| y.to_string()).unwrap_or_default(),
            cell(&c.operator),
            cell(&c.asset),
            c.asset_kind.as_str().to_string(),
            cell(c.ward.as_deref().unwrap_or("")),
            c.currency.clone(),
            money::to_string(c.amount),
            money::to_string(c.subsidy),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// Subsidy from one ward's sites in one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WardSubsidy {
    /// The ward's name (`null`: sites in no ward).
    pub ward: Option<String>,
    /// Paid into the fund.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub subsidy: Decimal,
}

/// One year of the public summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SubsidyYear {
    /// Calendar year.
    pub year: i32,
    /// Paid into the fund that year.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub subsidy_fund: Decimal,
    /// By ward.
    pub by_ward: Vec<WardSubsidy>,
}

/// What concession money went into connectivity: for residents, so nothing
/// about operators, sites or agreements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SubsidySummary {
    /// The authority's code.
    pub authority: String,
    /// ISO 4217 currency of the amounts.
    pub currency: Option<String>,
    /// Charges due up to and including this day are counted.
    #[schema(value_type = String, example = "2027-06-30")]
    pub as_of: String,
    /// All years together.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Year by year, oldest first.
    pub years: Vec<SubsidyYear>,
}

/// The public summary of `charges` (all in `currency`) fallen due by
/// `today`.
pub fn subsidy_summary(
    authority: &str,
    currency: Option<&str>,
    charges: &[Charge],
    today: Date,
) -> SubsidySummary {
    let due: Vec<Charge> = charges
        .iter()
        .filter(|c| c.due_on <= today && !c.subsidy.is_zero())
        .cloned()
        .collect();
    let years = group(&due, |c| c.due_on.year())
        .into_keys()
        .map(|year| {
            let of_year: Vec<Charge> = due
                .iter()
                .filter(|c| c.due_on.year() == year)
                .cloned()
                .collect();
            let by_ward: Vec<WardSubsidy> = group(&of_year, |c| ward_order(&c.ward))
                .into_iter()
                .map(|((_, ward), s)| WardSubsidy {
                    ward,
                    subsidy: s.subsidy,
                })
                .collect();
            SubsidyYear {
                year,
                subsidy_fund: of_year.iter().map(|c| c.subsidy).sum(),
                by_ward,
            }
        })
        .collect::<Vec<_>>();
    SubsidySummary {
        authority: authority.to_string(),
        currency: currency.map(str::to_string),
        as_of: format_date(today),
        total: due.iter().map(|c| c.subsidy).sum(),
        years,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::asset::AssetKind;
    use crate::domain::ledger::ChargeKind;
    use proptest::prelude::*;
    use time::macros::date;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    fn charge(
        kind: ChargeKind,
        op: &str,
        ward: Option<&str>,
        k: AssetKind,
        amount: &str,
        subsidy: &str,
        due: Date,
    ) -> Charge {
        Charge {
            kind,
            application: "app-1".into(),
            agreement: (kind != ChargeKind::ApplicationFee).then(|| "agr-1".into()),
            agreement_year: (kind == ChargeKind::Rent).then_some(1),
            operator: op.into(),
            asset: "t-1".into(),
            asset_kind: k,
            ward: ward.map(str::to_string),
            due_on: due,
            currency: "GBP".into(),
            amount: d(amount),
            subsidy: d(subsidy),
        }
    }

    #[test]
    fn a_small_ledger_by_hand() {
        let day = date!(2027 - 04 - 01);
        let charges = [
            charge(
                ChargeKind::ApplicationFee,
                "acme",
                Some("Bowdon"),
                AssetKind::LampPost,
                "250.00",
                "0",
                day,
            ),
            charge(
                ChargeKind::ApplicationFee,
                "acme",
                None,
                AssetKind::Rooftop,
                "250.00",
                "0",
                day,
            ),
            charge(
                ChargeKind::Rent,
                "acme",
                Some("Bowdon"),
                AssetKind::LampPost,
                "270.00",
                "135.00",
                day,
            ),
            charge(
                ChargeKind::Rent,
                "beta",
                Some("Altrincham"),
                AssetKind::LampPost,
                "300.00",
                "150.00",
                day,
            ),
            charge(
                ChargeKind::SiteFee,
                "beta",
                Some("Altrincham"),
                AssetKind::LampPost,
                "150.00",
                "0",
                day,
            ),
        ];
        let l = ledger("trafford", 2027, Some("GBP"), &charges);
        let v = serde_json::to_value(&l).unwrap();
        assert_eq!(
            v["revenue"],
            serde_json::json!({"application_fees": "500.00", "site_fees": "150.00",
                               "rent": "570.00", "total": "1220.00"})
        );
        assert_eq!(v["subsidy_fund"], "285.00");
        assert_eq!(
            v["by_ward"],
            serde_json::json!([
                {"ward": "Altrincham", "revenue": "450.00", "subsidy": "150.00"},
                {"ward": "Bowdon", "revenue": "520.00", "subsidy": "135.00"},
                {"ward": null, "revenue": "250.00", "subsidy": "0.00"}
            ])
        );
        assert_eq!(
            v["by_kind"],
            serde_json::json!([
                {"kind": "lamp_post", "revenue": "970.00", "subsidy": "285.00"},
                {"kind": "rooftop", "revenue": "250.00", "subsidy": "0.00"}
            ])
        );
        assert_eq!(
            v["by_operator"],
            serde_json::json!([
                {"operator": "acme", "revenue": "770.00", "subsidy": "135.00"},
                {"operator": "beta", "revenue": "450.00", "subsidy": "150.00"}
            ])
        );
    }

    #[test]
    fn csv_has_one_row_per_charge_and_defuses_formulas() {
        let day = date!(2027 - 04 - 01);
        let c = charge(
            ChargeKind::Rent,
            "acme",
            Some("=HYPERLINK(\"x\")"),
            AssetKind::LampPost,
            "270.00",
            "135.00",
            day,
        );
        let text = String::from_utf8(csv(&[c.clone(), c])).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), CSV_COLUMNS.join(","));
        let row = lines.next().unwrap();
        assert!(
            row.starts_with("2027-04-01,rent,app-1,agr-1,1,acme,t-1,lamp_post,"),
            "{row}"
        );
        assert!(row.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{row}");
        assert!(row.ends_with(",GBP,270.00,135.00"), "{row}");
        assert_eq!(lines.count(), 1);
    }

    #[test]
    fn the_public_summary_counts_only_what_has_fallen_due_and_names_no_operator() {
        let charges = [
            charge(
                ChargeKind::Rent,
                "secret-operator",
                Some("Bowdon"),
                AssetKind::LampPost,
                "270.00",
                "135.00",
                date!(2027 - 04 - 01),
            ),
            charge(
                ChargeKind::Rent,
                "secret-operator",
                Some("Bowdon"),
                AssetKind::LampPost,
                "278.10",
                "139.05",
                date!(2028 - 04 - 01),
            ),
            charge(
                ChargeKind::ApplicationFee,
                "secret-operator",
                Some("Bowdon"),
                AssetKind::LampPost,
                "500.00",
                "0",
                date!(2027 - 03 - 01),
            ),
        ];
        let s = subsidy_summary("trafford", Some("GBP"), &charges, date!(2028 - 03 - 31));
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["total"], "135.00");
        assert_eq!(
            v["years"],
            serde_json::json!([{"year": 2027, "subsidy_fund": "135.00",
                                "by_ward": [{"ward": "Bowdon", "subsidy": "135.00"}]}])
        );
        let text = v.to_string();
        for private in ["secret-operator", "app-1", "agr-1", "t-1"] {
            assert!(!text.contains(private), "{private} in {text}");
        }
    }

    fn kind_strategy() -> impl Strategy<Value = AssetKind> {
        prop::sample::select(AssetKind::ALL.to_vec())
    }

    fn charge_strategy() -> impl Strategy<Value = Charge> {
        (
            prop::sample::select(vec![
                ChargeKind::ApplicationFee,
                ChargeKind::SiteFee,
                ChargeKind::Rent,
            ]),
            prop::sample::select(vec!["acme", "beta", "gamma"]),
            prop::option::of(prop::sample::select(vec!["Altrincham", "Bowdon", "Hale"])),
            kind_strategy(),
            0i64..10_000_000,
            0i64..100,
        )
            .prop_map(|(kind, op, ward, k, pennies, share)| {
                let amount = Decimal::new(pennies, 2);
                let subsidy = if kind == ChargeKind::Rent {
                    (amount * Decimal::new(share, 2)).round_dp(2)
                } else {
                    Decimal::ZERO
                };
                Charge {
                    kind,
                    application: "a".into(),
                    agreement: None,
                    agreement_year: None,
                    operator: op.into(),
                    asset: "x".into(),
                    asset_kind: k,
                    ward: ward.map(str::to_string),
                    due_on: date!(2027 - 01 - 01),
                    currency: "GBP".into(),
                    amount,
                    subsidy,
                }
            })
    }

    proptest! {
        #[test]
        fn every_breakdown_sums_to_the_totals(charges in prop::collection::vec(charge_strategy(), 0..60)) {
            let l = ledger("t", 2027, Some("GBP"), &charges);
            // The totals against a plain sum of the charges.
            let total: Decimal = charges.iter().map(|c| c.amount).sum();
            let subsidy: Decimal = charges.iter().map(|c| c.subsidy).sum();
            prop_assert_eq!(l.revenue.total, total);
            prop_assert_eq!(l.subsidy_fund, subsidy);
            prop_assert_eq!(l.revenue.application_fees + l.revenue.site_fees + l.revenue.rent, total);
            prop_assert_eq!(l.by_ward.iter().map(|w| w.revenue).sum::<Decimal>(), total);
            prop_assert_eq!(l.by_ward.iter().map(|w| w.subsidy).sum::<Decimal>(), subsidy);
            prop_assert_eq!(l.by_kind.iter().map(|w| w.revenue).sum::<Decimal>(), total);
            prop_assert_eq!(l.by_kind.iter().map(|w| w.subsidy).sum::<Decimal>(), subsidy);
            prop_assert_eq!(l.by_operator.iter().map(|w| w.revenue).sum::<Decimal>(), total);
            prop_assert_eq!(l.by_operator.iter().map(|w| w.subsidy).sum::<Decimal>(), subsidy);
            // One line per distinct key.
            let wards: std::collections::BTreeSet<_> = charges.iter().map(|c| c.ward.clone()).collect();
            prop_assert_eq!(l.by_ward.len(), wards.len());
        }
    }
}
