//! From a parsed CQL2 expression to a predicate, checking types against the schema.

use super::*;

/// The type an operand has while compiling: a queryable's, or a literal's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    Str,
    Num,
    Bool,
    Date,
    /// A string literal, which may also be read as a date.
    Text,
}

impl Ty {
    pub(super) fn of(t: Type) -> Ty {
        match t {
            Type::String => Ty::Str,
            Type::Number | Type::Integer => Ty::Num,
            Type::Boolean => Ty::Bool,
            Type::Date => Ty::Date,
        }
    }

    pub(super) fn noun(self) -> &'static str {
        match self {
            Ty::Str | Ty::Text => "a string",
            Ty::Num => "a number",
            Ty::Bool => "a boolean",
            Ty::Date => "a date",
        }
    }
}

pub(super) struct Compiler<'t, T: 'static> {
    pub(super) text: &'t str,
    pub(super) schema: &'static Schema<T>,
    pub(super) crs: Crs,
}

pub(super) fn bad(msg: impl Into<String>) -> FilterError {
    FilterError(format!("filter: {}", msg.into()))
}

impl<T> Compiler<'_, T> {
    /// Where `name` first appears as a word in the filter, for messages.
    pub(super) fn at(&self, name: &str) -> String {
        word_position(self.text, name)
            .map_or_else(String::new, |(l, c)| format!(" at {}", place(l, c)))
    }

    pub(super) fn property(&self, name: &str) -> Result<&'static Queryable<T>, FilterError> {
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

    pub(super) fn pred(&self, e: &cql2::Expr) -> Result<Pred<T>, FilterError> {
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

    pub(super) fn operation(
        &self,
        op: &str,
        args: &[Box<cql2::Expr>],
    ) -> Result<Pred<T>, FilterError> {
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
    pub(super) fn reborrow(&self, o: &Operand<T>) -> Operand<T> {
        match o {
            Operand::Prop { name, get } => Operand::Prop { name, get: *get },
            Operand::Lit(l) => Operand::Lit(l.clone()),
        }
    }

    pub(super) fn operand(&self, e: &cql2::Expr) -> Result<(Operand<T>, Ty), FilterError> {
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
    pub(super) fn unify(
        &self,
        op: &str,
        left: &mut Operand<T>,
        lt: Ty,
        right: &mut Operand<T>,
        rt: Ty,
    ) -> Result<Ty, FilterError> {
        let as_date = |o: &mut Operand<T>| -> Result<(), FilterError> {
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

    pub(super) fn mismatch(
        &self,
        op: &str,
        value: &Operand<T>,
        ty: Ty,
        wanted: &str,
    ) -> FilterError {
        bad(format!(
            "type mismatch in {op}: {} is {}, and {op} takes {wanted}",
            self.describe(value),
            ty.noun()
        ))
    }

    pub(super) fn describe(&self, o: &Operand<T>) -> String {
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
    pub(super) fn check_enum(
        &self,
        prop: &Operand<T>,
        other: &Operand<T>,
    ) -> Result<(), FilterError> {
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
    pub(super) fn spatial(&self, e: &cql2::Expr) -> Result<Spatial, FilterError> {
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

    pub(super) fn bbox(&self, args: &[Box<cql2::Expr>]) -> Result<Spatial, FilterError> {
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

pub(super) fn parse_date(s: &str) -> Result<time::Date, FilterError> {
    time::Date::parse(
        s.trim(),
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| bad(format!("'{s}' is not a date (YYYY-MM-DD)")))
}
