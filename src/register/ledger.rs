//! The ledger and the subsidy fund through the register, and each council's
//! application periods.
//!
//! Charges are read from the database (`store::charges`) and reported by
//! the pure rules of `domain::ledger`. One report is in one currency: a
//! council that changed currency between schedule versions names the one
//! it wants.

use std::collections::BTreeSet;

use time::{Date, Month};

use super::Register;
use super::applications::{ApplicationError, ApplicationResult};
use crate::domain::application::ApplicationSettings;
use crate::domain::asset::InvalidField;
use crate::domain::ledger::{Charge, Ledger, SubsidySummary, ledger, subsidy_summary};
use crate::store::StoreResult;

/// Years a ledger may be asked for.
pub const LEDGER_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

impl Register {
    /// A council's application periods.
    pub async fn application_settings(&self, authority: &str) -> StoreResult<ApplicationSettings> {
        self.store.application_settings(authority).await
    }

    /// Sets a council's periods: decision periods for applications
    /// submitted from now on, install-by periods for approvals from now on.
    pub async fn set_application_settings(
        &self,
        authority: &str,
        settings: &ApplicationSettings,
    ) -> ApplicationResult<()> {
        settings.validate()?;
        Ok(self
            .store
            .set_application_settings(authority, settings)
            .await?)
    }

    /// The charges falling due to `authority` in calendar `year`, in one
    /// currency, and their ledger.
    pub async fn ledger(
        &self,
        authority: &str,
        year: i32,
        currency: Option<&str>,
    ) -> ApplicationResult<(Ledger, Vec<Charge>)> {
        if !LEDGER_YEARS.contains(&year) {
            return Err(InvalidField::new(
                "year",
                format!(
                    "must be between {} and {}",
                    LEDGER_YEARS.start(),
                    LEDGER_YEARS.end()
                ),
            )
            .into());
        }
        let (first, last) = match (
            Date::from_calendar_date(year, Month::January, 1),
            Date::from_calendar_date(year, Month::December, 31),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return Err(InvalidField::new("year", "is not a calendar year").into()),
        };
        let charges = self
            .store
            .charges(authority, Some(first), Some(last))
            .await?;
        let currency = self.choose_currency(authority, &charges, currency, last)?;
        let charges: Vec<Charge> = charges
            .into_iter()
            .filter(|c| Some(&c.currency) == currency.as_ref())
            .collect();
        Ok((
            ledger(authority, year, currency.as_deref(), &charges),
            charges,
        ))
    }

    /// The public summary of the subsidy fund up to `today`.
    pub async fn subsidy_summary(
        &self,
        authority: &str,
        currency: Option<&str>,
        today: Date,
    ) -> ApplicationResult<SubsidySummary> {
        let charges = self.store.charges(authority, None, Some(today)).await?;
        let currency = self.choose_currency(authority, &charges, currency, today)?;
        let charges: Vec<Charge> = charges
            .into_iter()
            .filter(|c| Some(&c.currency) == currency.as_ref())
            .collect();
        Ok(subsidy_summary(
            authority,
            currency.as_deref(),
            &charges,
            today,
        ))
    }

    /// The currency a report is in: the one asked for; else the only one
    /// the charges are in; else (no charges) the schedule's in effect on
    /// `on`, or none.
    fn choose_currency(
        &self,
        authority: &str,
        charges: &[Charge],
        asked: Option<&str>,
        on: Date,
    ) -> ApplicationResult<Option<String>> {
        if let Some(c) = asked {
            return Ok(Some(c.to_string()));
        }
        let found: BTreeSet<&str> = charges.iter().map(|c| c.currency.as_str()).collect();
        match found.len() {
            0 => Ok(self
                .schedule_in_effect(authority, on)
                .map(|p| p.schedule.currency)),
            1 => Ok(found.into_iter().next().map(str::to_string)),
            _ => Err(ApplicationError::Invalid(vec![InvalidField::new(
                "currency",
                format!(
                    "the charges are in {}; choose one",
                    found.into_iter().collect::<Vec<_>>().join(", ")
                ),
            )])),
        }
    }
}
