//! The wire format of fee documents: decimals only as strings, money with two
//! places, ISO 8601 dates.

use super::pricing::penny;
use super::*;

/// Parses a decimal written as plain digits: an optional `-`, digits, and at
/// most one `.` between digits. No exponent, no spaces, no `+`.
pub(super) fn parse_decimal(s: &str) -> Option<Decimal> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let mut parts = body.split('.');
    let whole = parts.next()?;
    let frac = parts.next();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(whole) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    Decimal::from_str_exact(s).ok()
}

/// A decimal that deserialises only from a JSON string.
pub(super) struct StrictDecimal(pub(super) Decimal);

impl<'de> Deserialize<'de> for StrictDecimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number written as a string, such as \"270.00\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
                parse_decimal(v)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(Visitor).map(StrictDecimal)
    }
}

/// Serde helpers for money: read from decimal strings (`"270"`, `"270.5"`,
/// `"270.00"`; JSON numbers are refused), written as strings with exactly two
/// decimals (`"270.00"`), rounded half-up if they had more.
pub mod money {
    use super::*;

    /// Formats an amount with exactly two decimals (`270` → `"270.00"`).
    pub fn to_string(amount: Decimal) -> String {
        let mut rounded = super::penny(amount);
        if rounded.is_zero() {
            rounded = Decimal::ZERO;
        }
        rounded.rescale(2);
        rounded.to_string()
    }

    /// Writes an amount as a two-decimal string.
    pub fn serialize<S: serde::Serializer>(amount: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_string(*amount))
    }

    /// Reads an amount from a decimal string.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        StrictDecimal::deserialize(d).map(|v| v.0)
    }

    /// The same, for an optional amount (`null` or absent is `None`).
    pub mod option {
        use super::*;

        /// Writes `Some` as a two-decimal string and `None` as `null`.
        pub fn serialize<S: serde::Serializer>(
            amount: &Option<Decimal>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match amount {
                Some(a) => s.serialize_some(&to_string(*a)),
                None => s.serialize_none(),
            }
        }

        /// Reads `null` as `None` and a decimal string as `Some`.
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Decimal>, D::Error> {
            Ok(Option::<StrictDecimal>::deserialize(d)?.map(|v| v.0))
        }
    }

    /// The same, for a map of names to amounts.
    pub mod map {
        use super::*;

        /// Writes every amount as a two-decimal string.
        pub fn serialize<S: serde::Serializer>(
            map: &BTreeMap<String, Decimal>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_map(map.iter().map(|(k, v)| (k, to_string(*v))))
        }

        /// Reads an object whose values are decimal strings.
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<BTreeMap<String, Decimal>, D::Error> {
            let raw = BTreeMap::<String, StrictDecimal>::deserialize(d)?;
            Ok(raw.into_iter().map(|(k, v)| (k, v.0)).collect())
        }
    }
}

/// Serde helpers for rates and multipliers: read from decimal strings (JSON
/// numbers are refused), written back with the scale they were given
/// (`"1.50"` stays `"1.50"`).
pub mod rate {
    use super::*;

    /// Writes a rate as a string, keeping its scale.
    pub fn serialize<S: serde::Serializer>(rate: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rate.to_string())
    }

    /// Reads a rate from a decimal string.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        StrictDecimal::deserialize(d).map(|v| v.0)
    }

    /// The same, for an optional rate (`null` or absent is `None`).
    pub mod option {
        use super::*;

        /// Writes `Some` as a string and `None` as `null`.
        pub fn serialize<S: serde::Serializer>(
            rate: &Option<Decimal>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match rate {
                Some(r) => s.serialize_some(&r.to_string()),
                None => s.serialize_none(),
            }
        }

        /// Reads `null` as `None` and a decimal string as `Some`.
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Decimal>, D::Error> {
            Ok(Option::<StrictDecimal>::deserialize(d)?.map(|v| v.0))
        }
    }

    /// The same, for a map of names to rates.
    pub mod map {
        use super::*;

        /// Writes every rate as a string, keeping its scale.
        pub fn serialize<S: serde::Serializer>(
            map: &BTreeMap<String, Decimal>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_map(map.iter().map(|(k, v)| (k, v.to_string())))
        }

        /// Reads an object whose values are decimal strings.
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<BTreeMap<String, Decimal>, D::Error> {
            let raw = BTreeMap::<String, StrictDecimal>::deserialize(d)?;
            Ok(raw.into_iter().map(|(k, v)| (k, v.0)).collect())
        }
    }
}

/// Serde helper for ISO 8601 calendar dates (`YYYY-MM-DD`).
pub(super) mod iso_date {
    use time::Date;

    pub fn serialize<S: serde::Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::domain::asset::format_date(*date))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        Date::parse(
            &text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a YYYY-MM-DD date")))
    }
}
