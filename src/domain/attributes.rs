//! An asset's source attributes: the columns of the council's export that
//! have no field of their own, kept as one compact JSON text.
//!
//! Every asset in memory carries them, and most are read only to be written
//! out again (GeoJSON, the database, the snapshot), so they are kept as the
//! text those outputs need: a JSON object with its keys sorted, as
//! `serde_json` writes a `BTreeMap` (objects nested in values keep the order
//! `serde_json::Value` gives them). A map of one short string costs its text
//! (tens of bytes) rather than a B-tree node (hundreds); no attributes cost
//! nothing. Readers that need the entries decode them ([`SourceAttributes::to_map`]).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// The source row's other attributes, as a JSON object's compact text
/// (keys sorted; `None` for no attributes).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SourceAttributes(Option<Box<str>>);

impl SourceAttributes {
    /// The attributes of `map`.
    pub fn from_map(map: &BTreeMap<String, Value>) -> SourceAttributes {
        if map.is_empty() {
            return SourceAttributes(None);
        }
        let text = serde_json::to_string(map).expect("JSON values serialise");
        SourceAttributes(Some(text.into_boxed_str()))
    }

    /// The attributes of a JSON object's text (any key order or spacing).
    pub fn from_json(text: &str) -> Result<SourceAttributes, serde_json::Error> {
        let map: BTreeMap<String, Value> = serde_json::from_str(text)?;
        Ok(SourceAttributes::from_map(&map))
    }

    /// Attributes from text [`SourceAttributes::as_json`] wrote (or empty
    /// for none), checked to be a JSON object but not re-encoded: for files
    /// this program wrote, where re-encoding a million objects would slow
    /// start-up.
    pub fn from_kept_text(text: String) -> Result<SourceAttributes, serde_json::Error> {
        if text.is_empty() || text == "{}" {
            return Ok(SourceAttributes(None));
        }
        // Visits the value without building it (keys may hold escapes, so
        // they are not borrowed either); an object is what starts with `{`.
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        if !text.starts_with('{') {
            return Err(serde::de::Error::custom(
                "source attributes are not a JSON object",
            ));
        }
        Ok(SourceAttributes(Some(text.into_boxed_str())))
    }

    /// The attributes as a JSON object's compact text, keys sorted (`{}` for none).
    pub fn as_json(&self) -> &str {
        self.0.as_deref().unwrap_or("{}")
    }

    /// The entries, decoded.
    pub fn to_map(&self) -> BTreeMap<String, Value> {
        match &self.0 {
            None => BTreeMap::new(),
            Some(text) => serde_json::from_str(text).expect("kept text is a JSON object"),
        }
    }

    /// No attributes.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The value of one attribute.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.to_map().remove(key)
    }

    /// Sets one attribute (re-encodes the text: for building, not hot paths).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let mut map = self.to_map();
        map.insert(key.into(), value.into());
        *self = SourceAttributes::from_map(&map);
    }

    /// Removes every attribute.
    pub fn clear(&mut self) {
        self.0 = None;
    }
}

impl From<BTreeMap<String, Value>> for SourceAttributes {
    fn from(map: BTreeMap<String, Value>) -> SourceAttributes {
        SourceAttributes::from_map(&map)
    }
}

impl<K: Into<String>, V: Into<Value>, const N: usize> From<[(K, V); N]> for SourceAttributes {
    fn from(entries: [(K, V); N]) -> SourceAttributes {
        let map: BTreeMap<String, Value> = entries
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        SourceAttributes::from_map(&map)
    }
}

impl fmt::Debug for SourceAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_text_is_what_serde_json_writes_for_the_map() {
        let m = map(json!({
            "street": "Chester Road — A56", "a\"b": "x\ny", "n": 3, "f": 7.25,
            "lit": true, "none": null, "tags": ["a", 1], "owner": {"z": 1, "a": 2}
        }));
        let a = SourceAttributes::from_map(&m);
        assert_eq!(a.as_json(), serde_json::to_string(&m).unwrap());
        assert_eq!(a.to_map(), m);
        assert_eq!(a.get("n"), Some(json!(3)));
        assert_eq!(a.get("missing"), None);
    }

    #[test]
    fn any_spelling_of_the_same_object_gives_the_same_attributes() {
        let a = SourceAttributes::from_json(r#"{ "b" : 1, "a": [true, null] }"#).unwrap();
        let b = SourceAttributes::from_json(r#"{"a":[true,null],"b":1}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_json(), r#"{"a":[true,null],"b":1}"#);
        assert!(SourceAttributes::from_json("[1]").is_err());
        assert!(SourceAttributes::from_json("{").is_err());
    }

    #[test]
    fn no_attributes_cost_nothing_and_read_as_an_empty_object() {
        let empty = SourceAttributes::from_json("{}").unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty, SourceAttributes::default());
        assert_eq!(empty.as_json(), "{}");
        assert_eq!(
            SourceAttributes::from_kept_text(String::new()).unwrap(),
            empty
        );
        let kept = SourceAttributes::from_kept_text(r#"{"a":1}"#.into()).unwrap();
        assert_eq!(kept.get("a"), Some(json!(1)));
        // Whatever `as_json` writes reads back, escaped keys included.
        let awkward = SourceAttributes::from([("say \"hi\"\n", "x\\y"), ("é", "—")]);
        let back = SourceAttributes::from_kept_text(awkward.as_json().to_string()).unwrap();
        assert_eq!(back, awkward);
        for bad in ["[1]", "7", "{", r#"{"a":1}x"#] {
            assert!(
                SourceAttributes::from_kept_text(bad.into()).is_err(),
                "{bad}"
            );
        }
        let mut one = SourceAttributes::from([("column_type", "steel")]);
        assert_eq!(one.as_json(), r#"{"column_type":"steel"}"#);
        one.insert("a", 1);
        assert_eq!(one.as_json(), r#"{"a":1,"column_type":"steel"}"#);
        one.clear();
        assert_eq!(one, empty);
    }
}
