//! Input parsed into types that cannot hold invalid values: a `Phone` is always E.164,
//! an `Email` always normalised, a `Password` always within the length rules.

mod account;
mod duration;
mod geo;
mod provinces;
mod schedule;

pub use account::{normalise_login, DisplayName, Email, Locale, Password, Phone, Role};
pub use duration::parse_duration;
pub use geo::{distance_km, Coordinates};
pub use provinces::{find_province, Province, PROVINCES};
pub use schedule::{offset_label, parse_offsets, QuietHours};
