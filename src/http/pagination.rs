//! Opaque list cursors and the `{items, next_cursor}` page shape every list answers with.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A `?limit=` within 1..=100, defaulting to 20.
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field("limit", "out_of_range")),
    }
}

/// Wraps the key of the last item shown; clients must treat it as opaque.
pub fn encode_cursor(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{last_key}"))
}

pub fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::field("cursor", "invalid_cursor");
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let key = text.strip_prefix("v1:").ok_or_else(invalid)?;
    if key.is_empty() || key.len() > 200 {
        return Err(invalid());
    }
    Ok(key.to_string())
}

/// Builds a page from up to `limit + 1` rows: the extra row only says another page exists.
pub fn paginate<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> String,
    view: impl Fn(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(&key(r)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
    }
}

#[cfg(test)]
mod properties {
    use actix_web::ResponseError;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn cursors_give_back_the_key_they_wrap(key in "\\PC{1,50}") {
            prop_assume!(key.trim() == key && key.len() <= 200);
            prop_assert_eq!(decode_cursor(&encode_cursor(&key)).ok(), Some(key));
        }

        #[test]
        fn any_cursor_a_client_sends_is_a_key_or_a_400(raw in "\\PC{0,300}|[A-Za-z0-9_-]{0,300}") {
            match decode_cursor(&raw) {
                Ok(key) => {
                    prop_assert!(!key.is_empty() && key.len() <= 200);
                    prop_assert_eq!(encode_cursor(&key), raw.trim());
                }
                Err(e) => prop_assert_eq!(e.status_code().as_u16(), 400),
            }
        }

        #[test]
        fn limits_outside_1_to_100_are_refused(n in any::<i64>()) {
            prop_assert_eq!(page_limit(Some(n)).is_ok(), (1..=100).contains(&n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = encode_cursor("0192f1d2-aaaa");
        assert_eq!(decode_cursor(&cursor).unwrap(), "0192f1d2-aaaa");
        for bad in ["", "!!!", "bm90LXYx", &URL_SAFE_NO_PAD.encode("v1:")] {
            assert!(decode_cursor(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(page_limit(None).unwrap(), 20);
        assert_eq!(page_limit(Some(100)).unwrap(), 100);
        assert!(page_limit(Some(101)).is_err());
        assert!(page_limit(Some(0)).is_err());
    }
}
