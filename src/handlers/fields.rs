//! Field parsing shared by every handler (and the console): collecting field errors
//! (`accept`), absent versus `null` (`present`, `nullable`), texts, times, locations and
//! locales. Each parser answers the value or the `Code` of why it was refused.

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Deserializer};

use crate::db;
use crate::domain::{Coordinates, Locale};
use crate::error::{ApiError, FieldError};
use crate::i18n::Code;

/// Keeps a parsed value, or records why its field was refused.
pub fn accept<T>(errors: &mut Vec<FieldError>, field: &str, parsed: Result<T, Code>) -> Option<T> {
    parsed
        .map_err(|code| errors.push(FieldError::new(field, code)))
        .ok()
}

/// Parses a locale field: `th` or `en`.
pub fn parse_locale(raw: &str) -> Result<Locale, Code> {
    match raw.trim() {
        "th" => Ok(Locale::Th),
        "en" => Ok(Locale::En),
        _ => Err(Code::InvalidLocale),
    }
}

/// Tells "absent" (leave alone) from `null` (clear) for nullable fields.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// For fields that may be left out but never be `null` (which would otherwise read as
/// "left out" and be silently accepted): `null` is refused as the wrong type.
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A whole number as JSON may write it: `12` or `12.0` (JSON Schema's `integer` takes
/// both), but not `12.5` and nothing beyond `i32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whole(pub i32);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Whole;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Whole, E> {
                i32::try_from(v)
                    .map(Whole)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Whole, E> {
                i32::try_from(v)
                    .map(Whole)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Whole, E> {
                let whole =
                    v.fract() == 0.0 && v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX);
                if whole {
                    Ok(Whole(v as i32))
                } else {
                    Err(E::invalid_type(serde::de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Largest search radius, in kilometres.
pub const MAX_RADIUS_KM: f64 = 100.0;
/// Radius used when a location is given without one.
pub const DEFAULT_RADIUS_KM: f64 = 25.0;

/// An RFC 3339 timestamp with offset, as UTC. A `+` that arrived as a space (an
/// unencoded `+` in a query string) is read as `+`.
pub fn parse_time(raw: &str) -> Result<NaiveDateTime, Code> {
    let raw = raw.trim();
    DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_rfc3339(&raw.replace(' ', "+")))
        .map(|t| db::truncate_micros(t.naive_utc()))
        .map_err(|_| Code::InvalidTimestamp)
}

/// A search origin and radius from optional `lat`, `lon`, `radius_km` parameters.
pub fn parse_near(
    lat: Option<f64>,
    lon: Option<f64>,
    radius_km: Option<f64>,
) -> Result<Option<(Coordinates, f64)>, ApiError> {
    let (lat, lon) = match (lat, lon) {
        (None, None) => {
            if radius_km.is_some() {
                return Err(ApiError::Validation(vec![
                    FieldError::new("lat", Code::Required),
                    FieldError::new("lon", Code::Required),
                ]));
            }
            return Ok(None);
        }
        (Some(_), None) => return Err(ApiError::field("lon", Code::Required)),
        (None, Some(_)) => return Err(ApiError::field("lat", Code::Required)),
        (Some(lat), Some(lon)) => (lat, lon),
    };
    let origin =
        Coordinates::new(lat, lon).map_err(|(field, code)| ApiError::field(field, code))?;
    let radius = radius_km.unwrap_or(DEFAULT_RADIUS_KM);
    if !radius.is_finite() || radius <= 0.0 || radius > MAX_RADIUS_KM {
        return Err(ApiError::field("radius_km", Code::OutOfRange));
    }
    Ok(Some((origin, radius)))
}

/// A trimmed text, at most `max` characters as sent, without control characters.
pub fn required_text(raw: &str, max: usize) -> Result<String, Code> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Code::Required);
    }
    // Counted as sent, as the spec's `maxLength` counts: padding does not buy length.
    if raw.chars().count() > max {
        return Err(Code::TooLong);
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Code::InvalidValue);
    }
    Ok(text.to_string())
}

/// Like `required_text`, but empty means "none".
pub fn optional_text(raw: Option<&str>, max: usize) -> Result<Option<String>, Code> {
    match raw {
        None => Ok(None),
        Some(raw) if raw.chars().count() > max => Err(Code::TooLong),
        Some(raw) if raw.trim().is_empty() => Ok(None),
        Some(raw) => required_text(raw, max).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let read = |json: &str| serde_json::from_str::<Whole>(json).ok();
        assert_eq!(read("243"), Some(Whole(243)));
        assert_eq!(read("243.0"), Some(Whole(243)));
        assert_eq!(read("-5"), Some(Whole(-5)));
        assert_eq!(read("243.5"), None);
        assert_eq!(read("1e20"), None);
        assert_eq!(read("3000000000"), None);
        assert_eq!(read("\"243\""), None);
    }

    #[test]
    fn timestamps_need_an_offset_and_become_utc() {
        let t = parse_time("2026-12-01T09:00:00+07:00").unwrap();
        assert_eq!(t.to_string(), "2026-12-01 02:00:00");
        assert_eq!(parse_time("2026-12-01T09:00:00 07:00").unwrap(), t);
        assert_eq!(parse_time("2026-12-01T02:00:00Z").unwrap(), t);
        for bad in [
            "2026-12-01T09:00:00",
            "2026-12-01",
            "tomorrow",
            "2026-13-01T00:00:00Z",
            "",
        ] {
            assert!(parse_time(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn locations_and_radii_are_checked() {
        assert!(parse_near(None, None, None).unwrap().is_none());
        assert_eq!(
            parse_near(Some(13.7), Some(100.5), None)
                .unwrap()
                .unwrap()
                .1,
            25.0
        );
        assert!(parse_near(Some(13.7), None, None).is_err());
        assert!(parse_near(None, None, Some(10.0)).is_err());
        assert!(parse_near(Some(91.0), Some(100.5), None).is_err());
        assert!(parse_near(Some(13.7), Some(100.5), Some(100.1)).is_err());
        assert!(parse_near(Some(13.7), Some(100.5), Some(0.0)).is_err());
        assert!(parse_near(Some(13.7), Some(100.5), Some(100.0)).is_ok());
    }
}
