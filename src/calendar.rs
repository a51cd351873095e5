//! iCalendar (RFC 5545) for a person's seats: one event per enrollment, times in UTC (no
//! VTIMEZONE needed), lines ending in CRLF and folded at 75 octets, text escaped.

use chrono::NaiveDateTime;

use crate::domain::{find_province, EnrollmentStatus, Locale, SessionStatus};
use crate::models::attendance::SeatFacts;

/// `20261215T020000Z`.
fn utc(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value: backslash, semicolon, comma and newlines escaped (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so that no line is longer than 75 octets (a fold
/// never splits a UTF-8 character; continuation lines start with one space).
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// The district and province of a session's center, in the person's language where OCOD
/// knows it (districts are kept in Thai).
pub fn location_area(seat: &SeatFacts, locale: Locale) -> String {
    let province = match locale {
        Locale::Th => seat.province.as_str(),
        Locale::En => find_province(&seat.province).map_or(seat.province.as_str(), |p| p.name_en),
    };
    format!("{}, {province}", seat.district)
}

/// Where a session is: the center's name, district and province.
pub fn location(seat: &SeatFacts, locale: Locale) -> String {
    format!("{}, {}", seat.center(locale), location_area(seat, locale))
}

/// A calendar of `seats`, stamped `now`; `name` titles it in calendar apps.
pub fn calendar(seats: &[SeatFacts], locale: Locale, name: &str, now: NaiveDateTime) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//OCOD//Community Digital Centers//TH");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    // Subscribed calendars look again this often (Google decides for itself).
    line(&mut out, "REFRESH-INTERVAL;VALUE=DURATION:PT6H");
    line(&mut out, "X-PUBLISHED-TTL:PT6H");
    for seat in seats {
        let course = seat.course(locale);
        let (room_word, instructor_word) = match locale {
            Locale::Th => ("ห้อง", "วิทยากร"),
            Locale::En => ("Room", "Instructor"),
        };
        let cancelled = seat.session.status == SessionStatus::Cancelled
            || seat.enrollment.status == EnrollmentStatus::Cancelled;
        let modified = seat.session.updated_at.max(seat.enrollment.updated_at);
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}@ocod", seat.enrollment.id));
        line(&mut out, &format!("DTSTAMP:{}", utc(now)));
        line(&mut out, &format!("LAST-MODIFIED:{}", utc(modified)));
        // Each change of the session or the seat raises it, so calendars take the news.
        line(
            &mut out,
            &format!("SEQUENCE:{}", modified.and_utc().timestamp().max(0) / 60),
        );
        line(
            &mut out,
            &format!("DTSTART:{}", utc(seat.session.starts_at)),
        );
        line(&mut out, &format!("DTEND:{}", utc(seat.session.ends_at)));
        line(&mut out, &format!("SUMMARY:{}", text(course)));
        line(
            &mut out,
            &format!("LOCATION:{}", text(&location(seat, locale))),
        );
        let mut details = Vec::new();
        if let Some(room) = &seat.session.room {
            details.push(format!("{room_word}: {room}"));
        }
        if let Some(instructor) = &seat.session.instructor {
            details.push(format!("{instructor_word}: {instructor}"));
        }
        if !details.is_empty() {
            line(
                &mut out,
                &format!("DESCRIPTION:{}", text(&details.join("\n"))),
            );
        }
        line(
            &mut out,
            if cancelled {
                "STATUS:CANCELLED"
            } else {
                "STATUS:CONFIRMED"
            },
        );
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_thai_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let content = format!("SUMMARY:{}", "การใช้สมาร์ตโฟนเพื่อชีวิตประจำวัน".repeat(3));
        line(&mut out, &content);
        for physical in out.split_terminator("\r\n") {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical}",
                physical.len()
            );
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, content);
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
