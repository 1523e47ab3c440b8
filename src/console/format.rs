//! How the console writes money, dates and times for people: the council's
//! locale (en-GB: `£1,234.56`, `30 Nov 2026`). Pure functions, table-tested.

use rust_decimal::Decimal;
use time::Date;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `1234.5` in `GBP` → `£1,234.50`; currencies without a symbol here keep
/// their code after the amount (`1,234.50 CHF`).
pub fn money(amount: Decimal, currency: &str) -> String {
    let rounded = amount.round_dp(2);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = format!("{:.2}", rounded.abs());
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let grouped = group_thousands(whole);
    let sign = if negative { "-" } else { "" };
    match currency {
        "GBP" => format!("{sign}£{grouped}.{cents}"),
        "EUR" => format!("{sign}€{grouped}.{cents}"),
        "USD" => format!("{sign}${grouped}.{cents}"),
        other => format!("{sign}{grouped}.{cents} {other}"),
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `30 Nov 2026`.
pub fn date(d: Date) -> String {
    format!(
        "{} {} {}",
        d.day(),
        MONTHS[usize::from(u8::from(d.month())) - 1],
        d.year()
    )
}

/// An RFC 3339 timestamp as stored → `30 Nov 2026, 09:14 UTC` (kept as given
/// when it does not parse).
pub fn timestamp(s: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(s, &Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!("{}, {:02}:{:02} UTC", date(t.date()), t.hour(), t.minute())
        }
        Err(_) => s.to_string(),
    }
}

/// Metres with up to one decimal: `8 m`, `10.5 m`.
pub fn metres(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{} m", v.round())
    } else {
        format!("{v:.1} m")
    }
}

/// A snake_case name for people: `under_review` → `Under review`.
pub fn words(s: &str) -> String {
    // Initialisms stay in capitals.
    let spaced = s.replace('_', " ").replace("cctv", "CCTV");
    let mut c = spaced.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use time::macros::date;

    #[test]
    fn money_is_grouped_and_has_two_places() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(money(d("0"), "GBP"), "£0.00");
        assert_eq!(money(d("999.5"), "GBP"), "£999.50");
        assert_eq!(money(d("1234.56"), "GBP"), "£1,234.56");
        assert_eq!(money(d("1234567.891"), "EUR"), "€1,234,567.89");
        assert_eq!(money(d("-270"), "USD"), "-$270.00");
        assert_eq!(money(d("100000"), "CHF"), "100,000.00 CHF");
    }

    #[test]
    fn dates_and_times_read_as_in_the_uk() {
        assert_eq!(date(date!(2026 - 11 - 30)), "30 Nov 2026");
        assert_eq!(date(date!(2027 - 01 - 01)), "1 Jan 2027");
        assert_eq!(
            timestamp("2026-11-30T09:14:05.123Z"),
            "30 Nov 2026, 09:14 UTC"
        );
        assert_eq!(
            timestamp("2026-11-30T10:14:05+01:00"),
            "30 Nov 2026, 09:14 UTC"
        );
        assert_eq!(timestamp("yesterday"), "yesterday");
    }

    #[test]
    fn words_and_metres() {
        assert_eq!(words("under_review"), "Under review");
        assert_eq!(words("approved"), "Approved");
        assert_eq!(words("cctv_column"), "CCTV column");
        assert_eq!(metres(8.0), "8 m");
        assert_eq!(metres(10.45), "10.4 m");
    }
}
