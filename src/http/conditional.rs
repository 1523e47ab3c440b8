//! Conditional requests (RFC 9110 §13): `ETag` on what a client may edit,
//! `If-Match` on the edit, so a read-modify-write cannot silently undo
//! someone else's change. The tag is the stored revision (or version)
//! number; the comparison is decided in the database transaction.

use axum::http::{HeaderMap, HeaderValue, header};

use super::{ApiError, ApiResult};

/// The entity tag for revision `n`.
pub fn etag(n: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{n}\"")).expect("digits and quotes")
}

/// The revision an `If-Match` header asks for: `None` without the header or
/// with `*` (the resource exists, which the write checks anyway).
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "If-Match {text:?} is not an entity tag this service issued (\"N\" or *)"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_reads_the_tags_etag_writes() {
        let mut h = HeaderMap::new();
        assert_eq!(if_match(&h).unwrap(), None);
        h.insert(header::IF_MATCH, etag(42));
        assert_eq!(if_match(&h).unwrap(), Some(42));
        h.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(if_match(&h).unwrap(), None);
        h.insert(header::IF_MATCH, HeaderValue::from_static("W/\"42\""));
        assert!(if_match(&h).is_err());
    }
}
