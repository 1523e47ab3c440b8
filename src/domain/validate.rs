//! Validated identifiers, checked once at the edge.

use std::fmt;

/// A short lowercase identifier: an authority `code` or organisation `slug`.
///
/// Letters, digits and `-`, 2 to 64 characters, starting with a letter; these
/// appear in URLs and tokens' scopes, so they stay URL-safe and unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    /// Validates `s` as a slug.
    pub fn parse(s: &str) -> Result<Slug, String> {
        let ok_len = (2..=64).contains(&s.len());
        let ok_start = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok_len && ok_start && ok_chars {
            Ok(Slug(s.to_string()))
        } else {
            Err(format!(
                "{s:?} must be 2-64 characters of a-z, 0-9 and '-', starting with a letter"
            ))
        }
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name (of an authority, organisation or token): trimmed, 1 to
/// 200 characters.
pub fn display_name(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 200 {
        return Err("must be 1-200 characters".into());
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::Slug;

    #[test]
    fn slugs_are_url_safe() {
        assert!(Slug::parse("trafford").is_ok());
        assert!(Slug::parse("north-tyneside-2").is_ok());
        assert!(Slug::parse("Trafford").is_err());
        assert!(Slug::parse("t").is_err());
        assert!(Slug::parse("2trafford").is_err());
        assert!(Slug::parse("traf ford").is_err());
    }
}
