//! The published fee schedule document and the checks before it can be applied.

use super::wire::{iso_date, money, rate};
use super::*;

/// A published fee schedule: one version of one authority's charges.
///
/// Unknown top-level fields are ignored when a stored document is read, so
/// the document can grow optional parts without breaking older readers; a
/// document sent to be published is checked with [`unknown_members`] first,
/// so a misspelt field is refused rather than lost. Fields of the wrong type
/// are refused when deserialising. Decimals must be JSON strings (`"270.00"`), never
/// numbers. Call [`validate`] before applying a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeSchedule {
    /// ISO 4217 currency code, upper case; one of [`CURRENCIES`].
    pub currency: String,
    /// First day this version applies (`YYYY-MM-DD`).
    #[serde(with = "iso_date")]
    pub effective_from: Date,
    /// The one-off application fee.
    pub application_fee: ApplicationFee,
    /// Year-1 rent per site, keyed by asset kind name (`lamp_post`...); every
    /// kind of [`AssetKind::ALL`] must have an entry.
    #[serde(with = "money::map")]
    pub annual_rent: BTreeMap<String, Decimal>,
    /// Rent multiplier per fee zone name; a site in no zone, or in a zone not
    /// listed here, has multiplier 1. Defaults to empty.
    #[serde(default, with = "rate::map")]
    pub zone_multipliers: BTreeMap<String, Decimal>,
    /// Annual charge for power, keyed by power supply name (`continuous`,
    /// `part_night`, `none`); a supply not listed costs nothing. Defaults to
    /// empty.
    #[serde(default, with = "money::map")]
    pub power_annual: BTreeMap<String, Decimal>,
    /// One-off survey fee for old structures; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structural_survey: Option<StructuralSurvey>,
    /// Taken off a site's year-1 annual charge when another operator already
    /// holds an attachment on it. Defaults to 0.
    #[serde(default, with = "money")]
    pub shared_site_discount: Decimal,
    /// Yearly uplift as a fraction (`0.03` is 3 %), 0 to 1. Defaults to 0.
    #[serde(default, with = "rate")]
    pub annual_indexation: Decimal,
    /// Fraction of every rent payment paid into the connectivity subsidy
    /// fund, 0 to 1. Defaults to 0.
    #[serde(default, with = "rate")]
    pub subsidy_share: Decimal,
    /// Extension (FCC style): one-off fee for each site flagged as a new
    /// structure, paid instead of counting that site towards the application
    /// fee. Absent: new structures are priced like any other site.
    #[serde(
        default,
        with = "money::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub new_pole_fee: Option<Decimal>,
    /// Extension (Glasgow style): annual service charge per site, added to the
    /// site's annual charge and indexed with it. Absent: none.
    #[serde(
        default,
        with = "money::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub service_charge_annual: Option<Decimal>,
}

/// The one-off application fee: `base` covers up to `sites_included` sites,
/// and each further site costs `per_additional_site`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationFee {
    /// Fee for an application of up to `sites_included` sites.
    #[serde(with = "money")]
    pub base: Decimal,
    /// How many sites `base` covers.
    pub sites_included: u32,
    /// Fee for each site beyond `sites_included`.
    #[serde(with = "money")]
    pub per_additional_site: Decimal,
}

/// A one-off structural survey fee for each site installed more than
/// `if_older_than_years` years before the quote's start year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructuralSurvey {
    /// The fee per surveyed site.
    #[serde(with = "money")]
    pub fee: Decimal,
    /// Sites older than this many years are surveyed.
    pub if_older_than_years: u32,
}

/// Checks that a schedule can be applied, naming the first offending field
/// by its path in the document (`annual_rent.rooftop`, `subsidy_share`...).
///
/// Refused: a currency not in [`CURRENCIES`]; negative money, money with
/// fractions of a penny, or money above [`MAX_MONEY`]; an asset kind without
/// a rent, or a rent for a kind that does not exist; a power charge for a
/// supply that does not exist; an empty zone name or a multiplier outside
/// 0..=[`MAX_MULTIPLIER`]; indexation or subsidy share outside 0..=1.
pub fn validate(schedule: &FeeSchedule) -> Result<(), InvalidField> {
    if !CURRENCIES.contains(&schedule.currency.as_str()) {
        return Err(InvalidField::new(
            "currency",
            format!(
                "{:?} is not a supported ISO 4217 currency code; expected one of {}",
                schedule.currency,
                CURRENCIES.join(", ")
            ),
        ));
    }
    let app = &schedule.application_fee;
    check_money("application_fee.base", app.base)?;
    check_money(
        "application_fee.per_additional_site",
        app.per_additional_site,
    )?;

    for key in schedule.annual_rent.keys() {
        if !AssetKind::ALL.iter().any(|k| k.as_str() == key) {
            return Err(InvalidField::new(
                format!("annual_rent.{key}"),
                format!(
                    "is not an asset kind; expected {}",
                    AssetKind::ALL.map(|k| k.as_str()).join(", ")
                ),
            ));
        }
    }
    for kind in AssetKind::ALL {
        let field = format!("annual_rent.{}", kind.as_str());
        match schedule.annual_rent.get(kind.as_str()) {
            Some(&rent) => check_money(&field, rent)?,
            None => {
                return Err(InvalidField::new(
                    field,
                    "is missing: every asset kind needs an annual rent",
                ));
            }
        }
    }

    for (zone, &multiplier) in &schedule.zone_multipliers {
        if zone.trim().is_empty() {
            return Err(InvalidField::new(
                "zone_multipliers",
                "zone names must not be empty",
            ));
        }
        if multiplier < Decimal::ZERO || multiplier > MAX_MULTIPLIER {
            return Err(InvalidField::new(
                format!("zone_multipliers.{zone}"),
                format!("must be between 0 and {MAX_MULTIPLIER}"),
            ));
        }
    }

    for (supply, &charge) in &schedule.power_annual {
        let field = format!("power_annual.{supply}");
        if !PowerSupply::ALL.iter().any(|p| p.as_str() == supply) {
            return Err(InvalidField::new(
                field,
                format!(
                    "is not a power supply; expected {}",
                    PowerSupply::ALL.map(|p| p.as_str()).join(", ")
                ),
            ));
        }
        check_money(&field, charge)?;
    }

    if let Some(survey) = &schedule.structural_survey {
        check_money("structural_survey.fee", survey.fee)?;
    }
    check_money("shared_site_discount", schedule.shared_site_discount)?;
    check_fraction(
        "annual_indexation",
        schedule.annual_indexation,
        "a yearly uplift as a fraction (0.03 is 3 %)",
    )?;
    check_fraction(
        "subsidy_share",
        schedule.subsidy_share,
        "the share of rent paid to the subsidy fund",
    )?;
    if let Some(fee) = schedule.new_pole_fee {
        check_money("new_pole_fee", fee)?;
    }
    if let Some(charge) = schedule.service_charge_annual {
        check_money("service_charge_annual", charge)?;
    }
    Ok(())
}

pub(super) fn check_money(field: &str, amount: Decimal) -> Result<(), InvalidField> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(InvalidField::new(field, "must not be negative"));
    }
    if amount.normalize().scale() > 2 {
        return Err(InvalidField::new(
            field,
            "must be a whole number of pennies (at most two decimals)",
        ));
    }
    if amount > MAX_MONEY {
        return Err(InvalidField::new(
            field,
            format!("must be at most {}", money::to_string(MAX_MONEY)),
        ));
    }
    Ok(())
}

pub(super) fn check_fraction(field: &str, value: Decimal, what: &str) -> Result<(), InvalidField> {
    if value < Decimal::ZERO || value > Decimal::ONE {
        return Err(InvalidField::new(
            field,
            format!("must be between 0 and 1: {what}"),
        ));
    }
    Ok(())
}

/// The members of a fee schedule document, at the top level.
pub const SCHEDULE_MEMBERS: [&str; 12] = [
    "currency",
    "effective_from",
    "application_fee",
    "annual_rent",
    "zone_multipliers",
    "power_annual",
    "structural_survey",
    "shared_site_discount",
    "annual_indexation",
    "subsidy_share",
    "new_pole_fee",
    "service_charge_annual",
];
/// Members `GET` adds to a published version (`authority`, `version`,
/// `published_at`): accepted and ignored when publishing, so a client can
/// edit what it read and send it back.
pub const PUBLISHED_MEMBERS: [&str; 3] = ["authority", "version", "published_at"];
/// The members of `application_fee`.
pub const APPLICATION_FEE_MEMBERS: [&str; 3] = ["base", "sites_included", "per_additional_site"];
/// The members of `structural_survey`.
pub const STRUCTURAL_SURVEY_MEMBERS: [&str; 2] = ["fee", "if_older_than_years"];

/// Every member of a schedule document sent for publication that is not
/// part of the document, by its path (`application_fee.bse`, or
/// `annual_rent.lamppost` for a rent or power charge keyed by no asset kind
/// or power supply), in document order.
pub fn unknown_members(doc: &serde_json::Value) -> Vec<String> {
    let mut unknown = Vec::new();
    let Some(top) = doc.as_object() else {
        return unknown;
    };
    for (key, value) in top {
        if !SCHEDULE_MEMBERS.contains(&key.as_str()) && !PUBLISHED_MEMBERS.contains(&key.as_str()) {
            unknown.push(key.clone());
            continue;
        }
        let kinds = AssetKind::ALL.map(AssetKind::as_str);
        let supplies =
            crate::domain::asset::PowerSupply::ALL.map(crate::domain::asset::PowerSupply::as_str);
        let known: &[&str] = match key.as_str() {
            "application_fee" => &APPLICATION_FEE_MEMBERS,
            "structural_survey" => &STRUCTURAL_SURVEY_MEMBERS,
            "annual_rent" => &kinds,
            "power_annual" => &supplies,
            _ => continue,
        };
        for inner in value.as_object().into_iter().flat_map(|m| m.keys()) {
            if !known.contains(&inner.as_str()) {
                unknown.push(format!("{key}.{inner}"));
            }
        }
    }
    unknown
}
