//! When pushes go out: reminder offsets before a session, and quiet hours (local time in
//! Asia/Bangkok) during which non-urgent pushes wait.

use crate::i18n::Code;
use std::time::Duration;

use chrono::{NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::Asia::Bangkok;

use super::parse_duration;

/// `OCOD_REMINDER_OFFSETS`: a comma-separated list such as `24h,1h`, each more than zero,
/// without repeats; sorted longest first.
pub fn parse_offsets(raw: &str) -> Result<Vec<Duration>, String> {
    let mut offsets = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let offset = parse_duration(part)?;
        if offset.is_zero() {
            return Err(format!(
                "`{part}` is zero; a reminder must come before the session"
            ));
        }
        if offsets.contains(&offset) {
            return Err(format!("`{part}` is listed twice"));
        }
        offsets.push(offset);
    }
    offsets.sort_by(|a, b| b.cmp(a));
    Ok(offsets)
}

/// How an offset is named in keys and data: whole seconds.
pub fn offset_label(offset: Duration) -> String {
    format!("{}s", offset.as_secs())
}

/// A time of day as people write it, `HH:MM` on a 24-hour clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockTime(String);

impl ClockTime {
    pub fn parse(raw: &str) -> Result<Self, Code> {
        let (h, m) = raw.trim().split_once(':').ok_or(Code::InvalidTime)?;
        let valid = h.len() == 2
            && m.len() == 2
            && h.parse::<u8>().is_ok_and(|h| h < 24)
            && m.parse::<u8>().is_ok_and(|m| m < 60);
        if valid {
            Ok(ClockTime(format!("{h}:{m}")))
        } else {
            Err(Code::InvalidTime)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A daily quiet period in Bangkok local time; `start == end` never happens (use `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// `21:00-07:00`; an empty value means no quiet hours.
    pub fn parse_setting(raw: &str) -> Result<Option<Self>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let (start, end) = raw
            .split_once('-')
            .ok_or_else(|| format!("`{raw}` is not START-END, e.g. 21:00-07:00"))?;
        let parse = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| format!("`{t}` is not HH:MM"))
        };
        Self::new(parse(start)?, parse(end)?)
            .map(Some)
            .ok_or_else(|| format!("`{raw}` starts and ends at the same time"))
    }

    pub fn new(start: NaiveTime, end: NaiveTime) -> Option<Self> {
        (start != end).then_some(QuietHours { start, end })
    }

    fn contains(&self, local: NaiveTime) -> bool {
        if self.start < self.end {
            local >= self.start && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }

    /// When a push due at `due` (UTC) may go out: `due` itself, or the end of the quiet
    /// period it falls in.
    pub fn release_time(&self, due: NaiveDateTime) -> NaiveDateTime {
        let local = Bangkok.from_utc_datetime(&due);
        let time = local.time().with_nanosecond(0).unwrap_or(local.time());
        if !self.contains(time) {
            return due;
        }
        let mut day = local.date_naive();
        if time >= self.end {
            day = day.succ_opt().unwrap_or(day);
        }
        match Bangkok
            .from_local_datetime(&day.and_time(self.end))
            .single()
        {
            Some(end) => end.naive_utc(),
            None => due,
        }
    }
}

#[cfg(test)]
mod properties {
    use chrono::DateTime;
    use proptest::prelude::*;

    use super::*;

    fn written(seconds: u64, unit: u8) -> String {
        match unit % 4 {
            3 if seconds % 86_400 == 0 => format!("{}d", seconds / 86_400),
            2 if seconds % 3_600 == 0 => format!("{}h", seconds / 3_600),
            1 if seconds % 60 == 0 => format!("{}m", seconds / 60),
            _ => format!("{seconds}s"),
        }
    }

    fn time() -> impl Strategy<Value = NaiveTime> {
        (0u32..24, 0u32..60).prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap())
    }

    fn instant() -> impl Strategy<Value = NaiveDateTime> {
        // 2026-2030, to the second.
        (1_767_225_600i64..1_893_456_000)
            .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap().naive_utc())
    }

    proptest! {
        #[test]
        fn offsets_come_back_longest_first_however_written(
            seconds in proptest::collection::btree_set(1u64..(30 * 86_400), 0..6),
            units in proptest::collection::vec(0u8..4, 6),
        ) {
            let text = seconds
                .iter()
                .zip(&units)
                .map(|(s, u)| written(s * 60, *u))
                .collect::<Vec<_>>()
                .join(" , ");
            let mut expected: Vec<Duration> = seconds.iter().map(|s| Duration::from_secs(s * 60)).collect();
            expected.reverse();
            prop_assert_eq!(parse_offsets(&text), Ok(expected));
        }

        #[test]
        fn any_offset_text_is_understood_or_refused_with_a_reason(raw in "\\PC{0,40}|[0-9smhd, ]{0,20}") {
            match parse_offsets(&raw) {
                Ok(offsets) => {
                    prop_assert!(offsets.iter().all(|o| !o.is_zero()));
                    prop_assert!(offsets.windows(2).all(|w| w[0] > w[1]));
                }
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
        }

        #[test]
        fn quiet_hours_settings_read_back(start in time(), end in time()) {
            let text = format!("{}-{}", start.format("%H:%M"), end.format("%H:%M"));
            let parsed = QuietHours::parse_setting(&text);
            if start == end {
                prop_assert!(parsed.is_err());
            } else {
                prop_assert_eq!(parsed, Ok(Some(QuietHours { start, end })));
            }
        }

        /// A push is never released inside quiet hours, never earlier than due, never
        /// held a day or more, and one already outside quiet hours is not touched.
        #[test]
        fn a_push_leaves_at_the_first_moment_outside_quiet_hours(
            start in time(), end in time(), due in instant(),
        ) {
            prop_assume!(start != end);
            let quiet = QuietHours { start, end };
            let released = quiet.release_time(due);
            let local = |t: NaiveDateTime| Bangkok.from_utc_datetime(&t).time();
            prop_assert!(released >= due);
            prop_assert!(released - due < chrono::Duration::hours(24));
            prop_assert!(!quiet.contains(local(released)));
            if !quiet.contains(local(due)) {
                prop_assert_eq!(released, due);
            } else {
                prop_assert_eq!(local(released), end);
            }
            prop_assert_eq!(quiet.release_time(released), released);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn clock_times_are_strict() {
        assert_eq!(
            ClockTime::parse("21:00").map(ClockTime::into_inner),
            Ok("21:00".into())
        );
        assert_eq!(
            ClockTime::parse("07:30").map(ClockTime::into_inner),
            Ok("07:30".into())
        );
        for bad in ["7:00", "24:00", "23:60", "2100", "ab:cd", "", "21:00:00"] {
            assert!(ClockTime::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn offsets_parse_and_sort_longest_first() {
        assert_eq!(
            parse_offsets("1h, 24h").unwrap(),
            vec![Duration::from_secs(86_400), Duration::from_secs(3_600)]
        );
        assert_eq!(parse_offsets("60s").unwrap(), vec![Duration::from_secs(60)]);
        assert!(parse_offsets("").unwrap().is_empty());
        assert!(parse_offsets("0s").is_err());
        assert!(parse_offsets("1h,60m").is_err());
        assert!(parse_offsets("soon").is_err());
    }

    #[test]
    fn quiet_hours_across_midnight_release_at_their_end() {
        let q = QuietHours::parse_setting("21:00-07:00").unwrap().unwrap();
        // 22:30 Bangkok (15:30 UTC) waits for 07:00 next day (00:00 UTC).
        assert_eq!(
            q.release_time(utc("2026-12-01 15:30")),
            utc("2026-12-02 00:00")
        );
        // 05:00 Bangkok (22:00 UTC the day before) waits for 07:00 the same local day.
        assert_eq!(
            q.release_time(utc("2026-12-01 22:00")),
            utc("2026-12-02 00:00")
        );
        // 12:00 Bangkok goes at once.
        assert_eq!(
            q.release_time(utc("2026-12-01 05:00")),
            utc("2026-12-01 05:00")
        );
        // 07:00 sharp is no longer quiet.
        assert_eq!(
            q.release_time(utc("2026-12-02 00:00")),
            utc("2026-12-02 00:00")
        );
    }

    #[test]
    fn quiet_hours_within_a_day_and_empty_settings() {
        let q = QuietHours::parse_setting("12:00-13:00").unwrap().unwrap();
        assert_eq!(
            q.release_time(utc("2026-12-01 05:30")),
            utc("2026-12-01 06:00")
        );
        assert_eq!(QuietHours::parse_setting(" ").unwrap(), None);
        assert!(QuietHours::parse_setting("21:00").is_err());
        assert!(QuietHours::parse_setting("21:00-21:00").is_err());
        assert!(QuietHours::parse_setting("25:00-07:00").is_err());
    }
}
