//! The words of each push, in Thai or English, short enough for a lock screen.

use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::domain::Locale;
use crate::i18n::dates;

/// What a push about a session needs to say.
#[derive(Debug, Clone)]
pub struct SessionFacts {
    pub course_th: String,
    pub course_en: String,
    pub center_th: String,
    pub center_en: String,
    pub starts_at: NaiveDateTime,
}

/// The kinds of push about a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionNotice {
    Reminder,
    WaitlistPromoted,
    SessionCancelled,
    SessionRescheduled,
    /// Staff gave the person's seat up for them (at the desk, or on the phone).
    SeatReleased,
}

impl SessionNotice {
    pub const fn kind(self) -> &'static str {
        match self {
            SessionNotice::Reminder => "reminder",
            SessionNotice::WaitlistPromoted => "waitlist_promoted",
            SessionNotice::SessionCancelled => "session_cancelled",
            SessionNotice::SessionRescheduled => "session_rescheduled",
            SessionNotice::SeatReleased => "seat_released",
        }
    }
}

/// `15 ธ.ค. 09:00 น.` / `15 Dec 09:00`, in Bangkok time.
pub fn local_time(t: NaiveDateTime, locale: Locale) -> String {
    let local = dates::bangkok(t);
    let month = dates::month(locale, local.month0());
    match locale {
        Locale::Th => format!(
            "{} {} {:02}:{:02} น.",
            local.day(),
            month,
            local.hour(),
            local.minute()
        ),
        Locale::En => format!(
            "{} {} {:02}:{:02}",
            local.day(),
            month,
            local.hour(),
            local.minute()
        ),
    }
}

/// Cuts text to `max` characters, ending with an ellipsis when cut.
fn fit(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// (title, body) of a push about a session.
pub fn session_notice(
    notice: SessionNotice,
    facts: &SessionFacts,
    locale: Locale,
) -> (String, String) {
    let when = local_time(facts.starts_at, locale);
    let (title, body) = match locale {
        Locale::Th => {
            let (course, center) = (&facts.course_th, &facts.center_th);
            match notice {
                SessionNotice::Reminder => (format!("เตือน: {course}"), format!("{when} ที่{center}")),
                SessionNotice::WaitlistPromoted => {
                    (format!("ได้ที่นั่งแล้ว: {course}"), format!("{when} ที่{center}"))
                }
                SessionNotice::SessionCancelled => (
                    format!("ยกเลิกการอบรม: {course}"),
                    format!("รอบ {when} ที่{center} ถูกยกเลิก"),
                ),
                SessionNotice::SessionRescheduled => (
                    format!("เปลี่ยนเวลาอบรม: {course}"),
                    format!("เวลาใหม่ {when} ที่{center}"),
                ),
                SessionNotice::SeatReleased => (
                    format!("ยกเลิกที่นั่งแล้ว: {course}"),
                    format!("เจ้าหน้าที่ยกเลิกที่นั่งรอบ {when} ที่{center} ให้คุณแล้ว"),
                ),
            }
        }
        Locale::En => {
            let (course, center) = (&facts.course_en, &facts.center_en);
            match notice {
                SessionNotice::Reminder => {
                    (format!("Reminder: {course}"), format!("{when} at {center}"))
                }
                SessionNotice::WaitlistPromoted => (
                    format!("You have a seat: {course}"),
                    format!("{when} at {center}"),
                ),
                SessionNotice::SessionCancelled => (
                    format!("Cancelled: {course}"),
                    format!("The session on {when} at {center} is cancelled"),
                ),
                SessionNotice::SessionRescheduled => (
                    format!("Moved: {course}"),
                    format!("Now {when} at {center}"),
                ),
                SessionNotice::SeatReleased => (
                    format!("Seat given up: {course}"),
                    format!("Staff gave up your seat on {when} at {center}"),
                ),
            }
        }
    };
    (fit(title, 65), fit(body, 160))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> SessionFacts {
        SessionFacts {
            course_th: "รู้ทันภัยออนไลน์".into(),
            course_en: "Online safety".into(),
            center_th: "ศูนย์ดิจิทัลชุมชนตำบลสุเทพ".into(),
            center_en: "Suthep Community Digital Center".into(),
            starts_at: NaiveDateTime::parse_from_str("2026-12-15 02:00", "%Y-%m-%d %H:%M").unwrap(),
        }
    }

    #[test]
    fn pushes_speak_the_users_language_in_bangkok_time() {
        let (title, body) = session_notice(SessionNotice::Reminder, &facts(), Locale::Th);
        assert_eq!(title, "เตือน: รู้ทันภัยออนไลน์");
        assert_eq!(body, "15 ธ.ค. 09:00 น. ที่ศูนย์ดิจิทัลชุมชนตำบลสุเทพ");
        let (title, body) = session_notice(SessionNotice::SessionRescheduled, &facts(), Locale::En);
        assert_eq!(title, "Moved: Online safety");
        assert_eq!(body, "Now 15 Dec 09:00 at Suthep Community Digital Center");
    }

    #[test]
    fn long_texts_are_cut_for_the_lock_screen() {
        let mut long = facts();
        long.course_en = "x".repeat(200);
        let (title, _) = session_notice(SessionNotice::Reminder, &long, Locale::En);
        assert_eq!(title.chars().count(), 65);
        assert!(title.ends_with('…'));
    }
}
