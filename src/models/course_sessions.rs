//! Course sessions: a course held at a center at a time, with a capacity. Seats and the
//! waitlist are `models::seats`; this module knows only the session row.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::{CenterId, CourseId, CourseSessionId, SessionStatus};
use crate::schema::course_sessions;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = course_sessions)]
pub struct CourseSession {
    pub id: CourseSessionId,
    pub center_id: CenterId,
    pub course_id: CourseId,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub capacity: i32,
    pub seats_taken: i32,
    pub waitlist_count: i32,
    pub waitlist_seq: i32,
    pub instructor: Option<String>,
    pub room: Option<String>,
    pub status: SessionStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl CourseSession {
    pub fn seats_left(&self) -> i32 {
        (self.capacity - self.seats_taken).max(0)
    }

    /// `completed` once a scheduled session has ended; the stored status only records
    /// what people did (schedule, cancel), time does the rest.
    pub fn status_at(&self, now: NaiveDateTime) -> SessionStatus {
        if self.status == SessionStatus::Scheduled && self.ends_at <= now {
            SessionStatus::Completed
        } else {
            self.status
        }
    }
}

pub fn insert(conn: &mut DbConn, session: &CourseSession) -> QueryResult<()> {
    diesel::insert_into(course_sessions::table)
        .values(session)
        .execute(conn)?;
    Ok(())
}

pub fn insert_many(conn: &mut DbConn, rows: &[CourseSession]) -> QueryResult<usize> {
    db::write_transaction(conn, |conn| {
        let mut inserted = 0;
        for chunk in rows.chunks(500) {
            inserted += crate::insert_batch!(conn, course_sessions::table, chunk)?;
        }
        Ok(inserted)
    })
}

pub fn find(conn: &mut DbConn, id: &CourseSessionId) -> QueryResult<Option<CourseSession>> {
    course_sessions::table
        .find(id)
        .select(CourseSession::as_select())
        .first(conn)
        .optional()
}

/// Takes a seat (`seat`) or the next waitlist place (not `seat`) in one statement, if
/// the session, as it is once its row is locked, is still scheduled, has not started,
/// and has a seat free (`seat`) or none (not `seat`): the choice cannot go stale between
/// reading and writing. Returns the session as it was just before (`None`: not so, and
/// nothing changed). On PostgreSQL the row lock is held from here to the commit.
pub fn take_place(
    conn: &mut DbConn,
    id: &CourseSessionId,
    seat: bool,
    now: NaiveDateTime,
) -> QueryResult<Option<CourseSession>> {
    let open = course_sessions::table
        .find(id)
        .filter(course_sessions::status.eq(SessionStatus::Scheduled))
        .filter(course_sessions::starts_at.gt(now));
    if seat {
        let taken =
            diesel::update(open.filter(course_sessions::seats_taken.lt(course_sessions::capacity)))
                .set(course_sessions::seats_taken.eq(course_sessions::seats_taken + 1))
                .returning(course_sessions::all_columns)
                .get_result::<CourseSession>(conn)
                .optional()?;
        Ok(taken.map(|mut before| {
            before.seats_taken -= 1;
            before
        }))
    } else {
        let queued =
            diesel::update(open.filter(course_sessions::seats_taken.ge(course_sessions::capacity)))
                .set((
                    course_sessions::waitlist_seq.eq(course_sessions::waitlist_seq + 1),
                    course_sessions::waitlist_count.eq(course_sessions::waitlist_count + 1),
                ))
                .returning(course_sessions::all_columns)
                .get_result::<CourseSession>(conn)
                .optional()?;
        Ok(queued.map(|mut before| {
            before.waitlist_seq -= 1;
            before.waitlist_count -= 1;
            before
        }))
    }
}

/// Takes the session's row lock for the rest of the transaction (the locking rule is in
/// `models::seats`): `FOR NO KEY UPDATE` on PostgreSQL; on SQLite the caller's
/// `write_transaction` already holds the only write lock. `false` if there is no such
/// session.
pub fn lock(conn: &mut DbConn, id: &CourseSessionId) -> QueryResult<bool> {
    let query = course_sessions::table.find(id).select(course_sessions::id);
    let found = match conn {
        DbConn::Postgres(pg) => query.for_no_key_update().load::<String>(pg)?,
        DbConn::Sqlite(_) => query.load::<String>(conn)?,
    };
    Ok(!found.is_empty())
}

#[derive(Debug, Default)]
pub struct SessionFilter {
    /// Only sessions at these centers (`Some(empty)` matches nothing).
    pub center_ids: Option<Vec<CenterId>>,
    pub course_id: Option<CourseId>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub status: Option<SessionStatus>,
    /// Keyset pagination: after this (starts_at, id).
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Sessions by start time (then ID).
pub fn list(conn: &mut DbConn, filter: &SessionFilter) -> QueryResult<Vec<CourseSession>> {
    let mut query = course_sessions::table
        .select(CourseSession::as_select())
        .order((course_sessions::starts_at.asc(), course_sessions::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    if let Some(ids) = &filter.center_ids {
        query = query.filter(course_sessions::center_id.eq_any(ids.clone()));
    }
    if let Some(course) = &filter.course_id {
        query = query.filter(course_sessions::course_id.eq(course));
    }
    if let Some(from) = filter.from {
        query = query.filter(course_sessions::starts_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(course_sessions::starts_at.lt(to));
    }
    let now = db::now();
    match filter.status {
        None => {}
        Some(SessionStatus::Completed) => {
            query = query
                .filter(course_sessions::status.eq(SessionStatus::Scheduled))
                .filter(course_sessions::ends_at.le(now))
        }
        Some(SessionStatus::Scheduled) => {
            query = query
                .filter(course_sessions::status.eq(SessionStatus::Scheduled))
                .filter(course_sessions::ends_at.gt(now))
        }
        Some(other) => query = query.filter(course_sessions::status.eq(other)),
    }
    if let Some((starts_at, id)) = &filter.after {
        query = query.filter(
            course_sessions::starts_at
                .gt(*starts_at)
                .or(course_sessions::starts_at
                    .eq(*starts_at)
                    .and(course_sessions::id.gt(id.clone()))),
        );
    }
    query.load(conn)
}

/// A requested change to a session.
#[derive(Debug, Default, Clone)]
pub struct SessionChange {
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub capacity: Option<i32>,
    pub instructor: Option<Option<String>>,
    pub room: Option<Option<String>>,
}

/// Why a session could not be changed.
#[derive(Debug, PartialEq, Eq)]
pub enum ChangeRefusal {
    NotFound,
    /// Cancelled or completed sessions stay as they were.
    NotScheduled,
    EndsBeforeStart,
    CapacityBelowSeatsTaken,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = course_sessions)]
struct SessionUpdate {
    starts_at: Option<NaiveDateTime>,
    ends_at: Option<NaiveDateTime>,
    capacity: Option<i32>,
    instructor: Option<Option<String>>,
    room: Option<Option<String>>,
    updated_at: NaiveDateTime,
}

/// What a change did: the session after it, and whether its time moved.
#[derive(Debug)]
pub struct Changed {
    pub session: CourseSession,
    pub rescheduled: bool,
}

/// Changes a scheduled session's times, capacity, instructor or room. Seats added by a
/// larger capacity are filled from the waitlist by the caller (`seats::promote_waitlist_heads`).
pub fn change(
    conn: &mut DbConn,
    id: &CourseSessionId,
    change: SessionChange,
) -> QueryResult<Result<Changed, ChangeRefusal>> {
    db::write_transaction(conn, |conn| {
        if !lock(conn, id)? {
            return Ok(Err(ChangeRefusal::NotFound));
        }
        let Some(current) = find(conn, id)? else {
            return Ok(Err(ChangeRefusal::NotFound));
        };
        if current.status != SessionStatus::Scheduled {
            return Ok(Err(ChangeRefusal::NotScheduled));
        }
        let starts_at = change.starts_at.unwrap_or(current.starts_at);
        let ends_at = change.ends_at.unwrap_or(current.ends_at);
        if starts_at >= ends_at {
            return Ok(Err(ChangeRefusal::EndsBeforeStart));
        }
        if change.capacity.is_some_and(|c| c < current.seats_taken) {
            return Ok(Err(ChangeRefusal::CapacityBelowSeatsTaken));
        }
        let rescheduled = starts_at != current.starts_at || ends_at != current.ends_at;
        diesel::update(course_sessions::table.find(id))
            .set(&SessionUpdate {
                starts_at: change.starts_at,
                ends_at: change.ends_at,
                capacity: change.capacity,
                instructor: change.instructor,
                room: change.room,
                updated_at: db::now(),
            })
            .execute(conn)?;
        let session = find(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
        if rescheduled {
            holdings_follow(conn, &session)?;
        }
        Ok(Ok(Changed {
            session,
            rescheduled,
        }))
    })
}

/// Cancels a scheduled session. Returns `None` if there is no such session, and the
/// session unchanged if it was not scheduled.
pub fn cancel(
    conn: &mut DbConn,
    id: &CourseSessionId,
) -> QueryResult<Option<Result<CourseSession, ChangeRefusal>>> {
    db::write_transaction(conn, |conn| {
        if !lock(conn, id)? {
            return Ok(None);
        }
        let updated = diesel::update(
            course_sessions::table
                .find(id)
                .filter(course_sessions::status.eq(SessionStatus::Scheduled)),
        )
        .set(course_sessions::status.eq(SessionStatus::Cancelled))
        .execute(conn)?;
        let session = find(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
        if updated == 1 {
            holdings_follow(conn, &session)?;
        }
        Ok(Some(if updated == 1 {
            Ok(session)
        } else {
            Err(ChangeRefusal::NotScheduled)
        }))
    })
}

/// Writes the session's times and status, as they now are, into what its seats and
/// waitlist places count against their people's limits (`seats::holds_until`). Call
/// with the session locked, after it changed.
fn holdings_follow(conn: &mut DbConn, session: &CourseSession) -> QueryResult<()> {
    use crate::domain::EnrollmentStatus;
    use crate::models::enrollments::status_is;
    use crate::schema::enrollments;
    for status in [EnrollmentStatus::Confirmed, EnrollmentStatus::Waitlisted] {
        diesel::update(
            enrollments::table
                .filter(enrollments::session_id.eq(&session.id))
                .filter(status_is(status)),
        )
        .set(enrollments::holds_until.eq(crate::models::seats::holds_until(session, status)))
        .execute(conn)?;
    }
    Ok(())
}
