//! Published versions of a fee schedule, and which one is in effect on a
//! date. Every version is kept, so a quote or agreement can always name
//! (and reproduce from) the version it used.

use super::fees::FeeSchedule;

/// One published version of an authority's fee schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedSchedule {
    /// The authority's code.
    pub authority: String,
    /// 1 for the first version, then 2, 3...
    pub version: i64,
    /// When it was published (RFC 3339).
    pub published_at: String,
    /// The terms.
    pub schedule: FeeSchedule,
}

/// The version in effect on `date`: of those effective by then, the one
/// effective latest (and, for the same date, published last).
pub fn in_effect(history: &[PublishedSchedule], date: time::Date) -> Option<&PublishedSchedule> {
    history
        .iter()
        .filter(|p| p.schedule.effective_from <= date)
        .max_by_key(|p| (p.schedule.effective_from, p.version))
}

/// The version a reader sees as "current" on `date`: the one in effect, or,
/// before the first takes effect, the earliest-effective one published.
pub fn current(history: &[PublishedSchedule], date: time::Date) -> Option<&PublishedSchedule> {
    in_effect(history, date).or_else(|| history.iter().min_by_key(|p| p.schedule.effective_from))
}
