//! The ledger: the money applications and agreements bring a council, when
//! it falls due, and the share of it paid into the connectivity subsidy
//! fund, in total and by ward, asset kind and operator.
//!
//! Pure. The rules:
//!
//! - the **application fee** falls due on the day the application is
//!   submitted, whatever the outcome (it pays for the review). So that every
//!   ward and kind carries its share, the fee is divided between the
//!   application's sites in equal parts, the odd pennies going to the first
//!   sites in the order applied for ([`split_pennies`]);
//! - **rent** for agreement year n (from 1) falls due on the start date's
//!   anniversary n − 1 years on ([`super::application::add_years`]). The
//!   amounts are the quote engine's: each site's year-n payment rounded to
//!   the penny, its subsidy = that payment × the schedule's `subsidy_share`,
//!   rounded half-up to the penny, exactly as [`fees::quote`] works them out,
//!   so an agreement's rents add up to its quote's `years` to the penny;
//! - **site fees** (one-off structural surveys and new-pole fees of the
//!   quote) fall due with the first year's rent;
//! - an agreement that ends (lapse, termination) stops the charges that
//!   would fall due after the day it ended (those due that day were due
//!   while it was in force);
//! - only rent pays into the subsidy fund.
//!
//! Every total is a sum of the charges' own amounts, and every breakdown
//! groups the same charges, so each breakdown sums exactly to its total.

mod report;

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

pub use report::*;

use super::application::add_years;
use super::asset::{AssetKind, InvalidField};
use super::fees::{self, FeeSchedule, Quote, QuoteSite, QuoteTerms};

/// What a charge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// A site's share of an application fee.
    ApplicationFee,
    /// A one-off fee for a site (structural survey, new pole).
    SiteFee,
    /// A year's rent for a site.
    Rent,
}

impl ChargeKind {
    /// The snake_case name used in CSV and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeKind::ApplicationFee => "application_fee",
            ChargeKind::SiteFee => "site_fee",
            ChargeKind::Rent => "rent",
        }
    }

    /// The kind a stored name names.
    pub fn parse(s: &str) -> Option<ChargeKind> {
        [
            ChargeKind::ApplicationFee,
            ChargeKind::SiteFee,
            ChargeKind::Rent,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One site of an agreement, as priced and placed when the application was
/// submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementSite {
    /// The site as the fee rules see it.
    pub site: QuoteSite,
    /// Its ward then, if any.
    pub ward: Option<String>,
}

/// One charge an agreement makes: a site's rent for a year, or a site's
/// one-off fee (year 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementCharge {
    /// The asset.
    pub asset: String,
    /// Rent or site fee.
    pub kind: ChargeKind,
    /// Agreement year from 1 for rent; 0 for a site fee.
    pub year: u32,
    /// When it falls due.
    pub due_on: Date,
    /// The amount.
    pub amount: Decimal,
    /// The part paid into the subsidy fund.
    pub subsidy: Decimal,
}

/// The day agreement year `year` (from 1) begins.
pub fn year_starts(start: Date, year: u32) -> Date {
    add_years(start, year.saturating_sub(1))
}

/// The charges of an agreement on `sites` under one schedule version,
/// site by site and year by year, with the quote they come from.
///
/// Each site's figures are the quote engine's for that site alone, which
/// are the same per-site amounts the engine sums into the whole quote's
/// `years` (it rounds each site's payment before adding); the sums are
/// checked against the whole quote all the same, and a difference is an
/// error rather than a ledger that disagrees with its agreement.
pub fn agreement_charges(
    authority: &str,
    schedule: &FeeSchedule,
    schedule_version: i64,
    sites: &[AgreementSite],
    terms: &QuoteTerms,
) -> Result<(Quote, Vec<AgreementCharge>), InvalidField> {
    let all: Vec<QuoteSite> = sites.iter().map(|s| s.site.clone()).collect();
    let whole = fees::quote(authority, schedule, schedule_version, &all, terms)?;
    let mut charges = Vec::new();
    let mut rent_by_year = vec![Decimal::ZERO; whole.years.len()];
    let mut subsidy_by_year = vec![Decimal::ZERO; whole.years.len()];
    let mut site_fees = Decimal::ZERO;
    for s in sites {
        let one = fees::quote(
            authority,
            schedule,
            schedule_version,
            std::slice::from_ref(&s.site),
            terms,
        )?;
        let fee = one.one_off_total - one.application_fee;
        if !fee.is_zero() {
            site_fees += fee;
            charges.push(AgreementCharge {
                asset: s.site.asset_id.clone(),
                kind: ChargeKind::SiteFee,
                year: 0,
                due_on: terms.start,
                amount: fee,
                subsidy: Decimal::ZERO,
            });
        }
        for (i, y) in one.years.iter().enumerate() {
            rent_by_year[i] += y.rent;
            subsidy_by_year[i] += y.subsidy;
            charges.push(AgreementCharge {
                asset: s.site.asset_id.clone(),
                kind: ChargeKind::Rent,
                year: y.year,
                due_on: year_starts(terms.start, y.year),
                amount: y.rent,
                subsidy: y.subsidy,
            });
        }
    }
    let agrees = whole
        .years
        .iter()
        .zip(rent_by_year.iter().zip(&subsidy_by_year))
        .all(|(y, (r, s))| y.rent == *r && y.subsidy == *s)
        && site_fees == whole.one_off_total - whole.application_fee;
    if !agrees {
        return Err(InvalidField::new(
            "assets",
            "the sites' charges do not add up to the quote; this is a bug, please report it",
        ));
    }
    Ok((whole, charges))
}

/// Divides `amount` (whole pennies) into `parts` parts that differ by at
/// most a penny and add up to it exactly; the larger parts come first.
/// Empty when `parts` is 0.
pub fn split_pennies(amount: Decimal, parts: usize) -> Vec<Decimal> {
    if parts == 0 {
        return Vec::new();
    }
    let penny = Decimal::new(1, 2);
    let pennies = (amount / penny).trunc();
    let n = Decimal::from(parts);
    let each = (pennies / n).trunc();
    let extra = pennies - each * n;
    (0..parts)
        .map(|i| {
            let bump = if Decimal::from(i) < extra {
                Decimal::ONE
            } else {
                Decimal::ZERO
            };
            (each + bump) * penny
        })
        .collect()
}

/// A charge falling due to an authority: the row the ledger is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// What it is for.
    pub kind: ChargeKind,
    /// The application it comes from.
    pub application: String,
    /// The agreement, for rent and site fees.
    pub agreement: Option<String>,
    /// Agreement year (rent), else `None`.
    pub agreement_year: Option<u32>,
    /// The operator paying.
    pub operator: String,
    /// The site.
    pub asset: String,
    /// The site's kind.
    pub asset_kind: AssetKind,
    /// The site's ward when applied for.
    pub ward: Option<String>,
    /// When it falls due.
    pub due_on: Date,
    /// ISO 4217 currency of the amounts.
    pub currency: String,
    /// The amount.
    pub amount: Decimal,
    /// The part paid into the subsidy fund.
    pub subsidy: Decimal,
}

/// Does a charge due on `due_on` fall due under an agreement that ended on
/// `ended_on` (if it has)? Up to and including the day it ended.
pub fn falls_due(due_on: Date, ended_on: Option<Date>) -> bool {
    ended_on.is_none_or(|end| due_on <= end)
}

/// A site of an application, for sharing out its fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeSite {
    /// The asset.
    pub asset: String,
    /// Its kind.
    pub asset_kind: AssetKind,
    /// Its ward when applied for.
    pub ward: Option<String>,
}

/// The application fee of one application as charges, one per site (see
/// the module rules).
pub fn application_fee_charges(
    application: &str,
    operator: &str,
    submitted_on: Date,
    currency: &str,
    fee: Decimal,
    sites: &[FeeSite],
) -> Vec<Charge> {
    split_pennies(fee, sites.len())
        .into_iter()
        .zip(sites)
        .map(|(amount, s)| Charge {
            kind: ChargeKind::ApplicationFee,
            application: application.to_string(),
            agreement: None,
            agreement_year: None,
            operator: operator.to_string(),
            asset: s.asset.clone(),
            asset_kind: s.asset_kind,
            ward: s.ward.clone(),
            due_on: submitted_on,
            currency: currency.to_string(),
            amount,
            subsidy: Decimal::ZERO,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::asset::PowerSupply;
    use crate::domain::fees::money;
    use proptest::prelude::*;
    use time::macros::date;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    /// The FCC safe-harbour schedule with 3 % indexation and half the rent
    /// to the fund, as in `tests/api/fees.rs`.
    fn fcc() -> FeeSchedule {
        let mut s: FeeSchedule = serde_json::from_str(include_str!(
            "../../../data/fees/fcc-2018-safe-harbour.json"
        ))
        .unwrap();
        s.annual_indexation = d("0.03");
        s.subsidy_share = d("0.50");
        s
    }

    fn site(id: &str, kind: AssetKind, ward: Option<&str>) -> AgreementSite {
        AgreementSite {
            site: QuoteSite {
                asset_id: id.into(),
                kind,
                fee_zone: None,
                power_supply: PowerSupply::None,
                install_year: None,
                shared: false,
                new_structure: false,
            },
            ward: ward.map(str::to_string),
        }
    }

    fn terms(years: u32, start: Date) -> QuoteTerms {
        QuoteTerms {
            term_years: years,
            start,
            discount_rate: None,
        }
    }

    #[test]
    fn rent_falls_due_on_each_anniversary_of_the_start() {
        let sites = [site("a", AssetKind::LampPost, Some("Altrincham"))];
        let (_, charges) =
            agreement_charges("t", &fcc(), 1, &sites, &terms(3, date!(2028 - 02 - 29))).unwrap();
        let due: Vec<_> = charges.iter().map(|c| (c.year, c.due_on)).collect();
        assert_eq!(
            due,
            [
                (1, date!(2028 - 02 - 29)),
                (2, date!(2029 - 02 - 28)),
                (3, date!(2030 - 02 - 28))
            ]
        );
    }

    #[test]
    fn charges_match_the_hand_worked_fcc_figures() {
        // Per lamp post, per year, rounded half-up (tests/api/fees.rs): 270.00,
        // 278.10, 286.44, 295.04, 303.89, ...; subsidy half of each, rounded:
        // 135.00, 139.05, 143.22, 147.52, 151.95.
        let sites = [
            site("a", AssetKind::LampPost, Some("Altrincham")),
            site("b", AssetKind::CctvColumn, None),
        ];
        let (q, charges) =
            agreement_charges("t", &fcc(), 1, &sites, &terms(5, date!(2027 - 04 - 01))).unwrap();
        let of_a: Vec<_> = charges
            .iter()
            .filter(|c| c.asset == "a")
            .map(|c| (money::to_string(c.amount), money::to_string(c.subsidy)))
            .collect();
        let want = [
            ("270.00", "135.00"),
            ("278.10", "139.05"),
            ("286.44", "143.22"),
            ("295.04", "147.52"),
            ("303.89", "151.95"),
        ];
        assert_eq!(of_a, want.map(|(a, b)| (a.to_string(), b.to_string())));
        assert_eq!(money::to_string(q.years[4].rent), "607.78");
        assert_eq!(money::to_string(q.years[4].subsidy), "303.90");
    }

    #[test]
    fn split_pennies_examples() {
        assert_eq!(
            split_pennies(d("700.00"), 3),
            [d("233.34"), d("233.33"), d("233.33")]
        );
        assert_eq!(split_pennies(d("0.01"), 2), [d("0.01"), d("0.00")]);
        assert!(split_pennies(d("5"), 0).is_empty());
    }

    #[test]
    fn charges_stop_when_the_agreement_ends() {
        assert!(falls_due(date!(2027 - 04 - 01), None));
        assert!(falls_due(
            date!(2027 - 04 - 01),
            Some(date!(2027 - 04 - 02))
        ));
        assert!(falls_due(
            date!(2027 - 04 - 01),
            Some(date!(2027 - 04 - 01))
        ));
        assert!(!falls_due(
            date!(2027 - 04 - 02),
            Some(date!(2027 - 04 - 01))
        ));
    }

    fn kind_strategy() -> impl Strategy<Value = AssetKind> {
        prop::sample::select(AssetKind::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn split_pennies_adds_up_and_is_fair(pennies in 0i64..100_000_000, parts in 1usize..120) {
            let amount = Decimal::new(pennies, 2);
            let split = split_pennies(amount, parts);
            prop_assert_eq!(split.len(), parts);
            prop_assert_eq!(split.iter().copied().sum::<Decimal>(), amount);
            let max = split.iter().max().copied().unwrap();
            let min = split.iter().min().copied().unwrap();
            prop_assert!(max - min <= Decimal::new(1, 2));
            prop_assert!(split.windows(2).all(|w| w[0] >= w[1]));
            prop_assert!(split.iter().all(|p| p.scale() <= 2));
        }

        #[test]
        fn agreement_charges_add_up_to_the_quote(
            kinds in prop::collection::vec(kind_strategy(), 1..15),
            years in 1u32..=50,
            indexation in 0i64..=100,
            share in 0i64..=100,
            survey in prop::option::of((0i64..100_000, 0u32..30)),
            installed in prop::collection::vec(prop::option::of(1950i32..2027), 15),
        ) {
            let mut s = fcc();
            s.annual_indexation = Decimal::new(indexation, 3);
            s.subsidy_share = Decimal::new(share, 2);
            s.structural_survey = survey.map(|(fee, age)| fees::StructuralSurvey {
                fee: Decimal::new(fee, 2),
                if_older_than_years: age,
            });
            let sites: Vec<AgreementSite> = kinds
                .iter()
                .enumerate()
                .map(|(i, &k)| {
                    let mut a = site(&format!("s{i}"), k, None);
                    a.site.install_year = installed[i];
                    a
                })
                .collect();
            let t = terms(years, date!(2027 - 04 - 01));
            let (q, charges) = agreement_charges("t", &s, 1, &sites, &t).unwrap();
            let rent: Decimal = charges.iter().filter(|c| c.kind == ChargeKind::Rent).map(|c| c.amount).sum();
            let subsidy: Decimal = charges.iter().map(|c| c.subsidy).sum();
            let fees: Decimal = charges.iter().filter(|c| c.kind == ChargeKind::SiteFee).map(|c| c.amount).sum();
            prop_assert_eq!(rent, q.rent_total);
            prop_assert_eq!(subsidy, q.subsidy_total);
            prop_assert_eq!(fees + q.application_fee, q.one_off_total);
            for y in &q.years {
                let of_year: Decimal = charges
                    .iter()
                    .filter(|c| c.kind == ChargeKind::Rent && c.year == y.year)
                    .map(|c| c.amount)
                    .sum();
                prop_assert_eq!(of_year, y.rent);
            }
            prop_assert_eq!(
                charges.iter().filter(|c| c.kind == ChargeKind::Rent).count(),
                sites.len() * years as usize
            );
        }
    }
}
