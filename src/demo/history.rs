//! The last three weeks of the demo network, so the dashboard and the reports have figures
//! to show: sessions that took place at centers across the country, each with residents
//! (phone-only, as made at the desk) who attended, did not come, or waited in vain.

use chrono::{Duration, NaiveTime, TimeZone};
use chrono_tz::Asia::Bangkok;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::{
    display_code, random_code, CenterStatus, CourseSessionId, EnrollmentId, EnrollmentStatus,
    Locale, Role, SessionStatus, UserId, CERTIFICATE_SYMBOLS,
};
use crate::models::centers::Center;
use crate::models::course_sessions::{self, CourseSession};
use crate::models::courses::Course;
use crate::models::enrollments::Enrollment;
use crate::models::users::{self, NewUser};
use crate::schema::{certificates, enrollments};

use super::DemoRng;

/// How many centers held sessions, and how many residents came to them.
const CENTERS: usize = 60;
const RESIDENTS: usize = 400;

const GIVEN: &[&str] = &[
    "สมชาย",
    "สมหญิง",
    "ประเสริฐ",
    "วันเพ็ญ",
    "บุญเรือน",
    "สุนทร",
    "จันทร์เพ็ญ",
    "ทองใบ",
    "สายสุนีย์",
    "ชูชาติ",
    "พรทิพย์",
    "มานพ",
    "อำไพ",
    "สมศักดิ์",
    "ละเอียด",
    "คำปัน",
];
const FAMILY: &[&str] = &[
    "ใจดี",
    "ศรีสวัสดิ์",
    "บุญมา",
    "แก้วมณี",
    "ทองคำ",
    "สุขเจริญ",
    "พรหมมา",
    "อินทร์แก้ว",
    "จันทร์หอม",
    "มีสุข",
];

/// Seeds past sessions (ended, at `CENTERS` active centers spread over the provinces, on
/// days 1 to 20 before today) and their enrollments: about three in four attended, the
/// rest no-shows, and a few who were still waiting. Returns how many sessions.
pub fn seed(
    conn: &mut DbConn,
    seed: u64,
    centers: &[Center],
    courses: &[Course],
) -> anyhow::Result<usize> {
    let mut rng = DemoRng::new(seed ^ 0x4157_0123);
    let now = db::now();
    let today = Bangkok.from_utc_datetime(&now).date_naive();
    let active: Vec<&Center> = centers
        .iter()
        .filter(|c| c.status == CenterStatus::Active)
        .collect();
    let step = (active.len() / CENTERS).max(1);
    let held_at: Vec<&Center> = active.iter().step_by(step).take(CENTERS).copied().collect();

    let residents: Vec<UserId> = (0..RESIDENTS)
        .map(|i| {
            let name = format!("{} {}", rng.pick(GIVEN), rng.pick(FAMILY));
            (i, name)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(i, display_name)| -> anyhow::Result<UserId> {
            let new = NewUser {
                id: UserId::generate(),
                phone: Some(format!("+66891{i:06}")),
                email: None,
                password_hash: users::NO_PASSWORD.to_string(),
                display_name,
                role: Role::Resident,
                locale: Locale::Th,
                created_at: now - Duration::days(30),
                updated_at: now - Duration::days(30),
            };
            match users::create_user(conn, &new)? {
                Ok(user) => Ok(user.id),
                Err(e) => Err(anyhow::anyhow!("demo resident {i}: {e:?}")),
            }
        })
        .collect::<anyhow::Result<_>>()?;

    let mut sessions = Vec::new();
    let mut rows = Vec::new();
    for center in &held_at {
        for start in [
            NaiveTime::from_hms_opt(9, 0, 0),
            NaiveTime::from_hms_opt(13, 30, 0),
        ] {
            let (Some(start), course) = (start, rng.pick(courses)) else {
                continue;
            };
            let day = today - Duration::days(1 + rng.below(20) as i64);
            let Some(local) = Bangkok.from_local_datetime(&day.and_time(start)).single() else {
                continue;
            };
            let starts_at = local.naive_utc();
            let capacity = 8 + rng.below(8) as i32;
            let seated = (capacity as usize).min(3 + rng.below(capacity as usize));
            let waiting = if seated == capacity as usize {
                rng.below(3)
            } else {
                0
            };
            let id = CourseSessionId::from_raw(rng.uuid());
            let first = rng.below(RESIDENTS);
            for n in 0..seated + waiting {
                let status = if n >= seated {
                    EnrollmentStatus::Waitlisted
                } else if rng.below(4) == 0 {
                    EnrollmentStatus::NoShow
                } else {
                    EnrollmentStatus::Attended
                };
                let enrolled_at = starts_at - Duration::days(3) + Duration::minutes(n as i64);
                rows.push(Enrollment {
                    id: EnrollmentId::from_raw(rng.uuid()),
                    session_id: id.clone(),
                    user_id: residents[(first + n) % RESIDENTS].clone(),
                    status,
                    waitlist_seq: (status == EnrollmentStatus::Waitlisted)
                        .then(|| (n + 1 - seated) as i32),
                    created_at: enrolled_at,
                    updated_at: starts_at + Duration::hours(1),
                    confirmed_at: None,
                    // Past and completed: counts against no limit.
                    holds_until: None,
                });
            }
            sessions.push(CourseSession {
                id,
                center_id: center.id.clone(),
                course_id: course.id.clone(),
                starts_at,
                ends_at: starts_at + Duration::minutes(i64::from(course.duration_minutes)),
                capacity,
                seats_taken: seated as i32,
                waitlist_count: waiting as i32,
                waitlist_seq: waiting as i32,
                instructor: None,
                room: Some("ห้องอบรม 1".into()),
                status: SessionStatus::Completed,
                created_at: starts_at - Duration::days(7),
                updated_at: starts_at + Duration::hours(3),
            });
        }
    }
    // Each attendance has its certificate, as recorded attendance gives one.
    let certificates: Vec<_> = rows
        .iter()
        .filter(|e| e.status == EnrollmentStatus::Attended)
        .map(|e| {
            (
                certificates::code.eq(random_code(CERTIFICATE_SYMBOLS)),
                certificates::enrollment_id.eq(e.id.clone()),
                certificates::user_id.eq(e.user_id.clone()),
                certificates::issued_at.eq(e.updated_at),
            )
        })
        .collect();
    db::write_transaction(conn, |conn| -> QueryResult<()> {
        course_sessions::insert_many(conn, &sessions)?;
        for chunk in rows.chunks(500) {
            crate::insert_batch!(conn, enrollments::table, chunk)?;
        }
        for chunk in certificates.chunks(500) {
            crate::insert_batch!(conn, certificates::table, chunk)?;
        }
        Ok(())
    })?;
    Ok(sessions.len())
}

/// Gives `user_id` a seat they attended in the most recent past session, with its
/// certificate (so the demo resident has one to show); returns the certificate's code.
pub fn attended_once(conn: &mut DbConn, user_id: &UserId) -> anyhow::Result<Option<String>> {
    use crate::schema::course_sessions as sessions_t;
    let now = db::now();
    let Some(session) = sessions_t::table
        .filter(sessions_t::ends_at.lt(now))
        .filter(sessions_t::seats_taken.lt(sessions_t::capacity))
        .order(sessions_t::starts_at.desc())
        .select(CourseSession::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let code = db::write_transaction(conn, |conn| -> QueryResult<String> {
        let enrollment = Enrollment {
            id: EnrollmentId::generate(),
            session_id: session.id.clone(),
            user_id: user_id.clone(),
            status: EnrollmentStatus::Attended,
            waitlist_seq: None,
            created_at: session.starts_at - Duration::days(3),
            updated_at: session.starts_at + Duration::hours(1),
            confirmed_at: Some(session.starts_at - Duration::days(1)),
            holds_until: None,
        };
        diesel::insert_into(enrollments::table)
            .values(&enrollment)
            .execute(conn)?;
        diesel::update(sessions_t::table.find(&session.id))
            .set(sessions_t::seats_taken.eq(sessions_t::seats_taken + 1))
            .execute(conn)?;
        crate::models::attendance::issue_certificate(conn, &enrollment)
    })?;
    Ok(Some(display_code(&code)))
}
