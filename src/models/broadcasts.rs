//! Broadcasts to an audience (everyone, a province, a center, a course, a session),
//! expanded into per-user notifications when due, in batches that resume after a crash.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::QuietHours;
use crate::domain::{
    AudienceKind, CenterId, CourseId, CourseSessionId, EnrollmentStatus, Locale, UserId,
};
use crate::domain::{BroadcastStatus, Channel, DeliveryStatus, NotificationStatus};
use crate::models::notifications::Notification;
use crate::models::users::new_id;
use crate::push::queue::{self, Channels};
use crate::schema::{
    broadcasts, centers, course_sessions, devices, enrollments, notifications, push_deliveries,
    users,
};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = broadcasts)]
pub struct Broadcast {
    pub id: String,
    pub created_by: String,
    pub audience_kind: AudienceKind,
    pub audience_value: Option<String>,
    pub title_th: String,
    pub title_en: String,
    pub body_th: String,
    pub body_en: String,
    pub send_at: NaiveDateTime,
    pub status: BroadcastStatus,
    pub expanded_until: Option<String>,
    pub targeted_users: i64,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// Who a broadcast reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    All,
    /// Residents who gave this province (Thai name) in their profile, or who enrolled at
    /// one of its centers.
    Province(String),
    /// People enrolled (now or before) in sessions at this center.
    Center(CenterId),
    /// People enrolled in sessions of this course.
    Course(CourseId),
    /// People holding a seat or waiting in this session.
    Session(CourseSessionId),
}

impl Audience {
    /// The audience stored as `kind` and `value` (`None` if the pair makes no sense).
    pub fn from_db(kind: AudienceKind, value: Option<&str>) -> Option<Self> {
        let value = value.map(str::to_string);
        match (kind, value) {
            (AudienceKind::All, _) => Some(Audience::All),
            (AudienceKind::Province, Some(v)) => Some(Audience::Province(v)),
            (AudienceKind::Center, Some(v)) => Some(Audience::Center(CenterId::from_raw(v))),
            (AudienceKind::Course, Some(v)) => Some(Audience::Course(CourseId::from_raw(v))),
            (AudienceKind::Session, Some(v)) => {
                Some(Audience::Session(CourseSessionId::from_raw(v)))
            }
            _ => None,
        }
    }

    pub fn kind(&self) -> AudienceKind {
        match self {
            Audience::All => AudienceKind::All,
            Audience::Province(_) => AudienceKind::Province,
            Audience::Center(_) => AudienceKind::Center,
            Audience::Course(_) => AudienceKind::Course,
            Audience::Session(_) => AudienceKind::Session,
        }
    }

    pub fn value(&self) -> Option<&str> {
        match self {
            Audience::All => None,
            Audience::Province(v) => Some(v),
            Audience::Center(v) => Some(v),
            Audience::Course(v) => Some(v),
            Audience::Session(v) => Some(v),
        }
    }
}

/// Narrows a boxed query that includes `users` to the audience (a macro, so the same
/// rules serve the user list and the device count).
macro_rules! filter_audience {
    ($query:expr, $audience:expr) => {{
        let query = $query;
        match $audience {
            Audience::All => query,
            Audience::Province(province) => query.filter(
                users::province.eq(province.clone()).or(users::id.eq_any(
                    enrollments::table
                        .inner_join(course_sessions::table.inner_join(centers::table))
                        .filter(centers::province.eq(province.clone()))
                        .filter(enrollments::status.ne(EnrollmentStatus::Cancelled))
                        .select(enrollments::user_id),
                )),
            ),
            Audience::Center(center) => query.filter(
                users::id.eq_any(
                    enrollments::table
                        .inner_join(course_sessions::table)
                        .filter(course_sessions::center_id.eq(center.clone()))
                        .filter(enrollments::status.ne(EnrollmentStatus::Cancelled))
                        .select(enrollments::user_id),
                ),
            ),
            Audience::Course(course) => query.filter(
                users::id.eq_any(
                    enrollments::table
                        .inner_join(course_sessions::table)
                        .filter(course_sessions::course_id.eq(course.clone()))
                        .filter(enrollments::status.ne(EnrollmentStatus::Cancelled))
                        .select(enrollments::user_id),
                ),
            ),
            Audience::Session(session) => {
                query.filter(
                    users::id.eq_any(
                        enrollments::table
                            .filter(enrollments::session_id.eq(session.clone()))
                            .filter(enrollments::status.eq_any([
                                EnrollmentStatus::Confirmed,
                                EnrollmentStatus::Waitlisted,
                            ]))
                            .select(enrollments::user_id),
                    ),
                )
            }
        }
    }};
}

/// How many people and devices the audience reaches now.
pub fn preview(conn: &mut DbConn, audience: &Audience) -> QueryResult<(i64, i64)> {
    let users_count: i64 = filter_audience!(users::table.into_boxed(), audience)
        .count()
        .get_result(conn)?;
    let devices_count: i64 = filter_audience!(
        devices::table.inner_join(users::table).into_boxed(),
        audience
    )
    .count()
    .get_result(conn)?;
    Ok((users_count, devices_count))
}

pub fn insert(conn: &mut DbConn, broadcast: &Broadcast) -> QueryResult<()> {
    diesel::insert_into(broadcasts::table)
        .values(broadcast)
        .execute(conn)?;
    Ok(())
}

/// When `user_id` may create another broadcast, if `limit` of them in any 24 hours is
/// reached now (`None`: they may at once). Counts under the person's row lock, so
/// simultaneous requests cannot both slip under the limit.
pub fn next_allowed(
    conn: &mut DbConn,
    user_id: &UserId,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    crate::models::users::lock(conn, user_id)?;
    let day = chrono::Duration::hours(24);
    let recent: Vec<NaiveDateTime> = broadcasts::table
        .filter(broadcasts::created_by.eq(user_id))
        .filter(broadcasts::created_at.gt(now - day))
        .select(broadcasts::created_at)
        .order(broadcasts::created_at.desc())
        .limit(limit)
        .load(conn)?;
    // With `limit` in the window, the next is allowed once the oldest of them leaves it.
    Ok(match recent.last() {
        Some(oldest) if recent.len() as i64 >= limit => Some(*oldest + day),
        _ => None,
    })
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Broadcast>> {
    broadcasts::table
        .find(id)
        .select(Broadcast::as_select())
        .first(conn)
        .optional()
}

/// Newest first, before the keyset `before_id` (IDs are time-ordered).
pub fn list(
    conn: &mut DbConn,
    before_id: Option<String>,
    limit: i64,
) -> QueryResult<Vec<Broadcast>> {
    let mut query = broadcasts::table
        .select(Broadcast::as_select())
        .order(broadcasts::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(broadcasts::id.lt(before));
    }
    query.load(conn)
}

/// Cancels a broadcast that has not started; returns it (as it now is) if it exists.
pub fn cancel(conn: &mut DbConn, id: &str) -> QueryResult<Option<(Broadcast, bool)>> {
    let changed = diesel::update(
        broadcasts::table
            .find(id)
            .filter(broadcasts::status.eq(BroadcastStatus::Scheduled)),
    )
    .set((
        broadcasts::status.eq(BroadcastStatus::Cancelled),
        broadcasts::finished_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(find(conn, id)?.map(|b| (b, changed == 1)))
}

/// Delivery figures of a broadcast, each device counted once.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub targeted: i64,
    pub devices: i64,
    pub sent: i64,
    pub failed: i64,
    pub invalid_tokens: i64,
    /// Still to go out: devices whose push waits (queued or being retried), plus people
    /// whose notice quiet hours hold (their devices are known only when it is released).
    pub pending: i64,
    /// People whose notice quiet hours still hold.
    pub held: i64,
    /// When the last held notice is released.
    #[serde(skip)]
    pub held_until: Option<NaiveDateTime>,
    /// Sent, by channel.
    pub by_channel: ByChannel,
}

/// Deliveries sent by each channel.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ByChannel {
    pub push: i64,
    pub line: i64,
    pub sms: i64,
}

impl Stats {
    /// Whether anything is still on its way.
    pub fn in_flight(&self) -> bool {
        self.pending > 0
    }
}

pub fn stats(conn: &mut DbConn, broadcast: &Broadcast) -> QueryResult<Stats> {
    let by_status: Vec<(DeliveryStatus, Channel, i64)> = push_deliveries::table
        .inner_join(notifications::table)
        .filter(notifications::broadcast_id.eq(&broadcast.id))
        .group_by((push_deliveries::status, push_deliveries::channel))
        .select((
            push_deliveries::status,
            push_deliveries::channel,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let mut stats = Stats {
        targeted: broadcast.targeted_users,
        ..Stats::default()
    };
    for (status, channel, n) in by_status {
        stats.devices += n;
        match status {
            DeliveryStatus::Sent => {
                stats.sent += n;
                *match channel {
                    Channel::Push => &mut stats.by_channel.push,
                    Channel::Line => &mut stats.by_channel.line,
                    Channel::Sms => &mut stats.by_channel.sms,
                } += n;
            }
            DeliveryStatus::Failed => stats.failed += n,
            DeliveryStatus::InvalidToken => stats.invalid_tokens += n,
            DeliveryStatus::Pending | DeliveryStatus::Leased => stats.pending += n,
            DeliveryStatus::Cancelled => {}
        }
    }
    let (held, held_until): (i64, Option<NaiveDateTime>) = notifications::table
        .filter(notifications::broadcast_id.eq(&broadcast.id))
        .filter(notifications::status.eq(NotificationStatus::Scheduled))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(notifications::due_at),
        ))
        .first(conn)?;
    stats.held = held;
    stats.held_until = held_until.filter(|_| held > 0);
    stats.pending += held;
    Ok(stats)
}

/// Expands one due broadcast by up to `batch` users: their notifications are written, the
/// deliveries of those not held by quiet hours queued by `channels` (as the fan-out would,
/// without reading them back), and the progress moved, in one transaction. Returns how
/// many users were added (0: nothing due).
pub fn expand_due(
    conn: &mut DbConn,
    batch: i64,
    default_quiet: Option<QuietHours>,
    channels: Channels,
) -> QueryResult<usize> {
    db::write_transaction(conn, |conn| {
        let now = db::now();
        let due: Option<Broadcast> = match conn {
            DbConn::Postgres(pg) => diesel::sql_query(
                "SELECT * FROM broadcasts WHERE status IN ('scheduled', 'sending') AND send_at <= $1 \
                 ORDER BY send_at LIMIT 1 FOR UPDATE SKIP LOCKED",
            )
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .get_result::<Broadcast>(pg)
            .optional()?,
            DbConn::Sqlite(_) => broadcasts::table
                .filter(broadcasts::status.eq_any([BroadcastStatus::Scheduled, BroadcastStatus::Sending]))
                .filter(broadcasts::send_at.le(now))
                .order(broadcasts::send_at.asc())
                .select(Broadcast::as_select())
                .first(conn)
                .optional()?,
        };
        let Some(broadcast) = due else { return Ok(0) };
        let Some(audience) =
            Audience::from_db(broadcast.audience_kind, broadcast.audience_value.as_deref())
        else {
            return Ok(0);
        };
        let mut query = filter_audience!(users::table.into_boxed(), &audience)
            .select((
                users::id,
                users::locale,
                users::quiet_hours_start,
                users::quiet_hours_end,
            ))
            .order(users::id.asc())
            .limit(batch);
        if let Some(after) = &broadcast.expanded_until {
            query = query.filter(users::id.gt(after.clone()));
        }
        type Person = (String, Locale, Option<String>, Option<String>);
        let people: Vec<Person> = query.load(conn)?;
        if people.is_empty() {
            diesel::update(broadcasts::table.find(&broadcast.id))
                .set((
                    broadcasts::status.eq(BroadcastStatus::Sent),
                    broadcasts::finished_at.eq(now),
                ))
                .execute(conn)?;
            return Ok(0);
        }
        let data =
            serde_json::json!({ "kind": "broadcast", "broadcast_id": broadcast.id }).to_string();
        let expires_at = broadcast.send_at + chrono::Duration::days(3);
        let mut to_deliver = Vec::new();
        let rows: Vec<Notification> = people
            .iter()
            .map(|(user_id, locale, quiet_start, quiet_end)| {
                let (title, body) = match locale {
                    Locale::Th => (&broadcast.title_th, &broadcast.body_th),
                    Locale::En => (&broadcast.title_en, &broadcast.body_en),
                };
                let quiet =
                    queue::quiet_hours_of(quiet_start.clone(), quiet_end.clone(), default_quiet);
                // Held by quiet hours (or, held, too late): the fan-out takes it up then.
                let release = queue::release_time(now, quiet, false, Some(expires_at));
                let id = new_id();
                let at_once = release <= now;
                if at_once {
                    to_deliver.push((id.clone(), user_id.clone(), "broadcast".to_string()));
                }
                Notification {
                    id,
                    user_id: user_id.clone(),
                    kind: "broadcast".into(),
                    dedup_key: format!("broadcast:{}:{user_id}", broadcast.id),
                    title: title.clone(),
                    body: body.clone(),
                    data: data.clone(),
                    collapse_key: format!("broadcast-{}", broadcast.id),
                    urgent: false,
                    due_at: release,
                    expires_at: Some(expires_at),
                    status: if at_once {
                        NotificationStatus::Delivered
                    } else {
                        NotificationStatus::Scheduled
                    },
                    delivered_at: at_once.then_some(now),
                    read_at: None,
                    broadcast_id: Some(broadcast.id.clone()),
                    created_at: now,
                }
            })
            .collect();
        for chunk in rows.chunks(500) {
            crate::insert_batch!(conn, notifications::table, chunk)?;
        }
        queue::queue_for(conn, &to_deliver, channels, now)?;
        let last = people.last().map(|(id, ..)| id.clone());
        diesel::update(broadcasts::table.find(&broadcast.id))
            .set((
                broadcasts::status.eq(BroadcastStatus::Sending),
                broadcasts::expanded_until.eq(last),
                broadcasts::targeted_users.eq(broadcasts::targeted_users + people.len() as i64),
            ))
            .execute(conn)?;
        Ok(people.len())
    })
}
