//! Fee schedules and quotes: what a council charges an operator for small-cell
//! sites on its street assets.
//!
//! Pure: no HTTP, no SQL, no clock. A [`FeeSchedule`] is the published
//! document (one current version per authority, plus its history, kept by the
//! store); [`validate`] says whether it can be applied; [`quote`] prices a set
//! of sites under one schedule version for a term of years. The same inputs
//! always give the same [`Quote`], to the penny.
//!
//! Money is [`Decimal`], never floating point. On the wire every decimal is a
//! JSON string: money is written with exactly two decimals (see [`money`]),
//! rates and multipliers keep the scale they were given (see [`rate`]).
//!
//! Layout: `schedule.rs` (the document and its validation), `pricing.rs`
//! (quotes: pricing sites over a term), `wire.rs` (decimal strings and ISO
//! dates).
//!
//! The rules, field by field, and worked examples checked by the tests below,
//! are in `docs/fees.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use time::Date;

use super::asset::{Asset, AssetKind, InvalidField, PowerSupply};

/// ISO 4217 codes a schedule may be written in.
///
/// A deliberately small allow-list of real codes, all of which have two minor
/// units (pence, cents...), because every amount here is rounded to two
/// decimals. Currencies without two minor units (JPY, KRW, ISK...) are left
/// out on purpose; add a code here when an authority needs it.
pub const CURRENCIES: [&str; 20] = [
    "AUD", "BGN", "BRL", "CAD", "CHF", "CZK", "DKK", "EUR", "GBP", "HKD", "INR", "MXN", "NOK",
    "NZD", "PLN", "RON", "SEK", "SGD", "USD", "ZAR",
];

/// Longest term a quote may run for, in years.
pub const MAX_TERM_YEARS: u32 = 50;

/// Largest amount of money any one schedule field may hold (1,000,000,000.00).
///
/// A guard against typing errors and arithmetic overflow, not a policy.
pub const MAX_MONEY: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Largest zone multiplier a schedule may hold.
pub const MAX_MULTIPLIER: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

mod pricing;
mod schedule;
mod wire;

pub use pricing::*;
pub use schedule::*;
pub use wire::{money, rate};

#[cfg(test)]
mod tests;
