//! A session's schedule as the console's forms hold it (new session, reschedule): typed
//! text kept as typed, parsed as Bangkok dates and times into what the operations take.

use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;

use crate::error::FieldError;
use crate::handlers::fields::{accept, optional_text};
use crate::i18n::Code;
use crate::ops;

use super::words::from_bangkok;

/// A session's date, times, size, room and instructor as its forms hold them (new
/// session and edit), kept as typed so a refused form shows them again.
#[derive(Debug, Default, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub starts: String,
    #[serde(default)]
    pub ends: String,
    #[serde(default)]
    pub capacity: String,
    #[serde(default)]
    pub room: String,
    #[serde(default)]
    pub instructor: String,
}

/// A schedule as the operations take it.
pub struct Schedule {
    pub starts_at: chrono::NaiveDateTime,
    pub ends_at: chrono::NaiveDateTime,
    pub capacity: i32,
    pub room: Option<String>,
    pub instructor: Option<String>,
}

impl ScheduleForm {
    /// A field's text as typed, for the form shown again.
    pub fn value(&self, name: &str) -> &str {
        match name {
            "date" => &self.date,
            "starts" => &self.starts,
            "ends" => &self.ends,
            "capacity" => &self.capacity,
            "room" => &self.room,
            "instructor" => &self.instructor,
            _ => "",
        }
    }

    /// Every field, for a confirmation page to send on.
    pub fn hidden(&self) -> Vec<(&'static str, String)> {
        ["date", "starts", "ends", "capacity", "room", "instructor"]
            .into_iter()
            .map(|name| (name, self.value(name).to_string()))
            .collect()
    }

    /// Parses the fields (Bangkok date and times), adding refusals to `errors` under the
    /// form's field names.
    pub fn parse(&self, errors: &mut Vec<FieldError>) -> Option<Schedule> {
        let (day, start) = parse_local(&self.date, &self.starts);
        let (_, end) = parse_local(&self.date, &self.ends);
        let day = accept(errors, "date", day);
        let start = accept(errors, "starts", start);
        let end = accept(errors, "ends", end);
        let capacity = accept(
            errors,
            "capacity",
            self.capacity
                .trim()
                .parse::<i32>()
                .map_err(|_| Code::InvalidValue)
                .and_then(ops::course_sessions::parse_capacity),
        );
        let room = accept(errors, "room", optional_text(Some(&self.room), 100));
        let instructor = accept(
            errors,
            "instructor",
            optional_text(Some(&self.instructor), 100),
        );
        let (day, start, end) = (day?, start?, end?);
        Some(Schedule {
            starts_at: from_bangkok(day.and_time(start)),
            ends_at: from_bangkok(end_of(day, start, end)),
            capacity: capacity?,
            room: room?,
            instructor: instructor?,
        })
    }
}

/// An evening session may run past midnight: an end time before the start time is the
/// next day when that makes a session of at most `PAST_MIDNIGHT` (23:00–02:00); anything
/// longer is a slip (10:00–09:00) and is refused as ending before it starts.
const PAST_MIDNIGHT: chrono::Duration = chrono::Duration::hours(12);

fn end_of(day: NaiveDate, start: NaiveTime, end: NaiveTime) -> chrono::NaiveDateTime {
    let same_day = day.and_time(end);
    match day.succ_opt() {
        Some(next) if end < start && next.and_time(end) - day.and_time(start) <= PAST_MIDNIGHT => {
            next.and_time(end)
        }
        _ => same_day,
    }
}

/// A Bangkok date and clock time typed into a form, as the UTC time stored.
pub fn parse_local(date: &str, time: &str) -> (Result<NaiveDate, Code>, Result<NaiveTime, Code>) {
    let date = if date.trim().is_empty() {
        Err(Code::Required)
    } else {
        NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| Code::InvalidTimestamp)
    };
    let time = if time.trim().is_empty() {
        Err(Code::Required)
    } else {
        NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| Code::InvalidTime)
    };
    (date, time)
}

/// How the operations name the fields these forms call otherwise.
pub const SCHEDULE_FIELDS: &[(&str, &str)] = &[
    ("starts_at", "starts"),
    ("ends_at", "ends"),
    ("course_id", "course"),
    ("center_id", "center"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_evening_session_may_end_after_midnight_but_a_slip_is_not_stretched() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(end_of(day, t(9, 0), t(12, 0)), day.and_time(t(12, 0)));
        let next = day.succ_opt().unwrap();
        assert_eq!(end_of(day, t(23, 0), t(2, 0)), next.and_time(t(2, 0)));
        // 23 hours: a slip, left on the same day (and refused as ending before it starts).
        assert_eq!(end_of(day, t(10, 0), t(9, 0)), day.and_time(t(9, 0)));
    }
}
