//! The compiled filter: a typed predicate over a collection's records, evaluated with CQL2's three-valued logic.

use super::*;

/// A compiled filter over features of type `T`.
#[derive(Debug)]
pub struct Filter<T: 'static> {
    pub(super) pred: Pred<T>,
    pub(super) rects: Option<Vec<Rect<f64>>>,
}

impl<T> Filter<T> {
    /// Whether the filter is *true* for `feature` (false and unknown both
    /// exclude it).
    pub fn matches(&self, feature: &T) -> bool {
        self.pred.eval(feature) == Some(true)
    }

    /// Lon/lat rectangles every matching feature touches, when the filter
    /// implies one (a conjunction with an `S_INTERSECTS`, or a disjunction
    /// of such): candidates for the spatial index.
    pub fn rects(&self) -> Option<&[Rect<f64>]> {
        self.rects.as_deref()
    }
}

/// The predicate tree. Operands hold getters, not property names, so
/// evaluation does no look-ups.
#[derive(Debug)]
pub(super) enum Pred<T: 'static> {
    Const(Option<bool>),
    And(Vec<Pred<T>>),
    Or(Vec<Pred<T>>),
    Not(Box<Pred<T>>),
    Compare {
        left: Operand<T>,
        op: CmpOp,
        right: Operand<T>,
    },
    Like {
        value: Operand<T>,
        pattern: Vec<LikeToken>,
    },
    In {
        value: Operand<T>,
        list: Vec<Lit>,
    },
    IsNull(Operand<T>),
    Between {
        value: Operand<T>,
        low: Operand<T>,
        high: Operand<T>,
    },
    /// A boolean property used as a predicate on its own.
    Truthy(Operand<T>),
    Intersects {
        geometry: fn(&T) -> Geom<'_>,
        target: Spatial,
    },
}

#[derive(Debug)]
pub(super) enum Operand<T> {
    Prop {
        name: &'static str,
        get: fn(&T) -> Val<'_>,
    },
    Lit(Lit),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Date(time::Date),
}

impl Lit {
    pub(super) fn val(&self) -> Val<'_> {
        match self {
            Lit::Str(s) => Val::Str(s),
            Lit::Num(n) => Val::Num(*n),
            Lit::Bool(b) => Val::Bool(*b),
            Lit::Date(d) => Val::Date(*d),
        }
    }
}

impl<T> Operand<T> {
    pub(super) fn value<'a>(&'a self, t: &'a T) -> Val<'a> {
        match self {
            Operand::Prop { get, .. } => get(t),
            Operand::Lit(l) => l.val(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(super) fn parse(op: &str) -> Option<CmpOp> {
        Some(match op {
            "=" => CmpOp::Eq,
            "<>" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            _ => return None,
        })
    }

    pub(super) fn holds(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }
}

/// Orders two values of one type; `None` when either is null (unknown).
pub(super) fn order(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(&y),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(&y)),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

impl<T> Pred<T> {
    /// Kleene three-valued evaluation: `None` is *unknown*.
    pub(super) fn eval(&self, t: &T) -> Option<bool> {
        match self {
            Pred::Const(v) => *v,
            Pred::And(ps) => {
                let mut out = Some(true);
                for p in ps {
                    match p.eval(t) {
                        Some(false) => return Some(false),
                        None => out = None,
                        Some(true) => {}
                    }
                }
                out
            }
            Pred::Or(ps) => {
                let mut out = Some(false);
                for p in ps {
                    match p.eval(t) {
                        Some(true) => return Some(true),
                        None => out = None,
                        Some(false) => {}
                    }
                }
                out
            }
            Pred::Not(p) => p.eval(t).map(|v| !v),
            Pred::Compare { left, op, right } => {
                order(left.value(t), right.value(t)).map(|o| op.holds(o))
            }
            Pred::Like { value, pattern } => match value.value(t) {
                Val::Str(s) => Some(like(pattern, s)),
                _ => None,
            },
            Pred::In { value, list } => {
                let v = value.value(t);
                if v == Val::Null {
                    return None;
                }
                Some(
                    list.iter()
                        .any(|l| order(v, l.val()) == Some(Ordering::Equal)),
                )
            }
            Pred::IsNull(v) => Some(v.value(t) == Val::Null),
            Pred::Between { value, low, high } => {
                let v = value.value(t);
                let lo = order(low.value(t), v)?;
                let hi = order(v, high.value(t))?;
                Some(lo != Ordering::Greater && hi != Ordering::Greater)
            }
            Pred::Truthy(v) => match v.value(t) {
                Val::Bool(b) => Some(b),
                _ => None,
            },
            Pred::Intersects { geometry, target } => Some(target.test(geometry(t))),
        }
    }

    /// Rectangles that every feature satisfying this predicate touches.
    pub(super) fn bound(&self) -> Option<Vec<Rect<f64>>> {
        match self {
            Pred::Intersects { target, .. } => Some(target.rects.clone()),
            Pred::Const(Some(false)) => Some(Vec::new()),
            // Any one conjunct's bound holds; the tightest narrows most.
            Pred::And(ps) => ps
                .iter()
                .filter_map(Pred::bound)
                .min_by(|a, b| area(a).total_cmp(&area(b))),
            // A disjunction is bounded only if every branch is.
            Pred::Or(ps) => ps
                .iter()
                .map(Pred::bound)
                .collect::<Option<Vec<_>>>()
                .map(|all| all.concat()),
            _ => None,
        }
    }
}

/// Summed area of lon/lat rectangles in square degrees: only for choosing
/// the smaller of two candidate sets.
pub fn area(rects: &[Rect<f64>]) -> f64 {
    rects.iter().map(|r| r.width() * r.height()).sum()
}

/// A piece of a `LIKE` pattern.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum LikeToken {
    Char(char),
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters.
    Any,
}

/// Reads a CQL2 `LIKE` pattern: `%` any run, `_` one character, `\` makes
/// the next character literal.
pub(super) fn like_pattern(p: &str) -> Vec<LikeToken> {
    let mut out = Vec::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '%' => LikeToken::Any,
            '_' => LikeToken::One,
            '\\' => LikeToken::Char(chars.next().unwrap_or('\\')),
            c => LikeToken::Char(c),
        });
    }
    out
}

/// Wildcard match in linear space: on a mismatch, back up to the last `%`
/// and let it swallow one more character.
pub(super) fn like(pattern: &[LikeToken], s: &str) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut retry: Option<(usize, usize)> = None;
    while si < s.len() {
        let c = s[si..].chars().next().expect("si is on a char boundary");
        match pattern.get(pi) {
            Some(LikeToken::Any) => {
                retry = Some((pi + 1, si));
                pi += 1;
                continue;
            }
            Some(LikeToken::One) => {
                pi += 1;
                si += c.len_utf8();
                continue;
            }
            Some(LikeToken::Char(x)) if *x == c => {
                pi += 1;
                si += c.len_utf8();
                continue;
            }
            _ => {}
        }
        let Some((after_star, from)) = retry else {
            return false;
        };
        let skipped = s[from..].chars().next().expect("from < len").len_utf8();
        retry = Some((after_star, from + skipped));
        pi = after_star;
        si = from + skipped;
    }
    pattern[pi..].iter().all(|t| *t == LikeToken::Any)
}
