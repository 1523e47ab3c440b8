//! OGC API - Features Part 3 (Filtering) in CQL2 text.
//!
//! The `cql2` crate parses a `filter` into a [`cql2::Expr`] once per
//! request; [`compile`] turns that into a small typed predicate tree over
//! the collection's own records ([`Asset`] or [`Area`]), so each feature is
//! tested by reading its fields directly, with no JSON built per feature.
//! Types are checked while compiling (a number property compared with a
//! string is a 400, not an empty answer).
//!
//! The properties a filter may name are the collection's [`Schema`]: the
//! same table `/collections/{id}/queryables` publishes, so the two cannot
//! drift apart.
//!
//! Comparisons follow CQL2's three-valued logic: a comparison with a null
//! property is *unknown*, `NOT unknown` is unknown, and only features for
//! which the whole filter is *true* are returned (use `IS NULL` for nulls).

use std::cmp::Ordering;

use geo::{BoundingRect, Coord, CoordsIter, Geometry, Intersects, LinesIter, MapCoords, Rect};
use pest::error::{ErrorVariant, LineColLocation};
use serde_json::{Map, Value, json};

use super::crs::Crs;
use crate::crs::{bng_to_wgs84, wgs84_to_bng};
use crate::domain::area::Area;
use crate::domain::asset::{Asset, AssetKind, AssetStatus, PowerSupply, validate_coordinates};
use crate::http::ApiError;

/// The JSON Schema type of a queryable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Text.
    String,
    /// A decimal number.
    Number,
    /// A whole number (compared as a number).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A calendar date, `YYYY-MM-DD` or `DATE('YYYY-MM-DD')` in a filter.
    Date,
}

/// A property's value, read from a feature without copying.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    /// Absent.
    Null,
    /// Text.
    Str(&'a str),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// A date.
    Date(time::Date),
}

/// One property a filter may name, as the queryables publish it.
pub struct Queryable<T> {
    /// Name in filters and in the feature's `properties`.
    pub name: &'static str,
    /// Human title.
    pub title: &'static str,
    /// Its type.
    pub ty: Type,
    /// The closed list of values, when there is one.
    pub values: Option<fn() -> Vec<&'static str>>,
    /// Reads it from a feature.
    pub get: fn(&T) -> Val<'_>,
}

/// A feature's geometry as the spatial test sees it.
#[derive(Debug, Clone, Copy)]
pub enum Geom<'a> {
    /// Any geometry (assets).
    Any(&'a Geometry<f64>),
    /// A multipolygon (boundary areas).
    Multi(&'a geo::MultiPolygon<f64>),
}

/// What the filters of one collection may name: its queryables and the
/// geometry property (always `geometry`).
pub struct Schema<T: 'static> {
    /// The non-spatial queryables.
    pub properties: &'static [Queryable<T>],
    /// The JSON Schema `format` of its geometry.
    pub geometry_format: &'static str,
    /// Reads the geometry from a feature.
    pub geometry: fn(&T) -> Geom<'_>,
}

/// The name of every collection's geometry queryable.
pub const GEOMETRY: &str = "geometry";

impl<T> Schema<T> {
    /// The queryables as JSON Schema `properties` (geometry included).
    pub fn json_properties(&self) -> Value {
        let mut props = Map::new();
        for q in self.properties {
            let mut p = json!({"title": q.title});
            match q.ty {
                Type::String => p["type"] = json!("string"),
                Type::Number => p["type"] = json!("number"),
                Type::Integer => p["type"] = json!("integer"),
                Type::Boolean => p["type"] = json!("boolean"),
                Type::Date => {
                    p["type"] = json!("string");
                    p["format"] = json!("date");
                }
            }
            if let Some(values) = q.values {
                p["enum"] = json!(values());
            }
            props.insert(q.name.to_string(), p);
        }
        props.insert(
            GEOMETRY.to_string(),
            json!({"title": "Geometry", "format": self.geometry_format,
                   "x-ogc-role": "primary-geometry"}),
        );
        Value::Object(props)
    }

    fn find(&self, name: &str) -> Option<&'static Queryable<T>> {
        self.properties.iter().find(|q| q.name == name)
    }

    fn names(&self) -> String {
        let mut all: Vec<&str> = self.properties.iter().map(|q| q.name).collect();
        all.push(GEOMETRY);
        all.join(", ")
    }
}

fn opt_num(v: Option<f64>) -> Val<'static> {
    v.map_or(Val::Null, Val::Num)
}

fn opt_str(v: Option<&str>) -> Val<'_> {
    v.map_or(Val::Null, Val::Str)
}

/// The queryables of the `assets` collection.
pub static ASSETS: Schema<Asset> = Schema {
    properties: &[
        Queryable {
            name: "authority",
            title: "Owning authority's code",
            ty: Type::String,
            values: None,
            get: |a| Val::Str(&a.authority),
        },
        Queryable {
            name: "ref",
            title: "The council's asset number",
            ty: Type::String,
            values: None,
            get: |a| Val::Str(&a.details.asset_ref),
        },
        Queryable {
            name: "kind",
            title: "Kind of asset",
            ty: Type::String,
            values: Some(|| AssetKind::ALL.map(AssetKind::as_str).to_vec()),
            get: |a| Val::Str(a.details.kind.as_str()),
        },
        Queryable {
            name: "status",
            title: "Availability",
            ty: Type::String,
            values: Some(|| AssetStatus::ALL.map(AssetStatus::as_str).to_vec()),
            get: |a| Val::Str(a.details.status.as_str()),
        },
        Queryable {
            name: "height_m",
            title: "Height above ground (m)",
            ty: Type::Number,
            values: None,
            get: |a| opt_num(a.details.height_m),
        },
        Queryable {
            name: "power_supply",
            title: "Power available at the asset",
            ty: Type::String,
            values: Some(|| PowerSupply::ALL.map(PowerSupply::as_str).to_vec()),
            get: |a| Val::Str(a.details.power_supply.as_str()),
        },
        Queryable {
            name: "capacity",
            title: "Attachments it can take",
            ty: Type::Integer,
            values: None,
            get: |a| Val::Num(f64::from(a.details.capacity)),
        },
        Queryable {
            name: "load_rating_kg",
            title: "Structural load rating for attachments (kg)",
            ty: Type::Number,
            values: None,
            get: |a| opt_num(a.details.load_rating_kg),
        },
        Queryable {
            name: "last_inspected",
            title: "Date of the last structural inspection",
            ty: Type::Date,
            values: None,
            get: |a| a.details.last_inspected.map_or(Val::Null, Val::Date),
        },
        Queryable {
            name: "install_year",
            title: "Year of installation",
            ty: Type::Integer,
            values: None,
            get: |a| opt_num(a.details.install_year.map(f64::from)),
        },
        Queryable {
            name: "photo_url",
            title: "A photograph",
            ty: Type::String,
            values: None,
            get: |a| opt_str(a.details.photo_url.as_deref()),
        },
        Queryable {
            name: "ward",
            title: "Ward the asset stands in",
            ty: Type::String,
            values: None,
            get: |a| opt_str(a.placement.ward.as_deref()),
        },
        Queryable {
            name: "fee_zone",
            title: "Fee zone the asset stands in",
            ty: Type::String,
            values: None,
            get: |a| opt_str(a.placement.fee_zone.as_deref()),
        },
        Queryable {
            name: "in_conservation_area",
            title: "Inside a conservation area",
            ty: Type::Boolean,
            values: None,
            get: |a| Val::Bool(a.placement.in_conservation_area),
        },
        Queryable {
            name: "listed",
            title: "Listed building (or on one)",
            ty: Type::Boolean,
            values: None,
            get: |a| Val::Bool(a.details.listed),
        },
    ],
    geometry_format: "geometry-any",
    geometry: |a| Geom::Any(&a.details.geometry),
};

/// The queryables of the boundary-layer collections.
pub static AREAS: Schema<Area> = Schema {
    properties: &[
        Queryable {
            name: "authority",
            title: "Owning authority's code",
            ty: Type::String,
            values: None,
            get: |a| Val::Str(&a.authority),
        },
        Queryable {
            name: "name",
            title: "Name of the area",
            ty: Type::String,
            values: None,
            get: |a| Val::Str(&a.name),
        },
    ],
    geometry_format: "geometry-multipolygon",
    geometry: |a| Geom::Multi(&a.geometry),
};

/// A compiled filter over features of type `T`.
#[derive(Debug)]
pub struct Filter<T: 'static> {
    pred: Pred<T>,
    rects: Option<Vec<Rect<f64>>>,
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
enum Pred<T: 'static> {
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
enum Operand<T> {
    Prop {
        name: &'static str,
        get: fn(&T) -> Val<'_>,
    },
    Lit(Lit),
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Date(time::Date),
}

impl Lit {
    fn val(&self) -> Val<'_> {
        match self {
            Lit::Str(s) => Val::Str(s),
            Lit::Num(n) => Val::Num(*n),
            Lit::Bool(b) => Val::Bool(*b),
            Lit::Date(d) => Val::Date(*d),
        }
    }
}

impl<T> Operand<T> {
    fn value<'a>(&'a self, t: &'a T) -> Val<'a> {
        match self {
            Operand::Prop { get, .. } => get(t),
            Operand::Lit(l) => l.val(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn parse(op: &str) -> Option<CmpOp> {
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

    fn holds(self, o: Ordering) -> bool {
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
fn order(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
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
    fn eval(&self, t: &T) -> Option<bool> {
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
    fn bound(&self) -> Option<Vec<Rect<f64>>> {
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
enum LikeToken {
    Char(char),
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters.
    Any,
}

/// Reads a CQL2 `LIKE` pattern: `%` any run, `_` one character, `\` makes
/// the next character literal.
fn like_pattern(p: &str) -> Vec<LikeToken> {
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
fn like(pattern: &[LikeToken], s: &str) -> bool {
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

/// A spatial literal, ready to test features against.
#[derive(Debug)]
struct Spatial {
    /// The literal, in lon/lat, or in British National Grid when `bng`.
    shape: Geometry<f64>,
    bng: bool,
    /// Lon/lat rectangles covering the shape (for the index).
    rects: Vec<Rect<f64>>,
}

impl Spatial {
    fn test(&self, g: Geom<'_>) -> bool {
        if self.bng {
            return match g {
                Geom::Any(Geometry::Point(p)) => wgs84_to_bng(p.x(), p.y())
                    .is_ok_and(|(e, n)| self.shape.intersects(&Coord { x: e, y: n })),
                Geom::Any(g) => to_bng(g).is_some_and(|b| b.intersects(&self.shape)),
                Geom::Multi(m) => to_bng(&Geometry::MultiPolygon(m.clone()))
                    .is_some_and(|b| b.intersects(&self.shape)),
            };
        }
        match g {
            // Most assets are points: a rectangle test rules most out cheaply.
            Geom::Any(Geometry::Point(p)) => {
                self.rects.iter().any(|r| r.intersects(p)) && self.shape.intersects(p)
            }
            Geom::Any(g) => g.intersects(&self.shape),
            Geom::Multi(m) => m.intersects(&self.shape),
        }
    }
}

fn to_bng(g: &Geometry<f64>) -> Option<Geometry<f64>> {
    g.try_map_coords(|c| wgs84_to_bng(c.x, c.y).map(|(x, y)| Coord { x, y }))
        .ok()
}

/// Which filter language a request uses (`filter-lang`).
pub fn check_lang(lang: Option<&str>) -> Result<(), ApiError> {
    match lang {
        None | Some("cql2-text") => Ok(()),
        Some(other) => Err(ApiError::BadRequest(format!(
            "filter-lang {other:?} is not supported; use cql2-text"
        ))),
    }
}

/// Parses and compiles a cql2-text `filter` against `schema`, with spatial
/// literals in `crs` (`filter-crs`).
pub fn compile<T>(text: &str, crs: Crs, schema: &'static Schema<T>) -> Result<Filter<T>, ApiError> {
    check_nesting(text)?;
    let expr = cql2::parse_text(text).map_err(|e| syntax_error(text, e))?;
    let c = Compiler { text, schema, crs };
    let pred = c.pred(&expr)?;
    let rects = pred.bound();
    Ok(Filter { pred, rects })
}

/// Deepest nesting, and most prefix or chained operators, a filter may use:
/// the parser, the compiler and the evaluator recurse over the expression,
/// so an absurdly deep one must be refused before it can exhaust a stack.
const MAX_NESTING: usize = 40;
const MAX_CHAINED: usize = 200;

/// Refuses deep nesting before parsing; counts outside quoted strings and
/// identifiers.
fn check_nesting(text: &str) -> Result<(), ApiError> {
    let (mut depth, mut deepest, mut nots, mut comparisons, mut negations) = (0usize, 0, 0, 0, 0);
    let mut chars = text.char_indices().peekable();
    let too_deep = |what: &str| {
        ApiError::BadRequest(format!(
            "filter: too deeply nested ({what}); at most {MAX_NESTING} levels"
        ))
    };
    while let Some((_, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                // Skip the quoted run; a doubled quote stays inside it.
                while let Some((_, d)) = chars.next() {
                    if d == c {
                        if chars.peek().is_some_and(|&(_, n)| n == c) {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            '=' | '<' | '>' => comparisons += 1,
            '-' if !chars
                .peek()
                .is_some_and(|&(_, n)| n.is_ascii_digit() || n == '.') =>
            {
                negations += 1
            }
            c if c.is_alphabetic() => {
                let mut word = String::from(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_alphanumeric() || matches!(n, '_' | '.' | ':') {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if word.eq_ignore_ascii_case("not") {
                    nots += 1;
                }
            }
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return Err(too_deep("parentheses"));
    }
    if nots > MAX_NESTING || negations > MAX_NESTING {
        return Err(too_deep("NOT or minus signs"));
    }
    if comparisons > MAX_CHAINED {
        return Err(ApiError::BadRequest(format!(
            "filter: more than {MAX_CHAINED} comparisons; use IN for long lists"
        )));
    }
    Ok(())
}

/// `line 1, column 7` for a 1-based line and column.
fn place(line: usize, col: usize) -> String {
    if line == 1 {
        format!("column {col}")
    } else {
        format!("line {line}, column {col}")
    }
}

/// A 400 for a filter the grammar refused, pointing at the place and
/// saying what could have come there.
fn syntax_error(text: &str, e: cql2::Error) -> ApiError {
    let cql2::Error::Pest(p) = e else {
        return ApiError::BadRequest(format!("filter: {e}"));
    };
    let (line, col) = match p.line_col {
        LineColLocation::Pos(at) | LineColLocation::Span(at, _) => at,
    };
    let offset = match p.location {
        pest::error::InputLocation::Pos(o) | pest::error::InputLocation::Span((o, _)) => o,
    };
    let rest = text.get(offset..).unwrap_or("");
    let found = if rest.is_empty() {
        "the end of the filter".to_string()
    } else {
        let near: String = rest.chars().take(20).collect();
        format!("{near:?}")
    };
    let expected = match &p.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<String> = positives
                .iter()
                .map(|r| rule_name(&format!("{r:?}")).to_string())
                .collect();
            let mut seen = std::collections::HashSet::new();
            names.retain(|n| seen.insert(n.clone()));
            if names.is_empty() {
                "a valid expression".to_string()
            } else {
                names.join(", ")
            }
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    ApiError::BadRequest(format!(
        "filter: syntax error at {}: expected {expected}; found {found}",
        place(line, col)
    ))
}

/// What a grammar rule of the `cql2` crate means to someone writing a filter.
fn rule_name(rule: &str) -> &str {
    match rule {
        "Expr" | "ExprAtomValue" | "BetweenOperand" => "an expression",
        "Identifier" => "a property name",
        "SingleQuotedString" => "a 'quoted string'",
        "DECIMAL" | "Double" | "Integer" => "a number",
        "GEOMETRY" => "a WKT geometry",
        "Function" => "a function call",
        "EOI" => "the end of the filter",
        "And" => "AND",
        "Or" => "OR",
        "Eq" => "=",
        "NotEq" => "<>",
        "Lt" => "<",
        "LtEq" => "<=",
        "Gt" => ">",
        "GtEq" => ">=",
        "Like" => "LIKE",
        "In" => "IN",
        "IsNullPostfix" => "IS NULL",
        "BetweenPostfix" => "BETWEEN",
        "UnaryNot" | "NotFlag" => "NOT",
        "Negative" => "-",
        "True" => "TRUE",
        "False" => "FALSE",
        "Null" => "NULL",
        "ExpressionInParentheses" => "(expression)",
        "Array" => "(list)",
        "Add" | "Subtract" | "Multiply" | "Divide" | "Modulo" | "Power" => "an arithmetic operator",
        other => other,
    }
}

/// The type an operand has while compiling: a queryable's, or a literal's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Num,
    Bool,
    Date,
    /// A string literal, which may also be read as a date.
    Text,
}

impl Ty {
    fn of(t: Type) -> Ty {
        match t {
            Type::String => Ty::Str,
            Type::Number | Type::Integer => Ty::Num,
            Type::Boolean => Ty::Bool,
            Type::Date => Ty::Date,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Ty::Str | Ty::Text => "a string",
            Ty::Num => "a number",
            Ty::Bool => "a boolean",
            Ty::Date => "a date",
        }
    }
}

struct Compiler<'t, T: 'static> {
    text: &'t str,
    schema: &'static Schema<T>,
    crs: Crs,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadRequest(format!("filter: {}", msg.into()))
}

impl<T> Compiler<'_, T> {
    /// Where `name` first appears as a word in the filter, for messages.
    fn at(&self, name: &str) -> String {
        word_position(self.text, name)
            .map_or_else(String::new, |(l, c)| format!(" at {}", place(l, c)))
    }

    fn property(&self, name: &str) -> Result<&'static Queryable<T>, ApiError> {
        self.schema.find(name).ok_or_else(|| {
            let hint = if name == GEOMETRY {
                " (the geometry is only for S_INTERSECTS)".to_string()
            } else {
                String::new()
            };
            bad(format!(
                "unknown property {name:?}{}{hint}; the queryables are {}",
                self.at(name),
                self.schema.names()
            ))
        })
    }

    fn pred(&self, e: &cql2::Expr) -> Result<Pred<T>, ApiError> {
        use cql2::Expr;
        match e {
            Expr::Bool(b) => Ok(Pred::Const(Some(*b))),
            Expr::Property { property } => {
                let q = self.property(property)?;
                if q.ty != Type::Boolean {
                    return Err(bad(format!(
                        "{property}{} is {}, not a condition; compare it with something",
                        self.at(property),
                        Ty::of(q.ty).noun()
                    )));
                }
                Ok(Pred::Truthy(Operand::Prop {
                    name: q.name,
                    get: q.get,
                }))
            }
            Expr::Operation { op, args } => self.operation(op, args),
            other => Err(bad(format!(
                "{} is not a condition",
                other.to_text().unwrap_or_else(|_| format!("{other:?}"))
            ))),
        }
    }

    fn operation(&self, op: &str, args: &[Box<cql2::Expr>]) -> Result<Pred<T>, ApiError> {
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(bad(format!("{op} takes {n} arguments, not {}", args.len())))
            }
        };
        match op {
            "and" | "or" => {
                let ps = args
                    .iter()
                    .map(|a| self.pred(a))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if op == "and" {
                    Pred::And(ps)
                } else {
                    Pred::Or(ps)
                })
            }
            "not" => {
                arity(1)?;
                Ok(Pred::Not(Box::new(self.pred(&args[0])?)))
            }
            "isNull" => {
                arity(1)?;
                let (v, _) = self.operand(&args[0])?;
                Ok(Pred::IsNull(v))
            }
            "like" => {
                arity(2)?;
                let (value, ty) = self.operand(&args[0])?;
                if ty != Ty::Str && ty != Ty::Text {
                    return Err(self.mismatch("LIKE", &value, ty, "a string pattern"));
                }
                let cql2::Expr::Literal(p) = &*args[1] else {
                    return Err(bad("LIKE needs a 'quoted pattern' on its right"));
                };
                Ok(Pred::Like {
                    value,
                    pattern: like_pattern(p),
                })
            }
            "in" => {
                arity(2)?;
                let (value, ty) = self.operand(&args[0])?;
                let cql2::Expr::Array(items) = &*args[1] else {
                    return Err(bad("IN needs a list of values: x IN ('a', 'b')"));
                };
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    let (mut v, ity) = self.operand(item)?;
                    let mut value_copy = self.reborrow(&value);
                    self.unify("IN", &mut value_copy, ty, &mut v, ity)?;
                    self.check_enum(&value, &v)?;
                    let Operand::Lit(l) = v else {
                        return Err(bad("IN lists hold literal values, not properties"));
                    };
                    list.push(l);
                }
                Ok(Pred::In { value, list })
            }
            "between" => {
                arity(3)?;
                let (mut value, ty) = self.operand(&args[0])?;
                let (mut low, lty) = self.operand(&args[1])?;
                let (mut high, hty) = self.operand(&args[2])?;
                let t = self.unify("BETWEEN", &mut value, ty, &mut low, lty)?;
                self.unify("BETWEEN", &mut value, t, &mut high, hty)?;
                if !matches!(t, Ty::Num | Ty::Date | Ty::Str | Ty::Text) {
                    return Err(self.mismatch("BETWEEN", &value, t, "a number or a date"));
                }
                Ok(Pred::Between { value, low, high })
            }
            "s_intersects" => {
                arity(2)?;
                let (prop, lit) = match (&*args[0], &*args[1]) {
                    (cql2::Expr::Property { property }, other)
                    | (other, cql2::Expr::Property { property }) => (property, other),
                    _ => {
                        return Err(bad(
                            "S_INTERSECTS compares the geometry property with a geometry",
                        ));
                    }
                };
                if prop != GEOMETRY {
                    self.property(prop)?;
                    return Err(bad(format!(
                        "S_INTERSECTS needs the geometry property, not {prop:?}{}",
                        self.at(prop)
                    )));
                }
                Ok(Pred::Intersects {
                    geometry: self.schema.geometry,
                    target: self.spatial(lit)?,
                })
            }
            _ => {
                if let Some(cmp) = CmpOp::parse(op) {
                    arity(2)?;
                    let (mut left, lt) = self.operand(&args[0])?;
                    let (mut right, rt) = self.operand(&args[1])?;
                    let t = self.unify(op, &mut left, lt, &mut right, rt)?;
                    if t == Ty::Bool && !matches!(cmp, CmpOp::Eq | CmpOp::Ne) {
                        return Err(bad(format!("booleans are compared with = or <>, not {op}")));
                    }
                    if matches!(cmp, CmpOp::Eq | CmpOp::Ne) {
                        self.check_enum(&left, &right)?;
                        self.check_enum(&right, &left)?;
                    }
                    return Ok(Pred::Compare {
                        left,
                        op: cmp,
                        right,
                    });
                }
                let upper = op.to_uppercase();
                Err(bad(match op {
                    "+" | "-" | "*" | "/" | "%" | "^" | "div" => {
                        format!("arithmetic ({op}) is not supported")
                    }
                    o if o.starts_with("s_") => {
                        format!("{upper} is not supported; the spatial function is S_INTERSECTS")
                    }
                    o if o.starts_with("t_") || o.starts_with("a_") => {
                        format!("{upper} is not supported")
                    }
                    _ => format!("unknown or unsupported function {upper}"),
                }))
            }
        }
    }

    /// A second handle on an operand (getters are `Copy`; literals clone).
    fn reborrow(&self, o: &Operand<T>) -> Operand<T> {
        match o {
            Operand::Prop { name, get } => Operand::Prop { name, get: *get },
            Operand::Lit(l) => Operand::Lit(l.clone()),
        }
    }

    fn operand(&self, e: &cql2::Expr) -> Result<(Operand<T>, Ty), ApiError> {
        use cql2::Expr;
        Ok(match e {
            Expr::Property { property } => {
                let q = self.property(property)?;
                (
                    Operand::Prop {
                        name: q.name,
                        get: q.get,
                    },
                    Ty::of(q.ty),
                )
            }
            Expr::Float(n) => (Operand::Lit(Lit::Num(*n)), Ty::Num),
            Expr::Literal(s) => (Operand::Lit(Lit::Str(s.clone())), Ty::Text),
            Expr::Bool(b) => (Operand::Lit(Lit::Bool(*b)), Ty::Bool),
            Expr::Date { date } => match &**date {
                Expr::Literal(s) => (Operand::Lit(Lit::Date(parse_date(s)?)), Ty::Date),
                _ => return Err(bad("DATE takes a 'YYYY-MM-DD' string")),
            },
            Expr::Null => {
                return Err(bad("NULL is not a value to compare with; use IS NULL"));
            }
            Expr::Timestamp { .. } | Expr::Interval { .. } => {
                return Err(bad(
                    "no queryable holds a time; dates are compared as DATE('YYYY-MM-DD')",
                ));
            }
            Expr::Geometry(_) | Expr::BBox { .. } => {
                return Err(bad("geometries are only compared with S_INTERSECTS"));
            }
            Expr::Array(_) => return Err(bad("a list is only allowed after IN")),
            Expr::Operation { op, .. } => {
                return Err(bad(format!(
                    "{} gives a condition or an arithmetic result, which cannot be compared here",
                    op.to_uppercase()
                )));
            }
        })
    }

    /// Checks two operands have one type, reading a string literal as a
    /// date where the other side is a date; returns that type.
    fn unify(
        &self,
        op: &str,
        left: &mut Operand<T>,
        lt: Ty,
        right: &mut Operand<T>,
        rt: Ty,
    ) -> Result<Ty, ApiError> {
        let as_date = |o: &mut Operand<T>| -> Result<(), ApiError> {
            if let Operand::Lit(Lit::Str(s)) = o {
                *o = Operand::Lit(Lit::Date(parse_date(s)?));
            }
            Ok(())
        };
        match (lt, rt) {
            (Ty::Text, Ty::Text) | (Ty::Str, Ty::Text) | (Ty::Text, Ty::Str) => Ok(Ty::Str),
            (Ty::Date, Ty::Text) => as_date(right).map(|_| Ty::Date),
            (Ty::Text, Ty::Date) => as_date(left).map(|_| Ty::Date),
            (a, b) if a == b => Ok(a),
            _ => Err(bad(format!(
                "type mismatch in {}: {} is {} but {} is {}",
                op.to_uppercase(),
                self.describe(left),
                lt.noun(),
                self.describe(right),
                rt.noun()
            ))),
        }
    }

    fn mismatch(&self, op: &str, value: &Operand<T>, ty: Ty, wanted: &str) -> ApiError {
        bad(format!(
            "type mismatch in {op}: {} is {}, and {op} takes {wanted}",
            self.describe(value),
            ty.noun()
        ))
    }

    fn describe(&self, o: &Operand<T>) -> String {
        match o {
            Operand::Prop { name, .. } => format!("{name}{}", self.at(name)),
            Operand::Lit(Lit::Str(s)) => format!("'{s}'"),
            Operand::Lit(Lit::Num(n)) => n.to_string(),
            Operand::Lit(Lit::Bool(b)) => b.to_string(),
            Operand::Lit(Lit::Date(d)) => format!("DATE('{d}')"),
        }
    }

    /// A property with a closed list of values compared for equality with a
    /// string outside it is a mistake (a typo would otherwise silently match
    /// nothing): the same 400 the plain `kind=` parameter gives.
    fn check_enum(&self, prop: &Operand<T>, other: &Operand<T>) -> Result<(), ApiError> {
        let (Operand::Prop { name, .. }, Operand::Lit(Lit::Str(s))) = (prop, other) else {
            return Ok(());
        };
        let Some(values) = self.schema.find(name).and_then(|q| q.values) else {
            return Ok(());
        };
        let values = values();
        if values.contains(&s.as_str()) {
            Ok(())
        } else {
            Err(bad(format!(
                "{name}{} is never '{s}'; its values are {}",
                self.at(name),
                values.join(", ")
            )))
        }
    }

    /// A spatial literal (WKT or `BBOX`) in the filter CRS, as a target.
    fn spatial(&self, e: &cql2::Expr) -> Result<Spatial, ApiError> {
        let shape: Geometry<f64> = match e {
            cql2::Expr::BBox { bbox } => return self.bbox(bbox),
            cql2::Expr::Geometry(_) => Geometry::try_from(e.clone())
                .map_err(|err| bad(format!("the geometry could not be read: {err}")))?,
            _ => {
                return Err(bad(
                    "S_INTERSECTS needs a WKT geometry or BBOX(...) beside the geometry property",
                ));
            }
        };
        if shape
            .coords_iter()
            .any(|c| !c.x.is_finite() || !c.y.is_finite())
        {
            return Err(bad("geometry coordinates must be finite"));
        }
        check_shape(e, &shape)?;
        match self.crs {
            Crs::Crs84 | Crs::LatLon => {
                let shape = if self.crs == Crs::LatLon {
                    shape.map_coords(|c| Coord { x: c.y, y: c.x })
                } else {
                    shape
                };
                validate_coordinates(&shape).map_err(|e| bad(e.message))?;
                let rects = shape.bounding_rect().into_iter().collect();
                Ok(Spatial {
                    shape,
                    bng: false,
                    rects,
                })
            }
            Crs::Bng => {
                let rects = bng_envelope(&shape)?.into_iter().collect();
                Ok(Spatial {
                    shape,
                    bng: true,
                    rects,
                })
            }
        }
    }

    fn bbox(&self, args: &[Box<cql2::Expr>]) -> Result<Spatial, ApiError> {
        let nums = args
            .iter()
            .map(|a| match **a {
                cql2::Expr::Float(v) if v.is_finite() => Ok(v),
                _ => Err(bad("BBOX takes 4 (or 6) numbers")),
            })
            .collect::<Result<Vec<f64>, _>>()?;
        let [a0, a1, b0, b1] = match nums[..] {
            [a, b, c, d] | [a, b, _, c, d, _] => [a, b, c, d],
            _ => return Err(bad("BBOX takes 4 (or 6) numbers")),
        };
        match self.crs {
            Crs::Bng => {
                if a0 > b0 || a1 > b1 {
                    return Err(bad(
                        "BBOX must be minEasting, minNorthing, maxEasting, maxNorthing",
                    ));
                }
                let shape = Geometry::Rect(Rect::new((a0, a1), (b0, b1)));
                let rects = bng_envelope(&shape)?.into_iter().collect();
                Ok(Spatial {
                    shape,
                    bng: true,
                    rects,
                })
            }
            Crs::Crs84 | Crs::LatLon => {
                let [x0, y0, x1, y1] = if self.crs == Crs::LatLon {
                    [a1, a0, b1, b0]
                } else {
                    [a0, a1, b0, b1]
                };
                let lon_ok = |v: f64| (-180.0..=180.0).contains(&v);
                let lat_ok = |v: f64| (-90.0..=90.0).contains(&v);
                if !(lon_ok(x0) && lon_ok(x1) && lat_ok(y0) && lat_ok(y1)) {
                    return Err(bad(
                        "BBOX longitudes must be within ±180 and latitudes within ±90",
                    ));
                }
                if y0 > y1 {
                    return Err(bad("BBOX's minimum latitude exceeds its maximum"));
                }
                // West edge east of the east edge: the box crosses the antimeridian.
                let rects = if x0 <= x1 {
                    vec![Rect::new((x0, y0), (x1, y1))]
                } else {
                    vec![
                        Rect::new((x0, y0), (180.0, y1)),
                        Rect::new((-180.0, y0), (x1, y1)),
                    ]
                };
                let shape = if rects.len() == 1 {
                    Geometry::Rect(rects[0])
                } else {
                    Geometry::MultiPolygon(rects.iter().map(|r| r.to_polygon()).collect())
                };
                Ok(Spatial {
                    shape,
                    bng: false,
                    rects,
                })
            }
        }
    }
}

/// Margin around a converted EPSG:27700 envelope, in degrees (about 10 m).
const PAD_DEG: f64 = 1e-4;
/// Spacing of the samples taken along EPSG:27700 edges, in metres: grid
/// lines curve in lon/lat, so vertices alone could under-cover the shape.
const SAMPLE_M: f64 = 500.0;

/// The lon/lat envelope of a British National Grid geometry, from its
/// vertices and points sampled along its edges, padded.
fn bng_envelope(shape: &Geometry<f64>) -> Result<Option<Rect<f64>>, ApiError> {
    let mut lon = (f64::INFINITY, f64::NEG_INFINITY);
    let mut lat = (f64::INFINITY, f64::NEG_INFINITY);
    let mut add = |e: f64, n: f64| -> Result<(), ApiError> {
        let (x, y) = bng_to_wgs84(e, n).map_err(|err| {
            bad(format!(
                "the geometry is not within EPSG:27700 coverage ({e}, {n}): {err}"
            ))
        })?;
        lon = (lon.0.min(x), lon.1.max(x));
        lat = (lat.0.min(y), lat.1.max(y));
        Ok(())
    };
    for c in shape.coords_iter() {
        add(c.x, c.y)?;
    }
    let mut lines = Vec::new();
    edges(shape, &mut lines);
    for line in lines {
        let steps = ((line.dx().hypot(line.dy()) / SAMPLE_M).ceil() as usize).min(10_000);
        for i in 1..steps {
            let t = i as f64 / steps as f64;
            add(line.start.x + t * line.dx(), line.start.y + t * line.dy())?;
        }
    }
    if !lon.0.is_finite() {
        return Ok(None);
    }
    Ok(Some(Rect::new(
        Coord {
            x: (lon.0 - PAD_DEG).max(-180.0),
            y: (lat.0 - PAD_DEG).max(-90.0),
        },
        Coord {
            x: (lon.1 + PAD_DEG).min(180.0),
            y: (lat.1 + PAD_DEG).min(90.0),
        },
    )))
}

/// Refuses literals that break [`crate::domain::geometry`]'s rules. The
/// WKT text is read once more for its rings as written, since the
/// conversion to `geo` closes them silently.
fn check_shape(e: &cql2::Expr, g: &Geometry<f64>) -> Result<(), ApiError> {
    use crate::domain::geometry::{check_ring, check_topology};
    fn rings(w: &wkt::Wkt<f64>, out: &mut Vec<Vec<Coord<f64>>>) {
        let ring = |l: &wkt::types::LineString<f64>| {
            l.coords()
                .iter()
                .map(|c| Coord { x: c.x, y: c.y })
                .collect()
        };
        match w {
            wkt::Wkt::Polygon(p) => out.extend(p.rings().iter().map(ring)),
            wkt::Wkt::MultiPolygon(m) => {
                out.extend(m.polygons().iter().flat_map(|p| p.rings().iter().map(ring)))
            }
            wkt::Wkt::GeometryCollection(c) => c.geometries().iter().for_each(|g| rings(g, out)),
            _ => {}
        }
    }
    if let cql2::Expr::Geometry(cql2::Geometry::Wkt(text)) = e
        && let Ok(w) = text.parse::<wkt::Wkt<f64>>()
    {
        let mut all = Vec::new();
        rings(&w, &mut all);
        for r in all.iter().filter(|r| !r.is_empty()) {
            check_ring(r).map_err(bad)?;
        }
    }
    check_topology(g).map_err(bad)
}

/// Every straight edge of a geometry.
fn edges(g: &Geometry<f64>, out: &mut Vec<geo::Line<f64>>) {
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => {}
        Geometry::Line(l) => out.push(*l),
        Geometry::LineString(l) => out.extend(l.lines()),
        Geometry::Polygon(p) => out.extend(p.lines_iter()),
        Geometry::MultiLineString(m) => out.extend(m.lines_iter()),
        Geometry::MultiPolygon(m) => out.extend(m.lines_iter()),
        Geometry::Rect(r) => out.extend(r.to_polygon().lines_iter()),
        Geometry::Triangle(t) => out.extend(t.to_polygon().lines_iter()),
        Geometry::GeometryCollection(c) => c.iter().for_each(|g| edges(g, out)),
    }
}

fn parse_date(s: &str) -> Result<time::Date, ApiError> {
    time::Date::parse(
        s.trim(),
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| bad(format!("'{s}' is not a date (YYYY-MM-DD)")))
}

/// Line and column (1-based, in characters) where `name` first appears in
/// `text` as a property name: a bare word or a "quoted" identifier, not
/// inside a 'string'.
fn word_position(text: &str, name: &str) -> Option<(usize, usize)> {
    let (mut line, mut col) = (1, 0);
    let mut chars = text.chars().peekable();
    let mut word = String::new();
    let mut start = (1, 1);
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
        }
        if let Some(q) = quote {
            if c == q {
                if chars.peek() == Some(&q) {
                    chars.next();
                    col += 1;
                    word.push(q);
                    continue;
                }
                quote = None;
                if q == '"' && word == name {
                    return Some(start);
                }
                word.clear();
            } else if q == '"' {
                word.push(c);
            }
            continue;
        }
        if c.is_alphanumeric() || matches!(c, '_' | '.' | ':') {
            if word.is_empty() {
                start = (line, col);
            }
            word.push(c);
            continue;
        }
        if word == name {
            return Some(start);
        }
        word.clear();
        if c == '\'' || c == '"' {
            quote = Some(c);
            start = (line, col);
        }
    }
    (word == name && quote.is_none()).then_some(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::area::AreaLayer;
    use crate::domain::asset::{AssetDetails, Placement};

    fn asset(kind: AssetKind, height: Option<f64>, lon: f64, lat: f64) -> Asset {
        Asset {
            id: format!("a-{lon}-{lat}"),
            authority: "trafford".into(),
            details: AssetDetails {
                asset_ref: "LP-1".into(),
                kind,
                geometry: Geometry::Point(geo::Point::new(lon, lat)),
                height_m: height,
                power_supply: PowerSupply::PartNight,
                capacity: 2,
                load_rating_kg: None,
                last_inspected: Some(time::macros::date!(2024 - 03 - 15)),
                install_year: Some(1998),
                status: AssetStatus::Available,
                listed: false,
                photo_url: None,
                source_attributes: Default::default(),
            },
            placement: Placement {
                ward: Some("Bowdon".into()),
                fee_zone: None,
                in_conservation_area: true,
            },
            occupancy: Default::default(),
            revision: 1,
        }
    }

    fn lamp() -> Asset {
        asset(AssetKind::LampPost, Some(8.0), -2.35, 53.39)
    }

    fn run(text: &str, a: &Asset) -> bool {
        compile(text, Crs::Crs84, &ASSETS)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .matches(a)
    }

    fn error(text: &str) -> String {
        match compile(text, Crs::Crs84, &ASSETS) {
            Ok(f) => panic!("{text} compiled: {f:?}"),
            Err(ApiError::BadRequest(m)) => m,
            Err(other) => panic!("{text}: not a 400: {other:?}"),
        }
    }

    #[test]
    fn comparisons_on_each_type() {
        let a = lamp();
        for (text, expect) in [
            ("height_m >= 8", true),
            ("height_m > 8", false),
            ("8 = height_m", true),
            ("capacity <> 2", false),
            ("capacity < 2.5", true),
            ("kind = 'lamp_post'", true),
            ("kind <> 'lamp_post'", false),
            ("ward > 'Altrincham'", true),
            ("in_conservation_area = true", true),
            ("listed", false),
            ("in_conservation_area", true),
            ("last_inspected = '2024-03-15'", true),
            ("last_inspected < DATE('2024-03-16')", true),
            ("last_inspected > date('2024-03-15')", false),
            ("install_year BETWEEN 1990 AND 2000", true),
            ("install_year NOT BETWEEN 1990 AND 2000", false),
            ("height_m BETWEEN 8 AND 8", true),
        ] {
            assert_eq!(run(text, &a), expect, "{text}");
        }
    }

    #[test]
    fn logic_is_three_valued() {
        let a = lamp(); // load_rating_kg and photo_url are null
        for (text, expect) in [
            ("load_rating_kg > 1", false),
            ("NOT (load_rating_kg > 1)", false),
            ("load_rating_kg > 1 OR kind = 'lamp_post'", true),
            ("load_rating_kg > 1 AND kind = 'lamp_post'", false),
            ("NOT (load_rating_kg > 1 AND kind = 'cctv_column')", true),
            ("load_rating_kg IS NULL", true),
            ("load_rating_kg IS NOT NULL", false),
            ("photo_url IS NULL AND height_m IS NOT NULL", true),
            ("photo_url LIKE '%'", false),
            ("photo_url IN ('x')", false),
            ("true", true),
            ("NOT false AND (false OR true)", true),
        ] {
            assert_eq!(run(text, &a), expect, "{text}");
        }
    }

    #[test]
    fn like_and_in() {
        let a = lamp();
        for (text, expect) in [
            ("ward LIKE 'B%'", true),
            ("ward LIKE 'b%'", false),
            ("ward LIKE '%don'", true),
            ("ward LIKE 'B_wdon'", true),
            ("ward LIKE 'B_don'", false),
            ("ward NOT LIKE '%o%'", false),
            ("ref LIKE 'LP\\-%'", true),
            ("kind IN ('cctv_column', 'lamp_post')", true),
            ("kind NOT IN ('cctv_column', 'bus_shelter')", true),
            ("capacity IN (1, 2, 3)", true),
            ("last_inspected IN ('2024-03-15')", true),
        ] {
            assert_eq!(run(text, &a), expect, "{text}");
        }
        let p = like_pattern("a%b_c%");
        assert!(like(&p, "axxbyc"));
        assert!(like(&p, "abzczzz"));
        assert!(like(&p, "ab\u{e9}c"), "_ is one character, not one byte");
        assert!(!like(&p, "abc"));
        assert!(like(&like_pattern("%%"), ""));
        assert!(like(&like_pattern("100\\%"), "100%"));
        assert!(!like(&like_pattern("100\\%"), "1000"));
        assert!(like(&like_pattern("%a%a%a"), "aaaa"));
        assert!(!like(&like_pattern("%a%a%a"), "aab"));
    }

    #[test]
    fn spatial_literals() {
        let a = lamp(); // (-2.35, 53.39)
        let square = "POLYGON((-2.36 53.38, -2.34 53.38, -2.34 53.40, -2.36 53.40, -2.36 53.38))";
        for (text, expect) in [
            (format!("S_INTERSECTS(geometry, {square})"), true),
            (format!("s_intersects({square}, geometry)"), true),
            (
                "S_INTERSECTS(geometry, BBOX(-2.36, 53.38, -2.34, 53.40))".into(),
                true,
            ),
            (
                "S_INTERSECTS(geometry, BBOX(-2.34, 53.38, -2.33, 53.40))".into(),
                false,
            ),
            ("S_INTERSECTS(geometry, POINT(-2.35 53.39))".into(), true),
            (
                "S_INTERSECTS(geometry, LINESTRING(-2.36 53.39, -2.34 53.39))".into(),
                true,
            ),
            (
                "S_INTERSECTS(geometry, LINESTRING(-2.36 53.391, -2.34 53.391))".into(),
                false,
            ),
            (
                "S_INTERSECTS(geometry, MULTIPOINT((0 0), (-2.35 53.39)))".into(),
                true,
            ),
            (
                "S_INTERSECTS(geometry, MULTILINESTRING((0 0, 1 1), (-2.35 53.3, -2.35 53.5)))"
                    .into(),
                true,
            ),
            (
                format!(
                    "S_INTERSECTS(geometry, MULTIPOLYGON((({})), ((0 0, 1 0, 1 1, 0 0))))",
                    &square[9..square.len() - 2]
                ),
                true,
            ),
            (
                "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(0 0), POINT(-2.35 53.39)))".into(),
                true,
            ),
            // Crosses the antimeridian: west edge 170, east edge -170.
            (
                "S_INTERSECTS(geometry, BBOX(170, 50, -170, 60))".into(),
                false,
            ),
        ] {
            assert_eq!(run(&text, &a), expect, "{text}");
        }
        let far_east = asset(AssetKind::Other, None, 175.0, 55.0);
        assert!(run(
            "S_INTERSECTS(geometry, BBOX(170, 50, -170, 60))",
            &far_east
        ));
        let f = compile(
            "S_INTERSECTS(geometry, BBOX(170, 50, -170, 60))",
            Crs::Crs84,
            &ASSETS,
        )
        .unwrap();
        assert_eq!(f.rects().unwrap().len(), 2);
    }

    #[test]
    fn spatial_bound_follows_and_and_or() {
        let b = |t: &str| {
            compile(t, Crs::Crs84, &ASSETS)
                .unwrap()
                .rects
                .map(|r| r.len())
        };
        assert_eq!(b("kind = 'lamp_post'"), None);
        assert_eq!(
            b("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) AND kind = 'lamp_post'"),
            Some(1)
        );
        assert_eq!(
            b("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) OR S_INTERSECTS(geometry, POINT(5 5))"),
            Some(2)
        );
        assert_eq!(
            b("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) OR kind = 'lamp_post'"),
            None
        );
        assert_eq!(b("NOT S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))"), None);
        // The tighter of two conjuncts is used.
        let f = compile(
            "S_INTERSECTS(geometry, BBOX(0, 0, 10, 10)) AND S_INTERSECTS(geometry, BBOX(1, 1, 2, 2))",
            Crs::Crs84,
            &ASSETS,
        )
        .unwrap();
        assert_eq!(f.rects().unwrap()[0], Rect::new((1.0, 1.0), (2.0, 2.0)));
    }

    #[test]
    fn filter_crs_lat_lon_and_bng() {
        let a = lamp(); // (-2.35, 53.39)
        let (e, n) = wgs84_to_bng(-2.35, 53.39).unwrap();
        let near = format!(
            "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))",
            e - 10.0,
            n - 10.0,
            e + 10.0,
            n + 10.0
        );
        let off = format!("S_INTERSECTS(geometry, POINT({} {}))", e + 5.0, n);
        assert!(compile(&near, Crs::Bng, &ASSETS).unwrap().matches(&a));
        assert!(!compile(&off, Crs::Bng, &ASSETS).unwrap().matches(&a));
        let f = compile(&near, Crs::Bng, &ASSETS).unwrap();
        let r = f.rects().unwrap()[0];
        assert!(r.intersects(&Coord { x: -2.35, y: 53.39 }), "{r:?}");
        assert!(r.width() < 0.01 && r.height() < 0.01, "{r:?}");
        let swapped = "S_INTERSECTS(geometry, BBOX(53.38, -2.36, 53.40, -2.34))";
        assert!(compile(swapped, Crs::LatLon, &ASSETS).unwrap().matches(&a));
        assert!(!compile(swapped, Crs::Crs84, &ASSETS).unwrap().matches(&a));
        assert!(
            compile(
                "S_INTERSECTS(geometry, POINT(53.39 -2.35))",
                Crs::LatLon,
                &ASSETS
            )
            .unwrap()
            .matches(&a)
        );
    }

    #[test]
    fn areas_have_their_own_queryables() {
        let area = Area {
            id: 1,
            authority: "trafford".into(),
            layer: AreaLayer::Ward,
            name: "Bowdon".into(),
            geometry: geo::MultiPolygon(vec![Rect::new((0.0, 0.0), (1.0, 1.0)).to_polygon()]),
        };
        let f = |t: &str| compile(t, Crs::Crs84, &AREAS).unwrap().matches(&area);
        assert!(f("name LIKE 'Bow%' AND authority = 'trafford'"));
        assert!(f("S_INTERSECTS(geometry, POINT(0.5 0.5))"));
        assert!(!f("S_INTERSECTS(geometry, POINT(1.5 0.5))"));
        let Err(ApiError::BadRequest(m)) = compile("kind = 'lamp_post'", Crs::Crs84, &AREAS) else {
            panic!("kind is not an area queryable");
        };
        assert!(
            m.contains("\"kind\"") && m.contains("authority, name, geometry"),
            "{m}"
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        let m = error("kind = 'lamp_post' AND");
        assert!(m.contains("column 23"), "{m}");
        let m = error("kind == 'lamp_post'");
        assert!(
            m.contains("column 7") && m.contains("a property name"),
            "{m}"
        );
        let m = error("colour = 'red'");
        assert!(
            m.contains("\"colour\"") && m.contains("column 1") && m.contains("kind"),
            "{m}"
        );
        let m = error("kind = 'lamp_post' OR \"colour\" = 'red'");
        assert!(m.contains("column 23"), "{m}");
        let m = error("height_m = 'tall'");
        assert!(
            m.contains("height_m") && m.contains("a number") && m.contains("a string"),
            "{m}"
        );
        let m = error("kind LIKE 5");
        assert!(m.contains("pattern"), "{m}");
        let m = error("capacity LIKE '1%'");
        assert!(m.contains("capacity") && m.contains("LIKE"), "{m}");
        let m = error("kind = 'lampost'");
        assert!(m.contains("lamp_post") && m.contains("'lampost'"), "{m}");
        let m = error("kind IN ('lamp_post', 'spaceship')");
        assert!(m.contains("'spaceship'"), "{m}");
        let m = error("last_inspected > '15/03/2024'");
        assert!(m.contains("15/03/2024"), "{m}");
        let m = error("listed < true");
        assert!(m.contains("booleans"), "{m}");
        let m = error("height_m");
        assert!(m.contains("not a condition"), "{m}");
        let m = error("height_m = NULL");
        assert!(m.contains("IS NULL"), "{m}");
        let m = error("S_WITHIN(geometry, POINT(0 0))");
        assert!(m.contains("S_WITHIN"), "{m}");
        let m = error("S_INTERSECTS(ward, POINT(0 0))");
        assert!(m.contains("geometry property"), "{m}");
        let m = error("S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))");
        assert!(
            m.contains("polygon ring needs at least four positions"),
            "{m}"
        );
        let m = error("S_INTERSECTS(geometry, POINT(200 0))");
        assert!(m.contains("longitude"), "{m}");
        let m = error("height_m + 1 > 5");
        assert!(m.contains("arithmetic"), "{m}");
        let m = error("geometry = 'x'");
        assert!(m.contains("S_INTERSECTS"), "{m}");
        let deep = format!(
            "{}kind = 'lamp_post'{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert!(error(&deep).contains("nested"));
        assert!(error(&"NOT ".repeat(5_000)).contains("nested"));
        // Quoted text does not count towards nesting.
        assert!(run(&format!("ward <> '{}'", "(".repeat(100)), &lamp()));
    }

    #[test]
    fn word_positions() {
        assert_eq!(word_position("a = 1 AND ward = 'x'", "ward"), Some((1, 11)));
        assert_eq!(word_position("'ward' = ward", "ward"), Some((1, 10)));
        assert_eq!(
            word_position("x = 1\n AND \"ward\" = 2", "ward"),
            Some((2, 6))
        );
        assert_eq!(word_position("wards = 1", "ward"), None);
    }

    #[test]
    fn queryables_json_declares_types_and_geometry() {
        let p = ASSETS.json_properties();
        assert_eq!(p["height_m"]["type"], "number");
        assert_eq!(p["capacity"]["type"], "integer");
        assert_eq!(p["listed"]["type"], "boolean");
        assert_eq!(p["last_inspected"]["format"], "date");
        assert_eq!(p["geometry"]["x-ogc-role"], "primary-geometry");
        assert_eq!(p["geometry"]["format"], "geometry-any");
        assert_eq!(p.as_object().unwrap().len(), ASSETS.properties.len() + 1);
        // Every queryable is one the filter accepts.
        for name in p.as_object().unwrap().keys() {
            let text = if name == GEOMETRY {
                "S_INTERSECTS(geometry, POINT(0 0))".to_string()
            } else {
                format!("{name} IS NULL")
            };
            assert!(compile(&text, Crs::Crs84, &ASSETS).is_ok(), "{text}");
        }
    }
}
