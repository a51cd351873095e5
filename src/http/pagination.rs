//! Opaque list cursors and the `{items, next_cursor}` page shape every list answers with.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::error::ApiError;
use crate::i18n::Code;

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
        Some(_) => Err(ApiError::field("limit", Code::OutOfRange)),
    }
}

/// The one cursor codec of every list: a tag naming the list's order and the parts of the
/// last item's sort key, written `tag:part:…:part` in base64url. Clients treat it as
/// opaque; a cursor of another list (another tag) or a tampered one is 400
/// `invalid_cursor`.
pub fn encode_key(tag: &str, parts: &[&str]) -> String {
    let mut text = String::from(tag);
    for part in parts {
        text.push(':');
        text.push_str(part);
    }
    URL_SAFE_NO_PAD.encode(text)
}

/// The `parts` parts of a cursor made by `encode_key(tag, …)`; the last part may hold `:`.
pub fn decode_key(cursor: &str, tag: &str, parts: usize) -> Result<Vec<String>, ApiError> {
    let invalid = || ApiError::field("cursor", Code::InvalidCursor);
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let rest = text
        .strip_prefix(tag)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(invalid)?;
    let found: Vec<String> = rest.splitn(parts, ':').map(str::to_string).collect();
    if found.len() != parts || found.iter().any(|p| p.is_empty() || p.len() > 200) {
        return Err(invalid());
    }
    Ok(found)
}

/// A time as a cursor part (microseconds since 1970, exact on both backends).
pub fn time_part(t: NaiveDateTime) -> String {
    t.and_utc().timestamp_micros().to_string()
}

/// The time `time_part` wrote.
pub fn parse_time_part(part: &str) -> Result<NaiveDateTime, ApiError> {
    part.parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|t| t.naive_utc())
        .ok_or_else(|| ApiError::field("cursor", Code::InvalidCursor))
}

/// The cursor of lists ordered by one key (an ID, or an offset): `v1:key`.
pub fn encode_cursor(last_key: &str) -> String {
    encode_key("v1", &[last_key])
}

/// The key `encode_cursor` wrapped.
pub fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    Ok(decode_key(cursor, "v1", 1)?.remove(0))
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
    fn keyed_cursors_keep_their_parts_and_belong_to_one_list() {
        let at = chrono::DateTime::from_timestamp_micros(1_796_000_000_123_456)
            .unwrap()
            .naive_utc();
        let cursor = encode_key("s", &[&time_part(at), "id:with:colons"]);
        let parts = decode_key(&cursor, "s", 2).unwrap();
        assert_eq!(parse_time_part(&parts[0]).unwrap(), at);
        assert_eq!(parts[1], "id:with:colons");
        assert!(
            decode_key(&cursor, "n", 2).is_err(),
            "another list's cursor"
        );
        assert!(
            decode_key(&encode_key("s", &["1"]), "s", 2).is_err(),
            "a part short"
        );
        assert!(parse_time_part("soon").is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(page_limit(None).unwrap(), 20);
        assert_eq!(page_limit(Some(100)).unwrap(), 100);
        assert!(page_limit(Some(101)).is_err());
        assert!(page_limit(Some(0)).is_err());
    }
}
