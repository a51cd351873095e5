//! A demo week at the demo staff member's center, so the console has something to show:
//! a full session later today with someone waiting, and sessions on the next days, with
//! residents enrolled at the desk as staff would do it.

use chrono::{Duration, NaiveTime, Timelike};

use crate::config::Limits;
use crate::db::{self, DbConn};
use crate::domain::{CenterId, DisplayName, Phone, Role, UserId};
use crate::models::courses::Course;
use crate::ops::course_sessions::NewSession;
use crate::ops::enrollments::WalkIn;
use crate::ops::{self, Actor};
use crate::push::notify::PushPolicy;

/// Residents who come to the demo center (phone-only, as made at the desk).
const PEOPLE: &[(&str, &str)] = &[
    ("0890000001", "ประยุทธ์ ทองดี"),
    ("0890000002", "มาลี ศรีสุข"),
    ("0890000003", "บุญมี แก้วใส"),
    ("0890000004", "สมปอง รักษ์ไทย"),
    ("0890000005", "Anna Lindqvist"),
];

/// Schedules four sessions at `center` (today, tomorrow, in two and in five days, Bangkok
/// time) and enrolls the demo residents through the same operations the console uses.
pub fn seed(
    conn: &mut DbConn,
    staff: &UserId,
    center: &CenterId,
    courses: &[Course],
) -> anyhow::Result<usize> {
    let actor = Actor {
        id: staff.clone(),
        role: Role::Staff,
    };
    let policy = PushPolicy {
        reminder_offsets: Vec::new(),
    };
    let limits = Limits {
        upcoming_enrollments: 10,
        waitlisted: 5,
        broadcasts_per_day: 20,
    };
    let now_local = crate::console::words::bangkok(db::now());
    // Later today: two hours from now on the hour (or tomorrow morning after 20:00).
    let later_today = (now_local + Duration::hours(2))
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now_local);
    let day = |days: i64, h: u32, m: u32| {
        (now_local.date() + Duration::days(days))
            .and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN))
    };
    // (start, capacity, how many of PEOPLE enroll)
    let plan = [
        (later_today, 3, 4),
        (day(1, 9, 0), 10, 2),
        (day(2, 13, 30), 15, 1),
        (day(5, 9, 0), 12, 0),
    ];
    let mut made = 0;
    for (i, (start, capacity, enrolled)) in plan.into_iter().enumerate() {
        let Some(course) = courses.get(i % courses.len().max(1)) else {
            break;
        };
        let starts_at = crate::console::words::from_bangkok(start);
        let session = ops::course_sessions::create(
            conn,
            &actor,
            center,
            NewSession {
                course_id: course.id.clone(),
                starts_at,
                ends_at: starts_at + Duration::hours(3),
                capacity,
                instructor: Some("ครูสมชาย".into()),
                room: Some("ห้องคอมพิวเตอร์".into()),
            },
        )
        .map_err(|e| anyhow::anyhow!("demo session: {e}"))?;
        for (phone, name) in PEOPLE.iter().take(enrolled) {
            let who = WalkIn::Phone {
                phone: Phone::parse(phone).map_err(|c| anyhow::anyhow!("demo phone: {c}"))?,
                display_name: DisplayName::parse(name)
                    .map_err(|c| anyhow::anyhow!("demo name: {c}"))?,
            };
            ops::enrollments::enroll_walk_in(
                conn,
                &policy,
                &limits,
                &actor,
                &session.id,
                who,
                None,
                |_| Ok(String::new()),
            )
            .map_err(|e| anyhow::anyhow!("demo enrollment: {e}"))?;
        }
        made += 1;
    }
    Ok(made)
}
