//! Quotes: the fees for a set of sites under one schedule version over a term of years.

use super::schedule::check_fraction;
use super::wire::{iso_date, money, rate};
use super::*;

/// One site to price: an asset as the fee rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteSite {
    /// The asset's identifier, echoed in the quote's lines.
    pub asset_id: String,
    /// What the asset is; selects `annual_rent`.
    pub kind: AssetKind,
    /// The fee zone the asset falls in, if any; selects `zone_multipliers`.
    pub fee_zone: Option<String>,
    /// Power at the asset; selects `power_annual`.
    pub power_supply: PowerSupply,
    /// Year of installation; unknown means no structural survey.
    pub install_year: Option<i32>,
    /// Another operator already holds an attachment on the asset.
    pub shared: bool,
    /// The site is a new structure (a new pole) rather than an existing one.
    pub new_structure: bool,
}

impl QuoteSite {
    /// The site for a stored asset, as an existing structure.
    ///
    /// `shared` says whether another operator already holds an attachment on
    /// it, which the asset itself does not record.
    pub fn from_asset(asset: &Asset, shared: bool) -> QuoteSite {
        QuoteSite {
            asset_id: asset.id.clone(),
            kind: asset.details.kind,
            fee_zone: asset.placement.fee_zone.as_deref().map(str::to_string),
            power_supply: asset.details.power_supply,
            install_year: asset.details.install_year,
            shared,
            new_structure: false,
        }
    }
}

/// The term a quote is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteTerms {
    /// Length of the concession in years, 1 to [`MAX_TERM_YEARS`].
    pub term_years: u32,
    /// First day of year 1 (`YYYY-MM-DD`); its year is the reference for
    /// the structural survey's age test.
    #[serde(with = "iso_date")]
    pub start: Date,
    /// When given, the quote carries the net present value of the rent at
    /// this rate (a fraction, 0 to 1).
    #[serde(
        default,
        with = "rate::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount_rate: Option<Decimal>,
}

impl QuoteTerms {
    /// Checks the term length and discount rate, naming the field.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if !(1..=MAX_TERM_YEARS).contains(&self.term_years) {
            return Err(InvalidField::new(
                "term_years",
                format!("must be between 1 and {MAX_TERM_YEARS}"),
            ));
        }
        if let Some(rate) = self.discount_rate {
            check_fraction("discount_rate", rate, "a yearly rate as a fraction")?;
        }
        Ok(())
    }
}

/// A priced offer for one authority's sites under one schedule version.
///
/// Serialises to the `POST /v1/quotes` shape: money as two-decimal strings,
/// dates as `YYYY-MM-DD`; `discount_rate` and `npv` only when a discount rate
/// was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Code of the authority whose schedule priced the sites.
    pub authority: String,
    /// The schedule's currency.
    pub currency: String,
    /// The schedule version used; quoting again against it gives the same
    /// numbers.
    pub schedule_version: i64,
    /// That version's `effective_from`.
    #[serde(with = "iso_date")]
    pub schedule_effective_from: Date,
    /// First day of year 1.
    #[serde(with = "iso_date")]
    pub start: Date,
    /// Length of the term in years.
    pub term_years: u32,
    /// The application fee, then each site's lines in the order given.
    pub lines: Vec<QuoteLine>,
    /// Rent and subsidy for each year of the term, year 1 first.
    pub years: Vec<QuoteYear>,
    /// The one-off application fee.
    #[serde(with = "money")]
    pub application_fee: Decimal,
    /// Everything paid once: application fee, surveys, new-pole fees.
    #[serde(with = "money")]
    pub one_off_total: Decimal,
    /// All annual payments over the term (the sum of `years[].rent`).
    #[serde(with = "money")]
    pub rent_total: Decimal,
    /// `one_off_total + rent_total`.
    #[serde(with = "money")]
    pub term_total: Decimal,
    /// The part of `rent_total` paid into the subsidy fund (the sum of
    /// `years[].subsidy`).
    #[serde(with = "money")]
    pub subsidy_total: Decimal,
    /// The discount rate asked for, if any.
    #[serde(
        default,
        with = "rate::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount_rate: Option<Decimal>,
    /// Net present value of the rent at `discount_rate`, each year's rent paid
    /// on the first day of that year; rounded to the penny.
    #[serde(
        default,
        with = "money::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub npv: Option<Decimal>,
}

/// One line of a quote. Annual lines show year-1 amounts; `type` names the
/// line on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuoteLine {
    /// One-off: `base` plus `per_additional_site` for each of
    /// `additional_sites`.
    ApplicationFee {
        /// Sites counted (new structures paying `new_pole_fee` are not).
        sites: u32,
        /// Sites covered by `base`.
        sites_included: u32,
        /// The base fee.
        #[serde(with = "money")]
        base: Decimal,
        /// Sites beyond `sites_included`.
        additional_sites: u32,
        /// Fee per additional site.
        #[serde(with = "money")]
        per_additional_site: Decimal,
        /// The fee: 0 when no site is counted.
        #[serde(with = "money")]
        amount: Decimal,
    },
    /// Annual: the rent for the site's kind times its zone multiplier.
    Rent {
        /// The asset priced.
        asset_id: String,
        /// Its kind.
        kind: AssetKind,
        /// Its fee zone, if any (even when the schedule has no multiplier
        /// for it).
        zone: Option<String>,
        /// The multiplier applied: 1 when the zone has none.
        #[serde(with = "rate")]
        multiplier: Decimal,
        /// `annual_rent[kind]`.
        #[serde(with = "money")]
        base: Decimal,
        /// `base × multiplier`, rounded half-up to the penny.
        #[serde(with = "money")]
        amount: Decimal,
    },
    /// Annual: the power charge for the site's supply (only when not zero).
    Power {
        /// The asset priced.
        asset_id: String,
        /// Its power supply.
        power_supply: PowerSupply,
        /// `power_annual[power_supply]`.
        #[serde(with = "money")]
        amount: Decimal,
    },
    /// Annual: the schedule's service charge (only when set and not zero).
    ServiceCharge {
        /// The asset priced.
        asset_id: String,
        /// `service_charge_annual`.
        #[serde(with = "money")]
        amount: Decimal,
    },
    /// Annual: the shared-site discount, as a negative amount (only for
    /// shared sites, when not zero); never more than the site's other annual
    /// lines.
    Discount {
        /// The asset priced.
        asset_id: String,
        /// Minus the discount applied.
        #[serde(with = "money")]
        amount: Decimal,
    },
    /// One-off: the structural survey of an old structure.
    StructuralSurvey {
        /// The asset priced.
        asset_id: String,
        /// Its installation year.
        install_year: i32,
        /// `structural_survey.fee`.
        #[serde(with = "money")]
        amount: Decimal,
    },
    /// One-off: the fee for a new structure (when the schedule sets one).
    NewPole {
        /// The asset priced.
        asset_id: String,
        /// `new_pole_fee`.
        #[serde(with = "money")]
        amount: Decimal,
    },
}

impl QuoteLine {
    /// The line's amount (year-1 amount for annual lines).
    pub fn amount(&self) -> Decimal {
        match self {
            QuoteLine::ApplicationFee { amount, .. }
            | QuoteLine::Rent { amount, .. }
            | QuoteLine::Power { amount, .. }
            | QuoteLine::ServiceCharge { amount, .. }
            | QuoteLine::Discount { amount, .. }
            | QuoteLine::StructuralSurvey { amount, .. }
            | QuoteLine::NewPole { amount, .. } => *amount,
        }
    }

    /// The asset the line is for; `None` for the application fee.
    pub fn asset_id(&self) -> Option<&str> {
        match self {
            QuoteLine::ApplicationFee { .. } => None,
            QuoteLine::Rent { asset_id, .. }
            | QuoteLine::Power { asset_id, .. }
            | QuoteLine::ServiceCharge { asset_id, .. }
            | QuoteLine::Discount { asset_id, .. }
            | QuoteLine::StructuralSurvey { asset_id, .. }
            | QuoteLine::NewPole { asset_id, .. } => Some(asset_id),
        }
    }

    /// Whether the line recurs every year (indexed) rather than being paid
    /// once.
    pub fn is_annual(&self) -> bool {
        matches!(
            self,
            QuoteLine::Rent { .. }
                | QuoteLine::Power { .. }
                | QuoteLine::ServiceCharge { .. }
                | QuoteLine::Discount { .. }
        )
    }
}

/// One row of a quote's year-by-year table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteYear {
    /// Year of the term, from 1.
    pub year: u32,
    /// All sites' annual payments that year.
    #[serde(with = "money")]
    pub rent: Decimal,
    /// The part of `rent` paid into the subsidy fund.
    #[serde(with = "money")]
    pub subsidy: Decimal,
}

/// Rounds half-up (away from zero) to the penny.
pub(super) fn penny(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A site's annual lines and their total (its year-1 annual charge).
fn annual_lines(schedule: &FeeSchedule, site: &QuoteSite) -> (Vec<QuoteLine>, Decimal) {
    let base = schedule
        .annual_rent
        .get(site.kind.as_str())
        .copied()
        .unwrap_or_default();
    let multiplier = site
        .fee_zone
        .as_deref()
        .and_then(|zone| schedule.zone_multipliers.get(zone))
        .copied()
        .unwrap_or(Decimal::ONE);
    let rent = penny(base * multiplier);
    let mut lines = vec![QuoteLine::Rent {
        asset_id: site.asset_id.clone(),
        kind: site.kind,
        zone: site.fee_zone.clone(),
        multiplier,
        base,
        amount: rent,
    }];
    let mut total = rent;

    let power = schedule
        .power_annual
        .get(site.power_supply.as_str())
        .copied()
        .unwrap_or_default();
    if !power.is_zero() {
        lines.push(QuoteLine::Power {
            asset_id: site.asset_id.clone(),
            power_supply: site.power_supply,
            amount: power,
        });
        total += power;
    }

    let service = schedule.service_charge_annual.unwrap_or_default();
    if !service.is_zero() {
        lines.push(QuoteLine::ServiceCharge {
            asset_id: site.asset_id.clone(),
            amount: service,
        });
        total += service;
    }

    let discount = if site.shared {
        schedule.shared_site_discount.min(total)
    } else {
        Decimal::ZERO
    };
    if !discount.is_zero() {
        lines.push(QuoteLine::Discount {
            asset_id: site.asset_id.clone(),
            amount: -discount,
        });
        total -= discount;
    }
    (lines, total)
}

/// A site's one-off lines other than the application fee, and their total.
fn one_off_lines(
    schedule: &FeeSchedule,
    site: &QuoteSite,
    start_year: i32,
) -> (Vec<QuoteLine>, Decimal) {
    let mut lines = Vec::new();
    let mut total = Decimal::ZERO;
    if let (Some(survey), Some(installed)) = (&schedule.structural_survey, site.install_year)
        && i64::from(start_year) - i64::from(installed) > i64::from(survey.if_older_than_years)
    {
        lines.push(QuoteLine::StructuralSurvey {
            asset_id: site.asset_id.clone(),
            install_year: installed,
            amount: survey.fee,
        });
        total += survey.fee;
    }
    if let (true, Some(fee)) = (site.new_structure, schedule.new_pole_fee) {
        lines.push(QuoteLine::NewPole {
            asset_id: site.asset_id.clone(),
            amount: fee,
        });
        total += fee;
    }
    (lines, total)
}

/// A site's year-1 annual charge under `schedule`: rent × zone multiplier
/// (rounded to the penny) + power + service charge − shared-site discount,
/// never below zero.
///
/// This is what search results carry as `annual_fee`. It expects a schedule
/// that passed [`validate`]; a kind missing from `annual_rent` counts as 0.
pub fn annual_fee(schedule: &FeeSchedule, site: &QuoteSite) -> Decimal {
    annual_lines(schedule, site).1
}

fn too_large() -> InvalidField {
    InvalidField::new(
        "assets",
        "the quote's amounts are too large to compute exactly; quote fewer sites",
    )
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, InvalidField> {
    a.checked_add(b).ok_or_else(too_large)
}

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, InvalidField> {
    a.checked_mul(b).ok_or_else(too_large)
}

/// Prices `sites` (all of one authority) under one schedule version.
///
/// Checks the schedule ([`validate`]) and the terms ([`QuoteTerms::validate`])
/// first, and refuses an empty list of sites or one naming an asset twice
/// (field `assets`). The rules are in `docs/fees.md`; in short:
///
/// - application fee: `base` + `per_additional_site` × (counted sites −
///   `sites_included`, if positive), where new structures paying
///   `new_pole_fee` are not counted, and 0 when no site is counted;
/// - each site's year-1 annual charge is [`annual_fee`]; in year n it is
///   year 1 × (1 + `annual_indexation`)^(n−1), rounded half-up to the penny;
/// - each site's subsidy in year n is its year-n charge × `subsidy_share`,
///   rounded half-up to the penny;
/// - every total is a sum of rounded amounts;
/// - the NPV (when `terms.discount_rate` is set) is Σ rent(n) / (1 + rate)^(n−1),
///   rounded half-up to the penny once, at the end.
pub fn quote(
    authority: &str,
    schedule: &FeeSchedule,
    schedule_version: i64,
    sites: &[QuoteSite],
    terms: &QuoteTerms,
) -> Result<Quote, InvalidField> {
    validate(schedule)?;
    terms.validate()?;
    if sites.is_empty() {
        return Err(InvalidField::new("assets", "name at least one asset"));
    }
    let mut seen = BTreeSet::new();
    for site in sites {
        if !seen.insert(site.asset_id.as_str()) {
            return Err(InvalidField::new(
                "assets",
                format!("asset {:?} is named more than once", site.asset_id),
            ));
        }
    }

    // The application fee.
    let app = &schedule.application_fee;
    let counted = sites
        .iter()
        .filter(|s| !(s.new_structure && schedule.new_pole_fee.is_some()))
        .count();
    let counted = u32::try_from(counted).map_err(|_| too_large())?;
    let additional_sites = counted.saturating_sub(app.sites_included);
    let application_fee = if counted == 0 {
        Decimal::ZERO
    } else {
        add(
            app.base,
            mul(app.per_additional_site, Decimal::from(additional_sites))?,
        )?
    };
    let mut lines = vec![QuoteLine::ApplicationFee {
        sites: counted,
        sites_included: app.sites_included,
        base: app.base,
        additional_sites,
        per_additional_site: app.per_additional_site,
        amount: application_fee,
    }];

    // Each site's lines, its year-1 annual charge and its one-off fees.
    let start_year = terms.start.year();
    let mut one_off_total = application_fee;
    let mut year_one = Vec::with_capacity(sites.len());
    for site in sites {
        let (annual, charge) = annual_lines(schedule, site);
        let (once, fees) = one_off_lines(schedule, site, start_year);
        lines.extend(annual);
        lines.extend(once);
        year_one.push(charge);
        one_off_total = add(one_off_total, fees)?;
    }

    // The year table: per-site, per-year amounts rounded, then summed.
    let growth = Decimal::ONE + schedule.annual_indexation;
    let mut factor = Decimal::ONE;
    let mut years = Vec::with_capacity(terms.term_years as usize);
    let (mut rent_total, mut subsidy_total) = (Decimal::ZERO, Decimal::ZERO);
    for year in 1..=terms.term_years {
        if year > 1 {
            factor = mul(factor, growth)?;
        }
        let (mut rent, mut subsidy) = (Decimal::ZERO, Decimal::ZERO);
        for &charge in &year_one {
            let amount = penny(mul(charge, factor)?);
            rent = add(rent, amount)?;
            subsidy = add(subsidy, penny(mul(amount, schedule.subsidy_share)?))?;
        }
        rent_total = add(rent_total, rent)?;
        subsidy_total = add(subsidy_total, subsidy)?;
        years.push(QuoteYear {
            year,
            rent,
            subsidy,
        });
    }

    let npv = match terms.discount_rate {
        None => None,
        Some(rate) => {
            let step = Decimal::ONE + rate;
            let mut discount = Decimal::ONE;
            let mut value = Decimal::ZERO;
            for row in &years {
                if row.year > 1 {
                    discount = mul(discount, step)?;
                }
                value = add(value, row.rent.checked_div(discount).ok_or_else(too_large)?)?;
            }
            Some(penny(value))
        }
    };

    Ok(Quote {
        authority: authority.to_string(),
        currency: schedule.currency.clone(),
        schedule_version,
        schedule_effective_from: schedule.effective_from,
        start: terms.start,
        term_years: terms.term_years,
        lines,
        years,
        application_fee,
        one_off_total,
        rent_total,
        term_total: add(one_off_total, rent_total)?,
        subsidy_total,
        discount_rate: terms.discount_rate,
        npv,
    })
}
