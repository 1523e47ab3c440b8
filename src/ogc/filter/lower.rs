//! Moving what the index decides by itself out of an asset filter: a
//! top-level conjunct `kind = 'x'`, `kind IN ('x', 'y')` (and the same on
//! `status` and `power_supply`) becomes attribute [`Criteria`], which the
//! index tests from each entry's one-byte key without reading the asset.
//! A filter left with nothing else needs no asset read at all, so
//! `filter=kind='bus_shelter'` costs what `kind=bus_shelter` costs.
//!
//! Sound because those properties are never null (the comparison is two-
//! valued) and the compiler refuses a literal that is none of their values.

use super::*;
use crate::domain::criteria::Criteria;

impl Filter<Asset> {
    /// Moves the conjuncts the index decides into `crit` (intersected with
    /// what `crit` asks already); `None` when nothing is left to test per
    /// asset.
    pub fn lower_into(self, crit: &mut Criteria) -> Option<Filter<Asset>> {
        let Filter { pred, rects } = self;
        let mut conjuncts = Vec::new();
        flatten(pred, &mut conjuncts);
        let mut rest: Vec<Pred<Asset>> =
            conjuncts.into_iter().filter(|p| !lower(p, crit)).collect();
        let pred = match rest.len() {
            // A spatial bound comes from a conjunct, which stays: no bound is
            // lost with the filter.
            0 => return None,
            1 => rest.pop().expect("one"),
            _ => Pred::And(rest),
        };
        Some(Filter { pred, rects })
    }
}

/// The conjuncts of `p`, nested `AND`s opened.
fn flatten(p: Pred<Asset>, out: &mut Vec<Pred<Asset>>) {
    match p {
        Pred::And(ps) => ps.into_iter().for_each(|p| flatten(p, out)),
        p => out.push(p),
    }
}

/// Adds `p` to `crit` when it is an equality or `IN` of an indexed
/// property with string literals; whether it did.
fn lower(p: &Pred<Asset>, crit: &mut Criteria) -> bool {
    let (name, values): (&str, Vec<&str>) = match p {
        Pred::Compare {
            left,
            op: CmpOp::Eq,
            right,
        } => match (left, right) {
            (Operand::Prop { name, .. }, Operand::Lit(Lit::Str(s)))
            | (Operand::Lit(Lit::Str(s)), Operand::Prop { name, .. }) => (name, vec![s.as_str()]),
            _ => return false,
        },
        Pred::In {
            value: Operand::Prop { name, .. },
            list,
        } => {
            let strings: Option<Vec<&str>> = list
                .iter()
                .map(|l| match l {
                    Lit::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            match strings {
                Some(s) => (name, s),
                None => return false,
            }
        }
        _ => return false,
    };
    match name {
        "kind" => narrow(&mut crit.kinds, AssetKind::ALL, AssetKind::as_str, &values),
        "status" => narrow(
            &mut crit.statuses,
            AssetStatus::ALL,
            AssetStatus::as_str,
            &values,
        ),
        "power_supply" => narrow(
            &mut crit.power_supplies,
            PowerSupply::ALL,
            PowerSupply::as_str,
            &values,
        ),
        _ => false,
    }
}

/// Narrows `list` to the values named exactly in `names` (CQL2's `=` is
/// exact); false, and no change, should a name be no value.
fn narrow<T: Copy + PartialEq, const N: usize>(
    list: &mut Option<Vec<T>>,
    all: [T; N],
    name: fn(T) -> &'static str,
    names: &[&str],
) -> bool {
    let mut named = Vec::with_capacity(names.len());
    for n in names {
        match all.into_iter().find(|v| name(*v) == *n) {
            Some(v) => named.push(v),
            None => return false,
        }
    }
    *list = Some(match list.take() {
        None => named,
        Some(old) => old.into_iter().filter(|v| named.contains(v)).collect(),
    });
    true
}
