//! Searching the directory: nearest first (with a location) or by code, filtered by
//! province, status and text, one page at a time. The API's `GET /centers` and the
//! console's center list both ask this.

use crate::domain::{CenterStatus, Coordinates};
use crate::error::ApiError;
use crate::http::pagination::{decode_key, encode_key};
use crate::i18n::Code;
use crate::models::centers::Center;

use super::Snapshot;

/// Where the previous page ended: (distance, id) when searching by location, otherwise
/// the center code.
#[derive(Debug, Clone, PartialEq)]
pub enum CenterCursor {
    Near(f64, String),
    Code(String),
}

impl CenterCursor {
    pub fn encode(&self) -> String {
        match self {
            CenterCursor::Near(d, id) => encode_key("n", &[&format!("{:016x}", d.to_bits()), id]),
            CenterCursor::Code(code) => encode_key("c", &[code]),
        }
    }

    /// A cursor of a search by location (`near`) or by code; the other kind is refused.
    pub fn decode(raw: &str, near: bool) -> Result<Self, ApiError> {
        if near {
            let mut parts = decode_key(raw, "n", 2)?;
            let id = parts.pop().unwrap_or_default();
            let bits = u64::from_str_radix(&parts[0], 16)
                .map_err(|_| ApiError::field("cursor", Code::InvalidCursor))?;
            Ok(CenterCursor::Near(f64::from_bits(bits), id))
        } else {
            Ok(CenterCursor::Code(decode_key(raw, "c", 1)?.remove(0)))
        }
    }
}

/// What to look for; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct CenterSearch {
    /// Origin and radius (km): nearest first within it.
    pub near: Option<(Coordinates, f64)>,
    /// The province's Thai name.
    pub province: Option<&'static str>,
    pub status: Option<CenterStatus>,
    /// Lower-cased text to find in the code, names, district or subdistrict.
    pub text: Option<String>,
    pub after: Option<CenterCursor>,
}

/// One center found: its index in the snapshot and, for a search by location, how far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub index: usize,
    pub distance_km: Option<f64>,
}

impl Snapshot {
    /// Up to `limit` centers matching `search`, and the cursor of the next page if any.
    pub fn search(
        &self,
        search: &CenterSearch,
        limit: usize,
    ) -> (Vec<Found>, Option<CenterCursor>) {
        let matches = |c: &Center| {
            search.province.is_none_or(|p| c.province == p)
                && search.status.is_none_or(|s| c.status == s)
                && search
                    .text
                    .as_deref()
                    .is_none_or(|q| c.search_text.contains(q))
        };
        // One more than a page, to know whether another page follows.
        let mut found: Vec<Found> = Vec::with_capacity(limit + 1);
        match search.near {
            Some((origin, radius)) => {
                let after = match &search.after {
                    Some(CenterCursor::Near(d, id)) => Some((*d, id.as_str())),
                    _ => None,
                };
                found.extend(
                    self.within(origin, radius)
                        .into_iter()
                        .filter(|&(i, d)| {
                            let c = self.center(i);
                            after.is_none_or(|after| (d, c.id.as_str()) > after) && matches(c)
                        })
                        .take(limit + 1)
                        .map(|(index, d)| Found {
                            index,
                            distance_km: Some(d),
                        }),
                );
            }
            None => {
                let all = self.all();
                let start = match &search.after {
                    Some(CenterCursor::Code(code)) => {
                        all.partition_point(|c| c.code.as_str() <= code.as_str())
                    }
                    _ => 0,
                };
                found.extend(
                    (start..all.len())
                        .filter(|&i| matches(&all[i]))
                        .take(limit + 1)
                        .map(|index| Found {
                            index,
                            distance_km: None,
                        }),
                );
            }
        }
        if found.len() <= limit {
            return (found, None);
        }
        found.truncate(limit);
        let next = found.last().map(|f| {
            let c = self.center(f.index);
            match f.distance_km {
                Some(d) => CenterCursor::Near(d, c.id.to_string()),
                None => CenterCursor::Code(c.code.clone()),
            }
        });
        (found, next)
    }
}
