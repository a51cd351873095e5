//! Input parsed into types that cannot hold invalid values: a `Phone` is always E.164,
//! an `Email` always normalised, a `Password` always within the length rules.

mod account;
mod codes;
mod duration;
mod geo;
mod ids;
mod provinces;
mod schedule;
mod status;

pub use account::{normalise_login, DisplayName, Email, Password, Phone};
pub use codes::{
    display_code, normalise_code, random_code, CERTIFICATE_SYMBOLS, CODE_ALPHABET, TICKET_SYMBOLS,
};
pub use duration::parse_duration;
pub use geo::{distance_km, Coordinates, Latitude, Longitude};
pub use ids::{CenterId, CourseId, CourseSessionId, EnrollmentId, UserId};
pub use provinces::{find_province, Province, PROVINCES};
pub use schedule::{offset_label, parse_offsets, ClockTime, QuietHours};
pub use status::{
    AudienceKind, BroadcastStatus, CenterStatus, Channel, DeliveryStatus, EnrollmentStatus, Locale,
    NotificationStatus, Platform, Role, SessionStatus, SqlWord,
};
